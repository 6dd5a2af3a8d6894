"""`dataku` shows a citizen what is stored about them; `hapusdata` erases it after a confirmation."""

from __future__ import annotations

from enum import StrEnum

from suarawarga.bot.conversation import END, STAY, Flow, Step, Turn
from suarawarga.bot.messages import Choice
from suarawarga.complaints.privacy import citizen_data, erase_citizen
from suarawarga.errors import UserInputError
from suarawarga.handlers.common import format_time, park, sender_of


def _mask(external_id: str) -> str:
    """Show only the end of an account id, enough for the citizen to recognise it."""
    return "…" + external_id[-4:] if len(external_id) > 4 else external_id


async def my_data(turn: Turn, _args: str) -> str:
    """Show everything stored about the citizen: identities, consent, complaints, survey answers."""
    data = await citizen_data(turn.uow, turn.inbound.key.channel, sender_of(turn))
    if data is None:
        turn.reply("data.none")
        return STAY if turn.state.flow else END
    identities = "\n".join(
        turn.text("data.identity", channel=channel, id=_mask(external_id), since=format_time(turn, since))
        for channel, external_id, since in data.identities
    )
    complaints = "\n".join(
        turn.text(
            "data.complaint",
            code=item.complaint.code,
            status=turn.text(f"status.label.{item.complaint.status}"),
            mode=turn.text(f"complaint.identity.{item.complaint.identity_mode}"),
            name=item.complaint.reporter_name or "-",
            contact=item.complaint.reporter_contact or "-",
            photos=str(item.photos),
            filed=format_time(turn, item.complaint.filed_at),
        )
        for item in data.complaints
    ) or turn.text("data.no_complaints")
    turn.reply(
        "data.mine",
        consent=format_time(turn, data.consent_at) if data.consent_at else "-",
        language=data.language,
        identities=identities,
        complaints=complaints,
        surveys=str(data.survey_answers),
    )
    return STAY if turn.state.flow else END


class E(StrEnum):
    """Steps of the erasure flow."""

    CONFIRM = "confirm"


async def erase_command(turn: Turn, _args: str) -> str:
    """Start the erasure: explain what happens and ask for confirmation (a flow in progress is kept)."""
    park(turn)
    return turn.start_flow("erase")


async def erase_enter(turn: Turn) -> str:
    """Stop at once when nothing is stored."""
    if await turn.uow.citizens.get_by_identity(turn.inbound.key.channel, sender_of(turn)) is None:
        turn.reply("data.none")
        return END
    return E.CONFIRM


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
    found = await turn.uow.citizens.get_by_identity(turn.inbound.key.channel, sender_of(turn))
    if found is None:
        turn.reply("data.none")
        return END
    erasure = await erase_citizen(turn.uow, found[0], turn.clock.now())
    turn.erase_files.extend(erasure.files)
    # A draft kept for `lanjut` goes with the chat's state; its photos are already on disk.
    kept = (turn.state.parked or {}).get("data") or {}
    turn.erase_files.extend(str(photo["path"]) for photo in kept.get("photos", []))
    turn.reply(
        "data.erase.done",
        complaints=str(erasure.complaints_kept),
        surveys=str(erasure.survey_answers_kept),
        codes=turn.text("data.erase.codes", codes=", ".join(erasure.codes)) if erasure.codes else "",
    )
    turn.state.clear()
    turn.state.forget = True
    return END


ERASE_FLOW = Flow(name="erase", first=E.CONFIRM, enter=erase_enter, steps={E.CONFIRM: Step(ask_confirm, on_confirm)})
