"""`dataku` shows a citizen what is stored about them; `hapusdata` erases it after a confirmation."""

from __future__ import annotations

from enum import StrEnum

from suarawarga.bot.conversation import END, STAY, Flow, Step, Turn
from suarawarga.bot.messages import Choice
from suarawarga.bot.texts import LANGUAGES
from suarawarga.complaints.privacy import ComplaintData, SurveyData, citizen_data, erase_citizen
from suarawarga.errors import UserInputError
from suarawarga.handlers.common import draft_files, format_time, park, sender_of
from suarawarga.surveys.definitions import UNSUR_ORDER, ProfileField, answer_key, profile_option_key, unsur_label


def _mask(external_id: str) -> str:
    """Show only the end of an account id, enough for the citizen to recognise it."""
    return "…" + external_id[-4:] if len(external_id) > 4 else external_id


async def my_data(turn: Turn, _args: str) -> str:
    """Show everything stored about the citizen: consents, identities, complaints with their words, surveys."""
    data = await citizen_data(turn.uow, turn.inbound.key.channel, sender_of(turn))
    if data is None:
        turn.reply("data.none")
        return STAY
    consents = "\n".join(
        turn.text(
            "data.consent",
            purpose=turn.text(f"data.purpose.{c.purpose}"),
            at=format_time(turn, c.given_at),
            version=c.text_version,
        )
        for c in data.consents
    ) or turn.text("data.no_complaints")
    identities = "\n".join(
        turn.text("data.identity", channel=a.channel, id=_mask(a.external_id), since=format_time(turn, a.since))
        for a in data.identities
    )
    complaints = "\n".join(_complaint(turn, item) for item in data.complaints) or turn.text("data.no_complaints")
    surveys = "\n".join(_survey(turn, item) for item in data.surveys) or turn.text("data.no_complaints")
    turn.reply(
        "data.mine",
        consents=consents,
        language=turn.text(f"language.name.{data.language}") if data.language in LANGUAGES else data.language,
        identities=identities,
        complaints=complaints,
        surveys=surveys,
    )
    return STAY


def _complaint(turn: Turn, item: ComplaintData) -> str:
    """Render one complaint with everything the citizen gave: text, place, answers to officers, ratings."""
    complaint = item.complaint
    if complaint.latitude is not None and complaint.longitude is not None:
        where = f"{complaint.latitude:.5f}, {complaint.longitude:.5f}"
    else:
        where = complaint.location_text or "-"
    lines = [
        turn.text(
            "data.complaint",
            code=complaint.code,
            status=turn.text(f"status.label.{complaint.status}"),
            mode=turn.text(f"complaint.identity.{complaint.identity_mode}"),
            name=complaint.reporter_name or "-",
            contact=complaint.reporter_contact or "-",
            photos=str(item.photos),
            filed=format_time(turn, complaint.filed_at),
        ),
        turn.text("data.complaint.text", description=complaint.description),
        turn.text("data.complaint.place", location=where, kecamatan=item.kecamatan or "-"),
    ]
    lines += [turn.text("data.complaint.answer", at=format_time(turn, at), text=text) for at, text in item.answers]
    lines += [
        turn.text(
            "data.complaint.rating",
            at=format_time(turn, r.updated_at),
            solved=turn.text(f"rating.solved.{r.solved}") if r.solved else "-",
            score=str(r.score) if r.score is not None else "-",
        )
        for r in item.ratings
    ]
    return "\n".join(lines)


def _survey(turn: Turn, item: SurveyData) -> str:
    """Render one questionnaire: unit, time, service, profile, the answers and the saran."""
    response = item.response
    profile = [
        turn.text(profile_option_key(f, value)) for f in ProfileField if (value := response.profile.get(f)) is not None
    ]
    answers = [
        f"{unsur_label(unsur)} {turn.text(answer_key(unsur, score))}"
        for unsur in UNSUR_ORDER
        if (score := response.answers.get(unsur)) is not None
    ]
    none = turn.text("data.not_given")
    return turn.text(
        "data.survey",
        unit=item.unit,
        at=format_time(turn, response.submitted_at),
        service=response.service or none,
        profile=", ".join(profile) or none,
        answers=", ".join(answers) or none,
        saran=response.saran or none,
    )


class ErasureStep(StrEnum):
    """Steps of the erasure flow."""

    CONFIRM = "confirm"


async def erase_command(turn: Turn, _args: str) -> str:
    """Start the erasure: explain what happens and ask for confirmation (a flow in progress is kept)."""
    park(turn)
    return turn.start_flow("erase")


async def erase_enter(turn: Turn) -> str:
    """Stop at once when nothing is stored."""
    if await turn.uow.citizens.find(turn.inbound.key.channel, sender_of(turn)) is None:
        turn.reply("data.none")
        return END
    return ErasureStep.CONFIRM


async def ask_confirm(turn: Turn) -> None:
    """Explain what is erased and what is kept, and ask to confirm."""
    turn.reply("data.erase.ask", (Choice("erase:yes", "data.erase.yes"), Choice("erase:no", "data.erase.no")))


async def on_confirm(turn: Turn) -> str:
    """Erase on yes (the chat's own state is forgotten too); keep everything on no."""
    if turn.inbound.choice == "erase:no":
        turn.reply("data.erase.kept")
        return END
    if turn.inbound.choice != "erase:yes":
        raise UserInputError("input.pick_button")
    found = await turn.uow.citizens.find(turn.inbound.key.channel, sender_of(turn))
    if found is None:
        turn.reply("data.none")
        return END
    erasure = await erase_citizen(turn.uow, found.id, turn.clock.now())
    turn.erase_files.extend(erasure.files)
    # A draft kept for `lanjut` goes with the chat's state; its photos are already on disk.
    turn.erase_files.extend(draft_files(turn.state.parked))
    turn.reply(
        "data.erase.done",
        complaints=str(erasure.complaints_kept),
        surveys=str(erasure.survey_answers_kept),
        codes=turn.text("data.erase.codes", codes=", ".join(erasure.codes)) if erasure.codes else "",
    )
    turn.state.clear()
    turn.state.forget = True
    return END


ERASE_FLOW = Flow(
    name="erase",
    first=ErasureStep.CONFIRM,
    enter=erase_enter,
    steps={ErasureStep.CONFIRM: Step(ask_confirm, on_confirm)},
)
