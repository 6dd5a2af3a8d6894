"""End to end on Telegram and WhatsApp: a neighbour joins an open report ("Ya, sama") or files anew ("Bukan")."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fakes.whatsapp_server import WaUser

from suarawarga.bootstrap import App
from suarawarga.complaints.model import ComplaintStatus, EventKind
from tests.channels.test_telegram_e2e import CITIZEN, GROUP, NEIGHBOUR, OFFICER, connect_staff, history, product
from tests.channels.test_telegram_e2e import file_complaint as file_on_telegram
from tests.channels.test_whatsapp_e2e import ANDI as ANDI_WA
from tests.channels.test_whatsapp_e2e import SITI, Phone, complaints, join_dpupr
from tests.channels.test_whatsapp_e2e import file_complaint as file_on_whatsapp
from tests.support.clock import FrozenClock
from tests.support.whatsapp import Rig, whatsapp_rig

RINA = WaUser("6281399998888", "Rina")
NEAR = (-0.94760, 100.41723)  # about 53 m south of the first report's point


async def test_a_neighbour_joins_the_report_on_telegram(app: App) -> None:
    """The offer comes with a "Ya, sama" button; pressing it makes a supporter who then hears the OPD's news."""
    async with product(app, "poll") as world:
        api = world.api
        await connect_staff(world)
        code = await file_on_telegram(world, CITIZEN, photo=None)
        me = world.screen(NEIGHBOUR.id)
        api.user_sends_command(NEIGHBOUR, None, "start")
        await me.expect(world.text("menu.welcome"))
        world.press(NEIGHBOUR, None, "cmd:pengaduan")
        await me.expect(world.text("privacy.notice"))
        world.press(NEIGHBOUR, None, "consent:yes")
        await me.expect(world.text("complaint.category.ask"))
        world.press(NEIGHBOUR, None, "cat:jalan_rusak")
        await me.expect(world.text("complaint.description.ask"))
        api.user_sends_text(NEIGHBOUR, None, "Lubang besar di jalan depan SD, motor saya hampir jatuh")
        await me.expect(world.text("complaint.location.ask"))
        api.user_shares_location(NEIGHBOUR, None, *NEAR)
        await me.expect(world.text("complaint.kecamatan.ask"))
        world.press(NEIGHBOUR, None, "kec:KEC-PADANG-BARAT")
        offer = await me.expect(world.text("duplicate.offer"))
        assert "sekitar 53 m dari titik Anda" in offer["text"] and code not in offer["text"]
        assert "Budi" not in offer["text"] and "SD 12" not in offer["text"]
        buttons = [b["text"] for row in offer["reply_markup"]["inline_keyboard"] for b in row]
        assert buttons == ["Ya, sama: nomor 1", "Bukan, laporkan baru"]
        world.press(NEIGHBOUR, None, "dup:1")
        await me.expect(world.text("complaint.photos.ask"))
        world.press(NEIGHBOUR, None, "photos:done")
        await me.expect(world.text("complaint.identity.ask"))
        world.press(NEIGHBOUR, None, "id:anonim")
        await me.expect(world.text("duplicate.summary"))
        world.press(NEIGHBOUR, None, "confirm:send")
        joined = await me.expect(world.text("duplicate.joined.anonim").split(" {")[0])
        assert code in joined["text"]
        await world.screen(GROUP.id).expect(f"Pengaduan {code} didukung warga lain (kini didukung 1 warga)")
        assert await history(app, code) == (ComplaintStatus.DITERIMA, [EventKind.FILED, EventKind.SUPPORTED])
        async with app.uow() as uow:
            assert await uow.complaints.count() == 1
        world.press(OFFICER, GROUP, f"cmd:st acc {code}")
        await world.screen(GROUP.id).expect(world.text("staff.accepted", code=code, officer="Andi Pratama"))
        await world.screen(CITIZEN.id).expect(f"Pengaduan {code} Anda sudah diterima")
        # An anonymous supporter left no chat: nothing more reaches the neighbour.
        assert not any("yang Anda dukung" in (r["text"] or "") for r in me.all())


@pytest.fixture
async def rig(app: App, clock: FrozenClock) -> AsyncIterator[Rig]:
    """The product with its WhatsApp channel, against the fake Graph API."""
    async with whatsapp_rig(app, clock) as running:
        yield running


async def _reach_offer(neighbour: Phone) -> None:
    await neighbour.says("halo")
    await neighbour.taps("Buat pengaduan")
    await neighbour.taps("Setuju")
    await neighbour.says("1")
    await neighbour.says("Jalan berlubang di depan SD, bahaya untuk anak sekolah")
    await neighbour.shares_location(*NEAR)


async def test_on_whatsapp_one_neighbour_joins_and_another_files_anew(rig: Rig, app: App) -> None:
    """Reply buttons "Ya, sama: nomor 1" / "Bukan, laporkan baru": one joins (updates follow), one files its own."""
    citizen, officer = Phone(rig, SITI), Phone(rig, ANDI_WA)
    await join_dpupr(rig, officer)
    code = await file_on_whatsapp(citizen)
    rina = Phone(rig, RINA)
    await _reach_offer(rina)
    (offer,) = await rina.says("Tidak tahu")
    assert offer.kind == "button" and [t for _, t in offer.choices] == ["Ya, sama: nomor 1", "Bukan, laporkan baru"]
    assert "Siti" not in offer.text and code not in offer.text
    await rina.taps("Ya, sama: nomor 1")
    await rina.taps("Selesai")
    await rina.taps("Bernama")
    await rina.says("Rina")
    (summary,) = await rina.taps("Lewati")
    assert "Kirim dukungan sekarang?" in summary.text
    (joined,) = await rina.taps("Kirim dukungan")
    assert code in joined.text and "didukung 1 warga" in joined.text
    notices = [m for m in officer.new() if "didukung warga lain" in m.text]
    assert len(notices) == 1 and "Rina" in notices[0].text
    (accepted,) = await officer.says(f"tindak {code}")
    assert "Didukung: 1 warga" in accepted.text
    await officer.taps("Terima", accepted)
    (update,) = rina.new()
    assert code in update.text and "yang Anda dukung" in update.text

    other = Phone(rig, WaUser("6281377776666", "Yusuf"))
    await _reach_offer(other)
    await other.says("Tidak tahu")
    await other.taps("Bukan, laporkan baru")
    await other.taps("Selesai")
    await other.taps("Anonim")
    (filed,) = await other.taps("Kirim")
    assert "Pengaduan anonim Anda sudah tercatat" in filed.text
    assert len(await complaints(app)) == 2
    assert rig.api.refused == []
