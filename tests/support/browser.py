"""What the browser tests share: headless Chromium at a width, the real `suarawarga serve`, a click that changes page.

Needs Debian's `chromium` and `chromium-driver` (CI installs them and sets SUARAWARGA_REQUIRE_BROWSER=1, so there a
missing browser fails instead of skipping).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.ports import free_port


def chromium(width: int, script: bool) -> webdriver.Chrome:
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


def _replaced(error: WebDriverException) -> bool:
    """Whether an error says the node's document is no longer the page's."""
    # While a navigation commits, Chromium can answer for an old node with "Node with given id does not belong to
    # the document" (an inspector error, not selenium's stale-element error): the same fact, in other words.
    text = str(error)
    return isinstance(error, StaleElementReferenceException) or any(
        words in text for words in ("does not belong to the document", "No node with given id")
    )


def _gone(before: Any) -> Any:
    """A wait condition: the element belonged to a document that has since been replaced."""

    def check(_driver: Any) -> bool:
        try:
            before.is_enabled()
        except WebDriverException as error:
            if _replaced(error):
                return True
            raise
        return False

    return check


def navigate(driver: webdriver.Chrome, css: str, within: Any = None, timeout: float = 20) -> None:
    """Click what leads to another page (inside `within` if given) and wait until that page has replaced this one."""
    for attempt in range(3):
        before = driver.find_element(By.TAG_NAME, "html")
        try:
            (within or driver).find_element(By.CSS_SELECTOR, css).click()
            break
        except WebDriverException as error:  # a page still settling after load can swap its nodes under the click
            if attempt == 2 or not _replaced(error):
                raise
            time.sleep(0.5)
    WebDriverWait(driver, timeout).until(_gone(before))


@asynccontextmanager
async def serving(env: Mapping[str, str]) -> AsyncIterator[str]:
    """Run `suarawarga serve` (no channel tokens, its public URL its own address) with extra environment; yield that.

    On the way out the server is stopped, and the test fails if it printed a traceback.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    full = {**os.environ, "SUARAWARGA_PUBLIC_URL": base, **env}
    for name in ("SUARAWARGA_TELEGRAM_TOKEN", "SUARAWARGA_WHATSAPP_TOKEN"):
        full.pop(name, None)
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "suarawarga",
        "serve",
        "--no-setup",
        "--port",
        str(port),
        env=full,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert server.stderr is not None
    printed = asyncio.create_task(server.stderr.read())  # read all along: a full pipe would stall the server
    try:
        async with httpx.AsyncClient() as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if (await http.get(f"{base}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.returncode is None, "serve stopped before it answered"
                assert time.monotonic() < deadline, "serve did not start"
                await asyncio.sleep(0.2)
        yield base
    finally:
        if server.returncode is None:
            server.terminate()
        await asyncio.wait_for(server.wait(), 30)
    errors = (await printed).decode()
    assert "Traceback" not in errors, errors
