"""The public site in a real headless Chromium, served by the real `suarawarga serve`, at phone and desktop widths.

Needs Debian's `chromium` and `chromium-driver` (CI installs them and sets SUARAWARGA_REQUIRE_BROWSER=1, so there
a missing browser fails instead of skipping). Screenshots go to `test-artifacts/site/` (or
SUARAWARGA_TEST_ARTIFACTS) for a person to look at.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from suarawarga.bootstrap import App
from suarawarga.config import Settings
from tests.site.support import PRIVATE, populate
from tests.support.clock import JAKARTA

ARTIFACTS = Path(os.environ.get("SUARAWARGA_TEST_ARTIFACTS", "test-artifacts")) / "site"
WIDTHS = (360, 1280)


def _driver(width: int, script: bool) -> webdriver.Chrome:
    """Start headless Chromium through chromedriver, at a width, with page scripts on or off."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if browser is None or driver_path is None:
        if os.environ.get("SUARAWARGA_REQUIRE_BROWSER"):
            pytest.fail("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
        pytest.skip("chromium and chromedriver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(argument)
    if not script:  # what a visitor with JavaScript switched off gets
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.get("about:blank")
    # The viewport of a phone or a desktop (a headless window cannot be narrower than about 500 px by itself).
    metrics = {"width": width, "height": 2400, "deviceScaleFactor": 1, "mobile": width < 600}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    return driver


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _visit(driver: webdriver.Chrome, url: str, screenshot: Path | None) -> str:
    """Open a page and return its visible text (saving a screenshot first when asked)."""
    driver.get(url)
    if screenshot is not None:
        driver.save_screenshot(str(screenshot))
    return str(driver.find_element(By.TAG_NAME, "body").text)


def _cli_json(settings: Settings, words: list[str]) -> list[dict[str, object]]:
    env = {**os.environ, "SUARAWARGA_DATABASE_URL": settings.database_url}
    done = subprocess.run(
        [sys.executable, "-m", "suarawarga", *words, "--format", "json"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


async def test_the_site_in_chromium(app: App, settings: Settings, tmp_path: Path) -> None:
    """/, /ikm/{UNIT} and /lacak/{CODE} render their figures and rows in Chromium, with and without JavaScript."""
    city = await populate(app)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {
        **os.environ,
        "SUARAWARGA_DATABASE_URL": settings.database_url,
        "SUARAWARGA_ATTACHMENTS_DIR": str(tmp_path / "files"),
        "SUARAWARGA_TELEGRAM_BOT_USERNAME": "SuaraWargaPadangBot",
    }
    for name in ("SUARAWARGA_TELEGRAM_TOKEN", "SUARAWARGA_WHATSAPP_TOKEN"):
        env.pop(name, None)
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "suarawarga",
        "serve",
        "--no-setup",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if (await http.get(f"{base}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "serve did not start"
                await asyncio.sleep(0.2)
        quarter = _quarter(datetime.now(JAKARTA))
        unit = (
            await asyncio.to_thread(
                _cli_json, settings, ["report", "ikm", "--unit", "DISDUKCAPIL", "--period", "2026-Q4"]
            )
        )[0]
        whole = (await asyncio.to_thread(_cli_json, settings, ["report", "ikm", "--period", quarter]))[0]
        code = city.filed[0].code
        for width in WIDTHS:
            for script in (True, False):
                shots = _shots(width) if script else _no_shots
                driver = await asyncio.to_thread(_driver, width, script)
                try:
                    home = await asyncio.to_thread(_visit, driver, f"{base}/", shots("home"))
                    ranked = [
                        str(row.get_attribute("data-unit"))
                        for row in driver.find_elements(By.CSS_SELECTOR, "table.ranking tr[data-unit]")
                    ]
                    page = await asyncio.to_thread(
                        _visit, driver, f"{base}/ikm/DISDUKCAPIL?periode=2026-Q4", shots("unit")
                    )
                    shown = driver.find_element(By.CSS_SELECTOR, ".ikm-value").get_attribute("data-ikm")
                    unsur_rows = len(driver.find_elements(By.CSS_SELECTOR, "table.nrr tr[data-unsur]"))
                    chart_loaded = driver.find_element(By.CSS_SELECTOR, "img.chart").get_property("naturalWidth")
                    tracked = await asyncio.to_thread(_visit, driver, f"{base}/lacak/{code}", shots("track"))
                    english = await asyncio.to_thread(_visit, driver, f"{base}/?lang=en", None)
                finally:
                    await asyncio.to_thread(driver.quit)
                if whole["ikm"] is not None:
                    assert str(whole["ikm"]).replace(".", ",") in home
                assert "Peringkat OPD menurut IKM" in home
                assert "DISDUKCAPIL" in ranked and "DPUPR" not in ranked  # DPUPR has complaints, not answers
                assert "Dinas Pekerjaan Umum dan Penataan Ruang" in home
                assert shown == unit["ikm"]
                assert str(unit["ikm"]).replace(".", ",") in page
                assert unsur_rows == 9
                assert isinstance(chart_loaded, int) and chart_loaded > 0  # the SVG chart loaded and decoded
                assert "Selesai ditangani" in tracked and code in tracked
                assert "Agencies ranked by IKM" in english
                for text in (home, page, tracked):
                    for secret in PRIVATE:
                        assert secret not in text
    finally:
        server.terminate()
        _, raw = await asyncio.wait_for(server.communicate(), 30)
    errors = raw.decode()
    assert "Traceback" not in errors, errors


def _quarter(moment: datetime) -> str:
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def _shots(width: int) -> Callable[[str], Path | None]:
    return lambda name: ARTIFACTS / f"{name}-{width}.png"


def _no_shots(_name: str) -> Path | None:
    return None
