"""Who may see and do what with complaints, for chat and the staff console alike (one rule, two faces).

A person may hold several memberships (one per unit, on one chat account). Their *reach* is what those
memberships allow together: an officer handles the complaints routed to their unit, a head likewise and also
sees the unit's reports and manages its staff, a city admin (role admin, or any member of the city admin unit)
handles, sees and manages everything. `model.can_handle` and `staffing.can_manage` are the two rules; this
module only gathers them, so chat commands, the console's pages and its queue ask the same question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from suarawarga.complaints.model import Complaint, IdentityMode, Staff, can_handle, is_city_admin
from suarawarga.complaints.staffing import can_manage
from suarawarga.errors import NotAllowed, NotFound
from suarawarga.storage.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Reach:
    """What one person's memberships allow: which units' complaints, reports and staff."""

    memberships: tuple[Staff, ...]
    city_admin_unit_id: int | None

    @property
    def everything(self) -> bool:
        """Tell whether the person is a city admin (sees and handles every unit)."""
        return any(is_city_admin(s, self.city_admin_unit_id) for s in self.memberships)

    @property
    def unit_ids(self) -> frozenset[int]:
        """Return the units the person belongs to (for an admin, every unit is reachable besides these)."""
        return frozenset(s.unit_id for s in self.memberships)

    def handler_for(self, unit_id: int) -> Staff | None:
        """Return the membership that may see and act on a complaint routed to a unit, or None."""
        return next((s for s in self.memberships if can_handle(s, unit_id, self.city_admin_unit_id)), None)

    def handles(self, unit_id: int) -> bool:
        """Tell whether the person may see and act on complaints routed to a unit."""
        return self.handler_for(unit_id) is not None

    def manages(self, unit_id: int) -> bool:
        """Tell whether the person may list, invite and remove a unit's staff (its head, or a city admin)."""
        return any(can_manage(s, unit_id, self.city_admin_unit_id) for s in self.memberships)

    def sees_reports(self, unit_id: int) -> bool:
        """Tell whether the person may read a unit's reports (heads of the unit and city admins)."""
        return self.manages(unit_id)


async def reach(uow: UnitOfWork, memberships: list[Staff] | tuple[Staff, ...]) -> Reach:
    """Return what a person's memberships allow."""
    admin = await uow.units.city_admin()
    return Reach(tuple(memberships), admin.id if admin else None)


async def authorise(
    uow: UnitOfWork, memberships: list[Staff] | tuple[Staff, ...], code: str
) -> tuple[Staff, Complaint]:
    """Return the membership allowed to act on a complaint and the complaint; NotAllowed / NotFound otherwise."""
    if not memberships:
        raise NotAllowed("not an officer")
    complaint = await uow.complaints.by_code(code)
    if complaint is None:
        raise NotFound(code)
    staff = (await reach(uow, memberships)).handler_for(complaint.unit_id)
    if staff is None:
        raise NotAllowed(f"{code} is not routed to the officer's unit")
    return staff, complaint


class Face(StrEnum):
    """Where a member of staff looked at something audited; persisted by name."""

    CHAT = "chat"
    WEB = "web"


async def view_reporter(uow: UnitOfWork, staff: Staff, complaint: Complaint, now: datetime, face: Face) -> None:
    """Record in the audit log that a member of staff is shown a confidential complaint's reporter.

    Only *rahasia* complaints need this step (a named reporter is on the card; an anonymous one is unknown).
    """
    if complaint.identity_mode is not IdentityMode.RAHASIA:
        raise NotAllowed("the reporter is not confidential")
    await uow.audit.identity_viewed(staff.id, complaint.id, now, face.value)
