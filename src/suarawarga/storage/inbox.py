"""The ports of what comes in: raw updates, processed message ids, and when each chat last wrote.

No SQLAlchemy here: the SQL implementation is in `inbox_sql.py`; a test or a fake may implement these too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from suarawarga.bot.messages import ChannelName


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One stored update as admins see it (no payload: it holds names and texts)."""

    id: int
    channel: str
    external_id: str
    status: str
    attempts: int
    received_at: datetime
    last_error: str | None


@dataclass(frozen=True, slots=True)
class UpdateKey:
    """What names an inbound update or message on a platform: its channel and the platform's id for it."""

    channel: ChannelName
    external_id: str


@dataclass(frozen=True, slots=True)
class NewUpdate:
    """A raw update to store, with the hash of its chat (which shard drains it)."""

    channel: ChannelName
    external_id: str
    payload: dict[str, Any]
    chat_hash: int = 0


@dataclass(frozen=True, slots=True)
class PendingUpdate:
    """A stored update waiting to be processed, with the attempts made so far."""

    id: int
    channel: ChannelName
    payload: dict[str, Any]
    attempts: int


class InboxRepository(Protocol):
    """Raw platform updates, stored before they are acknowledged and drained by the processor."""

    async def add(
        self, channel: ChannelName, external_id: str, payload: dict[str, Any], now: datetime, chat_hash: int = 0
    ) -> bool:
        """Store an update unless it was stored before; return whether it is new."""
        ...

    async def add_many(self, updates: Sequence[NewUpdate], now: datetime) -> set[UpdateKey]:
        """Store updates at once (waking the inbox processors at commit if any is new); return the new ones' keys."""
        ...

    async def pending(
        self, limit: int = 200, channel: ChannelName | None = None, shard: tuple[int, int] = (0, 1)
    ) -> list[PendingUpdate]:
        """Return the pending updates of one shard (index, count) in arrival order."""
        ...

    async def finish(self, ids: Sequence[int], now: datetime) -> None:
        """Mark updates as processed."""
        ...

    async def fail(self, inbox_id: int, error: str, final: bool) -> None:
        """Count a failed attempt; a final failure stops retries."""
        ...

    async def prune(self, before: datetime) -> int:
        """Delete processed or failed raw updates received before a moment (they hold names and ids)."""
        ...

    async def counts(self) -> dict[str, int]:
        """Return how many updates are in each state."""
        ...

    async def listing(
        self, status: str | None = None, channel: ChannelName | None = None, limit: int = 100
    ) -> list[InboxEntry]:
        """Return the newest stored updates, optionally in one state and on one channel (for admins)."""
        ...


class ProcessedRepository(Protocol):
    """Ids of inbound messages already processed, to drop repeated deliveries."""

    async def seen(self, channel: ChannelName, external_ids: Iterable[str]) -> set[str]:
        """Return which of the ids were processed before."""
        ...

    async def mark(self, items: Iterable[UpdateKey], now: datetime) -> None:
        """Record ids as processed (a concurrent duplicate makes the commit fail, not pass twice)."""
        ...

    async def prune(self, before: datetime) -> int:
        """Forget ids processed before a moment; return how many."""
        ...


class ContactRepository(Protocol):
    """When each chat last wrote to us (WhatsApp's 24-hour window is counted from it)."""

    async def note_contact(self, channel: ChannelName, chat_id: str, at: datetime) -> None:
        """Record that a chat wrote at `at` (kept monotonic), also on the citizen's channel identity."""
        ...

    async def note_contacts(self, channel: ChannelName, contacts: Mapping[str, datetime]) -> None:
        """Record when each chat last wrote (kept monotonic), also on the citizens' channel identities."""
        ...

    async def last_contacts(self, channel: ChannelName, chat_ids: Iterable[str]) -> dict[str, datetime]:
        """Return when each of the chats last wrote to us (chats never seen are missing)."""
        ...

    async def forget_contact(self, channel: ChannelName, chat_id: str) -> None:
        """Forget a chat's last message time (the platform said its window is closed)."""
        ...
