"""What is kept about a citizen: status after erasure, consent per purpose, language, kept drafts, `dataku`."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from suarawarga.bootstrap import App
from suarawarga.bot.channels.console import RecordingSender
from suarawarga.bot.dispatcher import Dispatcher
from suarawarga.bot.messages import ChannelName, IncomingFile, MediaKind
from suarawarga.jobs.digests import send_weekly_digests
from suarawarga.jobs.retention import erase_old
from tests.dialogs.test_complaint_dialog import reach_description
from tests.dialogs.test_staff_dialog import FILE_NAMED, Officer, invite, to
from tests.jobs.support import outbox_to
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation
from tests.support.images import jpeg_with_gps


async def _officer(app: App, dispatcher: Dispatcher, clock: FrozenClock) -> Officer:
    """Register a DPUPR officer without a linked group: notifications reach their private chat."""
    officer = Officer(dispatcher, app, clock, "andi")
    assert await officer.join(await invite(app, "DPUPR")) == ["staff.join.ok"]
    return officer


# ----------------------------------------------------------------------------------- status after erasure


async def test_status_code_works_after_erasure_like_an_anonymous_code(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, citizen: Conversation
) -> None:
    """The erasure text says to keep the code: afterwards `status CODE` shows the status, nothing personal."""
    officer = await _officer(app, dispatcher, clock)
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    assert await officer.press(officer.private, f"cmd:st reply {code}", group=False) == ["staff.reply.ask"]
    assert await officer.private.say("Bapak Budi Santoso, tim kami datang besok") == ["staff.reply.sent"]
    await citizen.verify([("hapusdata", ["data.erase.ask"]), ("Ya, hapus", ["data.erase.done"])])
    assert code in citizen.last_texts[0]  # the codes to keep are in the goodbye

    assert await citizen.say(f"status {code}") == ["status.detail"]
    text = citizen.last_texts[0]
    assert code in text and "Jalan rusak" in text
    assert "Budi" not in text and "081234567890" not in text  # not even inside an officer's note
    stranger = Conversation(dispatcher, clock, app.catalogue, "someone-with-the-code")
    assert await stranger.say(f"status {code}") == ["status.detail"]  # the code alone, as for anonymous
    assert "Budi" not in stranger.last_texts[0]


async def test_a_linked_complaint_stays_hidden_from_others(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, citizen: Conversation
) -> None:
    """Until the reporter erases their data, another chat with the code learns nothing."""
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    stranger = Conversation(dispatcher, clock, app.catalogue, "someone-with-the-code")
    assert await stranger.say(f"status {code}") == ["status.not_found"]


# ------------------------------------------------------------------------------------ consent per purpose


async def test_consent_is_asked_and_stored_per_purpose(app: App, citizen: Conversation, clock: FrozenClock) -> None:
    """Refusing the complaint notice and agreeing to the survey notice does not skip the complaint notice."""
    await citizen.verify(
        [
            ("/start", ["menu.welcome"]),
            ("pengaduan", ["privacy.notice"]),
            ("2", ["privacy.declined"]),
            ("survei", ["survey.privacy.notice"]),
            ("1", ["privacy.thanks", "survey.unit.opd.ask"]),
            ("batal", ["cancel.done"]),
            ("pengaduan", ["privacy.notice"]),
        ]
    )
    async with app.uow() as uow:
        found = await uow.citizens.find(ChannelName.CONSOLE, citizen.key.chat_id)
        assert found is not None
        consents = await uow.citizens.consents(found.id)
    assert [c.purpose for c in consents] == ["survey"]
    assert consents[0].given_at == clock.now() and consents[0].given_at.tzinfo is not None
    assert consents[0].text_version.startswith("survey.privacy.notice@")

    clock.advance(timedelta(minutes=5))
    assert await citizen.say("1") == ["privacy.thanks", "complaint.category.ask"]
    async with app.uow() as uow:
        consents = await uow.citizens.consents(found.id)
    assert sorted(c.purpose for c in consents) == ["complaint", "survey"]
    complaint = next(c for c in consents if c.purpose == "complaint")
    assert complaint.given_at == clock.now() and complaint.text_version.startswith("privacy.notice@")
    assert await citizen.say("batal") == ["cancel.done"]
    assert await citizen.say("pengaduan") == ["complaint.category.ask"]  # asked once per purpose


async def test_complaint_consent_does_not_cover_the_survey(citizen: Conversation) -> None:
    """The other way round too: a complaint consent does not skip the survey's notice."""
    await reach_description(citizen)
    await citizen.verify([("batal", ["cancel.done"]), ("survei", ["survey.privacy.notice"])])


# ------------------------------------------------------------------------------------------ stored language


async def test_language_is_stored_and_used_for_updates_jobs_and_officers(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, citizen: Conversation, recorder: RecordingSender
) -> None:
    """`bahasa` is kept for the citizen and the officer: updates, jobs and notifications use it."""
    officer = await _officer(app, dispatcher, clock)
    assert (await officer.private.say("bahasa"))[0] == "language.changed"
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    card = to(recorder, "andi")[-1]
    assert (card.text_key, card.language) == ("staff.new", "en")
    assert "anonymous" not in card.params["reporter"].lower()

    assert await citizen.say("bahasa") == ["language.changed", "menu.intro"]
    assert await citizen.say("dataku") == ["data.mine"]
    assert "Language: English" in citizen.last_texts[0]

    assert await officer.press(officer.private, f"cmd:st acc {code}", group=False) == ["staff.accepted"]
    update = to(recorder, citizen.key.chat_id)[-1]
    assert (update.text_key, update.language) == ("update.accepted", "en")

    clock.advance(timedelta(days=7))
    assert (await send_weekly_digests(app, clock.now())).done >= 1
    digest = [m for m in await outbox_to(app, "andi") if m.text_key == "digest.unit"]
    assert [m.language for m in digest] == ["en"]
    assert "(n" not in digest[0].params["sample"] or digest[0].params["sample"] == app.catalogue.render(
        "digest.sample.unknown", "en"
    )

    assert await citizen.say("bahasa") == ["language.changed", "menu.intro"]  # back to Indonesian
    assert await officer.press(officer.private, f"cmd:st reply {code}", group=False) == ["staff.reply.ask"]
    assert await officer.private.say("Tim kami datang besok pagi") == ["staff.reply.sent"]
    assert to(recorder, citizen.key.chat_id)[-1].language == "id"


# ----------------------------------------------------------------------------------------------- kept draft


async def test_menu_keeps_the_draft_and_lanjut_resumes_it(app: App, citizen: Conversation) -> None:
    """`menu` in the middle of a complaint says the draft is kept; `lanjut` asks the same question again."""
    await reach_description(citizen)
    await citizen.verify(
        [
            ("Lampu jalan di depan masjid mati tiga malam", ["complaint.location.ask"]),
            ("menu", ["draft.kept", "menu.intro"]),
            ("status", ["status.none"]),
            ("lanjut", ["complaint.location.ask"]),
            ("Jl. Sudirman No. 10", ["complaint.kecamatan.ask"]),
            ("Tidak tahu", ["complaint.photos.ask"]),
            ("Selesai", ["complaint.identity.ask"]),
            ("Anonim", ["complaint.summary"]),
        ]
    )
    assert "Lampu jalan di depan masjid mati tiga malam" in citizen.last_texts[0]
    assert await citizen.say("Kirim") == ["complaint.filed.anonim"]
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(citizen.last[0].params["code"])
    assert complaint is not None and complaint.description == "Lampu jalan di depan masjid mati tiga malam"
    assert await citizen.say("lanjut") == ["menu.intro"]  # the filed draft is not kept any more


async def test_leaving_for_another_flow_keeps_the_draft_too(citizen: Conversation) -> None:
    """Starting the survey in the middle of a complaint keeps the complaint for `lanjut` as well."""
    await reach_description(citizen)
    await citizen.verify(
        [
            ("Lampu jalan di depan masjid mati tiga malam", ["complaint.location.ask"]),
            ("survei", ["draft.kept", "survey.privacy.notice"]),
            ("batal", ["cancel.done"]),
            ("lanjut", ["complaint.location.ask"]),
        ]
    )


async def test_kept_draft_expires_and_batal_discards_it(
    app: App, citizen: Conversation, clock: FrozenClock, dispatcher: Dispatcher
) -> None:
    """A kept draft lasts a day; `batal` throws it away and says so."""
    await reach_description(citizen)
    await citizen.verify(
        [
            ("Lampu jalan di depan masjid mati tiga malam", ["complaint.location.ask"]),
            ("menu", ["draft.kept", "menu.intro"]),
        ]
    )
    clock.advance(timedelta(hours=25))
    assert await citizen.say("lanjut") == ["draft.expired"]
    assert await citizen.say("lanjut") == ["menu.intro"]

    await citizen.verify(
        [
            ("pengaduan", ["complaint.category.ask"]),
            ("1", ["complaint.description.ask"]),
            ("Lampu jalan di depan masjid mati tiga malam", ["complaint.location.ask"]),
            ("menu", ["draft.kept", "menu.intro"]),
            ("batal", ["draft.discarded"]),
            ("lanjut", ["menu.intro"]),
        ]
    )


async def test_expired_drafts_are_removed_by_the_retention_job(
    app: App, citizen: Conversation, clock: FrozenClock
) -> None:
    """A kept draft holds the citizen's words: the nightly job removes it once it expired."""
    await reach_description(citizen)
    await citizen.verify(
        [
            ("Lampu jalan di depan masjid mati tiga malam", ["complaint.location.ask"]),
            ("menu", ["draft.kept", "menu.intro"]),
        ]
    )
    await erase_old(app, clock.now())
    async with app.uow() as uow:
        states = await uow.conversations.load_many([citizen.key])
    assert states[citizen.key].parked is not None
    clock.advance(timedelta(hours=25))
    await erase_old(app, clock.now())
    async with app.uow() as uow:
        states = await uow.conversations.load_many([citizen.key])
    assert states[citizen.key].parked is None


# ------------------------------------------------------------------------------------------------- dataku


async def test_dataku_shows_everything_stored(
    app: App, dispatcher: Dispatcher, clock: FrozenClock, citizen: Conversation, recorder: RecordingSender
) -> None:
    """Complaint texts and places, answers to officers, ratings, survey answers with profile and saran, consents."""
    officer = await _officer(app, dispatcher, clock)
    await citizen.verify(FILE_NAMED)
    code = citizen.last[0].params["code"]
    assert await officer.press(officer.private, f"cmd:st info {code}", group=False) == ["staff.info.ask"]
    assert await officer.private.say("Di depan SD nomor berapa tepatnya?") == ["staff.info.sent"]
    question = to(recorder, citizen.key.chat_id)[-1]
    pressed = dataclasses.replace(citizen.inbound("x"), text=None, choice=question.choices[0].id)
    assert await citizen.send(pressed) == ["answer.ask"]
    assert await citizen.say("SD Negeri 12 dekat pasar") == ["answer.thanks"]
    assert await officer.press(officer.private, f"cmd:st done {code}", group=False) == ["staff.done.ask"]
    assert await officer.private.say("Lubang sudah ditambal dengan aspal") == ["staff.done.photos"]
    assert await officer.private.say("Kirim") == ["staff.done.sent"]
    for answer in ("ya", "3"):
        press = dataclasses.replace(citizen.inbound("x"), text=None, choice=f"cmd:nilai {code} {answer}")
        await citizen.send(press)
    clock.advance(timedelta(hours=1))
    await citizen.verify(
        [
            ("/start ikm_PKM-ANDALAS", ["survey.privacy.notice"]),
            ("1", ["privacy.thanks", "survey.service.ask"]),
            ("Poli umum", ["survey.profile.ask"]),
            ("Isi profil", ["survey.profile.gender.ask"]),
            ("Perempuan", ["survey.profile.age.ask"]),
            ("34", ["survey.profile.education.ask"]),
            ("S1", ["survey.profile.occupation.ask"]),
            ("Lewati", ["survey.question"]),
        ]
    )
    for answer in ["4", "3", "4", "4", "2", "4", "4", "1"]:
        assert await citizen.say(answer) == ["survey.question"]
    await citizen.verify([("3", ["survey.saran.ask"]), ("Antrean terlalu panjang di pagi hari", ["survey.summary"])])
    assert await citizen.say("Kirim") == ["survey.thanks"]

    assert await citizen.say("dataku") == ["data.mine"]
    text = "\n".join(citizen.last_texts)
    for stored in (
        "Jalan di depan SD 12 berlubang besar",  # complaint text
        "Jl. Sudirman No. 10",  # its location
        "SD Negeri 12 dekat pasar",  # the answer to the officer
        "Budi Santoso",
        "081234567890",
        "Poli umum",  # survey: service, profile, answers, saran
        "Perempuan",
        "25–39 tahun",
        "Antrean terlalu panjang di pagi hari",
        "Puskesmas Andalas",
        "23-11-2026 09:00",  # consent to complaints, in city time
        "23-11-2026 10:00",  # consent to the survey, an hour later
    ):
        assert stored in text, stored
    assert "Ya, sudah selesai; nilai penanganan 3 dari 4" in text  # the rating: solved, score 3
    assert "U1 Sangat sesuai" in text and "U8 Tidak ada" in text  # every answer
    assert "rating 3" not in text  # the closing event is not the citizen's own words


async def _draft_with_photo(app: App, citizen: Conversation, first_time: bool = True) -> Path:
    """Walk up to the photos, send one and leave with `menu`; return the photo's file."""
    if first_time:
        await reach_description(citizen)
    else:
        await citizen.verify([("pengaduan", ["complaint.category.ask"]), ("1", ["complaint.description.ask"])])
    await citizen.verify(
        [
            ("Lampu jalan di depan masjid mati tiga malam", ["complaint.location.ask"]),
            ("Tanpa lokasi", ["complaint.kecamatan.ask"]),
            ("Tidak tahu", ["complaint.photos.ask"]),
        ]
    )
    source = app.attachments.root.parent / "kiriman.jpg"
    source.write_bytes(jpeg_with_gps())
    photo = IncomingFile(MediaKind.PHOTO, "image/jpeg", str(source), size=source.stat().st_size)
    assert await citizen.send(dataclasses.replace(citizen.inbound("x"), text=None, media=(photo,))) == [
        "complaint.photos.received"
    ]
    assert await citizen.say("menu") == ["draft.kept", "menu.intro"]
    (path,) = (app.attachments.root / "drafts").rglob("*.jpg")
    assert path.exists()  # the kept draft still holds its photo
    return path


async def test_erasure_removes_consents_language_and_the_kept_draft_with_its_photo(
    app: App, citizen: Conversation
) -> None:
    """`hapusdata` leaves no consent, no stored language and no kept draft (nor its photo) behind."""
    photo = await _draft_with_photo(app, citizen)
    async with app.uow() as uow:
        found = await uow.citizens.find(ChannelName.CONSOLE, citizen.key.chat_id)
        assert found is not None
        assert [c.purpose for c in await uow.citizens.consents(found.id)] == ["complaint"]
    await citizen.verify([("hapusdata", ["data.erase.ask"]), ("Ya, hapus", ["data.erase.done"])])
    async with app.uow() as uow:
        assert await uow.citizens.consents(found.id) == []
        assert await uow.citizens.find(ChannelName.CONSOLE, citizen.key.chat_id) is None
        assert await uow.conversations.load_many([citizen.key]) == {}
    assert not photo.exists()
    assert await citizen.say("lanjut") == ["menu.intro"]


async def test_batal_and_expiry_delete_the_kept_drafts_photo(
    app: App, citizen: Conversation, clock: FrozenClock
) -> None:
    """A discarded or expired draft takes its photo with it."""
    photo = await _draft_with_photo(app, citizen)
    assert await citizen.say("batal") == ["draft.discarded"]
    assert not photo.exists()
    photo = await _draft_with_photo(app, citizen, first_time=False)
    clock.advance(timedelta(hours=25))
    assert await citizen.say("lanjut") == ["draft.expired"]
    assert not photo.exists()
    photo = await _draft_with_photo(app, citizen, first_time=False)
    clock.advance(timedelta(hours=25))
    await erase_old(app, clock.now())
    assert not photo.exists()
