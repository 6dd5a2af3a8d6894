"""The citizen's answer to an OPD's question about their complaint (`jawab KODE`, or its button)."""

from __future__ import annotations

from enum import StrEnum

from suarawarga.bot.conversation import END, STAY, Flow, Step, Turn
from suarawarga.complaints import handling
from suarawarga.complaints.model import EventKind, NewAttachment, letter_count, normalise_code
from suarawarga.errors import UserInputError
from suarawarga.handlers.common import accept_photos, keep_files, photos_in, sender_of, status_label, usage
from suarawarga.handlers.notify import quoted, tell_unit
from suarawarga.handlers.staff import TEXT_MAX, TEXT_MIN


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


async def answer_enter(turn: Turn) -> str:
    """Check the complaint is the citizen's and waits for their answer."""
    complaint = await turn.uow.complaints.by_code(turn.data.get("code", ""))
    found = await turn.uow.citizens.find(turn.inbound.key.channel, sender_of(turn))
    if complaint is None or found is None or complaint.citizen_id != found.id:
        turn.reply("status.not_found", code=str(turn.data.get("code", ""))[:20])
        return END
    if not handling.allows(EventKind.INFO_PROVIDED, complaint.status):
        turn.reply("answer.not_waiting", code=complaint.code, status=status_label(turn, complaint.status))
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


FLOW = Flow(
    name="answer", first=AnswerStep.ANSWER, enter=answer_enter, steps={AnswerStep.ANSWER: Step(ask_answer, on_answer)}
)
