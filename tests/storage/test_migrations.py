"""Alembic migrations build exactly the schema of the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from suarawarga.storage.db import make_engine
from suarawarga.storage.migrate import alembic_config, table_names, upgrade
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


async def _downgrade(engine: AsyncEngine, revision: str) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def _identity_columns(engine: AsyncEngine) -> dict[str, bool]:
    """Return channel_identities' columns, each with whether it is nullable."""
    async with engine.connect() as connection:
        columns = await connection.run_sync(lambda c: inspect(c).get_columns("channel_identities"))
    return {column["name"]: column["nullable"] for column in columns}


async def _check_unreachable_at_round_trip(engine: AsyncEngine) -> None:
    await upgrade(engine, "0021")
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO citizens (id, created_at, language) VALUES (1, CURRENT_TIMESTAMP, 'id')"))
        await conn.execute(
            text(
                "INSERT INTO channel_identities (citizen_id, channel, external_id, language, created_at) "
                "VALUES (1, 'telegram', '42', 'id', CURRENT_TIMESTAMP)"
            )
        )
    await upgrade(engine)
    assert "unreachable_at" not in await _identity_columns(engine)
    await _downgrade(engine, "0021")
    assert (await _identity_columns(engine))["unreachable_at"] is True
    await upgrade(engine)
    async with engine.connect() as conn:
        kept = (await conn.execute(text("SELECT citizen_id, external_id FROM channel_identities"))).all()
        differences = await conn.run_sync(_diff)
    assert [tuple(row) for row in kept] == [(1, "42")]
    assert differences == []


async def test_unreachable_at_is_dropped_and_restored_on_sqlite(tmp_path: Path) -> None:
    """0022 drops the unused column and keeps the identities; its downgrade adds the column back, nullable."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'identities.db'}")
    try:
        await _check_unreachable_at_round_trip(engine)
    finally:
        await engine.dispose()


async def test_unreachable_at_is_dropped_and_restored_on_postgresql(empty_postgres: AsyncEngine) -> None:
    """The same on PostgreSQL."""
    await _check_unreachable_at_round_trip(empty_postgres)
