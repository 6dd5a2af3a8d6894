"""A head of an OPD or a city admin manages staff in chat: list (`petugas`), remove (`hapuspetugas`), unlink
a group (`putuskan`). The same use cases as `suarawarga staff list/remove/unlink-group`, each change recorded."""

from __future__ import annotations

import logging

from suarawarga.bot.conversation import STAY, Turn
from suarawarga.complaints import handling, staffing
from suarawarga.complaints.model import Staff, StaffRole, Unit
from suarawarga.errors import NotAllowed, NotFound
from suarawarga.handlers.common import format_time, sender_of, usage
from suarawarga.handlers.notify import one_line

log = logging.getLogger(__name__)


def _done(turn: Turn) -> str:
    return STAY


async def _managers(turn: Turn, unit_id: int) -> list[Staff]:
    """Return the sender's memberships that may manage a unit's staff (none: not a head or city admin there)."""
    memberships = await handling.staff_for(turn.uow, turn.inbound.key.channel, sender_of(turn))
    admin = await turn.uow.units.city_admin()
    return [m for m in memberships if staffing.can_manage(m, unit_id, admin.id if admin else None)]


async def list_command(turn: Turn, args: str) -> str:
    """`petugas [UNIT]`: the active officers and linked groups of the units the sender manages."""
    memberships = await handling.staff_for(turn.uow, turn.inbound.key.channel, sender_of(turn))
    if args.strip():
        try:
            units = [await staffing.unit_by_code(turn.uow, one_line(args)[:30])]
        except NotFound:
            usage(turn, "usage.petugas", args)
            return _done(turn)
    else:
        units = [u for u in [await turn.uow.units.get(m.unit_id) for m in memberships] if u is not None]
    shown = 0
    for unit in {u.id: u for u in units}.values():
        if not await _managers(turn, unit.id):
            continue
        shown += 1
        await _show_roster(turn, unit)
    if not shown:
        turn.reply("staff.manage.not_allowed")
    return _done(turn)


async def _show_roster(turn: Turn, unit: Unit) -> None:
    roster = await staffing.roster(turn.uow, unit)
    members = [
        turn.text(
            "staff.roster.member",
            id=str(m.staff.id),
            name=one_line(m.staff.name),
            role=turn.text(f"staff.role.{m.staff.role}"),
            channel=m.staff.channel,
            joined=format_time(turn, m.joined_at),
        )
        for m in roster.members
    ]
    groups = [
        turn.text("staff.roster.group", id=str(g.id), channel=g.channel, linked=format_time(turn, g.linked_at))
        for g in roster.groups
    ]
    turn.reply(
        "staff.roster",
        unit=unit.name,
        members="\n".join(members) or "-",
        groups="\n".join(groups) or "-",
    )


def _number(text: str) -> tuple[int | None, str]:
    """Split `12 reason…` into (12, "reason…"); None when the first word is not a positive number."""
    word, _, rest = text.strip().partition(" ")
    return (int(word), rest.strip()) if word.isdigit() and 0 < int(word) < 2**31 else (None, rest)


async def remove_command(turn: Turn, args: str) -> str:
    """`hapuspetugas NOMOR [alasan]`: end an officer's membership; their buttons stop working at once."""
    memberships = await handling.staff_for(turn.uow, turn.inbound.key.channel, sender_of(turn))
    if not any(m.role in (StaffRole.HEAD, StaffRole.ADMIN) for m in memberships):
        turn.reply("staff.manage.not_allowed")
        return _done(turn)
    staff_id, reason = _number(args)
    if staff_id is None:
        usage(turn, "usage.hapuspetugas", args)
        return _done(turn)
    member = await turn.uow.staff.get(staff_id)
    managers = await _managers(turn, member.unit_id) if member is not None else []
    if member is None or not managers:
        # Same answer for "no such officer" and "not yours": other units' staff numbers are not confirmed.
        turn.reply("staff.manage.unknown_member", id=str(staff_id))
        return _done(turn)
    if member.external_id == sender_of(turn) and member.channel == turn.inbound.key.channel.value:
        turn.reply("staff.manage.not_self")
        return _done(turn)
    try:
        removed = await staffing.remove_member(turn.uow, staff_id, turn.clock.now(), by=managers[0], reason=reason)
    except (NotFound, NotAllowed):
        turn.reply("staff.manage.not_allowed")
        return _done(turn)
    unit = await turn.uow.units.get(removed.unit_id)
    unit_name = unit.name if unit else "-"
    log.info("staff member %d removed by staff member %d", removed.id, managers[0].id)
    turn.reply("staff.manage.removed", name=one_line(removed.name), unit=unit_name)
    turn.notify(staffing.removal_notice(removed, unit_name))
    return _done(turn)


async def unlink_command(turn: Turn, args: str) -> str:
    """`putuskan` in a linked group (or `putuskan NOMOR` in private): stop posting a unit's complaints there."""
    group_id, reason = _number(args)
    if group_id is None and not turn.inbound.group:
        usage(turn, "usage.putuskan", args)
        return _done(turn)
    if group_id is None:
        links = await staffing.groups_of_chat(turn.uow, turn.inbound.key.channel, turn.inbound.key.chat_id)
        reason = args.strip()
    else:
        link = await turn.uow.staff.linked_group(group_id)
        links = [link] if link is not None else []
    unlinked: list[str] = []
    for link in links:
        managers = await _managers(turn, link.unit_id)
        if not managers:
            continue
        await staffing.unlink_group(turn.uow, link.id, turn.clock.now(), by=managers[0], reason=reason)
        unit = await turn.uow.units.get(link.unit_id)
        unlinked.append(unit.name if unit else link.unit_code)
        log.info("group link %d removed by staff member %d", link.id, managers[0].id)
        if (link.channel, link.chat_id) != (turn.inbound.key.channel.value, turn.inbound.key.chat_id):
            turn.notify(staffing.unlink_notice(link, unlinked[-1]))
    if unlinked:
        turn.reply("staff.manage.unlinked", units=", ".join(unlinked))
    elif group_id is not None:  # none such, or not the sender's to unlink: the same answer
        turn.reply("staff.manage.unknown_group", id=str(group_id))
    elif links:
        turn.reply("staff.manage.not_allowed")
    else:
        turn.reply("staff.manage.not_linked")
    return _done(turn)
