"""Dialog tests of the complaint flow, run through the console channel on a real database."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

from suarawarga.bootstrap import App
from suarawarga.bot.channels.console import RecordingSender
from suarawarga.bot.dispatcher import Dispatcher
from suarawarga.complaints.model import ComplaintStatus, EventKind, IdentityMode
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation
from tests.support.images import exif_of, jpeg_with_gps

CONSENTED = [
    ("/start", ["menu.welcome"]),
    ("1", ["privacy.notice"]),
    ("1", ["privacy.thanks", "complaint.category.ask"]),
]


async def reach_description(citizen: Conversation) -> None:
    """Walk a new citizen up to the description question (category: jalan rusak)."""
    await citizen.verify([*CONSENTED, ("1", ["complaint.description.ask"])])


async def file_anonymous(citizen: Conversation, first_time: bool = True) -> str:
    """File a minimal anonymous complaint and return its tracking code."""
    opening = CONSENTED if first_time else [("pengaduan", ["complaint.category.ask"])]
    await citizen.verify(
        [
            *opening,
            ("2", ["complaint.description.ask"]),
            ("Sampah menumpuk di pinggir jalan sudah seminggu", ["complaint.location.ask"]),
            ("Tanpa lokasi", ["complaint.kecamatan.ask"]),
            ("Tidak tahu", ["complaint.photos.ask"]),
            ("Selesai", ["complaint.identity.ask"]),
            ("Anonim", ["complaint.summary"]),
            ("Kirim", ["complaint.filed.anonim"]),
        ]
    )
    return citizen.last[0].params["code"]


async def test_full_complaint_with_photo_location_and_name(app: App, citizen: Conversation, tmp_path: Path) -> None:
    """A named complaint with a location and a photo gets a code and is routed to DPUPR."""
    await reach_description(citizen)
    await citizen.verify(
        [
            ("Jalan di depan SD 12 berlubang besar dan sudah dua motor jatuh", ["complaint.location.ask"]),
            ("/lokasi -0.9471,100.4172", ["complaint.kecamatan.ask"]),
            ("7", ["complaint.photos.ask"]),
        ]
    )
    photo = tmp_path / "jalan.jpg"
    photo.write_bytes(jpeg_with_gps())
    assert await citizen.say(f"/foto {photo}") == ["complaint.photos.received"]
    await citizen.verify(
        [
            ("selesai", ["complaint.identity.ask"]),
            ("2", ["complaint.name.ask"]),
            ("Budi Santoso", ["complaint.contact.ask"]),
            ("0812-3456-7890", ["complaint.summary"]),
        ]
    )
    summary = citizen.last_texts[0]
    assert "Jalan rusak" in summary and "Budi Santoso" in summary and "Padang Barat" in summary
    assert await citizen.say("1") == ["complaint.filed"]
    code = citizen.last[0].params["code"]
    assert code.startswith("PDG-") and len(code) == 10
    assert citizen.last[0].params["unit"] == "Dinas Pekerjaan Umum dan Penataan Ruang"
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(code)
        assert complaint is not None
        unit = await uow.units.get(complaint.unit_id)
        history = await uow.complaints.history(complaint.id)
        photos = await uow.complaints.attachment_count(complaint.id)
        (stored,) = await uow.complaints.attachments(complaint.id)
    assert unit is not None and unit.code == "DPUPR"
    assert complaint.status is ComplaintStatus.DITERIMA
    assert complaint.identity_mode is IdentityMode.NAMED
    assert complaint.reporter_name == "Budi Santoso" and complaint.reporter_contact == "081234567890"
    assert (complaint.latitude, complaint.longitude) == (-0.9471, 100.4172)
    assert [e.kind for e in history] == [EventKind.FILED]
    assert photos == 1
    assert not stored.path.startswith("drafts/")  # filed: out of the drafts area, which is empty again
    assert exif_of((app.attachments.root / stored.path).read_bytes()) == {}
    assert list(app.attachments.files("drafts")) == []


async def test_pungli_goes_to_the_inspektorat(app: App, citizen: Conversation) -> None:
    """A report of illegal fees is routed to the Inspektorat, never to the OPD that is reported."""
    await citizen.verify(CONSENTED)
    assert await citizen.say("Pungutan liar (pungli)") == ["complaint.description.ask"]
    await citizen.verify(
        [
            ("Petugas meminta uang tambahan untuk mengurus KTP di kantor", ["complaint.location.ask"]),
            ("Tanpa lokasi", ["complaint.kecamatan.ask"]),
            ("Tidak tahu", ["complaint.photos.ask"]),
            ("Selesai", ["complaint.identity.ask"]),
            ("Rahasia", ["complaint.name.ask"]),
            ("Siti", ["complaint.contact.ask"]),
            ("Lewati", ["complaint.summary"]),
            ("Kirim", ["complaint.filed"]),
        ]
    )
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(citizen.last[0].params["code"])
        assert complaint is not None
        unit = await uow.units.get(complaint.unit_id)
    assert unit is not None and unit.code == "INSPEKTORAT" and unit.oversight
    assert complaint.identity_mode is IdentityMode.RAHASIA and complaint.reporter_contact is None


async def test_anonymous_complaint_keeps_no_link_and_status_needs_the_code(
    app: App, citizen: Conversation, dispatcher: Dispatcher, clock: FrozenClock
) -> None:
    """An anonymous complaint stores no citizen, chat or name; its code alone shows its status."""
    code = await file_anonymous(citizen)
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(code)
    assert complaint is not None
    assert (complaint.citizen_id, complaint.chat_id, complaint.reporter_name) == (None, None, None)
    assert await citizen.say("status") == ["status.none"]
    other = Conversation(dispatcher, clock, app.catalogue, "someone-else")
    assert await other.say(f"status {code.lower()}") == ["status.detail"]


async def test_status_is_shown_only_to_the_filer(
    app: App, citizen: Conversation, dispatcher: Dispatcher, clock: FrozenClock
) -> None:
    """`status CODE` shows the history to whoever filed a named complaint and 'not found' to anyone else."""
    await reach_description(citizen)
    await citizen.verify(
        [
            ("Jalan di depan SD 12 berlubang besar sekali", ["complaint.location.ask"]),
            ("Jl. Sudirman No. 10", ["complaint.kecamatan.ask"]),
            ("12", ["complaint.photos.ask"]),
            ("1", ["complaint.identity.ask"]),
            ("1", ["complaint.name.ask"]),
            ("Budi", ["complaint.contact.ask"]),
            ("1", ["complaint.summary"]),
            ("1", ["complaint.filed"]),
        ]
    )
    code = citizen.last[0].params["code"]
    assert await citizen.say(f"status {code}") == ["status.detail"]
    text = citizen.last_texts[0]
    assert code in text
    assert "Tercatat, menunggu diterima OPD" in text
    assert "pengaduan tercatat dan diteruskan ke OPD" in text
    assert await citizen.say("status") == ["status.list"]
    assert code in citizen.last_texts[0]
    stranger = Conversation(dispatcher, clock, app.catalogue, "stranger")
    assert await stranger.say(f"status {code}") == ["status.not_found"]
    assert await stranger.say("status PDG-XXXXXX") == ["status.not_found"]


async def test_bad_inputs_get_a_reprompt_and_keep_the_state(citizen: Conversation) -> None:
    """A sticker, an empty text, a short or over-long text, a stale button and a wrong number are re-asked."""
    await reach_description(citizen)
    await citizen.verify(
        [
            ("/stiker", ["input.unsupported", "complaint.description.ask"]),
            ("   ", ["input.empty", "complaint.description.ask"]),
            ("rusak", ["complaint.description.too_short", "complaint.description.ask"]),
            ("x" * 4001, ["complaint.description.too_long", "complaint.description.ask"]),
            ("Lampu jalan mati di seluruh gang sejak minggu lalu", ["complaint.location.ask"]),
            ("ab", ["complaint.location.address_length", "complaint.location.ask"]),
            ("/lokasi 95,200", ["complaint.location.invalid", "complaint.location.ask"]),
        ]
    )
    stale = dataclasses.replace(citizen.inbound("x"), text=None, choice="cat:sampah")
    assert await citizen.send(stale) == [
        "input.stale_choice",
        "complaint.location.ask",
    ]
    await citizen.verify(
        [
            ("Jl. Sudirman No. 10", ["complaint.kecamatan.ask"]),
            ("99", ["input.pick_button", "complaint.kecamatan.ask"]),
            ("Tidak tahu", ["complaint.photos.ask"]),
            ("ini bukan foto", ["complaint.photos.need_photo", "complaint.photos.ask"]),
            ("Selesai", ["complaint.identity.ask"]),
            ("Bernama", ["complaint.name.ask"]),
            ("B", ["complaint.name.invalid", "complaint.name.ask"]),
            ("Budi", ["complaint.contact.ask"]),
            ("bukan nomor", ["complaint.contact.invalid", "complaint.contact.ask"]),
            ("Lewati", ["complaint.summary"]),
            ("mungkin", ["input.pick_button", "complaint.summary"]),
        ]
    )


async def test_category_must_be_picked_from_the_list(citizen: Conversation) -> None:
    """Free text, an answer fitting two categories, or an out-of-range number at the category question re-shows it."""
    await citizen.verify(
        [
            *CONSENTED,
            ("kucing", ["complaint.category.pick", "complaint.category.ask"]),
            ("jalan", ["input.ambiguous", "complaint.category.ask"]),
            ("99", ["complaint.category.pick", "complaint.category.ask"]),
            ("1", ["complaint.description.ask"]),
        ]
    )


async def test_global_commands_work_mid_flow(citizen: Conversation) -> None:
    """Help keeps the step and re-asks; language switches and re-asks; cancel drops the draft."""
    await reach_description(citizen)
    await citizen.verify(
        [
            ("bantuan", ["help.text", "complaint.description.ask"]),
            ("/help", ["help.text", "complaint.description.ask"]),
            ("language", ["language.changed", "complaint.description.ask"]),
        ]
    )
    assert citizen.last_texts[0] == "Language switched to English."
    assert citizen.last_texts[1].startswith("Category: Damaged or potholed road")
    assert await citizen.say("status") == ["status.none", "complaint.description.ask"]
    assert await citizen.say("batal") == ["cancel.done"]
    assert await citizen.say("halo") == ["menu.intro"]  # the draft is gone: no question is waiting for text
    assert await citizen.say("batal") == ["cancel.nothing"]


async def test_restart_mid_flow_starts_over(citizen: Conversation) -> None:
    """/start in the middle of a complaint shows the welcome menu, keeping the draft for `lanjut` (#11)."""
    await reach_description(citizen)
    assert await citizen.say("/start") == ["draft.kept", "menu.welcome"]
    assert await citizen.say("1") == ["complaint.category.ask"]  # consent is remembered


async def test_declining_consent_stores_nothing(app: App, citizen: Conversation) -> None:
    """A citizen who does not consent is told so and no citizen record is created."""
    await citizen.verify([("/start", ["menu.welcome"]), ("1", ["privacy.notice"]), ("2", ["privacy.declined"])])
    async with app.uow() as uow:
        assert await uow.citizens.find(citizen.key.channel, citizen.key.chat_id) is None


async def test_two_chats_interleaved_keep_their_own_state(app: App, dispatcher: Dispatcher, clock: FrozenClock) -> None:
    """Two citizens answering in alternation each file their own complaint with their own answers."""
    ani = Conversation(dispatcher, clock, app.catalogue, "ani")
    budi = Conversation(dispatcher, clock, app.catalogue, "budi")
    script = [
        ("/start", ["menu.welcome"]),
        ("1", ["privacy.notice"]),
        ("1", ["privacy.thanks", "complaint.category.ask"]),
    ]
    for says, expected in script:
        assert await ani.say(says) == expected
        assert await budi.say(says) == expected
    assert await ani.say("1") == ["complaint.description.ask"]
    assert await budi.say("2") == ["complaint.description.ask"]
    for who, text in ((ani, "Jalan berlubang di Jl. Ani"), (budi, "Sampah menumpuk di Jl. Budi")):
        assert await who.say(text) == ["complaint.location.ask"]
    for who in (ani, budi):
        await who.verify(
            [
                ("Tanpa lokasi", ["complaint.kecamatan.ask"]),
                ("Tidak tahu", ["complaint.photos.ask"]),
                ("Selesai", ["complaint.identity.ask"]),
                ("Anonim", ["complaint.summary"]),
            ]
        )
    assert await budi.say("Kirim") == ["complaint.filed.anonim"]
    assert await ani.say("Kirim") == ["complaint.filed.anonim"]
    async with app.uow() as uow:
        stored = {c.description: c for c in await uow.complaints.list()}
        categories = {c.id: c.code for c in await uow.categories.list()}
    assert categories[stored["Jalan berlubang di Jl. Ani"].category_id] == "jalan_rusak"
    assert categories[stored["Sampah menumpuk di Jl. Budi"].category_id] == "sampah"


async def test_daily_limit_stops_floods_and_resets_the_next_day(
    app: App, citizen: Conversation, clock: FrozenClock
) -> None:
    """After the configured number of complaints in a day the flow refuses; the next day it works again."""
    await file_anonymous(citizen)  # keeps no citizen link, so it does not count against the limit
    for _ in range(3):
        await citizen.verify([("pengaduan", ["complaint.category.ask"]), ("1", ["complaint.description.ask"])])
        await citizen.verify(
            [
                ("Jalan berlubang besar sekali di sini", ["complaint.location.ask"]),
                ("Tanpa lokasi", ["complaint.kecamatan.ask"]),
                ("Tidak tahu", ["complaint.photos.ask"]),
                ("Selesai", ["complaint.identity.ask"]),
                ("Rahasia", ["complaint.name.ask"]),
                ("Ani", ["complaint.contact.ask"]),
                ("Lewati", ["complaint.summary"]),
                ("Kirim", ["complaint.filed"]),
            ]
        )
    assert await citizen.say("pengaduan") == ["complaint.limit"]
    clock.advance(timedelta(days=1))
    assert await citizen.say("pengaduan") == ["complaint.category.ask"]


async def test_replies_reach_the_channel_after_commit(
    citizen: Conversation, recorder: RecordingSender, app: App
) -> None:
    """Every reply is in the outbox and was handed to the console sender, which marked it sent."""
    await reach_description(citizen)
    assert [m.text_key for m in recorder.sent] == [
        "menu.welcome",
        "privacy.notice",
        "privacy.thanks",
        "complaint.category.ask",
        "complaint.description.ask",
    ]
    # The sender marks a message sent in its own transaction just after handing it over: wait for that commit
    # (a busy machine can delay it) rather than read the outbox at once.
    counts: dict[str, int] = {}
    for _ in range(200):
        async with app.uow() as uow:
            counts = await uow.outbox.counts()
        if counts == {"sent": 5}:
            break
        await asyncio.sleep(0.05)
    assert counts == {"sent": 5}
