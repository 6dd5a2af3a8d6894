"""OPD officers in chat: joining, linking a group, the queue, and acting on complaints; the citizen's answer."""

from __future__ import annotations

import logging
from enum import StrEnum

from suarawarga.bot.conversation import COMMAND_CHOICE_PREFIX, END, STAY, Flow, Step, Turn
from suarawarga.bot.messages import Attachment, ChannelName, Choice, ConversationKey, Outbound, OutboundFile
from suarawarga.complaints import handling
from suarawarga.complaints.model import (
    OPEN_STATUSES,
    Complaint,
    ComplaintStatus,
    EventKind,
    IdentityMode,
    NewAttachment,
    Staff,
    Unit,
    UnitKind,
    can_handle,
    letter_count,
    normalise_code,
)
from suarawarga.errors import NotAllowed, NotFound, UserInputError
from suarawarga.handlers import common
from suarawarga.handlers.common import (
    Cmd,
    accept_photos,
    format_time,
    keep_files,
    photos_in,
    sender_of,
)
from suarawarga.handlers.notify import (
    Action,
    announce_complaint,
    card_params,
    contact_text,
    one_line,
    quoted,
    tell_citizen,
    tell_unit,
)
from suarawarga.handlers.rating import solved_choices

log = logging.getLogger(__name__)

TEXT_MIN, TEXT_MAX = 3, 2000
MAX_EVIDENCE = 5
QUEUE_LIMIT = 20


ACTION_EVENTS = {
    Action.ACCEPT: EventKind.ACCEPTED,
    Action.INFO: EventKind.INFO_REQUESTED,
    Action.REPLY: EventKind.REPLIED,
    Action.TRANSFER: EventKind.TRANSFERRED,
    Action.RESOLVE: EventKind.RESOLVED,
}


def _who(turn: Turn) -> str:
    """Return a short, non-reversible tag of the sender for the logs (no ids or names in logs)."""
    return turn.policy.tags.tag(turn.inbound.key.channel, sender_of(turn))


async def _authorised(turn: Turn, code: str) -> tuple[Staff, Complaint] | None:
    """Return (officer, complaint) when the sender may act on it; otherwise reply and log, and return None."""
    memberships = await handling.staff_for(turn.uow, turn.inbound.key.channel, sender_of(turn))
    try:
        return await handling.authorise(turn.uow, memberships, code)
    except NotAllowed:
        log.warning("refused staff action on %s by %s", code, _who(turn))
        turn.reply("staff.not_allowed")
    except NotFound:
        turn.reply("staff.unknown_complaint", code=code[:20])
    return None


def _status_label(turn: Turn, status: ComplaintStatus) -> str:
    return turn.text(f"status.label.{status}")


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
    found = await _authorised(turn, code)
    if found is not None:
        staff, complaint = found
        if action is Action.IDENTITY:
            await _show_identity(turn, staff, complaint)
            return STAY
        if not _fits(turn, action, complaint):
            return STAY
        if action is Action.ACCEPT:
            handled = await handling.accept(turn.uow, staff, complaint, turn.clock.now())
            turn.reply("staff.accepted", code=complaint.code, officer=staff.name)
            tell_citizen(turn, handled.complaint, "update.accepted", unit=handled.unit.name)
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
    await turn.uow.audit.identity_viewed(staff.id, complaint.id, turn.clock.now())
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
    found = await _authorised(turn, turn.data["code"])
    if found is None:
        return None
    return found if _fits(turn, Action(turn.data["action"]), found[1]) else None


def _fits(turn: Turn, action: Action, complaint: Complaint) -> bool:
    """Ask the domain whether the action fits the complaint's status; if not, tell the officer, and say no."""
    try:
        handling.check_status(ACTION_EVENTS[action], complaint)
    except handling.WrongStatus as exc:
        turn.reply("staff.wrong_status", code=complaint.code, status=_status_label(turn, exc.status))
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
    handled = await handling.request_info(turn.uow, found[0], found[1], question, turn.clock.now())
    reached = tell_citizen(
        turn,
        handled.complaint,
        "update.info_requested",
        (Choice(f"{COMMAND_CHOICE_PREFIX}jawab {handled.complaint.code}", "update.answer_button"),),
        notice="info_request",
        question=question,
    )
    turn.reply("staff.info.sent" if reached else "staff.anonymous", code=handled.complaint.code)
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
    handled = await handling.reply(turn.uow, found[0], found[1], text, turn.clock.now())
    reached = tell_citizen(turn, handled.complaint, "update.replied", unit=handled.unit.name, text=text)
    turn.reply("staff.reply.sent" if reached else "staff.anonymous", code=handled.complaint.code)
    return END


async def ask_transfer_target(turn: Turn) -> None:
    """Offer the city admin or another OPD as the new handler."""
    complaint = await turn.uow.complaints.by_code(turn.data["code"])
    opds = [u for u in await turn.uow.units.list(UnitKind.OPD) if complaint is None or u.id != complaint.unit_id]
    choices = [Choice("xfer:ADMIN", "staff.xfer.admin")]
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
    target = None if target_code == "ADMIN" else await turn.uow.units.by_code(target_code)
    if target_code != "ADMIN" and target is None:
        raise UserInputError("input.pick_button")
    handled = await handling.transfer(turn.uow, found[0], found[1], target, reason, turn.clock.now())
    await announce_complaint(turn, handled.complaint, handled.unit, "staff.new_transferred")
    from_unit = handled.previous_unit.name if handled.previous_unit else "-"
    await tell_unit(
        turn,
        handled.unit.id,
        "staff.transfer_note",
        code=handled.complaint.code,
        unit=from_unit,
        reason=reason,
    )
    tell_citizen(turn, handled.complaint, "update.transferred", unit=handled.unit.name)
    turn.reply("staff.xfer.done", code=handled.complaint.code, unit=handled.unit.name)
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
    handled = await handling.resolve(turn.uow, found[0], found[1], turn.data["note"], evidence, turn.clock.now())
    reached = tell_citizen(
        turn,
        handled.complaint,
        "update.resolved",
        solved_choices(handled.complaint.code),
        files=tuple(OutboundFile(Attachment.PHOTO, e.path) for e in evidence),
        unit=handled.unit.name,
        note=turn.data["note"],
    )
    turn.reply("staff.done.sent" if reached else "staff.anonymous", code=handled.complaint.code)
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


class AnswerStep(StrEnum):
    """Steps of the citizen's answer flow."""

    ANSWER = "answer"


async def answer_command(turn: Turn, args: str) -> str:
    """Start answering the OPD's question about a complaint (`jawab CODE`; the code may go when only one waits)."""
    code = normalise_code(args) if args.strip() else await _only_waiting(turn)
    if code is None:
        usage(turn, "usage.jawab", args)
        return STAY
    return turn.start_flow("answer", code=code)


async def _only_waiting(turn: Turn) -> str | None:
    """Return the code of the citizen's one complaint waiting for their answer, if exactly one does."""
    found = await turn.uow.citizens.find(turn.inbound.key.channel, sender_of(turn))
    mine = await turn.uow.complaints.for_citizen(found.id) if found else []
    waiting = [c.code for c in mine if handling.allows(EventKind.INFO_PROVIDED, c.status)]
    return waiting[0] if len(waiting) == 1 else None


def usage(turn: Turn, usage_key: str, given: str) -> None:
    """Answer a command whose argument is missing or malformed with its usage line (and the value, if any)."""
    value = one_line(given)[:30]
    if value:
        turn.reply("usage.bad_value", value=value, usage=turn.text(usage_key))
    else:
        turn.reply(usage_key)


async def answer_enter(turn: Turn) -> str:
    """Check the complaint is the citizen's and waits for their answer."""
    complaint = await turn.uow.complaints.by_code(turn.data.get("code", ""))
    found = await turn.uow.citizens.find(turn.inbound.key.channel, sender_of(turn))
    if complaint is None or found is None or complaint.citizen_id != found.id:
        turn.reply("status.not_found", code=str(turn.data.get("code", ""))[:20])
        return END
    if not handling.allows(EventKind.INFO_PROVIDED, complaint.status):
        turn.reply("answer.not_waiting", code=complaint.code, status=_status_label(turn, complaint.status))
        return END
    history = await turn.uow.complaints.history(complaint.id)
    questions = [e.note for e in history if e.kind is EventKind.INFO_REQUESTED and e.note]
    turn.data["question"] = questions[-1] if questions else ""
    return AnswerStep.ANSWER


async def ask_answer(turn: Turn) -> None:
    """Show the OPD's question and ask for the answer."""
    turn.reply("answer.ask", code=turn.data["code"], question=turn.data["question"])


async def on_answer(turn: Turn) -> str:
    """Pass the citizen's answer (text and/or photos) to the OPD."""
    photos = photos_in(turn.inbound)
    text = (turn.inbound.text or "").strip()
    if not photos and (letter_count(text) < TEXT_MIN or len(text) > TEXT_MAX):
        raise UserInputError("staff.text_length", min=str(TEXT_MIN), max=str(TEXT_MAX))
    complaint = await turn.uow.complaints.by_code(turn.data["code"])
    if complaint is None or not handling.allows(EventKind.INFO_PROVIDED, complaint.status):
        turn.reply("answer.not_waiting", code=turn.data["code"], status="-")
        return END
    # Fetched only now that the answer is taken (kind "photo" as on filing).
    files = tuple(NewAttachment(**p) for p in keep_files(turn, await accept_photos(turn, photos, "photo")))
    answer = text or turn.text("answer.photo_only", count=str(len(photos)))
    handled = await handling.provide_info(turn.uow, complaint, answer, files, turn.clock.now())
    await tell_unit(turn, handled.unit.id, "staff.info_answer", code=complaint.code, answer=answer, text=quoted(answer))
    turn.reply("answer.thanks", code=complaint.code)
    return END


ANSWER_FLOW = Flow(
    name="answer", first=AnswerStep.ANSWER, enter=answer_enter, steps={AnswerStep.ANSWER: Step(ask_answer, on_answer)}
)


async def join_command(turn: Turn, args: str) -> str:
    """`gabung CODE` in a private chat: become an officer of the invite's unit."""
    if turn.inbound.group:
        turn.reply("staff.join.private_only")
        return END
    if not args.strip():
        usage(turn, "usage.gabung", "")
        return STAY
    try:
        unit, role = await handling.join(
            turn.uow,
            args,
            turn.inbound.key.channel,
            sender_of(turn),
            turn.inbound.key.chat_id,
            (turn.inbound.sender_name or "").strip()[:100] or turn.text("staff.unnamed"),
            turn.clock.now(),
        )
    except NotFound:
        log.warning("invalid invite code used by %s", _who(turn))
        turn.reply("staff.invite_invalid")
    else:
        await turn.uow.staff.set_language(turn.inbound.key.channel, sender_of(turn), turn.language)  # as chosen so far
        turn.reply("staff.join.ok", unit=unit.name, role=turn.text(f"staff.role.{role}"))
        await _send_backlog(turn, unit)
    return STAY


async def link_command(turn: Turn, args: str) -> str:
    """`hubungkan CODE` in a group: post the invite's unit's complaints to this group."""
    if not turn.inbound.group:
        turn.reply("staff.link.group_only")
        return STAY
    if not args.strip():
        usage(turn, "usage.hubungkan", "")
        return END
    try:
        unit = await handling.link_group(
            turn.uow, args, turn.inbound.key.channel, turn.inbound.key.chat_id, turn.clock.now()
        )
    except NotFound:
        log.warning("invalid invite code used in a group by %s", _who(turn))
        turn.reply("staff.invite_invalid")
    else:
        turn.reply("staff.link.ok", unit=unit.name)
        await _send_backlog(turn, unit)
    return END


async def _send_backlog(turn: Turn, unit: Unit) -> None:
    """Send the unit's open complaints to this chat when it is the unit's only recipient, i.e. its first one.

    A complaint filed while a unit had no officer and no group reached no one; it must reach the first who joins.
    """
    officers = await turn.uow.staff.for_unit(unit.id)
    others = {ConversationKey(ChannelName(s.channel), s.chat_id) for s in officers}
    others |= set(await turn.uow.staff.chats_of_unit(unit.id))
    if others - {turn.inbound.key}:
        return  # an officer or a group of the unit had its complaints already
    waiting = await turn.uow.complaints.list(unit.id, statuses=OPEN_STATUSES, limit=QUEUE_LIMIT)
    if not waiting:
        return
    turn.reply("staff.backlog", unit=unit.name, count=str(len(waiting)))
    for complaint in waiting:
        await announce_complaint(turn, complaint, unit, "staff.new", targets=[(turn.inbound.key, turn.language)])


async def queue_command(turn: Turn, _args: str) -> str:
    """`antrian`: list the open complaints of the officer's units (in a group: those linked to it), oldest first.

    Each item has a button (and the documented `tindak KODE`) that shows it with its actions; only staff may
    read a queue, also in a linked group.
    """
    memberships = await handling.staff_for(turn.uow, turn.inbound.key.channel, sender_of(turn))
    unit_ids = [s.unit_id for s in memberships]
    if turn.inbound.group and memberships:
        linked = await turn.uow.staff.units_of_chat(turn.inbound.key.channel, turn.inbound.key.chat_id)
        admin = await turn.uow.units.city_admin()
        unit_ids = [u for u in linked if any(can_handle(s, u, admin.id if admin else None) for s in memberships)]
    if not unit_ids:
        turn.reply("staff.not_allowed")
        return STAY
    now = turn.clock.now()
    for unit_id in dict.fromkeys(unit_ids):
        unit = await turn.uow.units.get(unit_id)
        open_ = await turn.uow.complaints.list(unit_id, statuses=OPEN_STATUSES, limit=QUEUE_LIMIT)
        if unit is None:
            continue
        if not open_:
            turn.reply("staff.queue.empty", unit=unit.name)
            continue
        lines = [
            turn.text(
                "staff.queue.item",
                number=str(number),
                code=c.code,
                status=_status_label(turn, c.status),
                days=str((now - c.filed_at).days),
            )
            for number, c in enumerate(open_, 1)
        ]
        buttons = [Choice(f"{COMMAND_CHOICE_PREFIX}{Cmd.ACT} {c.code}", "label", {"label": c.code}) for c in open_]
        turn.reply("staff.queue", buttons, unit=unit.name, items="\n".join(lines), count=str(len(open_)))
    return STAY


def allowed_actions(complaint: Complaint) -> tuple[Choice, ...]:
    """Return the action buttons that fit a complaint's status (and, if confidential, the one to see the reporter)."""
    actions = [
        a
        for a in Action
        if (a is Action.IDENTITY and complaint.identity_mode is IdentityMode.RAHASIA)
        or (a in ACTION_EVENTS and handling.allows(ACTION_EVENTS[a], complaint.status))
    ]
    return tuple(Choice(f"{COMMAND_CHOICE_PREFIX}st {a} {complaint.code}", f"staff.button.{a}") for a in actions)


async def act_command(turn: Turn, args: str) -> str:
    """`tindak KODE`: show an officer a complaint of their unit with the actions its status allows."""
    code = normalise_code(args)
    if code is None:
        usage(turn, "usage.tindak", args)
        return STAY
    found = await _authorised(turn, code)
    if found is not None:
        complaint = found[1]
        unit = await turn.uow.units.get(complaint.unit_id)
        if unit is not None:
            params = await card_params(turn, complaint, unit, turn.language)
            params["status"] = _status_label(turn, complaint.status)
            params["filed"] = format_time(turn, complaint.filed_at)
            actions = allowed_actions(complaint)
            turn.replies.append(
                Outbound(
                    key=turn.inbound.key, text_key="staff.card", params=params, choices=actions, language=turn.language
                )
            )
            if not actions:
                turn.reply("staff.card.no_action")
    return STAY


async def officer_status(turn: Turn, code: str) -> bool:
    """Show `status KODE` to an officer who may handle the complaint (its whole history, and its actions).

    Returns False (nothing said) when the sender is not such an officer, or filed the complaint themselves:
    then the citizen's view answers.
    """
    memberships = await handling.staff_for(turn.uow, turn.inbound.key.channel, sender_of(turn))
    if not memberships:
        return False
    try:
        staff, complaint = await handling.authorise(turn.uow, memberships, code)
    except (NotAllowed, NotFound):
        return False
    found = await turn.uow.citizens.find(turn.inbound.key.channel, sender_of(turn))
    if found is not None and complaint.citizen_id == found.id:
        return False
    unit = await turn.uow.units.get(complaint.unit_id)
    category = await turn.uow.categories.get(complaint.category_id)
    lines = [
        turn.text(
            "staff.history.info_provided" if e.kind is EventKind.INFO_PROVIDED else f"history.{e.kind}",
            at=format_time(turn, e.at),
            note=one_line(e.note or ""),
        )
        for e in await turn.uow.complaints.history(complaint.id)
    ]
    turn.reply(
        "status.detail",
        allowed_actions(complaint),
        code=complaint.code,
        status=_status_label(turn, complaint.status),
        category=category.name(turn.language) if category else "-",
        unit=unit.name if unit else "-",
        filed=format_time(turn, complaint.filed_at),
        history="\n".join(lines),
    )
    log.info("officer %d looked up complaint %d", staff.id, complaint.id)
    return True


async def help_command(turn: Turn, args: str) -> str:
    """`bantuan`: the commands everyone has, and for an officer also the officers' commands."""
    outcome = await common.help_(turn, args)
    if await handling.staff_for(turn.uow, turn.inbound.key.channel, sender_of(turn)):
        # after the common commands, before the menu (whose buttons a typed number refers to)
        turn.replies.insert(1, Outbound(key=turn.inbound.key, text_key="staff.help", language=turn.language))
    return outcome
