"""Engine construction; nothing here runs at import time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine for a database URL, with SQLite tuned for one writer and many readers."""
    if url.startswith("sqlite"):
        # hide_parameters: an error message must never carry a citizen's words or phone number into a log.
        kwargs: dict[str, Any] = {"connect_args": {"timeout": 30}, "hide_parameters": True}
        if ":memory:" in url or url.rstrip("/").endswith("sqlite+aiosqlite:"):
            kwargs["poolclass"] = StaticPool  # one shared connection, or every session sees an empty database
        engine = create_async_engine(url, echo=echo, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Turn on foreign keys and WAL; NORMAL sync keeps commits durable across a process crash."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
