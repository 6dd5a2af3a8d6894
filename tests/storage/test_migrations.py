"""Alembic migrations build exactly the schema of the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from suarawarga.storage.db import make_engine
from suarawarga.storage.migrate import table_names, upgrade
from suarawarga.storage.orm import Base
from tests.conftest import PG_URL


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def _check(engine: AsyncEngine) -> None:
    await upgrade(engine)
    async with engine.connect() as connection:
        differences = await connection.run_sync(_diff)
    assert differences == []
    assert set(Base.metadata.tables) <= await table_names(engine)
    await upgrade(engine)  # a second upgrade is a no-op


async def test_migrations_match_models_on_sqlite(tmp_path: Path) -> None:
    """All migrations on an empty SQLite file give the models' tables, columns, indexes and constraints."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}")
    try:
        await _check(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def empty_postgres() -> AsyncIterator[AsyncEngine]:
    """Yield an engine on a brand-new PostgreSQL database, dropped afterwards."""
    if not PG_URL:
        pytest.skip("set SUARAWARGA_TEST_DATABASE_URL to run on PostgreSQL")
    name = f"suarawarga_migrate_{uuid.uuid4().hex[:8]}"
    admin = make_engine(make_url(PG_URL).set(database="postgres").render_as_string(hide_password=False))
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await admin.dispose()


async def test_migrations_match_models_on_postgresql(empty_postgres: AsyncEngine) -> None:
    """All migrations on an empty PostgreSQL database give exactly the models' schema."""
    await _check(empty_postgres)
