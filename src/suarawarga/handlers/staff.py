"""An OPD officer acting on a complaint in chat: who may act, the actions a status allows, the action buttons,
a confidential reporter's identity, and the officer's flow (ask for information, reply, transfer, resolve)."""

from __future__ import annotations

import logging
from enum import StrEnum

from suarawarga.bot.conversation import COMMAND_CHOICE_PREFIX, END, STAY, Flow, Step, Turn
from suarawarga.bot.messages import Choice, ConversationKey, Outbound
from suarawarga.complaints import access, handling
from suarawarga.complaints.model import (
    Complaint,
    EventKind,
    IdentityMode,
    NewAttachment,
    Staff,
    UnitKind,
    letter_count,
    normalise_code,
)
from suarawarga.errors import NotAllowed, NotFound, UserInputError
from suarawarga.handlers import acting
from suarawarga.handlers.common import (
    accept_photos,
    keep_files,
    photos_in,
    sender_of,
    sender_tag,
    status_label,
    usage,
)
from suarawarga.handlers.notify import Action, contact_text

log = logging.getLogger(__name__)

TEXT_MIN, TEXT_MAX = 3, 2000
MAX_EVIDENCE = 5


ACTION_EVENTS = {
    Action.ACCEPT: EventKind.ACCEPTED,
    Action.INFO: EventKind.INFO_REQUESTED,
    Action.REPLY: EventKind.REPLIED,
    Action.TRANSFER: EventKind.TRANSFERRED,
    Action.RESOLVE: EventKind.RESOLVED,
}


async def authorised(turn: Turn, code: str) -> tuple[Staff, Complaint] | None:
    """Return (officer, complaint) when the sender may act on it; otherwise reply and log, and return None."""
    memberships = await handling.staff_for(turn.uow, turn.inbound.key.channel, sender_of(turn))
    try:
        return await handling.authorise(turn.uow, memberships, code)
    except NotAllowed:
        log.warning("refused staff action on %s by %s", code, sender_tag(turn))
        turn.reply("staff.not_allowed")
    except NotFound:
        turn.reply("staff.unknown_complaint", code=code[:20])
    return None


def allowed_actions(complaint: Complaint) -> tuple[Choice, ...]:
    """Return the action buttons that fit a complaint's status (and, if confidential, the one to see the reporter)."""
    actions = [
        a
        for a in Action
        if (a is Action.IDENTITY and complaint.identity_mode is IdentityMode.RAHASIA)
        or (a in ACTION_EVENTS and handling.allows(ACTION_EVENTS[a], complaint.status))
    ]
    return tuple(Choice(f"{COMMAND_CHOICE_PREFIX}st {a} {complaint.code}", f"staff.button.{a}") for a in actions)


async def staff_action(turn: Turn, args: str) -> str:
    """Handle an officer's button: accept at once, or continue the action in the officer's private chat."""
    word, _, rest = args.partition(" ")
    code = normalise_code(rest)
    try:
        action = Action(word)
    except ValueError:
        turn.reply("error.unknown_command")
        return STAY
    if code is None:
        usage(turn, "usage.tindak", rest)
        return STAY
    found = await authorised(turn, code)
    if found is not None:
        staff, complaint = found
        if action is Action.IDENTITY:
            await _show_identity(turn, staff, complaint)
            return STAY
        if not _fits(turn, action, complaint):
            return STAY
        if action is Action.ACCEPT:
            await acting.accept(turn, staff, complaint, turn.clock.now())
            turn.reply("staff.accepted", code=complaint.code, officer=staff.name)
        else:
            private = ConversationKey(turn.inbound.key.channel, staff.chat_id)
            if turn.inbound.key == private:
                return turn.start_flow("staff", action=action.value, code=complaint.code)
            turn.handoff(private, "staff", action=action.value, code=complaint.code)
            turn.reply("staff.continue_private", officer=staff.name, code=complaint.code)
    return STAY


async def _show_identity(turn: Turn, staff: Staff, complaint: Complaint) -> None:
    """Send a confidential reporter's name and contact to the officer's private chat, and log that it happened."""
    if complaint.identity_mode is not IdentityMode.RAHASIA:
        turn.reply("staff.identity.not_confidential", code=complaint.code)
        return
    await access.view_reporter(turn.uow, staff, complaint, turn.clock.now(), access.Face.CHAT)
    log.info("officer %d viewed the reporter of a confidential complaint", staff.id)
    private = ConversationKey(turn.inbound.key.channel, staff.chat_id)
    turn.notify(
        Outbound(
            key=private,
            text_key="staff.identity",
            params={
                "code": complaint.code,
                "name": complaint.reporter_name or "",
                "contact": contact_text(turn, complaint, turn.language),
            },
            language=staff.language,
        )
    )
    if turn.inbound.key != private:
        turn.reply("staff.identity.sent_private", officer=staff.name, code=complaint.code)


class OfficerStep(StrEnum):
    """Steps of the officer's flow; persisted by name."""

    INFO = "info"
    REPLY = "reply"
    TRANSFER_TARGET = "xfer_target"
    TRANSFER_REASON = "xfer_reason"
    RESOLVE_NOTE = "done_note"
    RESOLVE_PHOTOS = "done_photos"


FIRST_STEP = {
    Action.INFO: OfficerStep.INFO,
    Action.REPLY: OfficerStep.REPLY,
    Action.TRANSFER: OfficerStep.TRANSFER_TARGET,
    Action.RESOLVE: OfficerStep.RESOLVE_NOTE,
}


async def staff_enter(turn: Turn) -> str:
    """Pick the first step for the chosen action."""
    try:
        return FIRST_STEP[Action(turn.data.get("action", ""))]
    except (KeyError, ValueError):
        return END


def _text(turn: Turn) -> str:
    text = (turn.inbound.text or "").strip()
    if letter_count(text) < TEXT_MIN or len(text) > TEXT_MAX:
        raise UserInputError("staff.text_length", min=str(TEXT_MIN), max=str(TEXT_MAX))
    return text


async def _again(turn: Turn) -> tuple[Staff, Complaint] | None:
    """Re-check the officer's right and the complaint's status at the moment of acting."""
    found = await authorised(turn, turn.data["code"])
    if found is None:
        return None
    return found if _fits(turn, Action(turn.data["action"]), found[1]) else None


def _fits(turn: Turn, action: Action, complaint: Complaint) -> bool:
    """Ask the domain whether the action fits the complaint's status; if not, tell the officer, and say no."""
    try:
        handling.check_status(ACTION_EVENTS[action], complaint)
    except handling.WrongStatus as exc:
        turn.reply("staff.wrong_status", code=complaint.code, status=status_label(turn, exc.status))
        return False
    return True


async def ask_info(turn: Turn) -> None:
    """Ask the officer for the question to send to the citizen."""
    turn.reply("staff.info.ask", code=turn.data["code"])


async def on_info(turn: Turn) -> str:
    """Send the officer's question to the citizen; the complaint waits for the answer."""
    question = _text(turn)
    found = await _again(turn)
    if found is None:
        return END
    done = await acting.request_info(turn, found[0], found[1], question, turn.clock.now())
    turn.reply("staff.info.sent" if done.reached else "staff.anonymous", code=done.handled.complaint.code)
    return END


async def ask_reply(turn: Turn) -> None:
    """Ask the officer for the reply to the citizen."""
    turn.reply("staff.reply.ask", code=turn.data["code"])


async def on_reply(turn: Turn) -> str:
    """Send the officer's reply to the citizen."""
    text = _text(turn)
    found = await _again(turn)
    if found is None:
        return END
    done = await acting.reply(turn, found[0], found[1], text, turn.clock.now())
    turn.reply("staff.reply.sent" if done.reached else "staff.anonymous", code=done.handled.complaint.code)
    return END


async def ask_transfer_target(turn: Turn) -> None:
    """Offer the city admin or another OPD as the new handler."""
    complaint = await turn.uow.complaints.by_code(turn.data["code"])
    opds = [u for u in await turn.uow.units.list(UnitKind.OPD) if complaint is None or u.id != complaint.unit_id]
    choices = [Choice(f"xfer:{acting.ADMIN_TARGET}", "staff.xfer.admin")]
    choices += [Choice(f"xfer:{u.code}", "label", {"label": u.name}) for u in opds]
    turn.reply("staff.xfer.ask", choices, code=turn.data["code"])


async def on_transfer_target(turn: Turn) -> str:
    """Store where the complaint should go."""
    choice = turn.inbound.choice or ""
    if not choice.startswith("xfer:"):
        raise UserInputError("input.pick_button")
    turn.data["target"] = choice.removeprefix("xfer:")
    return OfficerStep.TRANSFER_REASON


async def ask_transfer_reason(turn: Turn) -> None:
    """Ask why the complaint is not this unit's to handle."""
    turn.reply("staff.xfer.reason")


async def on_transfer_reason(turn: Turn) -> str:
    """Transfer the complaint and tell the new unit and the citizen."""
    reason = _text(turn)
    found = await _again(turn)
    if found is None:
        return END
    target_code = turn.data["target"]
    target = None if target_code == acting.ADMIN_TARGET else await turn.uow.units.by_code(target_code)
    if target_code != acting.ADMIN_TARGET and target is None:
        raise UserInputError("input.pick_button")
    done = await acting.transfer(turn, found[0], found[1], target, reason, turn.clock.now())
    turn.reply("staff.xfer.done", code=done.handled.complaint.code, unit=done.handled.unit.name)
    return END


async def ask_resolve_note(turn: Turn) -> None:
    """Ask what was done."""
    turn.reply("staff.done.ask", code=turn.data["code"])


async def on_resolve_note(turn: Turn) -> str:
    """Store the resolution note."""
    turn.data["note"] = _text(turn)
    return OfficerStep.RESOLVE_PHOTOS


async def ask_resolve_photos(turn: Turn) -> None:
    """Invite photos as evidence."""
    turn.reply("staff.done.photos", (Choice("evidence:send", "staff.done.send"),), max=str(MAX_EVIDENCE))


async def on_resolve_photos(turn: Turn) -> str:
    """Collect evidence photos, then resolve and tell the citizen."""
    if turn.inbound.choice != "evidence:send":
        photos = photos_in(turn.inbound)
        if not photos:
            raise UserInputError("staff.done.need_photo")
        stored: list[dict[str, object]] = turn.data.setdefault("photos", [])
        stored += await accept_photos(turn, photos[: MAX_EVIDENCE - len(stored)], "evidence", stored)
        if len(stored) < MAX_EVIDENCE:
            turn.reply(
                "staff.done.received",
                (Choice("evidence:send", "staff.done.send"),),
                count=str(len(stored)),
                max=str(MAX_EVIDENCE),
            )
            return STAY
    found = await _again(turn)
    if found is None:
        return END
    evidence = tuple(NewAttachment(**p) for p in keep_files(turn, turn.data.get("photos", [])))
    done = await acting.resolve(turn, found[0], found[1], turn.data["note"], evidence, turn.clock.now())
    turn.reply("staff.done.sent" if done.reached else "staff.anonymous", code=done.handled.complaint.code)
    return END


STAFF_FLOW = Flow(
    name="staff",
    first=OfficerStep.REPLY,
    enter=staff_enter,
    steps={
        OfficerStep.INFO: Step(ask_info, on_info),
        OfficerStep.REPLY: Step(ask_reply, on_reply),
        OfficerStep.TRANSFER_TARGET: Step(ask_transfer_target, on_transfer_target),
        OfficerStep.TRANSFER_REASON: Step(ask_transfer_reason, on_transfer_reason),
        OfficerStep.RESOLVE_NOTE: Step(ask_resolve_note, on_resolve_note),
        OfficerStep.RESOLVE_PHOTOS: Step(ask_resolve_photos, on_resolve_photos),
    },
)
