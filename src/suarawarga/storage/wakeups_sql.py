"""PostgreSQL LISTEN/NOTIFY for the inbox: the storing web process notifies, the processors listen.

The insert of a webhook batch queues the notification itself (`inbox_sql.InboxRepo.add_many`). `NOTIFY` inside a
transaction is delivered only when it commits, and several identical ones in one transaction arrive once, so a
group commit of 500 updates wakes each processor once. The listener keeps its own connection (a pooled one cannot
be held for LISTEN) and reconnects with a growing pause when the database goes away; after each (re)connection it
wakes the processor once, for whatever was stored while nobody listened. SQLite has nothing of the kind: there
nothing is notified and processors poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

INBOX_CHANNEL = "suarawarga_inbox"
RECONNECT_FIRST = 0.5  # seconds before the listener reconnects after losing the database
RECONNECT_MOST = 10.0
QUIET_CHECK = 30.0  # seconds without a notification after which the connection is checked


def can_listen(database_url: str) -> bool:
    """Tell whether the database delivers notifications (PostgreSQL does; SQLite does not)."""
    return make_url(database_url).get_backend_name() == "postgresql"


def _conninfo(database_url: str) -> str:
    """Return the libpq address of a SQLAlchemy URL (the driver part dropped)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _listen_forever(database_url: str, wake: Callable[[], None], listening: Callable[[bool], None]) -> None:
    pause = RECONNECT_FIRST
    while True:
        try:
            # TCP keepalives, and a query after every quiet spell: a connection cut without a reset (a failover,
            # a network cut) is noticed and replaced instead of waiting forever for notifications.
            async with await psycopg.AsyncConnection.connect(
                _conninfo(database_url), autocommit=True, keepalives=1, keepalives_idle=30
            ) as conn:
                await conn.execute(f"LISTEN {INBOX_CHANNEL}")
                pause = RECONNECT_FIRST
                listening(True)
                wake()  # whatever was stored while nobody listened
                while True:
                    async for _ in conn.notifies(timeout=QUIET_CHECK):
                        wake()
                    await conn.execute("SELECT 1")
        except (psycopg.Error, OSError) as exc:
            log.warning("inbox notifications lost (%s); listening again in %.1f s", type(exc).__name__, pause)
        except Exception:  # never end silently: the processors would poll slowly for good
            log.exception("inbox notifications failed; listening again in %.1f s", pause)
        listening(False)
        await asyncio.sleep(pause)
        pause = min(pause * 2, RECONNECT_MOST)


@contextlib.asynccontextmanager
async def listening_for_inbox(
    database_url: str, wake: Callable[[], None], listening: Callable[[bool], None]
) -> AsyncIterator[None]:
    """Call `wake` whenever another process stored updates, and `listening` when notifications start or stop.

    On a database without notifications (SQLite) `listening` is never called: callers poll as they would anyway.
    """
    if not can_listen(database_url):
        yield
        return
    task = asyncio.create_task(_listen_forever(database_url, wake, listening), name="inbox-listener")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
