"""The citizen's verdict on a resolution: solved (ya / belum / sebagian) and a 1–4 rating of the handling.

Driven by buttons that carry the complaint's code (`nilai CODE ANSWER`), so it works whatever the citizen
was doing when the resolution arrived. "Belum" reopens at once; a rating of 1 or 2 reopens; otherwise the
complaint is closed and the citizen is invited, once, to the IKM survey of the OPD. The handling rating is
its own figure per OPD and never enters the 9-unsur IKM.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from enum import StrEnum

from suarawarga.bot.conversation import COMMAND_CHOICE_PREFIX, STAY, Turn
from suarawarga.bot.matching import Means
from suarawarga.bot.messages import Choice, NoticeKind
from suarawarga.complaints import handling
from suarawarga.complaints.model import Complaint, Unit, normalise_code
from suarawarga.handlers.common import sender_of
from suarawarga.handlers.notify import Notifier, tell_citizen, tell_unit
from suarawarga.handlers.supporters import tell_supporters
from suarawarga.storage.supporters import Support

LOW_SCORE = 2  # a score at or below this reopens the complaint


class Solved(StrEnum):
    """The citizen's answer to "is it solved?"; persisted by name."""

    YA = "ya"
    BELUM = "belum"
    SEBAGIAN = "sebagian"


def solved_choices(code: str) -> tuple[Choice, ...]:
    """Return the buttons sent with a resolution."""
    means = {Solved.YA: Means.YES, Solved.BELUM: Means.NO}
    return tuple(
        Choice(f"{COMMAND_CHOICE_PREFIX}nilai {code} {s}", f"rating.solved.{s}", means=means.get(s)) for s in Solved
    )


def score_choices(code: str) -> tuple[Choice, ...]:
    """Return the 1–4 rating buttons, worst first: option n is score n wherever options are numbered."""
    return tuple(Choice(f"{COMMAND_CHOICE_PREFIX}nilai {code} {n}", f"rating.score.{n}") for n in range(1, 5))


async def invite_to_survey(ctx: Notifier, complaint: Complaint, unit: Unit, now: datetime) -> None:
    """Invite the citizen once to the IKM survey of the unit that handled their complaint."""
    if await ctx.uow.jobs.mark(f"survey-invite:{complaint.id}", now):
        tell_citizen(
            ctx,
            complaint,
            "rating.survey_invite",
            (Choice(f"{COMMAND_CHOICE_PREFIX}survei {unit.code}", "rating.survey_button"),),
            notice=NoticeKind.SURVEY_INVITATION,
            unit=unit.name,
        )


async def rate(turn: Turn, args: str) -> str:
    """Record `nilai CODE ya|belum|sebagian|1..4` from the complaint's reporter."""
    parts = args.split()
    if not parts:
        turn.reply("usage.nilai")
        return STAY
    code = normalise_code(parts[0])
    answer = parts[1].lower() if len(parts) > 1 else ""
    complaint = await turn.uow.complaints.by_code(code) if code else None
    found = await turn.uow.citizens.find(turn.inbound.key.channel, sender_of(turn))
    if complaint is not None and found is not None and complaint.citizen_id != found.id:
        mine = [s for s in await turn.uow.supports.of_citizen(found.id) if s.complaint_id == complaint.id]
        if mine:
            await _rate_as_supporter(turn, complaint, mine[0], answer)
            return STAY
    if complaint is None or found is None or complaint.citizen_id != found.id:
        turn.reply("status.not_found", code=(parts[0] if parts else "")[:20])
        return STAY
    history = await turn.uow.complaints.history(complaint.id)
    round_ = handling.resolution_round(history)
    now = turn.clock.now()
    unit = await turn.uow.units.get(complaint.unit_id)
    if round_ == 0 or unit is None:
        turn.reply("rating.not_resolved", code=complaint.code)
    elif answer in {s.value for s in Solved}:
        await turn.uow.ratings.rate(complaint.id, round_, unit.id, now, solved=answer)
        if answer == Solved.BELUM:
            with contextlib.suppress(handling.WrongStatus):  # already reopened or closed: nothing to reopen
                await _reopen(turn, complaint, turn.text("rating.reason.not_solved"))
        turn.reply("rating.ask_score", score_choices(complaint.code), code=complaint.code)
    elif answer.isdigit() and 1 <= int(answer) <= 4:
        score = int(answer)
        await turn.uow.ratings.rate(complaint.id, round_, unit.id, now, score=score)
        # The domain decides whether the complaint still waits for the verdict; the use case refuses before it
        # changes anything, so the refusal is answered by keeping the score.
        try:
            if score <= LOW_SCORE:
                await _reopen(turn, complaint, turn.text("rating.reason.low_score", score=str(score)))
            else:
                handled = await handling.close(turn.uow, complaint, f"rating {score}", now, by_citizen=True)
                turn.reply("rating.closed", code=complaint.code)
                await tell_supporters(turn, handled.complaint, "support.update.closed")
                await invite_to_survey(turn, handled.complaint, unit, now)
        except handling.WrongStatus:
            turn.reply("rating.thanks", code=complaint.code)  # already reopened (or closed): just keep the score
    else:
        turn.reply("input.pick_button")
    return STAY


async def _rate_as_supporter(turn: Turn, complaint: Complaint, support: Support, answer: str) -> None:
    """Keep a supporter's own verdict and score; only the reporter's answer reopens or closes the complaint."""
    unit = await turn.uow.units.get(complaint.unit_id)
    if handling.resolution_round(await turn.uow.complaints.history(complaint.id)) == 0 or unit is None:
        turn.reply("rating.not_resolved", code=complaint.code)
    elif answer in {s.value for s in Solved}:
        await turn.uow.supports.rate(support.id, turn.clock.now(), solved=answer)
        turn.reply("rating.ask_score", score_choices(complaint.code), code=complaint.code)
    elif answer.isdigit() and 1 <= int(answer) <= 4:
        await turn.uow.supports.rate(support.id, turn.clock.now(), score=int(answer))
        turn.reply("support.rating.thanks", code=complaint.code, unit=unit.name)
    else:
        turn.reply("input.pick_button")


async def _reopen(turn: Turn, complaint: Complaint, reason: str) -> None:
    handled = await handling.reopen(turn.uow, complaint, reason, turn.clock.now())
    await tell_supporters(turn, handled.complaint, "support.update.reopened", unit=handled.unit.name)
    turn.reply("rating.reopened", code=complaint.code, unit=handled.unit.name)
    await tell_unit(turn, handled.unit.id, "staff.reopened", code=complaint.code, reason=reason)
