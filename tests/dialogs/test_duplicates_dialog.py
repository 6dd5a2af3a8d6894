"""Dialog tests of "saya juga mengalami": a second citizen joins an open report instead of filing it again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from suarawarga.bootstrap import App
from suarawarga.bot.channels.console import RecordingSender
from suarawarga.bot.dispatcher import Dispatcher
from suarawarga.complaints.model import ActorKind, ComplaintStatus, EventKind
from suarawarga.complaints.statistics import complaint_statistics
from suarawarga.jobs.deadlines import check_deadlines
from tests.dialogs.test_staff_dialog import Officer, invite, to
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation
from tests.support.images import jpeg_with_gps

START = [
    ("/start", ["menu.welcome"]),
    ("1", ["privacy.notice"]),
    ("1", ["privacy.thanks", "complaint.category.ask"]),
    ("Lampu jalan mati", ["complaint.description.ask"]),
]
FIRST = [
    *START,
    ("Lampu jalan di depan toko roti mati seminggu", ["complaint.location.ask"]),
    ("Jl. Jend. Sudirman No. 10, Padang Barat", ["complaint.kecamatan.inferred", "complaint.photos.ask"]),
    ("Selesai", ["complaint.identity.ask"]),
    ("Bernama", ["complaint.name.ask"]),
    ("Siti Rahma", ["complaint.contact.ask"]),
    ("Lewati", ["complaint.summary"]),
    ("Kirim", ["complaint.filed"]),
]
SAME_PLACE = [
    *START,
    ("Lampu mati di Sudirman, anak-anak takut lewat", ["complaint.location.ask"]),
    ("jln sudirman no 12 padang barat", ["complaint.kecamatan.inferred", "duplicate.offer"]),
]


def citizen_chat(app: App, dispatcher: Dispatcher, clock: FrozenClock, name: str) -> Conversation:
    """Return another citizen's console chat."""
    return Conversation(dispatcher, clock, app.catalogue, name, app.attachments)


async def file_first(citizen: Conversation) -> str:
    """File the first report (a street light on Jl. Sudirman) and return its code."""
    await citizen.verify(FIRST)
    return str(citizen.last[0].params["code"])


async def test_a_second_citizen_joins_the_open_report(
    app: App, citizen: Conversation, dispatcher: Dispatcher, clock: FrozenClock
) -> None:
    """ "Ya, sama": no new complaint, a supporter with the identity they chose, told the code and the count."""
    code = await file_first(citizen)
    second = citizen_chat(app, dispatcher, clock, "warga-2")
    await second.verify(SAME_PLACE)
    offer = second.last_texts[1]
    assert "Jl. Jend. Sudirman, Padang Barat" in offer and "belum ada pendukung" in offer
    assert "Lampu jalan mati" in offer and "dilaporkan hari ini" in offer
    # Nothing the first citizen wrote or is: no description, number, name or code.
    for private in ("toko roti", "No. 10", "Siti", code):
        assert private not in offer
    await second.verify(
        [
            ("Ya, sama: nomor 1", ["complaint.photos.ask"]),
            ("Selesai", ["complaint.identity.ask"]),
            ("Rahasia", ["complaint.name.ask"]),
            ("Budi", ["complaint.contact.ask"]),
            ("Lewati", ["duplicate.summary"]),
            ("Kirim dukungan", ["duplicate.joined"]),
        ]
    )
    assert second.last[0].params == {
        "code": code,
        "unit": "Dinas Perumahan Rakyat, Kawasan Permukiman dan Pertanahan",
        "count": "1",
    }
    async with app.uow() as uow:
        assert await uow.complaints.count() == 1
        complaint = await uow.complaints.by_code(code)
        assert complaint is not None
        (support,) = await uow.supports.of_complaint(complaint.id)
        history = await uow.complaints.history(complaint.id)
    assert support.identity_mode.value == "rahasia" and support.name == "Budi" and support.chat_id == "warga-2"
    assert [e.kind for e in history] == [EventKind.FILED, EventKind.SUPPORTED]
    assert (
        history[1].actor is ActorKind.SUPPORTER and history[1].note == "Lampu mati di Sudirman, anak-anak takut lewat"
    )
    # The reporter's own view never shows the supporter's words.
    await citizen.say(f"status {code}")
    assert "anak-anak" not in citizen.last_texts[0] and "seorang warga ikut mendukung" in citizen.last_texts[0]
    # The supporter may follow it by its code (the public steps).
    assert await second.say(f"status {code}") == ["status.detail"]


async def test_bukan_files_a_new_complaint(
    app: App, citizen: Conversation, dispatcher: Dispatcher, clock: FrozenClock
) -> None:
    """ "Bukan, laporkan baru": the normal flow goes on and a second complaint is filed."""
    await file_first(citizen)
    second = citizen_chat(app, dispatcher, clock, "warga-2")
    await second.verify(
        [
            *SAME_PLACE,
            ("Bukan, laporkan baru", ["complaint.photos.ask"]),
            ("Selesai", ["complaint.identity.ask"]),
            ("Anonim", ["complaint.summary"]),
            ("Kirim", ["complaint.filed.anonim"]),
        ]
    )
    async with app.uow() as uow:
        assert await uow.complaints.count() == 2
        assert await uow.supports.counts([1, 2]) == {}


async def test_no_offer_for_another_street_another_category_or_an_old_report(
    app: App, citizen: Conversation, dispatcher: Dispatcher, clock: FrozenClock
) -> None:
    """Jl. Veteran is not Jl. Sudirman; a drain is not a light; a report older than 30 days is not offered."""
    await file_first(citizen)
    other = citizen_chat(app, dispatcher, clock, "warga-3")
    await other.verify(
        [
            *START,
            ("Lampu jalan mati di Veteran dua minggu", ["complaint.location.ask"]),
            ("Jl. Veteran No. 12, Padang Barat", ["complaint.kecamatan.inferred", "complaint.photos.ask"]),
            ("menu", ["draft.kept", "menu.intro"]),
            ("pengaduan", ["complaint.category.ask"]),
            ("Saluran air tersumbat atau banjir", ["complaint.description.ask"]),
            ("Got tersumbat, air naik ke jalan", ["complaint.location.ask"]),
            ("Jl. Sudirman No. 12, Padang Barat", ["complaint.kecamatan.inferred", "complaint.photos.ask"]),
        ]
    )
    clock.advance(timedelta(days=31))
    late = citizen_chat(app, dispatcher, clock, "warga-4")
    await late.verify(
        [
            *START,
            ("Lampu mati di Sudirman sudah lama", ["complaint.location.ask"]),
            ("jln sudirman no 12 padang barat", ["complaint.kecamatan.inferred", "complaint.photos.ask"]),
        ]
    )


async def test_a_shared_point_offers_reports_within_150_m_only(
    app: App, citizen: Conversation, dispatcher: Dispatcher, clock: FrozenClock
) -> None:
    """By GPS: a report 90 m away is offered with its distance; one 300 m away is not."""
    await citizen.verify(
        [
            *START,
            ("Lampu jalan di simpang mati total", ["complaint.location.ask"]),
            ("/lokasi -0.94710,100.41720", ["complaint.kecamatan.ask"]),
            ("Tidak tahu", ["complaint.photos.ask"]),
            ("Selesai", ["complaint.identity.ask"]),
            ("Anonim", ["complaint.summary"]),
            ("Kirim", ["complaint.filed.anonim"]),
        ]
    )
    near = citizen_chat(app, dispatcher, clock, "warga-2")
    await near.verify(
        [
            *START,
            ("Lampu jalan mati di simpang ini", ["complaint.location.ask"]),
            ("/lokasi -0.94791,100.41720", ["complaint.kecamatan.ask"]),  # 0.00081° south: about 90 m
            ("Tidak tahu", ["duplicate.offer"]),
        ]
    )
    assert "sekitar 90 m dari titik Anda" in near.last_texts[0]
    far = citizen_chat(app, dispatcher, clock, "warga-3")
    await far.verify(
        [
            *START,
            ("Lampu jalan mati di ujung jalan", ["complaint.location.ask"]),
            ("/lokasi -0.94980,100.41720", ["complaint.kecamatan.ask"]),  # about 300 m
            ("Tidak tahu", ["complaint.photos.ask"]),
        ]
    )


async def test_a_supporters_photo_and_note_reach_the_opd_and_deadlines_are_not_doubled(
    app: App,
    citizen: Conversation,
    dispatcher: Dispatcher,
    clock: FrozenClock,
    recorder: RecordingSender,
    tmp_path: Path,
) -> None:
    """The OPD gets the supporter's note and photo as an event; the deadline job alerts once, for one complaint."""
    officer = Officer(dispatcher, app, clock, "petugas-1")
    await officer.join(await invite(app, "DISPERKIM"))
    code = await file_first(citizen)
    second = citizen_chat(app, dispatcher, clock, "warga-2")
    photo = tmp_path / "lampu.jpg"
    photo.write_bytes(jpeg_with_gps())
    await second.verify([*SAME_PLACE, ("1", ["complaint.photos.ask"])])
    assert await second.say(f"/foto {photo}") == ["complaint.photos.received"]
    await second.verify(
        [
            ("Selesai", ["complaint.identity.ask"]),
            ("Bernama", ["complaint.name.ask"]),
            ("Budi", ["complaint.contact.ask"]),
            ("0812 3456 7890", ["duplicate.summary"]),
            ("Kirim dukungan", ["duplicate.joined"]),
        ]
    )
    (notice,) = [m for m in to(recorder, "petugas-1") if m.text_key == "staff.supported"]
    assert notice.params["code"] == code and notice.params["count"] == "1"
    assert notice.params["supporter"] == "Budi (081234567890)" and len(notice.files) == 1
    assert "anak-anak takut lewat" in notice.params["text"]
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(code)
        assert complaint is not None
        assert len(await uow.complaints.attachments(complaint.id, ActorKind.SUPPORTER)) == 1
        assert await uow.complaints.attachments(complaint.id, ActorKind.CITIZEN) == []
    clock.advance(timedelta(days=5))  # past the 3-working-day acceptance deadline
    assert (await check_deadlines(app, clock.now())).done >= 1
    async with app.uow() as uow:
        assert await uow.complaints.count() == 1
        history = await uow.complaints.history(1)
    escalations = [e for e in history if e.kind is EventKind.ESCALATED]
    assert len(escalations) == len({e.note for e in escalations})  # one complaint's ladder, not two


async def test_a_supporter_gets_status_updates_and_rates_without_closing(
    app: App,
    citizen: Conversation,
    dispatcher: Dispatcher,
    clock: FrozenClock,
    recorder: RecordingSender,
) -> None:
    """Accepted and resolved reach the supporter (never the officer's words); their rating is their own."""
    officer = Officer(dispatcher, app, clock, "petugas-1")
    await officer.join(await invite(app, "DISPERKIM"))
    code = await file_first(citizen)
    second = citizen_chat(app, dispatcher, clock, "warga-2")
    await second.verify(
        [
            *SAME_PLACE,
            ("1", ["complaint.photos.ask"]),
            ("Selesai", ["complaint.identity.ask"]),
            ("Rahasia", ["complaint.name.ask"]),
            ("Budi", ["complaint.contact.ask"]),
            ("Lewati", ["duplicate.summary"]),
            ("Kirim dukungan", ["duplicate.joined"]),
        ]
    )
    assert await officer.press(officer.private, f"cmd:st acc {code}", group=False) == ["staff.accepted"]
    assert [m.text_key for m in to(recorder, "warga-2")][-1] == "support.update.accepted"
    await officer.private.verify(
        [
            (f"tindak {code}", ["staff.card"]),
        ]
    )
    assert "Didukung: 1 warga" in officer.private.last_texts[0]
    assert await officer.press(officer.private, f"cmd:st done {code}", group=False) == ["staff.done.ask"]
    await officer.private.verify(
        [
            ("Lampu sudah diganti, Bu Siti silakan cek", ["staff.done.photos"]),
            ("Kirim", ["staff.done.sent"]),
        ]
    )
    resolved = to(recorder, "warga-2")[-1]
    assert resolved.text_key == "support.update.resolved"
    assert "Bu Siti" not in str(resolved.params)  # the officer's words to the reporter stay with the reporter
    assert [c.id for c in resolved.choices] == [f"cmd:nilai {code} {a}" for a in ("ya", "belum", "sebagian")]
    assert await second.say(f"nilai {code} belum") == ["rating.ask_score"]
    assert await second.say(f"nilai {code} 1") == ["support.rating.thanks"]
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(code)
        assert complaint is not None
        (support,) = await uow.supports.of_complaint(complaint.id)
    assert complaint.status is ComplaintStatus.SELESAI  # the supporter's "belum" and 1 reopen nothing
    assert (support.solved, support.score) == ("belum", 1)
    # The reporter's answer decides; the supporter hears that it is closed.
    assert await citizen.say(f"nilai {code} ya") == ["rating.ask_score"]
    assert await citizen.say(f"nilai {code} 4") == ["rating.closed"]
    assert to(recorder, "warga-2")[-1].text_key == "support.update.closed"


async def test_hapusdata_cuts_the_support_from_the_person_and_keeps_the_count(
    app: App, citizen: Conversation, dispatcher: Dispatcher, clock: FrozenClock, tmp_path: Path
) -> None:
    """After `hapusdata` the support still counts, with no chat, name, words or photo of the supporter."""
    code = await file_first(citizen)
    second = citizen_chat(app, dispatcher, clock, "warga-2")
    photo = tmp_path / "lampu.jpg"
    photo.write_bytes(jpeg_with_gps())
    await second.verify([*SAME_PLACE, ("1", ["complaint.photos.ask"])])
    await second.say(f"/foto {photo}")
    await second.verify(
        [
            ("Selesai", ["complaint.identity.ask"]),
            ("Bernama", ["complaint.name.ask"]),
            ("Budi", ["complaint.contact.ask"]),
            ("Lewati", ["duplicate.summary"]),
            ("Kirim dukungan", ["duplicate.joined"]),
            ("dataku", ["data.mine"]),
        ]
    )
    assert f"Anda mendukung laporan {code}" in second.last_texts[0] and "Budi" in second.last_texts[0]
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(code)
        assert complaint is not None
        (stored,) = await uow.complaints.attachments(complaint.id, ActorKind.SUPPORTER)
    assert (app.attachments.root / stored.path).exists()
    await second.verify([("hapusdata", ["data.erase.ask"]), ("1", ["data.erase.done"])])
    async with app.uow() as uow:
        (support,) = await uow.supports.of_complaint(complaint.id)
        history = await uow.complaints.history(complaint.id)
        photos = await uow.complaints.attachments(complaint.id, ActorKind.SUPPORTER)
        counts = await uow.supports.counts([complaint.id])
    assert (support.citizen_id, support.chat_id, support.name, support.contact) == (None, None, None, None)
    assert [e.note for e in history if e.kind is EventKind.SUPPORTED] == [None]
    assert photos == [] and not (app.attachments.root / stored.path).exists()
    assert counts == {complaint.id: 1}


async def test_statistics_count_supporters_as_demand(
    app: App, citizen: Conversation, dispatcher: Dispatcher, clock: FrozenClock
) -> None:
    """One complaint with one supporter: received 1, supporters 1 (not two complaints)."""
    await file_first(citizen)
    second = citizen_chat(app, dispatcher, clock, "warga-2")
    await second.verify(
        [
            *SAME_PLACE,
            ("1", ["complaint.photos.ask"]),
            ("Selesai", ["complaint.identity.ask"]),
            ("Anonim", ["duplicate.summary"]),
            ("Kirim dukungan", ["duplicate.joined.anonim"]),
        ]
    )
    async with app.uow() as uow:
        (line,) = await complaint_statistics(uow, app.calendar, clock.now())
    assert (line.unit.code, line.received, line.supporters, line.open_now) == ("DISPERKIM", 1, 1, 1)


async def test_a_citizen_is_never_offered_their_own_report(app: App, citizen: Conversation) -> None:
    """Filing the same thing twice from one chat: no offer (it is theirs), the daily limit still applies."""
    await file_first(citizen)
    await citizen.verify(
        [
            ("pengaduan", ["complaint.category.ask"]),
            ("Lampu jalan mati", ["complaint.description.ask"]),
            ("Lampu jalan di Sudirman masih mati juga", ["complaint.location.ask"]),
            ("jln sudirman no 12 padang barat", ["complaint.kecamatan.inferred", "complaint.photos.ask"]),
        ]
    )
