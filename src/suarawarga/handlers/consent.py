"""Consent to the privacy notice, asked once per citizen before anything about them is stored."""

from __future__ import annotations

from suarawarga.bot.conversation import Turn
from suarawarga.errors import UserInputError
from suarawarga.handlers.common import sender_of


async def ensure_consent(turn: Turn) -> int | None:
    """Return the citizen's id if they consented before (remembering it in the flow data), else None."""
    found = await turn.uow.citizens.find(turn.inbound.key.channel, sender_of(turn))
    if found is None or found[1] is None:
        return None
    turn.data["citizen"] = found[0]
    return found[0]


async def require_consent(turn: Turn) -> int | None:
    """Handle the answer to the privacy notice: register the citizen on yes, say goodbye on no."""
    choice = turn.inbound.choice
    if choice not in ("consent:yes", "consent:no"):
        raise UserInputError("input.pick_button")
    if choice == "consent:no":
        turn.reply("privacy.declined")
        return None
    now = turn.clock.now()
    channel, external_id = turn.inbound.key.channel, sender_of(turn)
    found = await turn.uow.citizens.find(channel, external_id)
    if found is None:
        citizen_id = await turn.uow.citizens.register(channel, external_id, turn.language, now, consent=True)
    else:
        citizen_id = found[0]
        await turn.uow.citizens.set_consent(citizen_id, now)
    turn.data["citizen"] = citizen_id
    turn.reply("privacy.thanks")
    return citizen_id
