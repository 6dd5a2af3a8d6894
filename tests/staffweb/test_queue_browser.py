"""An officer's queue in a real headless Chromium, served by the real `suarawarga serve`, at 360 and 1280 px.

The officer asks for a link in their (console) chat, opens it, presses the button, filters the queue (new and
overdue complaints of one kecamatan) with the form, with JavaScript on and off, and opens a complaint from the
filtered list. Screenshots go to `test-artifacts/staff/` for a person to look at.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from suarawarga.bootstrap import App
from suarawarga.complaints.model import ComplaintStatus
from suarawarga.complaints.queue import QueueFilter, queue_export
from suarawarga.config import Settings
from tests.staffweb.seeding import CONTACTS, REPORTERS, seed_city
from tests.staffweb.support import say
from tests.support.browser import chromium, navigate, serving
from tests.support.clock import JAKARTA, FrozenClock

ARTIFACTS = Path(os.environ.get("SUARAWARGA_TEST_ARTIFACTS", "test-artifacts")) / "staff"


def _filter_and_open(driver: object, base: str, link: str, shots: str | None) -> dict[str, object]:
    """Sign in with the link, filter the queue with its form, open the first complaint; return what was seen."""
    from selenium.webdriver import Chrome

    assert isinstance(driver, Chrome)
    driver.get(base + link)
    navigate(driver, "main form button")
    seen: dict[str, object] = {"landing": driver.find_element(By.TAG_NAME, "h1").text}
    if shots:
        driver.save_screenshot(f"{shots}-queue.png")
    summary = driver.find_element(By.CSS_SELECTOR, "details.filters summary")
    summary.click()
    Select(driver.find_element(By.NAME, "status")).select_by_value(ComplaintStatus.DITERIMA.value)
    Select(driver.find_element(By.NAME, "kecamatan")).select_by_value("KEC-KURANJI")
    driver.find_element(By.NAME, "terlambat").click()
    navigate(driver, "form.filters button[type=submit]")
    rows = driver.find_elements(By.CSS_SELECTOR, "table.queue tr[data-code]")
    seen["address"] = driver.current_url
    seen["codes"] = [str(r.get_attribute("data-code")) for r in rows]
    seen["deadlines"] = {str(r.get_attribute("data-deadline")) for r in rows}
    seen["total"] = driver.find_element(By.CSS_SELECTOR, "p.found").get_attribute("data-total")
    seen["text"] = driver.find_element(By.TAG_NAME, "body").text
    if shots:
        driver.save_screenshot(f"{shots}-filtered.png")
    if rows:
        navigate(driver, "td.code a", rows[0])
        seen["opened"] = driver.find_element(By.TAG_NAME, "body").text
    return seen


async def test_an_officer_filters_the_queue_in_chromium(
    app: App, settings: Settings, clock: FrozenClock, tmp_path: Path
) -> None:
    """The filter form narrows the queue to what the service computes, in Chromium, with and without JavaScript."""
    seeded = await seed_city(app, count=40)
    clock.set(datetime.now(JAKARTA))  # the server runs on the real clock: its links must be valid now
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = {
        "SUARAWARGA_DATABASE_URL": settings.database_url,
        "SUARAWARGA_ATTACHMENTS_DIR": str(tmp_path / "files"),
    }
    async with serving(env) as base:
        seen: dict[tuple[int, bool], dict[str, object]] = {}
        for width in (360, 1280):
            for script in (True, False):
                answers = await say(app, "petugas-pu", "masuk")  # the officer asks in chat; the link is in the answer
                link = urlsplit(answers[0].params["link"]).path
                driver = await asyncio.to_thread(chromium, width, script)
                shots = str(ARTIFACTS / f"filter-{width}") if script else None
                try:
                    seen[(width, script)] = await asyncio.to_thread(_filter_and_open, driver, base, link, shots)
                finally:
                    await asyncio.to_thread(driver.quit)

    async with app.uow() as uow:  # the server's clock is the real one: compute the expected list with it
        kuranji = await uow.units.by_code("KEC-KURANJI")
        assert kuranji is not None
        wanted = QueueFilter(statuses=(ComplaintStatus.DITERIMA,), kecamatan_ids=(kuranji.id,), overdue=True)
        unit_ids = frozenset({seeded.staff.officer.unit_id})
        expected, total = await queue_export(uow, unit_ids, wanted, datetime.now(JAKARTA), app.calendar)
    assert expected, "the seed has no overdue new complaint in Kuranji"
    for (width, script), page in seen.items():
        assert page["landing"] == "Antrian pengaduan", (width, script)
        assert "status=diterima" in str(page["address"]) and "terlambat=1" in str(page["address"])
        assert page["codes"] == [i.row.code for i in expected], (width, script)
        assert page["deadlines"] == {"overdue"}
        assert page["total"] == str(total)
        assert expected[0].row.code in str(page["opened"])  # the complaint page of the first row
        for secret in (*REPORTERS, *CONTACTS):
            assert secret not in str(page["text"])
