"""The complaint flow: consent, category, description, location, photos, identity, confirmation."""

from __future__ import annotations

import re
from enum import StrEnum

from suarawarga.bot.conversation import END, STAY, Flow, Step, Turn
from suarawarga.bot.matching import Means
from suarawarga.bot.messages import Choice
from suarawarga.complaints.model import (
    ADDRESS_MAX,
    ADDRESS_MIN,
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    NAME_MAX,
    NAME_MIN,
    ConsentPurpose,
    IdentityMode,
    NewAttachment,
    UnitKind,
    letter_count,
)
from suarawarga.complaints.places import kecamatan_label, kecamatan_named_in
from suarawarga.complaints.services import ComplaintDraft, file_complaint, filed_today
from suarawarga.errors import UserInputError
from suarawarga.handlers.common import accept_photos, keep_files, photos_in
from suarawarga.handlers.consent import ensure_consent, require_consent
from suarawarga.handlers.notify import announce_complaint

PHONE = re.compile(r"^\+?[0-9][0-9 -]{7,18}$")
SUMMARY_DESCRIPTION_MAX = 300


class ComplaintStep(StrEnum):
    """Steps of the complaint flow; persisted by name."""

    CONSENT = "consent"
    CATEGORY = "category"
    DESCRIPTION = "description"
    LOCATION = "location"
    LOCATION_CHECK = "location_check"
    KECAMATAN = "kecamatan"
    PHOTOS = "photos"
    IDENTITY = "identity"
    NAME = "name"
    CONTACT = "contact"
    CONFIRM = "confirm"


async def enter(turn: Turn) -> str:
    """Refuse when the day's limit is reached; otherwise ask for consent (first time) or the category."""
    citizen_id = await ensure_consent(turn, ConsentPurpose.COMPLAINT)
    if citizen_id is not None and await _over_limit(turn, citizen_id):
        return END
    return ComplaintStep.CATEGORY if citizen_id is not None else ComplaintStep.CONSENT


async def _over_limit(turn: Turn, citizen_id: int) -> bool:
    if await filed_today(turn.uow, citizen_id, turn.clock.now(), turn.clock.tz) >= turn.policy.complaints_per_day:
        turn.reply("complaint.limit", limit=str(turn.policy.complaints_per_day))
        return True
    return False


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
    citizen_id = await require_consent(turn, ConsentPurpose.COMPLAINT)
    if citizen_id is None:
        return END
    return END if await _over_limit(turn, citizen_id) else ComplaintStep.CATEGORY


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
        draft = turn.data["draft"]
        if len(draft) > SUMMARY_DESCRIPTION_MAX:
            draft = draft[:SUMMARY_DESCRIPTION_MAX] + "…"
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


async def ask_location(turn: Turn) -> None:
    """Ask for a shared location or a typed address."""
    turn.reply("complaint.location.ask", (Choice("loc:skip", "complaint.location.skip"),), ask_location=True)


async def on_location(turn: Turn) -> str:
    """Store the shared point (questioned when outside the city) or the typed address (its kecamatan, if named)."""
    inbound = turn.inbound
    if inbound.choice == "loc:skip":
        turn.data.pop("location", None)
        turn.data.pop("address", None)
        return ComplaintStep.KECAMATAN
    if inbound.location is not None:
        lat, lon = inbound.location
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise UserInputError("complaint.location.invalid")
        turn.data["location"] = [lat, lon]
        turn.data.pop("address", None)
        area = await turn.uow.units.city_area()
        return (
            ComplaintStep.LOCATION_CHECK
            if area is not None and not area.contains(lat, lon)
            else ComplaintStep.KECAMATAN
        )
    text = (inbound.text or "").strip()
    if not text:
        raise UserInputError("complaint.location.need")
    if letter_count(text) < ADDRESS_MIN or len(text) > ADDRESS_MAX:
        raise UserInputError("complaint.location.address_length", min=str(ADDRESS_MIN), max=str(ADDRESS_MAX))
    turn.data["address"] = text
    turn.data.pop("location", None)
    return await _kecamatan_from_address(turn, text)


async def _kecamatan_from_address(turn: Turn, address: str) -> str:
    """Skip the kecamatan question when the address names exactly one kecamatan (itself or a kelurahan)."""
    kecamatan = await turn.uow.units.list(UnitKind.KECAMATAN)
    names = [(u.name, u.code) for u in kecamatan] + [(p.name, p.unit_code) for p in await turn.uow.units.places()]
    code = kecamatan_named_in(address, names)
    unit = next((u for u in kecamatan if u.code == code), None)
    if unit is None:
        return ComplaintStep.KECAMATAN
    turn.data["kecamatan"] = unit.code
    turn.reply("complaint.kecamatan.inferred", kecamatan=unit.name)
    return _after_kecamatan(turn)


def _after_kecamatan(turn: Turn) -> str:
    return ComplaintStep.PHOTOS if turn.policy.max_photos > 0 else ComplaintStep.IDENTITY


async def ask_location_check(turn: Turn) -> None:
    """Warn that the shared point lies outside the city and ask whether it is right."""
    lat, lon = turn.data["location"]
    turn.reply(
        "complaint.location.outside",
        (
            Choice("loccheck:yes", "complaint.location.outside_keep", means=Means.YES),
            Choice("loccheck:no", "complaint.location.outside_again", means=Means.NO),
        ),
        lat=f"{lat:.5f}",
        lon=f"{lon:.5f}",
    )


async def on_location_check(turn: Turn) -> str:
    """Keep the point outside the city, or ask for the location again."""
    if turn.inbound.choice == "loccheck:yes":
        return ComplaintStep.KECAMATAN
    if turn.inbound.choice == "loccheck:no":
        turn.data.pop("location", None)
        return ComplaintStep.LOCATION
    raise UserInputError("input.pick_button")


async def ask_kecamatan(turn: Turn) -> None:
    """Ask in which kecamatan it is, if the citizen knows."""
    kecamatan = await turn.uow.units.list(UnitKind.KECAMATAN)
    choices = [Choice(f"kec:{u.code}", "label", {"label": u.name}) for u in kecamatan]
    choices.append(Choice("kec:unknown", "complaint.kecamatan.unknown"))
    turn.reply("complaint.kecamatan.ask", choices)


async def on_kecamatan(turn: Turn) -> str:
    """Store the kecamatan (or that it is unknown)."""
    choice = turn.inbound.choice or ""
    if not choice.startswith("kec:"):
        raise UserInputError("input.pick_button")
    code = choice.removeprefix("kec:")
    turn.data["kecamatan"] = None if code == "unknown" else code
    return _after_kecamatan(turn)


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


async def ask_confirm(turn: Turn) -> None:
    """Summarise the complaint and ask to send it."""
    data = turn.data
    category = await turn.uow.categories.by_code(data["category"])
    kecamatan = await turn.uow.units.by_code(data["kecamatan"]) if data.get("kecamatan") else None
    if data.get("location"):
        lat, lon = data["location"]
        where = turn.text("complaint.summary.point", lat=f"{lat:.5f}", lon=f"{lon:.5f}")
    else:
        where = data.get("address") or turn.text("complaint.summary.no_location")
    description = data["description"]
    if len(description) > SUMMARY_DESCRIPTION_MAX:
        description = description[:SUMMARY_DESCRIPTION_MAX] + "…"
    mode = IdentityMode(data["identity"])
    who = turn.text(f"complaint.summary.who.{mode}", name=data.get("name", ""))
    turn.reply(
        "complaint.summary",
        (
            Choice("confirm:send", "complaint.confirm.send", means=Means.YES),
            Choice("confirm:cancel", "complaint.confirm.cancel", means=Means.NO),
        ),
        category=category.name(turn.language) if category else data["category"],
        description=description,
        location=where,
        kecamatan=kecamatan_label(kecamatan.name) if kecamatan else turn.text("complaint.summary.no_kecamatan"),
        photos=str(len(data.get("photos", []))),
        identity=who,
    )


async def on_confirm(turn: Turn) -> str:
    """File the complaint and give its tracking code, or drop it."""
    if turn.inbound.choice == "confirm:cancel":
        turn.reply("cancel.done")
        return END
    if turn.inbound.choice != "confirm:send":
        raise UserInputError("input.pick_button")
    citizen_id = turn.data.get("citizen")
    if citizen_id is not None and await _over_limit(turn, citizen_id):
        return END
    data = turn.data
    mode = IdentityMode(data["identity"])
    location = data.get("location") or [None, None]
    filed = await file_complaint(
        turn.uow,
        ComplaintDraft(
            category_code=data["category"],
            description=data["description"],
            identity_mode=mode,
            channel=turn.inbound.key.channel,
            chat_id=turn.inbound.key.chat_id,
            citizen_id=citizen_id,
            language=turn.language,
            location_text=data.get("address"),
            latitude=location[0],
            longitude=location[1],
            kecamatan_code=data.get("kecamatan"),
            reporter_name=data.get("name"),
            reporter_contact=data.get("contact"),
            attachments=tuple(NewAttachment(**p) for p in keep_files(turn, data.get("photos", []))),
        ),
        turn.clock.now(),
        turn.policy.city_code,
    )
    turn.reply(
        "complaint.filed.anonim" if mode is IdentityMode.ANONIM else "complaint.filed",
        code=filed.code,
        unit=filed.unit.name,
    )
    complaint = await turn.uow.complaints.by_code(filed.code)
    if complaint is not None:
        await announce_complaint(turn, complaint, filed.unit)
    return END


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
        ComplaintStep.PHOTOS: Step(ask_photos, on_photos),
        ComplaintStep.IDENTITY: Step(ask_identity, on_identity),
        ComplaintStep.NAME: Step(ask_name, on_name),
        ComplaintStep.CONTACT: Step(ask_contact, on_contact),
        ComplaintStep.CONFIRM: Step(ask_confirm, on_confirm),
    },
)
