"""Helpers for the public site's tests: an HTTP client on the site, and a city with answers and complaints."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from suarawarga.bootstrap import App
from suarawarga.bot.web import create_web_app
from suarawarga.complaints import handling
from suarawarga.complaints.model import Complaint
from suarawarga.site.web import site_routes
from tests.jobs.support import file, officer
from tests.support.clock import JAKARTA
from tests.surveys.support import Made, spread, store

QUARTER = datetime(2026, 10, 1, tzinfo=JAKARTA)  # the frozen clock stands in 2026-Q4
PRIVATE = ("Ani", "Jalan berlubang besar di depan sekolah", "warga-1", "warga-2", "Rahasia Warga")


@asynccontextmanager
async def client(app: App) -> AsyncIterator[httpx.AsyncClient]:
    """Yield an HTTP client on the public site (with the health route the web app always has)."""
    web = create_web_app([], None, site_routes(app))
    transport = httpx.ASGITransport(app=web, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://suarawarga.test") as http:
        yield http


@dataclass
class City:
    """What the test city holds."""

    made: list[Made]
    filed: list[Complaint]


async def populate(app: App) -> City:
    """Store answers (enough for DISDUKCAPIL, too few for the puskesmas) and three complaints, one resolved."""
    rnd = random.Random(5)
    made = spread(rnd, ["DISDUKCAPIL"], 60, QUARTER, 50)
    made += spread(rnd, ["PKM-ANDALAS"], 6, QUARTER, 50)
    made += spread(rnd, ["DISDUKCAPIL"], 40, QUARTER - timedelta(days=92), 90)  # the quarter before
    await store(app, made, saran_every=5)
    now = app.clock.now()
    filed = [
        await file(app, now - timedelta(days=20), chat="warga-1"),
        await file(app, now - timedelta(days=10), chat="warga-2"),
        await file(app, now - timedelta(days=3), chat="warga-1"),
    ]
    staff = await officer(app, "DPUPR", "petugas-1")
    async with app.uow() as uow:
        first = await uow.complaints.by_code(filed[0].code)
        assert first is not None
        accepted = await handling.accept(uow, staff, first, now - timedelta(days=19))
        await handling.resolve(
            uow, staff, accepted.complaint, "Sudah ditambal, hubungi 0812", (), now - timedelta(days=12)
        )
        await uow.commit()
    return City(made, filed)
