"""Run Alembic migrations from inside the application (the CLI and the tests use this)."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from suarawarga.errors import ConfigError


def alembic_config(url: str | None = None) -> Config:
    """Return an Alembic config pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("suarawarga.storage") / "migrations"))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head", timezone: str | None = None) -> None:
    """Create or upgrade the schema on the engine's database (`timezone`: the city's, for the IKM roll-up)."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        config.attributes["timezone"] = timezone
        command.upgrade(config, revision)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    except CommandError as exc:
        raise ConfigError(f"revision {revision!r}: {exc} (expected head or a revision id, e.g. 0008)") from None


async def table_names(engine: AsyncEngine) -> set[str]:
    """Return the names of the tables in the database."""
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
