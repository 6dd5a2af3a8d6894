"""An officer's action on a complaint and everything it announces, the same from chat and from the staff console.

Each function runs the domain use case (`complaints/handling.py`) and queues, on the caller's notifier, exactly
the messages the action sends: the citizen's update (with its buttons, photos and WhatsApp template), the
supporters' status update (`handlers/supporters.py`) and, for a transfer, the new unit's card. Chat
(`handlers/staff.py`) and the console (`staffweb/complaint.py`) both call these, so a citizen cannot tell where
the officer acted. What the officer is told back is each face's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from suarawarga.bot.conversation import COMMAND_CHOICE_PREFIX
from suarawarga.bot.messages import Attachment, Choice, NoticeKind, OutboundFile
from suarawarga.complaints import handling
from suarawarga.complaints.handling import Handled
from suarawarga.complaints.model import Complaint, NewAttachment, Staff, Unit
from suarawarga.handlers.notify import Notifier, announce_complaint, tell_citizen, tell_unit
from suarawarga.handlers.rating import solved_choices
from suarawarga.handlers.supporters import tell_supporters

ADMIN_TARGET = "ADMIN"  # the transfer target that sends a complaint back to the city admin ("bukan wewenang")


@dataclass(frozen=True, slots=True)
class Done:
    """An action's result: the complaint after it, and whether the citizen could be told (not when anonymous)."""

    handled: Handled
    reached: bool


async def accept(ctx: Notifier, staff: Staff, complaint: Complaint, now: datetime) -> Done:
    """Take the complaint up and tell the citizen."""
    handled = await handling.accept(ctx.uow, staff, complaint, now)
    reached = tell_citizen(ctx, handled.complaint, "update.accepted", unit=handled.unit.name)
    await tell_supporters(ctx, handled.complaint, "support.update.accepted", unit=handled.unit.name)
    return Done(handled, reached)


async def request_info(ctx: Notifier, staff: Staff, complaint: Complaint, question: str, now: datetime) -> Done:
    """Ask the citizen a question (with the button to answer it)."""
    handled = await handling.request_info(ctx.uow, staff, complaint, question, now)
    reached = tell_citizen(
        ctx,
        handled.complaint,
        "update.info_requested",
        (Choice(f"{COMMAND_CHOICE_PREFIX}jawab {handled.complaint.code}", "update.answer_button"),),
        notice=NoticeKind.INFO_REQUEST,
        question=question,
    )
    return Done(handled, reached)


async def reply(ctx: Notifier, staff: Staff, complaint: Complaint, text: str, now: datetime) -> Done:
    """Answer the citizen."""
    handled = await handling.reply(ctx.uow, staff, complaint, text, now)
    reached = tell_citizen(ctx, handled.complaint, "update.replied", unit=handled.unit.name, text=text)
    return Done(handled, reached)


async def transfer(
    ctx: Notifier, staff: Staff, complaint: Complaint, target: Unit | None, reason: str, now: datetime
) -> Done:
    """Pass the complaint to another OPD (or back to the city admin): the new unit gets its card, the citizen word."""
    handled = await handling.transfer(ctx.uow, staff, complaint, target, reason, now)
    await announce_complaint(ctx, handled.complaint, handled.unit, "staff.new_transferred")
    from_unit = handled.previous_unit.name if handled.previous_unit else "-"
    await tell_unit(
        ctx, handled.unit.id, "staff.transfer_note", code=handled.complaint.code, unit=from_unit, reason=reason
    )
    reached = tell_citizen(ctx, handled.complaint, "update.transferred", unit=handled.unit.name)
    await tell_supporters(ctx, handled.complaint, "support.update.transferred", unit=handled.unit.name)
    return Done(handled, reached)


async def resolve(
    ctx: Notifier, staff: Staff, complaint: Complaint, note: str, evidence: tuple[NewAttachment, ...], now: datetime
) -> Done:
    """Report the complaint solved with a note and evidence photos; the citizen gets them with the rating buttons."""
    handled = await handling.resolve(ctx.uow, staff, complaint, note, evidence, now)
    reached = tell_citizen(
        ctx,
        handled.complaint,
        "update.resolved",
        solved_choices(handled.complaint.code),
        files=tuple(OutboundFile(Attachment.PHOTO, e.path) for e in evidence),
        unit=handled.unit.name,
        note=note,
    )
    code = handled.complaint.code
    await tell_supporters(
        ctx, handled.complaint, "support.update.resolved", solved_choices(code), unit=handled.unit.name
    )
    return Done(handled, reached)
