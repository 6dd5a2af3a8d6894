"""The public site in a real headless Chromium, served by the real `suarawarga serve`, at phone and desktop widths.

Needs Debian's `chromium` and `chromium-driver` (CI installs them and sets SUARAWARGA_REQUIRE_BROWSER=1, so there
a missing browser fails instead of skipping). Screenshots go to `test-artifacts/site/` (or
SUARAWARGA_TEST_ARTIFACTS) for a person to look at.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By

from suarawarga.bootstrap import App
from suarawarga.config import Settings
from tests.site.support import PRIVATE, populate
from tests.support.browser import chromium, serving
from tests.support.clock import JAKARTA

ARTIFACTS = Path(os.environ.get("SUARAWARGA_TEST_ARTIFACTS", "test-artifacts")) / "site"
WIDTHS = (360, 1280)


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
    env = {
        "SUARAWARGA_DATABASE_URL": settings.database_url,
        "SUARAWARGA_ATTACHMENTS_DIR": str(tmp_path / "files"),
        "SUARAWARGA_TELEGRAM_BOT_USERNAME": "SuaraWargaPadangBot",
    }
    async with serving(env) as base:
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
                driver = await asyncio.to_thread(chromium, width, script)
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


def _quarter(moment: datetime) -> str:
    return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"


def _shots(width: int) -> Callable[[str], Path | None]:
    return lambda name: ARTIFACTS / f"{name}-{width}.png"


def _no_shots(_name: str) -> Path | None:
    return None
