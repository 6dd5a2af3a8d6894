"""What officers do with a complaint, as use cases on an open unit of work (the caller commits).

Every action is recorded as a complaint event with the officer as actor; status changes follow
`TRANSITIONS`, and an action on a complaint in a status that does not allow it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from suarawarga.bot.messages import ChannelName
from suarawarga.complaints import access
from suarawarga.complaints.model import (
    ActorKind,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    EventKind,
    NewAttachment,
    Staff,
    StaffRole,
    Unit,
    hash_invite,
    new_invite_code,
)
from suarawarga.complaints.staffing import StaffEventKind, Via
from suarawarga.complaints.statistics import resolution
from suarawarga.errors import NotAllowed, NotFound
from suarawarga.storage.uow import UnitOfWork

Status = ComplaintStatus  # short, for the table below
# Which statuses each action may start from, and the status it leaves (None: unchanged).
TRANSITIONS: dict[EventKind, tuple[frozenset[ComplaintStatus], ComplaintStatus | None]] = {
    EventKind.ACCEPTED: (frozenset({Status.DITERIMA, Status.PERLU_DISPOSISI}), Status.DIPROSES),
    EventKind.INFO_REQUESTED: (
        frozenset({Status.DITERIMA, Status.DIPROSES, Status.MENUNGGU_INFO}),
        Status.MENUNGGU_INFO,
    ),
    EventKind.INFO_PROVIDED: (frozenset({Status.MENUNGGU_INFO}), Status.DIPROSES),
    EventKind.REPLIED: (frozenset({Status.DITERIMA, Status.DIPROSES, Status.MENUNGGU_INFO}), None),
    EventKind.TRANSFERRED: (
        frozenset({Status.DITERIMA, Status.DIPROSES, Status.MENUNGGU_INFO, Status.PERLU_DISPOSISI}),
        None,
    ),
    EventKind.RESOLVED: (frozenset({Status.DITERIMA, Status.DIPROSES, Status.MENUNGGU_INFO}), Status.SELESAI),
    EventKind.REOPENED: (frozenset({Status.SELESAI}), Status.DIPROSES),
    EventKind.CLOSED: (frozenset({Status.SELESAI}), Status.DITUTUP),
}
INVITE_LIFETIME = timedelta(hours=72)


class WrongStatus(NotAllowed):
    """The action does not fit the complaint's current status."""

    def __init__(self, status: ComplaintStatus) -> None:
        super().__init__(status.value)
        self.status = status


class Overtaken(WrongStatus):
    """Someone else changed the complaint between reading it and acting on it."""


def allows(kind: EventKind, status: ComplaintStatus) -> bool:
    """Return whether the action `kind` may be taken on a complaint in `status` (the table above decides)."""
    return status in TRANSITIONS[kind][0]


def check_status(kind: EventKind, complaint: Complaint) -> None:
    """Raise WrongStatus when the action `kind` does not fit the complaint's current status."""
    if not allows(kind, complaint.status):
        raise WrongStatus(complaint.status)


@dataclass(frozen=True, slots=True)
class Handled:
    """A complaint after an action, with the units involved."""

    complaint: Complaint
    unit: Unit
    previous_unit: Unit | None = None


async def staff_for(uow: UnitOfWork, channel: ChannelName, external_id: str) -> list[Staff]:
    """Return the unit memberships of the person behind a chat account."""
    return await uow.staff.memberships(channel, external_id)


authorise = access.authorise  # the one rule of who may act on a complaint, for chat and the staff console


async def _act(
    uow: UnitOfWork,
    staff: Staff | None,
    complaint: Complaint,
    kind: EventKind,
    now: datetime,
    note: str | None = None,
    *,
    to_status: ComplaintStatus | None = None,
    unit_id: int | None = None,
    actor: ActorKind | None = None,
) -> Complaint:
    check_status(kind, complaint)
    default_status = TRANSITIONS[kind][1]
    new_status = to_status or default_status or complaint.status
    if kind is EventKind.REPLIED and complaint.status is Status.DITERIMA:
        new_status = Status.DIPROSES  # a reply to the citizen means the OPD has taken the complaint up
    # Only if nobody moved it since it was read: of two officers acting at once one wins, the other is told
    # (the row is written even without a change, so concurrent actions queue on it instead of both passing).
    changed = await uow.complaints.update_if(
        complaint,
        now,
        status=new_status if new_status is not complaint.status else None,
        unit_id=unit_id if unit_id != complaint.unit_id else None,
    )
    if not changed:
        current = await uow.complaints.by_code(complaint.code)
        raise Overtaken(current.status if current else complaint.status)
    await uow.complaints.add_event(
        complaint.id,
        ComplaintEvent(
            at=now,
            kind=kind,
            actor=actor or (ActorKind.STAFF if staff else ActorKind.CITIZEN),
            from_status=complaint.status,
            to_status=new_status,
            unit_id=unit_id or complaint.unit_id,
            note=note,
            actor_id=staff.id if staff else None,
        ),
    )
    updated = await uow.complaints.by_code(complaint.code)
    if updated is None:
        raise NotFound(complaint.code)
    return updated


async def _handled(uow: UnitOfWork, complaint: Complaint, previous_unit_id: int | None = None) -> Handled:
    unit = await uow.units.get(complaint.unit_id)
    if unit is None:
        raise NotFound(f"unit {complaint.unit_id}")
    previous = await uow.units.get(previous_unit_id) if previous_unit_id is not None else None
    return Handled(complaint, unit, previous)


async def accept(uow: UnitOfWork, staff: Staff, complaint: Complaint, now: datetime) -> Handled:
    """The OPD takes the complaint up."""
    return await _handled(uow, await _act(uow, staff, complaint, EventKind.ACCEPTED, now))


async def request_info(uow: UnitOfWork, staff: Staff, complaint: Complaint, question: str, now: datetime) -> Handled:
    """The OPD asks the citizen a question; the complaint waits for the answer."""
    return await _handled(uow, await _act(uow, staff, complaint, EventKind.INFO_REQUESTED, now, question))


async def provide_info(
    uow: UnitOfWork, complaint: Complaint, answer: str, files: tuple[NewAttachment, ...], now: datetime
) -> Handled:
    """The citizen answers the OPD's question; the complaint is back with the OPD."""
    updated = await _act(uow, None, complaint, EventKind.INFO_PROVIDED, now, answer)
    await uow.complaints.add_attachments(complaint.id, files, ActorKind.CITIZEN, now)
    return await _handled(uow, updated)


async def reply(uow: UnitOfWork, staff: Staff, complaint: Complaint, text: str, now: datetime) -> Handled:
    """The OPD answers the citizen."""
    return await _handled(uow, await _act(uow, staff, complaint, EventKind.REPLIED, now, text))


async def transfer(
    uow: UnitOfWork, staff: Staff, complaint: Complaint, target: Unit | None, reason: str, now: datetime
) -> Handled:
    """'Bukan wewenang': pass the complaint to another OPD, or back to the city admin (target None)."""
    if target is None:
        admin = await uow.units.city_admin()
        if admin is None:
            raise NotFound("city admin unit")
        updated = await _act(
            uow,
            staff,
            complaint,
            EventKind.TRANSFERRED,
            now,
            reason,
            to_status=Status.PERLU_DISPOSISI,
            unit_id=admin.id,
        )
    else:
        if target.id == complaint.unit_id:
            raise NotAllowed("already there")
        updated = await _act(
            uow, staff, complaint, EventKind.TRANSFERRED, now, reason, to_status=Status.DITERIMA, unit_id=target.id
        )
    return await _handled(uow, updated, complaint.unit_id)


async def resolve(
    uow: UnitOfWork,
    staff: Staff,
    complaint: Complaint,
    note: str,
    evidence: tuple[NewAttachment, ...],
    now: datetime,
) -> Handled:
    """The OPD reports the complaint solved, with a note and optional photos as evidence."""
    updated = await _act(uow, staff, complaint, EventKind.RESOLVED, now, note)
    await uow.complaints.add_attachments(complaint.id, evidence, ActorKind.STAFF, now)
    category = await uow.categories.get(complaint.category_id)
    if category is not None:  # kept for the public statistics; only the first resolution counts there
        await uow.statistics.record_resolution(complaint.id, resolution(complaint.filed_at, now, category))
    return await _handled(uow, updated)


def resolution_round(history: list[ComplaintEvent]) -> int:
    """Return how many times the complaint was resolved (the current rating round)."""
    return sum(1 for e in history if e.kind is EventKind.RESOLVED)


async def reopen(uow: UnitOfWork, complaint: Complaint, reason: str, now: datetime) -> Handled:
    """The citizen says it is not solved: the complaint goes back to the OPD (its clocks keep running)."""
    return await _handled(uow, await _act(uow, None, complaint, EventKind.REOPENED, now, reason))


async def close(uow: UnitOfWork, complaint: Complaint, note: str, now: datetime, *, by_citizen: bool) -> Handled:
    """Close a resolved complaint: confirmed by the citizen, or after the waiting time with no answer."""
    actor = ActorKind.CITIZEN if by_citizen else ActorKind.SYSTEM
    return await _handled(uow, await _act(uow, None, complaint, EventKind.CLOSED, now, note, actor=actor))


async def create_invite(
    uow: UnitOfWork, unit_code: str, role: StaffRole, now: datetime, lifetime: timedelta = INVITE_LIFETIME
) -> tuple[str, Unit, datetime]:
    """Create a one-time invite code for a unit; only its hash is stored."""
    unit = await uow.units.by_code(unit_code)
    if unit is None:
        raise NotFound(unit_code)
    code = new_invite_code()
    expires = now + lifetime
    await uow.staff.add_invite(hash_invite(code), unit.id, role, now, expires)
    return code, unit, expires


async def join(
    uow: UnitOfWork, code: str, channel: ChannelName, external_id: str, chat_id: str, name: str, now: datetime
) -> tuple[Unit, StaffRole]:
    """Use an invite to become an officer of its unit."""
    claimed = await uow.staff.claim_invite(hash_invite(code), now, f"{channel}:{external_id}")
    if claimed is None:
        raise NotFound("invite")
    unit_id, role = claimed.unit_id, claimed.role
    unit = await uow.units.get(unit_id)
    if unit is None:
        raise NotFound("unit")
    staff_id = await uow.staff.join(unit_id, role, channel, external_id, chat_id, name, now)
    await uow.staff.record_event(
        now, StaffEventKind.JOINED, unit_id, channel.value, staff_id=staff_id, via=Via.CHAT, reason=role.value
    )
    return unit, role


async def link_group(uow: UnitOfWork, code: str, channel: ChannelName, chat_id: str, now: datetime) -> Unit:
    """Use an invite to link a group chat to its unit."""
    claimed = await uow.staff.claim_invite(hash_invite(code), now, f"{channel}:group:{chat_id}")
    if claimed is None:
        raise NotFound("invite")
    unit = await uow.units.get(claimed.unit_id)
    if unit is None:
        raise NotFound("unit")
    await uow.staff.link_chat(unit.id, channel, chat_id, now)
    await uow.staff.record_event(now, StaffEventKind.LINKED, unit.id, channel.value, chat_id=chat_id, via=Via.CHAT)
    return unit
