"""The complaint flow: consent, category, description, location, photos, identity, confirmation.

The steps about the place (location, kecamatan, similar open reports) are in `complaint_place.py`; the summary,
the daily limit and the filing (or the support of an open report) in `complaint_filing.py`.
"""

from __future__ import annotations

import re

from suarawarga.bot.conversation import END, STAY, Flow, Step, Turn
from suarawarga.bot.matching import Means
from suarawarga.bot.messages import Choice
from suarawarga.complaints.model import (
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    NAME_MAX,
    NAME_MIN,
    ConsentPurpose,
    IdentityMode,
    letter_count,
)
from suarawarga.errors import UserInputError
from suarawarga.handlers.common import accept_photos, photos_in
from suarawarga.handlers.complaint_filing import ask_confirm, on_confirm, over_limit
from suarawarga.handlers.complaint_place import (
    ask_duplicate,
    ask_kecamatan,
    ask_location,
    ask_location_check,
    on_duplicate,
    on_kecamatan,
    on_location,
    on_location_check,
)
from suarawarga.handlers.complaint_steps import ComplaintStep, clipped
from suarawarga.handlers.consent import ensure_consent, require_consent

PHONE = re.compile(r"^\+?[0-9][0-9 -]{7,18}$")


async def enter(turn: Turn) -> str:
    """Refuse when the day's limit is reached; otherwise ask for consent (first time) or the category."""
    citizen_id = await ensure_consent(turn, ConsentPurpose.COMPLAINT)
    if citizen_id is not None and await over_limit(turn, citizen_id):
        return END
    return ComplaintStep.CATEGORY if citizen_id is not None else ComplaintStep.CONSENT


async def ask_consent(turn: Turn) -> None:
    """Show the privacy notice and ask for consent."""
    turn.reply(
        "privacy.notice",
        (
            Choice("consent:yes", "privacy.agree", means=Means.YES),
            Choice("consent:no", "privacy.decline", means=Means.NO),
        ),
    )


async def on_consent(turn: Turn) -> str:
    """Record consent and go on to the category, or stop if the citizen declines."""
    consented = await require_consent(turn, ConsentPurpose.COMPLAINT)
    if consented is None:
        return END
    # A citizen registered in this turn has filed nothing yet: there is nothing to count.
    if not consented.registered and await over_limit(turn, consented.citizen_id):
        return END
    return ComplaintStep.CATEGORY


async def ask_category(turn: Turn) -> None:
    """List the categories as buttons."""
    categories = await turn.uow.categories.list()
    turn.reply(
        "complaint.category.ask",
        tuple(Choice(f"cat:{c.code}", "label", {"label": c.name(turn.language)}) for c in categories),
    )


async def on_category(turn: Turn) -> str:
    """Store the chosen category."""
    choice = turn.inbound.choice or ""
    category = await turn.uow.categories.by_code(choice.removeprefix("cat:")) if choice.startswith("cat:") else None
    if category is None:
        raise UserInputError("complaint.category.pick")
    turn.data["category"] = category.code
    return ComplaintStep.DESCRIPTION


async def ask_description(turn: Turn) -> None:
    """Ask what happened, with the category's example (or offer the text typed at the menu)."""
    category = await turn.uow.categories.by_code(turn.data["category"])
    hint = (category.hint_en if turn.language == "en" else category.hint_id) if category else ""
    name = category.name(turn.language) if category else ""
    if turn.data.get("draft"):
        draft = clipped(turn.data["draft"])
        choices = (Choice("desc:draft", "complaint.description.use_draft", means=Means.YES),)
        turn.reply("complaint.description.draft", choices, category=name, draft=draft, min=str(DESCRIPTION_MIN))
        return
    turn.reply("complaint.description.ask", category=name, hint=hint, min=str(DESCRIPTION_MIN))


async def on_description(turn: Turn) -> str:
    """Store the description (at least 10 letters or digits, at most 4 000 characters)."""
    text = (turn.inbound.text or "").strip()
    if turn.inbound.choice == "desc:draft":
        text = turn.data.get("draft", "")
    if not text:
        raise UserInputError("complaint.description.need_text")
    if letter_count(text) < DESCRIPTION_MIN:
        raise UserInputError("complaint.description.too_short", min=str(DESCRIPTION_MIN))
    if len(text) > DESCRIPTION_MAX:
        raise UserInputError("complaint.description.too_long", max=str(DESCRIPTION_MAX), length=str(len(text)))
    turn.data["description"] = text
    turn.data.pop("draft", None)
    return ComplaintStep.LOCATION


async def ask_photos(turn: Turn) -> None:
    """Invite up to N photos, or to go on without."""
    turn.reply(
        "complaint.photos.ask",
        (Choice("photos:done", "complaint.photos.done", means=Means.NO),),
        max=str(turn.policy.max_photos),
    )


async def on_photos(turn: Turn) -> str:
    """Collect photos until the citizen is done or the maximum is reached."""
    if turn.inbound.choice == "photos:done":
        return ComplaintStep.IDENTITY
    photos = photos_in(turn.inbound)
    if not photos:
        raise UserInputError("complaint.photos.need_photo")
    stored: list[dict[str, object]] = turn.data.setdefault("photos", [])
    room = turn.policy.max_photos - len(stored)
    stored += await accept_photos(turn, photos[:room], "photo", stored)
    if len(stored) >= turn.policy.max_photos:
        turn.reply("complaint.photos.full", max=str(turn.policy.max_photos))
        return ComplaintStep.IDENTITY
    turn.reply(
        "complaint.photos.received",
        (Choice("photos:done", "complaint.photos.done", means=Means.NO),),
        count=str(len(stored)),
        max=str(turn.policy.max_photos),
    )
    return STAY


async def ask_identity(turn: Turn) -> None:
    """Explain the three identity modes and ask for one."""
    turn.reply(
        "complaint.identity.ask",
        (
            Choice("id:rahasia", "complaint.identity.rahasia"),
            Choice("id:named", "complaint.identity.named"),
            Choice("id:anonim", "complaint.identity.anonim"),
        ),
    )


async def on_identity(turn: Turn) -> str:
    """Store the identity mode; a named or confidential report goes on to the name."""
    choice = (turn.inbound.choice or "").removeprefix("id:")
    try:
        mode = IdentityMode(choice)
    except ValueError:
        raise UserInputError("input.pick_button") from None
    turn.data["identity"] = mode.value
    if mode is IdentityMode.ANONIM:
        turn.data.pop("name", None)
        turn.data.pop("contact", None)
        return ComplaintStep.CONFIRM
    return ComplaintStep.NAME


async def ask_name(turn: Turn) -> None:
    """Ask the reporter's name."""
    turn.reply("complaint.name.ask")


async def on_name(turn: Turn) -> str:
    """Store the reporter's name."""
    text = " ".join((turn.inbound.text or "").split())
    if letter_count(text) < NAME_MIN or len(text) > NAME_MAX:
        raise UserInputError("complaint.name.invalid", min=str(NAME_MIN), max=str(NAME_MAX))
    turn.data["name"] = text
    return ComplaintStep.CONTACT


async def ask_contact(turn: Turn) -> None:
    """Ask for a phone number, optionally."""
    turn.reply("complaint.contact.ask", (Choice("contact:skip", "complaint.contact.skip", means=Means.NO),))


async def on_contact(turn: Turn) -> str:
    """Store the phone number (typed or shared), or go on without."""
    if turn.inbound.choice == "contact:skip":
        turn.data.pop("contact", None)
        return ComplaintStep.CONFIRM
    phone = (turn.inbound.contact or turn.inbound.text or "").strip()
    if not PHONE.match(phone):
        raise UserInputError("complaint.contact.invalid")
    turn.data["contact"] = re.sub(r"[ -]", "", phone)
    return ComplaintStep.CONFIRM


FLOW = Flow(
    name="complaint",
    first=ComplaintStep.CATEGORY,
    enter=enter,
    steps={
        ComplaintStep.CONSENT: Step(ask_consent, on_consent),
        ComplaintStep.CATEGORY: Step(ask_category, on_category),
        ComplaintStep.DESCRIPTION: Step(ask_description, on_description),
        ComplaintStep.LOCATION: Step(ask_location, on_location),
        ComplaintStep.LOCATION_CHECK: Step(ask_location_check, on_location_check),
        ComplaintStep.KECAMATAN: Step(ask_kecamatan, on_kecamatan),
        ComplaintStep.DUPLICATE: Step(ask_duplicate, on_duplicate),
        ComplaintStep.PHOTOS: Step(ask_photos, on_photos),
        ComplaintStep.IDENTITY: Step(ask_identity, on_identity),
        ComplaintStep.NAME: Step(ask_name, on_name),
        ComplaintStep.CONTACT: Step(ask_contact, on_contact),
        ComplaintStep.CONFIRM: Step(ask_confirm, on_confirm),
    },
)
