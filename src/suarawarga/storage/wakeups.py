"""Port: waking the processes that drain the inbox when another process stored updates (no SQLAlchemy here).

In the split layout (`serve --accept-only` + `process`) and with several `serve` shards, the process that stored an
update is not the one that handles it. Polling alone makes the citizen wait up to one poll interval; on PostgreSQL a
notification sent once the updates are stored wakes the others at once (docs/architecture.md §4). Polling stays as
the fallback: a lost notification delays an update, never loses it.
"""

from __future__ import annotations

from typing import Protocol


class Wakeups(Protocol):
    """Notifications that go out when the current transaction commits (and never if it rolls back)."""

    async def inbox_stored(self) -> None:
        """Wake the inbox processors once this transaction commits, or at once in autocommit (a no-op on SQLite)."""
        ...
