"""The console's staff page (`/staf/staf`): members per unit, invite codes, removing a member.

The same use cases as `suarawarga staff ...` and the chat's `petugas`/`hapuspetugas`: `complaints.staffing` and
`complaints.handling.create_invite`, with the chat's rule of who manages a unit (its head, or a city admin) taken
from the member's reach. A head invites officers and heads of their own units; only a city admin invites an admin.
Nobody removes themselves here (as in chat).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from suarawarga.bot.messages import Outbound
from suarawarga.complaints import staffing
from suarawarga.complaints.handling import create_invite
from suarawarga.complaints.model import Staff, StaffRole, Unit
from suarawarga.errors import NotAllowed, NotFound

if TYPE_CHECKING:
    from suarawarga.complaints.access import Reach
    from suarawarga.complaints.signin import SignedIn
    from suarawarga.staffweb.web import Console
    from suarawarga.storage.uow import UnitOfWork

log = logging.getLogger(__name__)
INVITE_HOURS = (24, 72, 168, 720)  # a day, three days (the CLI's default), a week, a month (the CLI's maximum)
DEFAULT_INVITE_HOURS = 72


@dataclass(frozen=True, slots=True)
class UnitRoster:
    """One managed unit with its active members and linked groups."""

    unit: Unit
    members: list[staffing.Member]
    groups: list[staffing.LinkedGroup]


@dataclass(frozen=True, slots=True)
class Invite:
    """An invite code just made: shown once, only its hash is stored."""

    code: str
    unit: Unit
    role: StaffRole
    expires: datetime


def managed_units(reach: Reach, units: list[Unit]) -> list[Unit]:
    """Return the units whose staff a member manages, by name."""
    return sorted((u for u in units if reach.manages(u.id)), key=lambda u: u.name)


def invite_roles(reach: Reach) -> tuple[StaffRole, ...]:
    """Return the roles a member may invite: a city admin any, a head officers and heads."""
    return tuple(StaffRole) if reach.everything else (StaffRole.OFFICER, StaffRole.HEAD)


async def rosters(uow: UnitOfWork, reach: Reach, only: Unit | None = None) -> list[UnitRoster]:
    """Return the members and groups of the units a member manages (of one of them, if given)."""
    units = managed_units(reach, await uow.units.list())
    if only is not None:
        units = [u for u in units if u.id == only.id]
    roster = await staffing.roster(uow, None if len(units) != 1 else units[0])
    found = []
    for unit in units:
        members = [m for m in roster.members if m.staff.unit_id == unit.id]
        groups = [g for g in roster.groups if g.unit_id == unit.id]
        if members or groups or only is not None or not reach.everything:
            found.append(UnitRoster(unit, members, groups))
    return found


def _manager(reach: Reach, unit_id: int) -> Staff:
    admin_unit = reach.city_admin_unit_id
    for membership in reach.memberships:
        if staffing.can_manage(membership, unit_id, admin_unit):
            return membership
    raise NotAllowed("only the head of the unit or a city admin manages its staff")


async def invite(uow: UnitOfWork, reach: Reach, unit_code: str, role: StaffRole, hours: int, now: datetime) -> Invite:
    """Make a one-time invite code for a unit the member manages; NotAllowed / NotFound otherwise."""
    unit = await staffing.unit_by_code(uow, unit_code)
    _manager(reach, unit.id)
    if role not in invite_roles(reach) or hours not in INVITE_HOURS:
        raise NotAllowed("role or lifetime not offered to this member")
    code, unit, expires = await create_invite(uow, unit.code, role, now, timedelta(hours=hours))
    log.info("invite for unit %s (%s) made in the console", unit.code, role.value)
    return Invite(code, unit, role, expires)


async def remove(
    uow: UnitOfWork, reach: Reach, staff_id: int, reason: str, now: datetime
) -> tuple[Staff, str, Outbound]:
    """Remove a member of a unit the member manages (never themselves); return them, the unit's name and their notice.

    NotFound covers "no such member" and "not yours" alike, as in chat: other units' staff numbers are not
    confirmed.
    """
    member = await uow.staff.get(staff_id)
    if member is None or not reach.manages(member.unit_id):
        raise NotFound(f"staff {staff_id}")
    mine = {(m.channel, m.external_id) for m in reach.memberships}
    if (member.channel, member.external_id) in mine:
        raise NotAllowed("not self")
    manager = _manager(reach, member.unit_id)
    removed = await staffing.remove_member(uow, staff_id, now, by=manager, reason=reason)
    unit = await uow.units.get(removed.unit_id)
    unit_name = unit.name if unit else "-"
    log.info("staff member %d removed by staff member %d in the console", removed.id, manager.id)
    return removed, unit_name, staffing.removal_notice(removed, unit_name)


def routes(console: Console) -> list[BaseRoute]:
    """Return the staff page and its two actions (invite, remove)."""
    from suarawarga.staffweb.web import PREFIX

    app = console.app
    base = f"{PREFIX}/staf"

    async def show(
        request: Request, who: SignedIn, status: int = 200, made: Invite | None = None, message: str = ""
    ) -> Response:
        async with app.uow() as uow:
            units = managed_units(who.reach, await uow.units.list())
            if not units:
                return console.refused(request, 403)
            code = request.query_params.get("unit", "").strip().upper()[:32]
            only = next((u for u in units if u.code == code), None)
            if code and only is None:
                return console.refused(request, 403 if await uow.units.by_code(code) else 404)
            found = await rosters(uow, who.reach, only)
        return console.render(
            request,
            "console_staff.html",
            status,
            base=base,
            units=units,
            only=only,
            rosters=found,
            roles=invite_roles(who.reach),
            hours=INVITE_HOURS,
            default_hours=DEFAULT_INVITE_HOURS,
            invite=made,
            message=message,
            me={(m.channel, m.external_id) for m in who.reach.memberships},
        )

    async def page(request: Request, who: SignedIn) -> Response:
        return await show(request, who)

    async def make_invite(request: Request, who: SignedIn, form: FormData) -> Response:
        t = console.text(request)
        unit_code, role, hours = str(form.get("unit", "")), str(form.get("peran", "")), str(form.get("jam", ""))
        try:
            async with app.uow() as uow:
                made = await invite(
                    uow,
                    who.reach,
                    unit_code[:32],
                    StaffRole(role),
                    int(hours) if hours.isdigit() and len(hours) < 5 else 0,
                    app.clock.now(),
                )
                await uow.commit()
        except (NotAllowed, NotFound, ValueError):
            return await show(request, who, 403, message=t("console.staff.not_allowed"))
        return await show(request, who, made=made)

    async def remove_member(request: Request, who: SignedIn, form: FormData) -> Response:
        t = console.text(request)
        given = str(form.get("id", ""))
        staff_id = int(given) if given.isdigit() and 0 < int(given) < 2**31 else 0
        try:
            async with app.uow() as uow:
                reason = str(form.get("alasan", ""))
                removed, unit_name, notice = await remove(uow, who.reach, staff_id, reason, app.clock.now())
                await console.commit(uow, [notice])  # they are told in chat, as when removed there
        except NotAllowed:
            return await show(request, who, 403, message=t("console.staff.not_self"))
        except NotFound:
            return await show(request, who, 404, message=t("console.staff.unknown_member"))
        return await show(request, who, message=t("console.staff.removed", name=removed.name, unit=unit_name))

    return [
        console.page("/staf", page),
        console.action("/staf/undangan", make_invite),
        console.action("/staf/hapus", remove_member),
    ]
