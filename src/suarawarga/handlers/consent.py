"""Consent to a privacy notice, asked once per citizen and purpose before anything about them is stored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from suarawarga.bot.conversation import Turn
from suarawarga.bot.texts import LANGUAGES, Catalogue
from suarawarga.complaints.model import ConsentPurpose
from suarawarga.errors import UserInputError
from suarawarga.handlers.common import sender_of

NOTICES = {ConsentPurpose.COMPLAINT: "privacy.notice", ConsentPurpose.SURVEY: "survey.privacy.notice"}


def notice_version(catalogue: Catalogue, purpose: ConsentPurpose) -> str:
    """Name the notice text a consent was given to: its key and a digest of its texts in every language."""
    key = NOTICES[purpose]
    digest = hashlib.sha256("\n".join(catalogue.raw(key, language) for language in LANGUAGES).encode())
    return f"{key}@{digest.hexdigest()[:12]}"


async def ensure_consent(turn: Turn, purpose: ConsentPurpose) -> int | None:
    """Return the citizen's id if they consented to this purpose before (remembering it), else None."""
    found = await turn.uow.citizens.find(turn.inbound.key.channel, sender_of(turn))
    if found is None:
        return None
    if purpose not in {c.purpose for c in await turn.uow.citizens.consents(found.id)}:
        return None
    turn.data["citizen"] = found.id
    return found.id


@dataclass(frozen=True, slots=True)
class Consented:
    """A citizen who has consented; `registered`: stored just now, so nothing of theirs is stored yet."""

    citizen_id: int
    registered: bool


async def require_consent(turn: Turn, purpose: ConsentPurpose) -> Consented | None:
    """Handle the answer to a privacy notice: register the citizen and record the consent on yes."""
    choice = turn.inbound.choice
    if choice not in ("consent:yes", "consent:no"):
        raise UserInputError("input.pick_button")
    if choice == "consent:no":
        turn.reply("privacy.declined")
        return None
    now = turn.clock.now()
    channel, external_id = turn.inbound.key.channel, sender_of(turn)
    version = notice_version(turn.catalogue, purpose)
    found = await turn.uow.citizens.find(channel, external_id)
    if found is None:
        citizen_id = await turn.uow.citizens.register_consenting(
            channel, external_id, turn.language, now, purpose, version
        )
    else:
        citizen_id = found.id
        if found.consent_at is None:
            await turn.uow.citizens.set_consent(citizen_id, now)
        await turn.uow.citizens.give_consent(citizen_id, purpose, now, version)
    turn.data["citizen"] = citizen_id
    turn.reply("privacy.thanks")
    return Consented(citizen_id, registered=found is None)
