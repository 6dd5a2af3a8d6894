"""Engine construction; nothing here runs at import time."""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from suarawarga.errors import ConfigError

EXPECTED_URL = "expected sqlite+aiosqlite:///FILE or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


def shown_url(url: str) -> str:
    """Return a database URL as it may be printed: without its password."""
    return _PASSWORD.sub(r"\1***@", url)


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine for a database URL; a URL that names no usable database is a ConfigError."""
    try:
        return _make_engine(url, echo=echo)
    except (sa_exc.ArgumentError, sa_exc.InvalidRequestError, ImportError) as exc:
        raise ConfigError(f"SUARAWARGA_DATABASE_URL={shown_url(url)!r}: {_first_line(exc)} ({EXPECTED_URL})") from exc


def database_problem(error: BaseException, url: str) -> str | None:
    """Return one line for a database that cannot be reached or used (the admin can fix it), else None."""
    if not isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return None
    reason = _first_line(error.orig if error.orig is not None else error)
    hint = (
        "check SUARAWARGA_DATABASE_URL, and that the file's folder exists and is writable"
        if url.startswith("sqlite")
        else "check SUARAWARGA_DATABASE_URL, and that the database server runs and accepts this user"
    )
    if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
        hint = "the schema is missing or old: run suarawarga db upgrade"
    return f"cannot use the database {shown_url(url)}: {reason} ({hint})"


SETTLE_SECONDS = 2.0


async def settle_failed_connections() -> None:
    """Wait, with the event loop still running, for aiosqlite's threads of connections that failed to open.

    aiosqlite stops such a thread without awaiting it; when the command then ends and closes its loop first, the
    thread prints a traceback ("Event loop is closed") after the one-line error. Call it before the loop closes.
    """
    for thread in threading.enumerate():
        if thread.name.endswith("(_connection_worker_thread)"):
            await asyncio.to_thread(thread.join, SETTLE_SECONDS)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine for a database URL, with SQLite tuned for one writer and many readers."""
    if url.startswith("sqlite"):
        # hide_parameters: an error message must never carry a citizen's words or phone number into a log.
        kwargs: dict[str, Any] = {"connect_args": {"timeout": 30}, "hide_parameters": True}
        if ":memory:" in url or url.rstrip("/").endswith("sqlite+aiosqlite:"):
            kwargs["poolclass"] = StaticPool  # one shared connection, or every session sees an empty database
        engine = create_async_engine(url, echo=echo, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping: it costs a round trip on every checkout (about eight per processed update). After a server
    # restart the first statement on a dead connection fails, SQLAlchemy then discards the whole pool, and every
    # caller already survives a failed statement (the inbox drains again, the webhook answers 500 and the platform
    # retries, sends are recorded patiently); the load benchmark's --pg-restart run checks it.
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=10, hide_parameters=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Turn on foreign keys and WAL; NORMAL sync keeps commits durable across a process crash."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
