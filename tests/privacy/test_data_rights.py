"""Data rights in chat (dataku, hapusdata) and the audit log of confidential identities."""

from __future__ import annotations

from pathlib import Path

from suarawarga.bootstrap import App
from suarawarga.bot.channels.console import RecordingSender
from suarawarga.bot.dispatcher import Dispatcher
from suarawarga.bot.messages import ChannelName
from suarawarga.complaints.model import IdentityMode
from tests.dialogs.test_staff_dialog import FILE_NAMED, Officer, invite, to
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation
from tests.support.images import jpeg_with_gps

FILE_CONFIDENTIAL_WITH_PHOTO = [
    ("/start", ["menu.welcome"]),
    ("1", ["privacy.notice"]),
    ("1", ["privacy.thanks", "complaint.category.ask"]),
    ("1", ["complaint.description.ask"]),
    ("Jalan di depan SD 12 berlubang besar", ["complaint.location.ask"]),
    ("Jl. Sudirman No. 10", ["complaint.kecamatan.ask"]),
    ("Tidak tahu", ["complaint.photos.ask"]),
]


async def test_dataku_shows_what_is_stored(citizen: Conversation) -> None:
    """After a named complaint, `dataku` lists the consent, the chat account and the complaint with name and contact."""
    assert await citizen.say("dataku") == ["data.none"]
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    assert await citizen.say("dataku") == ["data.mine"]
    text = citizen.last_texts[0]
    assert code in text
    assert "Budi Santoso" in text
    assert "081234567890" in text
    assert "console" in text


async def test_hapusdata_erases_personal_data_and_keeps_anonymous_complaints(
    app: App, citizen: Conversation, recorder: RecordingSender, tmp_path: Path
) -> None:
    """After confirming, the citizen, their chat, name, contact and photos are gone; the complaint stays."""
    await citizen.verify(FILE_CONFIDENTIAL_WITH_PHOTO)
    photo = tmp_path / "foto.jpg"
    photo.write_bytes(jpeg_with_gps())
    assert await citizen.say(f"/foto {photo}") == ["complaint.photos.received"]
    await citizen.verify(
        [
            ("Selesai", ["complaint.identity.ask"]),
            ("Rahasia", ["complaint.name.ask"]),
            ("Siti Aminah", ["complaint.contact.ask"]),
            ("081298765432", ["complaint.summary"]),
            ("Kirim", ["complaint.filed"]),
        ]
    )
    code = citizen.last[0].params["code"]
    assert await citizen.say("hapusdata") == ["data.erase.ask"]
    assert await citizen.say("Jangan hapus") == ["data.erase.kept"]
    assert await citizen.say("hapusdata") == ["data.erase.ask"]
    assert await citizen.say("batal") == ["cancel.done"]  # the global cancel also keeps everything
    assert await citizen.say("hapusdata") == ["data.erase.ask"]
    assert await citizen.say("Ya, hapus") == ["data.erase.done"]
    assert citizen.last[0].params["complaints"] == "1"
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(code)
        assert await uow.citizens.find(ChannelName.CONSOLE, citizen.key.chat_id) is None
        states = await uow.conversations.load_many([citizen.key])
        photos = await uow.complaints.attachment_count(complaint.id) if complaint else -1
    assert complaint is not None
    assert complaint.identity_mode is IdentityMode.RAHASIA
    assert (complaint.citizen_id, complaint.chat_id, complaint.reporter_name, complaint.reporter_contact) == (
        None,
        None,
        None,
        None,
    )
    assert complaint.description == "Jalan di depan SD 12 berlubang besar"
    assert photos == 0
    assert list(app.attachments.files()) == []  # the filed photo, and nothing left in the drafts area
    assert states == {}
    assert await citizen.say("dataku") == ["data.none"]


async def test_erased_citizen_gets_no_more_updates(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, citizen: Conversation, recorder: RecordingSender
) -> None:
    """Once erased, an officer's action on the complaint sends nothing to the former reporter."""
    officer = Officer(dispatcher, app, clock, "andi")
    assert await officer.join(await invite(app, "DPUPR")) == ["staff.join.ok"]
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    await citizen.verify([("hapusdata", ["data.erase.ask"]), ("Ya, hapus", ["data.erase.done"])])
    before = len(to(recorder, citizen.key.chat_id))
    assert await officer.press(officer.private, f"cmd:st acc {code}", group=False) == ["staff.accepted"]
    assert len(to(recorder, citizen.key.chat_id)) == before


async def test_viewing_a_confidential_reporter_is_logged(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, citizen: Conversation, recorder: RecordingSender
) -> None:
    """The 'see reporter' button sends the identity privately and writes who saw it and when to the audit log."""
    officer = Officer(dispatcher, app, clock, "andi")
    assert await officer.join(await invite(app, "DPUPR")) == ["staff.join.ok"]
    await citizen.verify(FILE_CONFIDENTIAL_WITH_PHOTO)
    await citizen.verify(
        [
            ("Selesai", ["complaint.identity.ask"]),
            ("Rahasia", ["complaint.name.ask"]),
            ("Siti Aminah", ["complaint.contact.ask"]),
            ("Lewati", ["complaint.summary"]),
            ("Kirim", ["complaint.filed"]),
        ]
    )
    code = citizen.last[0].params["code"]
    posted = to(recorder, "andi")[-1]
    assert "Siti" not in app.catalogue.render(posted.text_key, "id", posted.params)
    assert posted.choices[-1].id == f"cmd:st who {code}"
    group = Conversation(dispatcher, clock, app.catalogue, "group-x")
    stranger = Officer(dispatcher, app, clock, "orang")
    assert await stranger.press(group, f"cmd:st who {code}") == ["staff.not_allowed"]
    assert await officer.press(group, f"cmd:st who {code}") == ["staff.identity.sent_private"]
    assert to(recorder, "andi")[-1].params["name"] == "Siti Aminah"
    assert all("Siti" not in m.params.get("name", "") for m in to(recorder, "group-x"))
    async with app.uow() as uow:
        views = await uow.audit.identity_views()
    assert [(v.officer, v.unit_code, v.complaint_code) for v in views] == [("Pak andi", "DPUPR", code)]
