"""The complaint flow's steps about the place: a shared point or a typed address, a point outside the city, the
kecamatan, and the open reports of the same thing there that the citizen may support instead of filing again."""

from __future__ import annotations

from suarawarga.bot.conversation import Turn
from suarawarga.bot.matching import Means
from suarawarga.bot.messages import Choice
from suarawarga.complaints.model import ADDRESS_MAX, ADDRESS_MIN, UnitKind, letter_count
from suarawarga.complaints.places import kecamatan_named_in
from suarawarga.complaints.supporting import find_duplicates
from suarawarga.errors import UserInputError
from suarawarga.handlers import duplicates
from suarawarga.handlers.complaint_steps import ComplaintStep


async def ask_location(turn: Turn) -> None:
    """Ask for a shared location or a typed address."""
    turn.reply("complaint.location.ask", (Choice("loc:skip", "complaint.location.skip"),), ask_location=True)


async def on_location(turn: Turn) -> str:
    """Store the shared point (questioned when outside the city) or the typed address (its kecamatan, if named)."""
    inbound = turn.inbound
    if inbound.choice == "loc:skip":
        turn.data.pop("location", None)
        turn.data.pop("address", None)
        turn.data.pop("matches", None)
        return ComplaintStep.KECAMATAN
    if inbound.location is not None:
        lat, lon = inbound.location
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise UserInputError("complaint.location.invalid")
        turn.data["location"] = [lat, lon]
        turn.data.pop("address", None)
        turn.data.pop("matches", None)
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
    turn.data.pop("matches", None)
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
    return await _after_kecamatan(turn)


async def _after_kecamatan(turn: Turn) -> str:
    """Offer open reports about the same thing at the same place (once), else go on to the photos."""
    if "matches" not in turn.data:
        data = turn.data
        location = data.get("location") or [None, None]
        found = await find_duplicates(
            turn.uow,
            data["category"],
            turn.clock.now(),
            latitude=location[0],
            longitude=location[1],
            address=data.get("address"),
            kecamatan_code=data.get("kecamatan"),
            citizen_id=data.get("citizen"),
        )
        data["matches"] = [
            duplicates.match_data(m, await duplicates.kecamatan_name(turn, m.kecamatan_id)) for m in found
        ]
        if found:
            return ComplaintStep.DUPLICATE
    return _to_photos(turn)


def _to_photos(turn: Turn) -> str:
    return ComplaintStep.PHOTOS if turn.policy.max_photos > 0 else ComplaintStep.IDENTITY


async def ask_duplicate(turn: Turn) -> None:
    """Show the open reports that may be the same, to support one instead of filing again."""
    category = await turn.uow.categories.by_code(turn.data["category"])
    duplicates.offer(turn, category.name(turn.language) if category else "", turn.data["matches"])


async def on_duplicate(turn: Turn) -> str:
    """ "Ya, sama" on one: go on as its supporter; "Bukan, laporkan baru": the normal flow."""
    choice = turn.inbound.choice or ""
    matches = turn.data.get("matches", [])
    if choice == "dup:new":
        turn.data.pop("support", None)
        return _to_photos(turn)
    number = choice.removeprefix("dup:")
    if not choice.startswith("dup:") or not number.isdigit() or not 1 <= int(number) <= len(matches):
        raise UserInputError("input.pick_button")
    turn.data["support"] = matches[int(number) - 1]
    return _to_photos(turn)


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
    return await _after_kecamatan(turn)
