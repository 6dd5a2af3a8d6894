"""End to end on WhatsApp: a citizen and an OPD officer, each on their phone, through signed webhooks and real HTTP.

The product runs unchanged (runtime.running + web_app under uvicorn) against the fake Graph API, which checks
every request against Meta's documented shapes and limits and enforces the 24-hour window itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from fakes.whatsapp_server import Delivery, Sent, WaUser
from sqlalchemy import func, select

from suarawarga.bootstrap import App
from suarawarga.complaints.handling import create_invite
from suarawarga.complaints.model import ComplaintStatus, StaffRole
from suarawarga.storage.orm import AttachmentRow, ComplaintRow, SurveyResponseRow
from tests.support.clock import FrozenClock
from tests.support.images import jpeg_with_gps, same_picture_without_metadata
from tests.support.whatsapp import Rig, whatsapp_rig

SITI = WaUser("6281234567890", "Siti Aminah")
ANDI = WaUser("6281311112222", "Andi (DPUPR)")
PHOTO = jpeg_with_gps((64, 48))
EVIDENCE = jpeg_with_gps((48, 64))


@pytest.fixture
async def rig(app: App, clock: FrozenClock) -> AsyncIterator[Rig]:
    """The product with its WhatsApp channel, against the fake Graph API."""
    async with whatsapp_rig(app, clock) as running:
        yield running


class Phone:
    """A person's WhatsApp: what they do, and what they were sent since they last looked."""

    def __init__(self, rig: Rig, user: WaUser) -> None:
        """Hold a user's phone in the running rig."""
        self.rig, self.user, self.seen = rig, user, 0

    async def _settled(self, delivery: Delivery) -> list[Sent]:
        assert delivery.status == 200
        await self.rig.settle()
        return self.new()

    def new(self) -> list[Sent]:
        """Return the messages received since the last look."""
        got = self.rig.api.to(self.user)
        fresh, self.seen = got[self.seen :], len(got)
        return fresh

    @property
    def last(self) -> Sent:
        """Return the last message received."""
        return self.rig.api.to(self.user)[-1]

    async def says(self, text: str) -> list[Sent]:
        """Type a message; return the answers."""
        return await self._settled(await self.rig.api.user_sends_text(self.user, text))

    async def taps(self, title: str, sent: Sent | None = None) -> list[Sent]:
        """Tap a reply button (or pick a list row) of the last message, or of `sent`."""
        sent = sent or self.last
        if sent.kind == "list":
            return await self._settled(await self.rig.api.user_picks_row(self.user, sent, title))
        return await self._settled(await self.rig.api.user_taps_button(self.user, sent, title))

    async def taps_template_button(self, sent: Sent, index: int, text: str) -> list[Sent]:
        """Tap a quick-reply button of a template."""
        return await self._settled(await self.rig.api.user_taps_template_button(self.user, sent, index, text))

    async def sends_photo(self, data: bytes) -> list[Sent]:
        """Send a photo."""
        return await self._settled(await self.rig.api.user_sends_image(self.user, data))

    async def shares_location(self, latitude: float, longitude: float) -> list[Sent]:
        """Share the current position."""
        return await self._settled(await self.rig.api.user_sends_location(self.user, latitude, longitude))


async def join_dpupr(rig: Rig, officer: Phone) -> None:
    """Make the officer a DPUPR officer through `gabung CODE` in their private chat."""
    async with rig.app.uow() as uow:
        code, _, _ = await create_invite(uow, "DPUPR", StaffRole.OFFICER, rig.app.clock.now())
        await uow.commit()
    (welcome,) = await officer.says(f"gabung {code}")
    assert "Dinas Pekerjaan Umum" in welcome.text


async def file_complaint(citizen: Phone) -> str:
    """File a named complaint about a pothole with a location and a photo; return its code."""
    (menu,) = await citizen.says("halo")
    assert menu.kind == "list" and ("cmd:pengaduan", "Buat pengaduan") in menu.choices
    (notice,) = await citizen.taps("Buat pengaduan")
    assert notice.kind == "button" and [t for _, t in notice.choices] == ["Setuju", "Tidak setuju"]
    (categories,) = await citizen.taps("Setuju")
    assert categories.kind == "text" and "1. Jalan rusak atau berlubang" in categories.text  # 18: a typed menu
    (description,) = await citizen.says("1")
    assert "Jalan rusak" in description.text
    (location,) = await citizen.says("Jalan di depan SD 12 berlubang besar, sudah dua motor jatuh")
    assert location.kind == "button" and location.choices == [("loc:skip", "Tanpa lokasi")]
    (kecamatan,) = await citizen.shares_location(-0.94712, 100.41723)
    assert kecamatan.kind == "text" and "Padang Barat" in kecamatan.text  # 12 choices: numbered
    (photos,) = await citizen.says("Tidak tahu")
    assert photos.kind == "button"
    (received,) = await citizen.sends_photo(PHOTO)
    assert received.choices == [("photos:done", "Selesai")]
    (identity,) = await citizen.taps("Selesai")
    assert [t for _, t in identity.choices] == ["Rahasia", "Bernama", "Anonim"]
    await citizen.taps("Bernama")
    (contact,) = await citizen.says("Siti Aminah")
    assert contact.choices == [("contact:skip", "Lewati")]
    (summary,) = await citizen.taps("Lewati")
    assert "Jalan di depan SD 12" in summary.text and "-0.94712" in summary.text
    (filed,) = await citizen.taps("Kirim")
    code = filed.text.split("kode ")[1].split()[0]
    assert code.startswith("PDG-")
    return code


async def complaints(app: App) -> list[tuple[str, str]]:
    """Return (code, status) of every complaint."""
    async with app.db.connect() as conn:
        return [(r.code, r.status) for r in await conn.execute(select(ComplaintRow.code, ComplaintRow.status))]


async def test_a_citizen_and_an_officer_handle_a_complaint_on_whatsapp(rig: Rig, app: App) -> None:
    """Photo + location complaint; the officer accepts, asks for info, gets the answer and resolves with a photo."""
    citizen, officer = Phone(rig, SITI), Phone(rig, ANDI)
    await join_dpupr(rig, officer)
    code = await file_complaint(citizen)

    photo, notice = officer.new()  # the citizen's photo, then the complaint with its five actions as a list
    assert photo.kind == "image" and same_picture_without_metadata(rig.api.media[photo.body["image"]["id"]].data, PHOTO)
    assert notice.kind == "list" and code in notice.text and "Siti Aminah" in notice.text
    assert [t for _, t in notice.choices] == ["Terima", "Minta info", "Tanggapi", "Alihkan", "Selesai"]
    async with app.db.connect() as conn:
        stored = (await conn.execute(select(ComplaintRow.latitude, ComplaintRow.reporter_contact))).one()
        assert tuple(stored) == (-0.94712, None)  # the WhatsApp number is not copied into the complaint
        assert (await conn.execute(select(func.count()).select_from(AttachmentRow))).scalar_one() == 1

    (accepted,) = await officer.taps("Terima", notice)
    assert code in accepted.text
    (update,) = citizen.new()
    assert update.kind == "text" and code in update.text and "Dinas Pekerjaan Umum" in update.text

    (ask,) = await officer.taps("Minta info", notice)
    assert code in ask.text
    (sent,) = await officer.says("Di depan SD nomor berapa tepatnya?")
    assert code in sent.text
    (question,) = citizen.new()
    assert question.kind == "button" and "Di depan SD nomor berapa tepatnya?" in question.text
    (answer_ask,) = await citizen.taps("Jawab", question)
    assert "Di depan SD nomor berapa tepatnya?" in answer_ask.text
    (thanks,) = await citizen.says("SD Negeri 12, Jl. Sudirman")
    assert code in thanks.text
    (relayed,) = officer.new()
    assert "SD Negeri 12, Jl. Sudirman" in relayed.text

    await officer.taps("Selesai", notice)
    (photos_ask,) = await officer.says("Lubang sudah ditambal dengan aspal")
    assert photos_ask.choices == [("evidence:send", "Kirim")]
    await officer.sends_photo(EVIDENCE)
    (done,) = await officer.taps("Kirim")
    assert code in done.text
    evidence, resolved = citizen.new()
    assert evidence.kind == "image" and same_picture_without_metadata(
        rig.api.media[evidence.body["image"]["id"]].data, EVIDENCE
    )
    assert "Lubang sudah ditambal dengan aspal" in resolved.text and resolved.kind == "button"
    assert await complaints(app) == [(code, ComplaintStatus.SELESAI.value)]
    assert rig.api.refused == []  # no request broke a rule of the Cloud API


async def test_with_the_windows_closed_the_updates_go_out_as_templates(rig: Rig, app: App, clock: FrozenClock) -> None:
    """A day later the officer's notification and the citizen's updates are templates; their buttons still work."""
    citizen, officer = Phone(rig, SITI), Phone(rig, ANDI)
    await join_dpupr(rig, officer)
    clock.advance(timedelta(hours=25))  # the officer's window closes
    code = await file_complaint(citizen)

    (notice,) = officer.new()  # outside the window: the template, its quick replies carry the actions
    assert notice.body["template"]["name"] == "sw_pengaduan_baru"
    assert notice.text.startswith(f"{code} | Dinas Pekerjaan Umum dan Penataan Ruang | Jalan rusak")
    assert [p for p, _ in notice.choices] == [f"cmd:st {a} {code}" for a in ("acc", "info", "reply", "xfer", "done")]

    clock.advance(timedelta(hours=25))  # the citizen's window closes too
    (accepted,) = await officer.taps_template_button(notice, 0, "Terima")
    assert code in accepted.text  # the officer wrote (tapped), so this answer is free-form again
    (update,) = citizen.new()
    assert update.body["template"]["name"] == "sw_pembaruan_pengaduan"
    assert update.text.startswith(f"{code} | ")

    await officer.taps_template_button(notice, 1, "Minta info")
    await officer.says("Di depan SD nomor berapa tepatnya?")
    (question,) = citizen.new()
    assert question.body["template"]["name"] == "sw_permintaan_info"
    assert question.text == f"{code} | Di depan SD nomor berapa tepatnya?"
    (answer_ask,) = await citizen.taps_template_button(question, 0, "Jawab")
    assert answer_ask.kind == "text" and "Di depan SD nomor berapa tepatnya?" in answer_ask.text
    await citizen.says("SD Negeri 12, Jl. Sudirman")
    (relayed,) = officer.new()
    assert "SD Negeri 12" in relayed.text and relayed.kind == "text"
    assert [e.code for e in rig.api.refused] == []  # the product never tried a free-form message out of window
    assert await complaints(app) == [(code, ComplaintStatus.DIPROSES.value)]


async def test_replayed_and_concurrent_deliveries_never_duplicate_a_complaint(rig: Rig, app: App) -> None:
    """The confirmation delivered three times (twice at once, once after processing) files one complaint."""
    citizen = Phone(rig, SITI)
    await citizen.says("lapor")
    await citizen.taps("Setuju")
    for line in ("1", "Jalan di depan SD 12 berlubang besar", "Jl. Sudirman No. 10", "Tidak tahu"):
        await citizen.says(line)
    await citizen.taps("Selesai")
    await citizen.taps("Anonim")
    confirm = await rig.api.user_taps_button(SITI, citizen.last, "Kirim")
    again = await rig.api.replay(confirm)
    await rig.settle()
    late = await rig.api.replay(confirm)
    await rig.settle()
    assert (confirm.status, again.status, late.status) == (200, 200, 200)
    assert len(await complaints(app)) == 1
    (filed,) = citizen.new()
    assert "PDG-" in filed.text


async def test_a_survey_is_answered_with_list_rows_and_buttons(rig: Rig, app: App) -> None:
    """The IKM survey from the menu: consent and choices by button, the nine scores by list row; one response."""
    citizen = Phone(rig, SITI)
    await citizen.says("menu")
    await citizen.taps("Isi survei kepuasan")
    picked: list[str] = []
    for _ in range(40):
        async with app.db.connect() as conn:
            if (await conn.execute(select(func.count()).select_from(SurveyResponseRow))).scalar_one():
                break
        last = citizen.last
        titles = [t for _, t in last.choices]
        if titles:
            title = next((t for t in ("Setuju", "Kirim", "Isi profil") if t in titles), titles[-1])
            picked.append(last.kind)
            await citizen.taps(title)
        elif "\n1. " in last.text:
            await citizen.says("1")  # a numbered menu (more than ten OPDs): the typed number is the choice
        else:
            await citizen.says("Pembuatan KTP elektronik")
    else:
        pytest.fail("the survey did not finish")
    assert picked.count("list") >= 9 and picked.count("button") >= 2
    assert "Terima kasih" in citizen.last.text
    assert rig.api.refused == []
