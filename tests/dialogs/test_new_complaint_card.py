"""The card a unit's officers get for a newly filed complaint carries the citizen's photos, for every officer."""

from __future__ import annotations

from pathlib import Path

from suarawarga.bootstrap import App
from suarawarga.bot.channels.console import RecordingSender
from suarawarga.bot.dispatcher import Dispatcher
from suarawarga.bot.messages import Attachment
from tests.dialogs.test_duplicates_dialog import START
from tests.dialogs.test_staff_dialog import Officer, invite, to
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation
from tests.support.images import jpeg_with_gps


async def test_each_officer_gets_the_card_with_the_photos_just_filed(
    app: App,
    citizen: Conversation,
    dispatcher: Dispatcher,
    clock: FrozenClock,
    recorder: RecordingSender,
    tmp_path: Path,
) -> None:
    """Two officers of the unit: each gets one card with both photos, counted, and no supporter line."""
    officers = [Officer(dispatcher, app, clock, name) for name in ("petugas-1", "petugas-2")]
    for officer in officers:
        await officer.join(await invite(app, "DISPERKIM"))
    photos = []
    for n in (1, 2):
        photo = tmp_path / f"lampu-{n}.jpg"
        photo.write_bytes(jpeg_with_gps())
        photos.append(photo)
    await citizen.verify(
        [
            *START,
            ("Lampu jalan di depan masjid mati", ["complaint.location.ask"]),
            ("Jl. Veteran No. 3, Padang Barat", ["complaint.kecamatan.inferred", "complaint.photos.ask"]),
            (f"/foto {photos[0]}", ["complaint.photos.received"]),
            (f"/foto {photos[1]}", ["complaint.photos.received"]),
            ("Selesai", ["complaint.identity.ask"]),
            ("Anonim", ["complaint.summary"]),
            ("Kirim", ["complaint.filed.anonim"]),
        ]
    )
    code = citizen.last[0].params["code"]
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(str(code))
        assert complaint is not None
        stored = await uow.complaints.attachments(complaint.id)
    assert len(stored) == 2
    for officer in officers:
        (card,) = [m for m in to(recorder, officer.name) if m.text_key == "staff.new"]
        assert card.params["code"] == code and card.params["photos"] == "2" and card.params["supporters"] == ""
        assert [(f.kind, f.path) for f in card.files] == [(Attachment.PHOTO, a.path) for a in stored]
