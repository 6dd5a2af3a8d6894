"""The staff console in a real headless Chromium, served by the real `suarawarga serve`, with Telegram users.

The officer and the citizen are Telegram users of the fake Bot API; `suarawarga serve --set-webhook` runs the
whole product (webhook, dispatcher, outbox pump, the site and the console). The officer asks for a link in
chat, opens it in the browser, accepts the complaint, asks for information; the citizen answers in chat; the
officer resolves with a photo chosen in the browser; the citizen's chat shows every step. The journey runs on a
360-px phone with JavaScript switched off; the complaint page is also photographed at 1280 px. Screenshots go to
`test-artifacts/staff/` (or SUARAWARGA_TEST_ARTIFACTS) for a person to look at.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fakes.telegram_server import FakeBotApi
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from suarawarga.bootstrap import App
from suarawarga.bot.messages import ChannelName
from suarawarga.cli.run import cmd_serve
from suarawarga.complaints.handling import create_invite
from suarawarga.complaints.model import ComplaintStatus, EventKind, StaffRole
from tests.channels.test_telegram_e2e import (
    CITIZEN,
    OFFICER,
    SECRET,
    Screen,
    configure,
    run_command,
    stop,
)
from tests.staffweb.support import filed
from tests.support.browser import chromium, navigate
from tests.support.clock import FrozenClock
from tests.support.images import jpeg_with_gps
from tests.support.ports import free_port

ARTIFACTS = Path(os.environ.get("SUARAWARGA_TEST_ARTIFACTS", "test-artifacts")) / "staff"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/staf/masuk/[A-Za-z0-9_-]+")
CRACKED = "Badan jalan dekat SD 05 retak dan amblas kira-kira tiga meter; pengendara harus turun ke bahu jalan."
STORY = "Jalan berlubang besar di depan SD Negeri 05, sudah dua minggu. Motor sering terjatuh saat hujan."


def _text(app: App, key: str) -> str:
    """Return a catalogue text in Indonesian up to its first parameter."""
    return app.catalogue.raw(key, "id").split("{", 1)[0].strip()


class Browser:
    """One Chromium window, driven from the test's event loop (selenium blocks, so it runs in a thread)."""

    def __init__(self, driver: webdriver.Chrome) -> None:
        self.driver = driver

    async def run(self, step: Callable[[webdriver.Chrome], Any]) -> Any:
        """Run one blocking selenium step."""
        return await asyncio.to_thread(step, self.driver)

    async def open(self, url: str) -> str:
        """Open an address and return the page's visible text."""

        def step(d: webdriver.Chrome) -> str:
            d.get(url)
            return str(d.find_element(By.TAG_NAME, "body").text)

        return str(await self.run(step))

    async def click(self, css: str, *, navigates: bool = True) -> str:
        """Click the element and return the visible text of the page (of the next page, if the click leads to one)."""

        def step(d: webdriver.Chrome) -> str:
            if navigates:
                navigate(d, css)
            else:
                d.find_element(By.CSS_SELECTOR, css).click()
            return str(d.find_element(By.TAG_NAME, "body").text)

        return str(await self.run(step))

    async def select(self, name: str, value: str) -> None:
        """Choose an option of a select field by its value."""
        await self.run(lambda d: Select(d.find_element(By.NAME, name)).select_by_value(value))

    async def fill(self, css: str, value: str) -> None:
        """Type into a field (a file input takes a path)."""
        await self.run(lambda d: d.find_element(By.CSS_SELECTOR, css).send_keys(value))

    async def shot(self, name: str) -> None:
        """Save a screenshot of the whole page (the window grows to the page's height first)."""

        def step(d: webdriver.Chrome) -> None:
            width = d.execute_cdp_cmd("Runtime.evaluate", {"expression": "window.innerWidth"})["result"]["value"]
            bottom = "Math.ceil(document.querySelector('footer').getBoundingClientRect().bottom + window.scrollY)"
            height = d.execute_cdp_cmd("Runtime.evaluate", {"expression": bottom})["result"]["value"]
            metrics = {"width": width, "height": max(int(height), 600), "deviceScaleFactor": 1, "mobile": width < 600}
            d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
            d.save_screenshot(str(ARTIFACTS / f"{name}.png"))

        await self.run(step)

    async def overflow(self) -> int:
        """Return how many pixels the page is wider than the window (0: nothing to scroll sideways)."""
        script = "return document.documentElement.scrollWidth - window.innerWidth"
        return int(await self.run(lambda d: d.execute_script(script)))

    async def close(self) -> None:
        """Quit the browser."""
        await self.run(lambda d: d.quit())


async def _eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        assert loop.time() < deadline, "the condition never came true"
        await asyncio.sleep(0.05)


async def _status(app: App, code: str) -> tuple[ComplaintStatus, list[EventKind]]:
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(code)
        assert complaint is not None
        return complaint.status, [e.kind for e in await uow.complaints.history(complaint.id)]


async def _link(api: FakeBotApi, officer: Screen) -> str:
    """Send `/masuk` as the officer and return the link the bot answered with."""
    api.user_sends_command(OFFICER, None, "masuk")
    answer = await officer.expect("konsol petugas")
    found = LINK.search(answer["text"] or "")
    assert found is not None, answer["text"]
    return found.group(0)


async def test_an_officer_handles_a_complaint_in_chromium(app: App, clock: FrozenClock, tmp_path: Path) -> None:
    """Link from chat, sign in, accept, ask, the citizen answers in Telegram, resolve with an uploaded photo."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "bukti-perbaikan.jpg"
    photo.write_bytes(jpeg_with_gps((1200, 900)))
    async with FakeBotApi() as api:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        configure(app, api, telegram_webhook_secret=SECRET, public_url=base)
        app.policy = dataclasses.replace(app.policy, console_url=base)  # as `build` derives it from the settings
        server = await run_command(cmd_serve, app, "serve", "--port", str(port), "--set-webhook")
        phone: Browser | None = None
        desk: Browser | None = None
        try:
            await api.wait_for(lambda: api.webhook is not None, within=15)
            officer, citizen = Screen(api, OFFICER.id), Screen(api, CITIZEN.id)
            api.private_chat(CITIZEN)
            complaint = await filed(
                app, chat=str(CITIZEN.id), channel=ChannelName.TELEGRAM, name="Budi Santoso", description=STORY
            )
            async with app.uow() as uow:
                invite, _, _ = await create_invite(uow, "DPUPR", StaffRole.OFFICER, app.clock.now())
                await uow.commit()
            api.user_sends_command(OFFICER, None, "gabung", invite)
            await officer.expect(_text(app, "staff.join.ok"))
            other = await filed(  # a second DPUPR complaint in the queue, of another category
                app,
                chat="warga-2",
                category="drainase_banjir",
                photo=False,
                description="Saluran air di Jl. Sawahan tersumbat sampah, air meluap ke jalan setiap hujan.",
            )
            clock.advance(timedelta(hours=26, minutes=14))  # the officer gets to it the next day
            link = await _link(api, officer)

            phone = Browser(await asyncio.to_thread(chromium, 360, False))  # a phone, JavaScript off
            shown = await phone.open(link)
            assert "Masuk ke konsol petugas" in shown
            await phone.shot("link-360")
            home = await phone.click("form button.primary")
            assert "Masuk sebagai Andi Pratama" in home and "Antrian pengaduan" in home
            assert complaint.code in home and other.code in home  # the queue: DPUPR's open complaints
            await phone.shot("queue-360")
            assert await phone.overflow() == 0
            await phone.click("details.filters summary", navigates=False)  # the filters, without script
            await phone.select("kategori", "jalan_rusak")
            await phone.select("status", ComplaintStatus.DITERIMA.value)
            queue = await phone.click("form.filters button[type=submit]")
            assert complaint.code in queue and other.code not in queue and "1 pengaduan ditemukan" in queue
            await phone.shot("queue-filtered-360")
            assert await phone.overflow() == 0
            page = await phone.click(f'tr[data-code="{complaint.code}"] td.code a')
            assert complaint.code in page and STORY[:40] in page and "Budi Santoso" in page
            await phone.shot("complaint-new-360")
            assert await phone.overflow() == 0

            page = await phone.click("form.act-main button")
            assert "Pengaduan diterima. Pelapor diberi tahu lewat chat." in page
            await citizen.expect("sudah diterima oleh Dinas Pekerjaan Umum")
            clock.advance(timedelta(minutes=7))
            await phone.click("details.act:nth-of-type(1) summary", navigates=False)
            await phone.fill("#pertanyaan", "Lubangnya di lajur kiri atau kanan dari arah pasar?")
            page = await phone.click("#pertanyaan ~ button")
            assert "Pertanyaan terkirim" in page
            asked = await citizen.expect("Lubangnya di lajur kiri atau kanan")
            assert (await _status(app, complaint.code))[0] is ComplaintStatus.MENUNGGU_INFO

            buttons = asked["reply_markup"]["inline_keyboard"]
            answer_button = next(b["callback_data"] for row in buttons for b in row if "jawab" in b["callback_data"])
            api.user_presses_button(CITIZEN, None, asked["message_id"], answer_button)
            await citizen.expect(_text(app, "answer.ask"))
            clock.advance(timedelta(hours=1, minutes=31))
            api.user_sends_text(CITIZEN, None, "Lajur kiri, persis di depan gerbang sekolah.")
            await citizen.expect(_text(app, "answer.thanks"))

            page = await phone.open(f"{base}/staf/aduan/{complaint.code}")
            assert "Lajur kiri, persis di depan gerbang sekolah." in page and "Pelapor menjawab" in page
            clock.advance(timedelta(hours=5, minutes=5))  # the road crew patched it (within the 8 idle hours)
            await phone.click("details.act:last-of-type summary", navigates=False)
            await phone.fill("#catatan", "Lubang sudah ditambal dan dipadatkan oleh tim UPT Jalan.")
            await phone.fill("#foto", str(photo))
            await phone.shot("resolve-form-360")
            page = await phone.click("#foto ~ button")
            assert "Pengaduan dinyatakan selesai. Pelapor diberi tahu lewat chat." in page
            await phone.shot("complaint-resolved-360")
            assert await phone.overflow() == 0
            evidence = await citizen.photo()
            assert evidence["files"], evidence
            assert b"PhoneOfTheReporter" not in evidence["files"][0]["data"]  # re-encoded: no camera, no GPS
            told = [r["text"] or r["caption"] or "" for r in citizen.all()]
            assert any("telah diselesaikan oleh Dinas Pekerjaan Umum" in t for t in told), told
            status, kinds = await _status(app, complaint.code)
            assert status is ComplaintStatus.SELESAI
            assert kinds[-4:] == [
                EventKind.ACCEPTED,
                EventKind.INFO_REQUESTED,
                EventKind.INFO_PROVIDED,
                EventKind.RESOLVED,
            ]
            # The citizen's chat, in order: accepted, the question, the answer prompt and thanks, the resolution.
            texts = [r["text"] or r["caption"] or "" for r in citizen.all()]
            order = [
                next(i for i, t in enumerate(texts) if "sudah diterima" in t),
                next(i for i, t in enumerate(texts) if "Lubangnya di lajur kiri" in t),
                next(i for i, t in enumerate(texts) if "telah diselesaikan" in t),
            ]
            assert order == sorted(order)

            fresh = await filed(
                app,
                chat=str(CITIZEN.id),
                channel=ChannelName.TELEGRAM,
                name="Budi Santoso",
                description=CRACKED,
            )
            desk = Browser(await asyncio.to_thread(chromium, 1280, True))  # a desktop, JavaScript on
            await desk.open(await _link(api, officer))
            queue = await desk.click("form button.primary")
            assert fresh.code in queue and other.code in queue and complaint.code not in queue  # resolved: not open
            await desk.shot("queue-1280")
            assert await desk.overflow() == 0
            await desk.open(f"{base}/staf/aduan/{fresh.code}")
            await desk.shot("complaint-new-1280")
            assert await desk.overflow() == 0
            page = await desk.open(f"{base}/staf/aduan/{complaint.code}")
            assert "Selesai ditangani" in page and "Foto bukti petugas 1" in page
            await desk.shot("complaint-resolved-1280")
            english = await desk.open(f"{base}/staf/aduan/{complaint.code}?lang=en")
            await desk.shot("complaint-resolved-1280-en")
            assert "Deadlines" in english and "History" in english
            page = await desk.click("form.inline button")  # Keluar
            assert "You are signed out of the staff console." in page  # the language chosen stays
            assert "Masuk ke konsol petugas" in await desk.open(f"{base}/staf/aduan/{complaint.code}")
            await desk.shot("signin-1280")
            async with httpx.AsyncClient() as http:
                assert (await http.get(f"{base}/staf/aduan/{complaint.code}/foto/1")).status_code == 303
        finally:
            for browser in (phone, desk):
                if browser is not None:
                    await browser.close()
            await stop(server)
