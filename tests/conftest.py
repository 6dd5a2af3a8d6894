"""Shared fixtures: a real database (SQLite by default; PostgreSQL with SUARAWARGA_TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from suarawarga.bootstrap import App, build
from suarawarga.bot.channels.console import RecordingSender, read_local_file
from suarawarga.bot.dispatcher import Dispatcher
from suarawarga.bot.messages import ChannelName
from suarawarga.complaints.seed import read_seed
from suarawarga.complaints.services import load_seed
from suarawarga.config import Settings
from suarawarga.storage.db import make_engine
from suarawarga.storage.orm import Base
from tests.support.clock import FrozenClock
from tests.support.dialog import Conversation

PG_URL = os.environ.get("SUARAWARGA_TEST_DATABASE_URL")
# PTB 22 warns on every RetryAfter unless told to use timedelta values; warnings are errors in this suite.
os.environ.setdefault("PTB_TIMEDELTA", "true")


def pytest_report_header() -> str:
    """Say which database the suite runs on."""
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (temporary files)'}"


async def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            await conn.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def _postgres_schema() -> None:
    """Create the schema once per session on the PostgreSQL test database."""
    if PG_URL:
        asyncio.run(_reset_postgres(PG_URL))


@pytest.fixture
async def db(tmp_path: Path, _postgres_schema: None) -> AsyncIterator[AsyncEngine]:
    """Yield an engine on an empty database with the current schema."""
    if PG_URL:
        engine = make_engine(PG_URL)
        async with engine.begin() as conn:
            # DELETE beats TRUNCATE on tiny tables: TRUNCATE makes new files and syncs them to disk.
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(table.delete())
    else:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    """Return a frozen clock on a Monday morning in Padang."""
    return FrozenClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Return settings for a test (no .env, attachments in a temporary directory)."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=PG_URL or f"sqlite+aiosqlite:///{tmp_path / 'test.db'}",
        attachments_dir=tmp_path / "attachments",
        complaints_per_day=3,
    )


@pytest.fixture
async def app(settings: Settings, db: AsyncEngine, clock: FrozenClock) -> App:
    """Yield the application on the test database, seeded with the Kota Padang units and categories."""
    application = build(settings, clock=clock, db=db)
    application.register_sender(ChannelName.CONSOLE, RecordingSender(application.catalogue))
    application.media.fetchers[ChannelName.CONSOLE] = read_local_file
    async with application.uow() as uow:
        await load_seed(uow, read_seed())
        await uow.commit()
    return application


@pytest.fixture
def recorder(app: App) -> RecordingSender:
    """Return the console channel's recording sender."""
    sender = app.senders[ChannelName.CONSOLE]
    assert isinstance(sender, RecordingSender)
    return sender


@pytest.fixture
async def dispatcher(app: App) -> AsyncIterator[Dispatcher]:
    """Yield a running dispatcher."""
    async with app.dispatcher() as running:
        yield running


@pytest.fixture
def citizen(dispatcher: Dispatcher, app: App, clock: FrozenClock) -> Conversation:
    """Return a console chat for one citizen."""
    return Conversation(dispatcher, clock, app.catalogue, "citizen-1", app.attachments)
