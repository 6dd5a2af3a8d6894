"""The end of the complaint flow: the daily limit, the summary to confirm, and filing the complaint (or recording
the citizen as a supporter of an open report of the same thing)."""

from __future__ import annotations

from suarawarga.bot.conversation import END, Turn
from suarawarga.bot.matching import Means
from suarawarga.bot.messages import Choice
from suarawarga.complaints.model import IdentityMode, NewAttachment
from suarawarga.complaints.places import kecamatan_label
from suarawarga.complaints.services import ComplaintDraft, file_complaint, filed_today
from suarawarga.complaints.supporting import SupportDraft, support
from suarawarga.errors import NotAllowed, NotFound, UserInputError
from suarawarga.handlers import duplicates
from suarawarga.handlers.common import keep_files
from suarawarga.handlers.complaint_steps import ComplaintStep, clipped
from suarawarga.handlers.notify import announce_complaint


async def over_limit(turn: Turn, citizen_id: int) -> bool:
    """Tell the citizen and return True when they filed as many complaints today as a day allows."""
    if await filed_today(turn.uow, citizen_id, turn.clock.now(), turn.clock.tz) >= turn.policy.complaints_per_day:
        turn.reply("complaint.limit", limit=str(turn.policy.complaints_per_day))
        return True
    return False


async def ask_confirm(turn: Turn) -> None:
    """Summarise the complaint (or the support) and ask to send it."""
    data = turn.data
    category = await turn.uow.categories.by_code(data["category"])
    if data.get("support"):
        await _ask_support_confirm(turn, category.name(turn.language) if category else data["category"])
        return
    kecamatan = await turn.uow.units.by_code(data["kecamatan"]) if data.get("kecamatan") else None
    if data.get("location"):
        lat, lon = data["location"]
        where = turn.text("complaint.summary.point", lat=f"{lat:.5f}", lon=f"{lon:.5f}")
    else:
        where = data.get("address") or turn.text("complaint.summary.no_location")
    description = clipped(data["description"])
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


async def _ask_support_confirm(turn: Turn, category: str) -> None:
    data = turn.data
    description = clipped(data["description"])
    mode = IdentityMode(data["identity"])
    turn.reply(
        "duplicate.summary",
        (
            Choice("confirm:send", "duplicate.confirm.send", means=Means.YES),
            Choice("confirm:cancel", "complaint.confirm.cancel", means=Means.NO),
        ),
        category=category,
        place=duplicates.place_text(turn, data["support"]),
        description=description,
        photos=str(len(data.get("photos", []))),
        identity=turn.text(f"complaint.summary.who.{mode}", name=data.get("name", "")),
    )


async def _send_support(turn: Turn) -> str:
    """Record the citizen as a supporter of the chosen report and tell them and its OPD."""
    data = turn.data
    code = await turn.uow.supports.code_of(int(data["support"]["id"]))
    files = tuple(NewAttachment(**p) for p in keep_files(turn, data.get("photos", [])))
    try:
        supported = await support(
            turn.uow,
            code or "",
            SupportDraft(
                complaint_id=int(data["support"]["id"]),
                identity_mode=IdentityMode(data["identity"]),
                channel=turn.inbound.key.channel,
                chat_id=turn.inbound.key.chat_id,
                citizen_id=data.get("citizen"),
                language=turn.language,
                name=data.get("name"),
                contact=data.get("contact"),
                note=data["description"],
                attachments=files,
            ),
            turn.clock.now(),
        )
    except (NotAllowed, NotFound):
        turn.reply("duplicate.gone")
        data.pop("support", None)
        return ComplaintStep.CONFIRM
    complaint = supported.complaint
    unit = await turn.uow.units.get(complaint.unit_id)
    anonymous = IdentityMode(data["identity"]) is IdentityMode.ANONIM
    turn.reply(
        "duplicate.joined.anonim" if anonymous else "duplicate.joined",
        code=complaint.code,
        unit=unit.name if unit else "-",
        count=str(supported.supporters),
    )
    await duplicates.announce_support(turn, complaint, supported.supporters, data, [f.path for f in files])
    return END


async def on_confirm(turn: Turn) -> str:
    """File the complaint and give its tracking code (or record the support), or drop it."""
    if turn.inbound.choice == "confirm:cancel":
        turn.reply("cancel.done")
        return END
    if turn.inbound.choice != "confirm:send":
        raise UserInputError("input.pick_button")
    if turn.data.get("support"):
        return await _send_support(turn)
    citizen_id = turn.data.get("citizen")
    if citizen_id is not None and await over_limit(turn, citizen_id):
        return END
    data = turn.data
    mode = IdentityMode(data["identity"])
    location = data.get("location") or [None, None]
    photos = tuple(NewAttachment(**p) for p in keep_files(turn, data.get("photos", [])))
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
            attachments=photos,
        ),
        turn.clock.now(),
        turn.policy.city_code,
    )
    turn.reply(
        "complaint.filed.anonim" if mode is IdentityMode.ANONIM else "complaint.filed",
        code=filed.code,
        unit=filed.unit.name,
    )
    # Just filed, in this transaction: its files are the ones stored above, and nobody supports it yet.
    await announce_complaint(turn, filed.complaint, filed.unit, photos=photos, supporters=0)
    return END
