"""The IKM survey flow (PermenPANRB 14/2017): unit, service, optional profile, nine questions, saran, confirm.

Entered by `turn.start_flow("survey", unit=CODE or None)`: a deep link `ikm_<UNITCODE>` names the unit, the
menu does not (the citizen picks an OPD, then one of its units). Answers are kept by unsur code in the flow
data and stored once, on confirmation; a citizen may answer for the same unit a limited number of times a day.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from suarawarga.bot.conversation import END, Flow, Step, Turn
from suarawarga.bot.matching import Means
from suarawarga.bot.messages import Choice
from suarawarga.complaints.model import ConsentPurpose, Unit, letter_count
from suarawarga.errors import UserInputError
from suarawarga.handlers.common import show_menu
from suarawarga.handlers.consent import ensure_consent, require_consent
from suarawarga.surveys.definitions import (
    AGE_MAX,
    AGE_MIN,
    PROFILE_OPTIONS,
    SCORES,
    UNSUR_ORDER,
    ProfileField,
    Unsur,
    answer_key,
    profile_option_key,
    question_key,
    unsur_label,
    unsur_name_key,
    usia_band,
)
from suarawarga.surveys.model import NewResponse, Profile, ResponseSource
from suarawarga.surveys.services import answered_today, record_response

SERVICE_MIN, SERVICE_MAX = 2, 200
SARAN_MAX = 2000
SKIP = "skip"


class SurveyStep(StrEnum):
    """Steps of the survey flow; persisted by name."""

    CONSENT = "consent"
    OPD = "opd"
    SUBUNIT = "subunit"
    SERVICE = "service"
    PROFILE = "profile"
    GENDER = "gender"
    AGE = "age"
    EDUCATION = "education"
    OCCUPATION = "occupation"
    Q_PERSYARATAN = "q_persyaratan"
    Q_PROSEDUR = "q_prosedur"
    Q_WAKTU = "q_waktu"
    Q_BIAYA = "q_biaya"
    Q_PRODUK = "q_produk"
    Q_KOMPETENSI = "q_kompetensi"
    Q_PERILAKU = "q_perilaku"
    Q_PENGADUAN = "q_pengaduan"
    Q_SARANA = "q_sarana"
    SARAN = "saran"
    CONFIRM = "confirm"


QUESTION_STEPS: dict[Unsur, SurveyStep] = {unsur: SurveyStep(f"q_{unsur.value}") for unsur in UNSUR_ORDER}
PROFILE_STEPS: dict[ProfileField, SurveyStep] = {
    ProfileField.GENDER: SurveyStep.GENDER,
    ProfileField.AGE: SurveyStep.AGE,
    ProfileField.EDUCATION: SurveyStep.EDUCATION,
    ProfileField.OCCUPATION: SurveyStep.OCCUPATION,
}
FIRST_QUESTION = QUESTION_STEPS[UNSUR_ORDER[0]]


# --------------------------------------------------------------------------------------------- entry, unit


async def _unit(turn: Turn) -> Unit | None:
    code = turn.data.get("unit")
    return await turn.uow.units.by_code(code) if code else None


async def _over_limit(turn: Turn, unit: Unit) -> bool:
    citizen_id = turn.data.get("citizen")
    if citizen_id is None:
        return False
    limit = turn.policy.surveys_per_unit_per_day
    if await answered_today(turn.uow, citizen_id, unit.id, turn.clock.now(), turn.clock.tz) >= limit:
        turn.reply("survey.limit", unit=unit.name, limit=str(limit))
        return True
    return False


async def _after_unit(turn: Turn) -> str:
    """Go on once consent is given: pick a unit if none is known, refuse if today's limit is reached."""
    unit = await _unit(turn)
    if unit is None:
        return SurveyStep.OPD
    return END if await _over_limit(turn, unit) else SurveyStep.SERVICE


async def enter(turn: Turn) -> str:
    """Check the deep-linked unit, then ask for consent (first time), a unit, or the service received."""
    code = turn.data.get("unit")
    if code and await turn.uow.units.by_code(code) is None:
        turn.reply("survey.unit.unknown", code=str(code)[:40])
        turn.data["unit"] = None
    if await ensure_consent(turn, ConsentPurpose.SURVEY) is None:
        return SurveyStep.CONSENT
    return await _after_unit(turn)


async def ask_consent(turn: Turn) -> None:
    """Show the survey's privacy notice and ask for consent."""
    turn.reply(
        "survey.privacy.notice",
        (
            Choice("consent:yes", "privacy.agree", means=Means.YES),
            Choice("consent:no", "privacy.decline", means=Means.NO),
        ),
    )


async def on_consent(turn: Turn) -> str:
    """Record consent and go on, or stop if the citizen declines."""
    if turn.inbound.choice == "consent:no":
        turn.reply("survey.privacy.declined")
        return END
    if await require_consent(turn, ConsentPurpose.SURVEY) is None:
        return END
    return await _after_unit(turn)


async def ask_opd(turn: Turn) -> None:
    """List the OPDs and other top-level units."""
    units = [u for u in await turn.uow.units.list() if u.parent_id is None]
    turn.reply("survey.unit.opd.ask", tuple(Choice(f"opd:{u.code}", "label", {"label": u.name}) for u in units))


async def _typed_unit(turn: Turn) -> Unit | None:
    """Return the unit whose code the citizen typed (e.g. PKM-ANDALAS), if any."""
    text = (turn.inbound.text or "").strip()
    return await turn.uow.units.by_code(text.upper()) if text else None


async def _choose(turn: Turn, unit: Unit) -> str:
    turn.data["unit"] = unit.code
    return await _after_unit(turn)


async def on_opd(turn: Turn) -> str:
    """Take the OPD; one with sub-units goes on to pick among them."""
    choice = turn.inbound.choice or ""
    unit = (
        await turn.uow.units.by_code(choice.removeprefix("opd:"))
        if choice.startswith("opd:")
        else await _typed_unit(turn)
    )
    if unit is None:
        raise UserInputError("survey.unit.pick")
    if unit.parent_id is None and any(u.parent_id == unit.id for u in await turn.uow.units.list()):
        turn.data["opd"] = unit.code
        return SurveyStep.SUBUNIT
    return await _choose(turn, unit)


async def ask_subunit(turn: Turn) -> None:
    """List the OPD itself and its sub-units."""
    opd = await turn.uow.units.by_code(turn.data["opd"])
    if opd is None:  # units are deactivated, never deleted: this cannot normally happen
        turn.reply("error.unavailable")
        return
    members = [opd, *(u for u in await turn.uow.units.list() if u.parent_id == opd.id)]
    turn.reply(
        "survey.unit.sub.ask",
        tuple(Choice(f"unit:{u.code}", "label", {"label": u.name}) for u in members),
        opd=opd.name,
    )


async def on_subunit(turn: Turn) -> str:
    """Take the unit chosen within the OPD."""
    choice = turn.inbound.choice or ""
    unit = (
        await turn.uow.units.by_code(choice.removeprefix("unit:"))
        if choice.startswith("unit:")
        else await _typed_unit(turn)
    )
    if unit is None:
        raise UserInputError("survey.unit.pick")
    return await _choose(turn, unit)


# --------------------------------------------------------------------------------------------- service, profile


async def ask_service(turn: Turn) -> None:
    """Introduce the survey and ask which service the citizen received."""
    unit = await _unit(turn)
    turn.reply("survey.service.ask", unit=unit.name if unit else str(turn.data.get("unit")))


async def on_service(turn: Turn) -> str:
    """Store the service received (free text)."""
    text = " ".join((turn.inbound.text or "").split())
    if letter_count(text) < SERVICE_MIN or len(text) > SERVICE_MAX:
        raise UserInputError("survey.service.invalid", min=str(SERVICE_MIN), max=str(SERVICE_MAX))
    turn.data["service"] = text
    return SurveyStep.PROFILE


async def ask_profile(turn: Turn) -> None:
    """Offer the four optional profile questions."""
    turn.reply(
        "survey.profile.ask",
        (
            Choice("profile:yes", "survey.profile.fill", means=Means.YES),
            Choice("profile:skip", "survey.profile.skip_all", means=Means.NO),
        ),
    )


async def on_profile(turn: Turn) -> str:
    """Go through the profile questions, or straight to the first survey question."""
    if turn.inbound.choice == "profile:yes":
        return SurveyStep.GENDER
    if turn.inbound.choice == "profile:skip":
        turn.data.pop("profile", None)
        return FIRST_QUESTION
    raise UserInputError("input.pick_button")


def _profile_step(profile_field: ProfileField, next_step: str) -> Step:
    """Build the step of one profile question: its options plus Lewati (skip)."""

    async def prompt(turn: Turn) -> None:
        """Ask the profile question with its options."""
        choices = [
            Choice(f"{profile_field.value}:{option.value}", profile_option_key(profile_field, option))
            for option in PROFILE_OPTIONS[profile_field]
        ]
        choices.append(Choice(SKIP, "survey.skip"))
        turn.reply(f"survey.profile.{profile_field.value}.ask", choices)

    async def handle(turn: Turn) -> str:
        """Store the answer (or nothing when skipped) and go on."""
        stored: dict[str, Any] = turn.data.setdefault("profile", {})
        choice = turn.inbound.choice or ""
        if choice == SKIP:
            stored.pop(profile_field.value, None)
            return next_step
        prefix = f"{profile_field.value}:"
        options = {option.value for option in PROFILE_OPTIONS[profile_field]}
        if choice.startswith(prefix) and choice.removeprefix(prefix) in options:
            stored[profile_field.value] = choice.removeprefix(prefix)
            return next_step
        text = (turn.inbound.text or "").strip()
        if profile_field is ProfileField.AGE and text.isdigit():
            try:
                stored[profile_field.value] = usia_band(int(text)).value
            except ValueError:
                raise UserInputError("survey.profile.age.invalid", min=str(AGE_MIN), max=str(AGE_MAX)) from None
            return next_step
        raise UserInputError("input.pick_button")

    return Step(prompt, handle)


# --------------------------------------------------------------------------------------------- questions


def _question_step(unsur: Unsur, next_step: str) -> Step:
    """Build the step of one unsur's question with its four standard answers (a–d, scored 1–4)."""
    number = UNSUR_ORDER.index(unsur) + 1

    async def prompt(turn: Turn) -> None:
        """Ask the question with its four answers."""
        turn.reply(
            "survey.question",
            tuple(Choice(f"score:{score}", answer_key(unsur, score)) for score in SCORES),
            number=str(number),
            total=str(len(UNSUR_ORDER)),
            unsur=turn.text(unsur_name_key(unsur)),
            question=turn.text(question_key(unsur)),
        )

    async def handle(turn: Turn) -> str:
        """Store the score 1–4 (a button, its number, or the letter a–d) and go on."""
        choice = turn.inbound.choice or ""
        text = (turn.inbound.text or "").strip().lower()
        if choice.startswith("score:") and choice.removeprefix("score:") in ("1", "2", "3", "4"):
            score = int(choice.removeprefix("score:"))
        elif len(text) == 1 and text in "abcd":
            score = "abcd".index(text) + 1
        else:
            raise UserInputError("survey.answer.pick")
        turn.data.setdefault("answers", {})[unsur.value] = score
        return next_step

    return Step(prompt, handle)


async def ask_saran(turn: Turn) -> None:
    """Ask for an optional suggestion."""
    unit = await _unit(turn)
    turn.reply("survey.saran.ask", (Choice(SKIP, "survey.skip", means=Means.NO),), unit=unit.name if unit else "")


async def on_saran(turn: Turn) -> str:
    """Store the suggestion, or none."""
    if turn.inbound.choice == SKIP:
        turn.data.pop("saran", None)
        return SurveyStep.CONFIRM
    text = (turn.inbound.text or "").strip()
    if not text:
        raise UserInputError("survey.saran.need_text")
    if len(text) > SARAN_MAX:
        raise UserInputError("survey.saran.too_long", max=str(SARAN_MAX), length=str(len(text)))
    turn.data["saran"] = text
    return SurveyStep.CONFIRM


# --------------------------------------------------------------------------------------------- confirm


def _profile(turn: Turn) -> Profile:
    return Profile.from_codes(turn.data.get("profile") or {})


async def ask_confirm(turn: Turn) -> None:
    """Summarise the answers and ask to send them."""
    unit = await _unit(turn)
    answers: dict[str, int] = turn.data.get("answers", {})
    profile = _profile(turn)
    given = [turn.text(profile_option_key(f, value)) for f in ProfileField if (value := profile.get(f)) is not None]
    lines = [
        turn.text(
            "survey.summary.answer",
            label=unsur_label(unsur),
            unsur=turn.text(unsur_name_key(unsur)),
            answer=turn.text(answer_key(unsur, answers[unsur.value])),
        )
        for unsur in UNSUR_ORDER
        if unsur.value in answers
    ]
    none = turn.text("survey.summary.none")
    turn.reply(
        "survey.summary",
        (
            Choice("confirm:send", "survey.confirm.send", means=Means.YES),
            Choice("confirm:cancel", "survey.confirm.cancel", means=Means.NO),
        ),
        unit=unit.name if unit else "",
        service=turn.data.get("service", ""),
        profile=", ".join(given) or none,
        answers="\n".join(lines),
        saran=turn.data.get("saran") or none,
    )


async def on_confirm(turn: Turn) -> str:
    """Store the questionnaire and thank the citizen, or drop it."""
    if turn.inbound.choice == "confirm:cancel":
        show_menu(turn, "cancel.done")
        return END
    if turn.inbound.choice != "confirm:send":
        raise UserInputError("input.pick_button")
    unit = await _unit(turn)
    if unit is None:  # the unit was removed while the citizen answered
        turn.reply("error.unavailable")
        return END
    if await _over_limit(turn, unit):  # answered meanwhile in another chat
        return END
    answers: dict[str, int] = turn.data.get("answers", {})
    await record_response(
        turn.uow,
        NewResponse(
            unit_id=unit.id,
            submitted_at=turn.clock.now(),
            answers={unsur: answers.get(unsur.value) for unsur in UNSUR_ORDER},
            source=ResponseSource.CHAT,
            citizen_id=turn.data.get("citizen"),
            service=turn.data.get("service"),
            profile=_profile(turn),
            saran=turn.data.get("saran"),
        ),
    )
    turn.reply("survey.thanks", unit=unit.name)
    return END


def _steps() -> dict[str, Step]:
    steps: dict[str, Step] = {
        SurveyStep.CONSENT: Step(ask_consent, on_consent),
        SurveyStep.OPD: Step(ask_opd, on_opd),
        SurveyStep.SUBUNIT: Step(ask_subunit, on_subunit),
        SurveyStep.SERVICE: Step(ask_service, on_service),
        SurveyStep.PROFILE: Step(ask_profile, on_profile),
        SurveyStep.SARAN: Step(ask_saran, on_saran),
        SurveyStep.CONFIRM: Step(ask_confirm, on_confirm),
    }
    fields = list(PROFILE_STEPS)
    for index, profile_field in enumerate(fields):
        after = PROFILE_STEPS[fields[index + 1]] if index + 1 < len(fields) else FIRST_QUESTION
        steps[PROFILE_STEPS[profile_field]] = _profile_step(profile_field, after)
    for index, unsur in enumerate(UNSUR_ORDER):
        after = QUESTION_STEPS[UNSUR_ORDER[index + 1]] if index + 1 < len(UNSUR_ORDER) else SurveyStep.SARAN
        steps[QUESTION_STEPS[unsur]] = _question_step(unsur, after)
    return steps


FLOW = Flow(name="survey", first=SurveyStep.SERVICE, enter=enter, steps=_steps())

__all__ = ["FLOW", "SurveyStep"]
