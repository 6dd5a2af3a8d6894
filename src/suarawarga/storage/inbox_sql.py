"""SQL repositories of what comes in: raw platform updates, processed message ids, and when each chat last wrote."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, bindparam, delete, func, or_, select, text, update

from suarawarga.bot.messages import ChannelName, InboxStatus
from suarawarga.storage.base_sql import (
    ACTIVITY,
    IDENTITIES,
    INBOX,
    PROCESSED,
    SqlRepo,
    json_insert,
    upsert,
    upsert_text,
)
from suarawarga.storage.inbox import InboxEntry, NewUpdate, PendingUpdate, UpdateKey
from suarawarga.storage.wakeups_sql import INBOX_CHANNEL

# A statement of every WhatsApp turn, compiled once (base_sql.upsert_text); kept monotonic: an older time (a late
# copy of an earlier message) never moves the window back.
_NOTE_CONTACT = upsert_text(
    ACTIVITY,
    ("channel", "chat_id", "last_inbound_at"),
    ("channel", "chat_id"),
    {
        "last_inbound_at": "CASE WHEN excluded.last_inbound_at > chat_activity.last_inbound_at "
        "THEN excluded.last_inbound_at ELSE chat_activity.last_inbound_at END"
    },
)


# The statements of every chat turn are built once, here: a statement built at each call costs SQLAlchemy a new
# cache key (about 0.1 ms of CPU each, measured); a prebuilt one keeps its key. Values are bound parameters.
def _pending(sharded: bool, one_channel: bool) -> Select[Any]:
    """Return the inbox poll: pending rows in id order, of one shard and one channel if asked."""
    query = select(INBOX.c.id, INBOX.c.channel, INBOX.c.payload, INBOX.c.attempts).where(
        INBOX.c.status == InboxStatus.PENDING.value
    )
    if sharded:
        query = query.where(INBOX.c.chat_hash % bindparam("count", type_=Integer) == bindparam("index"))
    if one_channel:
        query = query.where(INBOX.c.channel == bindparam("channel"))
    return query.order_by(INBOX.c.id).limit(bindparam("limit", type_=Integer))


_PENDING = {
    (sharded, one_channel): _pending(sharded, one_channel) for sharded in (False, True) for one_channel in (False, True)
}
_FINISH = (
    update(INBOX)
    .where(INBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(status=InboxStatus.DONE.value, processed_at=bindparam("now", type_=INBOX.c.processed_at.type))
)
_SEEN = select(PROCESSED.c.external_id).where(
    PROCESSED.c.channel == bindparam("channel"), PROCESSED.c.external_id.in_(bindparam("ids", expanding=True))
)
_MARK = json_insert(PROCESSED, ("channel", "external_id", "processed_at"))  # a turn's batch in one statement
# Every webhook stores its updates (PostgreSQL): one INSERT of every row, the rows as arrays and the payloads as one
# JSON array, in the order given (WITH ORDINALITY: the inbox is drained in id order), compiled once. Copies of a
# stored update are skipped. The same statement queues the notification that wakes the processors when it stored
# anything (PostgreSQL sends it at commit and folds repeats within a transaction into one): one round trip per
# webhook batch instead of two (storage/wakeups_sql.py).
_ADD_MANY_PG = text(
    """WITH stored AS (
        INSERT INTO inbox (channel, external_id, payload, status, attempts, received_at, chat_hash)
        SELECT u.channel, u.external_id, p.payload, :pending, 0, :now, u.chat_hash
        FROM unnest(CAST(:channels AS varchar[]), CAST(:external_ids AS varchar[]), CAST(:hashes AS integer[]))
             WITH ORDINALITY AS u(channel, external_id, chat_hash, n)
        JOIN json_array_elements(CAST(:payloads AS json)) WITH ORDINALITY AS p(payload, n) ON p.n = u.n
        ORDER BY u.n
        ON CONFLICT (channel, external_id) DO NOTHING
        RETURNING channel, external_id
    )
    SELECT channel, external_id, pg_notify(:wake, '') FROM stored"""
).bindparams(bindparam("now", type_=INBOX.c.received_at.type), bindparam("pending", type_=INBOX.c.status.type))

# Every WhatsApp turn also notes the time on the citizen's identity (kept monotonic): built once.
_NOTE_IDENTITY = (
    update(IDENTITIES)
    .where(
        IDENTITIES.c.channel == bindparam("b_channel"),
        IDENTITIES.c.external_id == bindparam("chat"),
        or_(
            IDENTITIES.c.last_inbound_at.is_(None),
            IDENTITIES.c.last_inbound_at < bindparam("at", type_=IDENTITIES.c.last_inbound_at.type),
        ),
    )
    .values(last_inbound_at=bindparam("at", type_=IDENTITIES.c.last_inbound_at.type))
)


class InboxRepo(SqlRepo):
    """Raw platform updates, stored before they are acknowledged and drained by the processor."""

    async def add(
        self, channel: ChannelName, external_id: str, payload: dict[str, Any], now: datetime, chat_hash: int = 0
    ) -> bool:
        """Store an update unless it was stored before; return whether it is new."""
        stmt = upsert(self.conn, INBOX).values(
            channel=channel.value,
            external_id=external_id,
            payload=payload,
            status=InboxStatus.PENDING.value,
            attempts=0,
            received_at=now,
            chat_hash=chat_hash,
        )
        stmt = stmt.on_conflict_do_nothing(index_elements=[INBOX.c.channel, INBOX.c.external_id])
        result = await self.conn.execute(stmt.returning(INBOX.c.id))
        return result.first() is not None

    async def add_many(self, updates: Sequence[NewUpdate], now: datetime) -> set[UpdateKey]:
        """Store updates at once; return the keys of those not stored before."""
        if not updates:
            return set()
        if self.conn.dialect.name == "postgresql":
            params = {
                "channels": [u.channel.value for u in updates],
                "external_ids": [u.external_id for u in updates],
                # One JSON array: psycopg escapes each element of a text array with a regex, which cost more than
                # the insert (a seventh of a web process's CPU); PostgreSQL splits the array itself.
                "payloads": json.dumps([u.payload for u in updates]),
                "hashes": [u.chat_hash for u in updates],
                "now": now,
                "pending": InboxStatus.PENDING.value,
                "wake": INBOX_CHANNEL,
            }
            result = await self.conn.execute(_ADD_MANY_PG, params)
            return {UpdateKey(ChannelName(r.channel), str(r.external_id)) for r in result}
        rows = [
            {
                "channel": update.channel.value,
                "external_id": update.external_id,
                "payload": update.payload,
                "status": InboxStatus.PENDING.value,
                "attempts": 0,
                "received_at": now,
                "chat_hash": update.chat_hash,
            }
            for update in updates
        ]
        # One statement shape whatever the batch size (executemany with RETURNING), where `.values(rows)` compiled
        # a new statement for every batch size. SQLAlchemy compiles this dialect INSERT at every execution (it has
        # no cache key), which PostgreSQL's statement above avoids; on SQLite it is left so.
        stmt = upsert(self.conn, INBOX).on_conflict_do_nothing(index_elements=[INBOX.c.channel, INBOX.c.external_id])
        result = await self.conn.execute(stmt.returning(INBOX.c.channel, INBOX.c.external_id), rows)
        return {UpdateKey(ChannelName(r.channel), str(r.external_id)) for r in result}

    async def pending(
        self, limit: int = 200, channel: ChannelName | None = None, shard: tuple[int, int] = (0, 1)
    ) -> list[PendingUpdate]:
        """Return the pending updates of one shard (index, count) in arrival order."""
        index, count = shard
        query = _PENDING[(count > 1, channel is not None)]
        params = {"limit": limit, "count": count, "index": index, "channel": channel.value if channel else None}
        return [
            PendingUpdate(int(r.id), ChannelName(r.channel), dict(r.payload), int(r.attempts))
            for r in await self.conn.execute(query, params)
        ]

    async def finish(self, ids: Sequence[int], now: datetime) -> None:
        """Mark updates as processed."""
        if ids:
            await self.conn.execute(_FINISH, {"ids": list(ids), "now": now})

    async def fail(self, inbox_id: int, error: str, final: bool) -> None:
        """Count a failed attempt; a final failure stops retries."""
        values: dict[str, Any] = {"attempts": INBOX.c.attempts + 1, "last_error": error[:300]}
        if final:
            values["status"] = InboxStatus.FAILED.value
        await self.conn.execute(update(INBOX).where(INBOX.c.id == inbox_id).values(**values))

    async def prune(self, before: datetime) -> int:
        """Delete processed or failed raw updates received before a moment (they hold names and ids)."""
        result = await self.conn.execute(
            delete(INBOX).where(INBOX.c.status != InboxStatus.PENDING.value, INBOX.c.received_at < before)
        )
        return int(result.rowcount)

    async def counts(self) -> dict[str, int]:
        """Return how many updates are in each state."""
        query = select(INBOX.c.status, func.count()).group_by(INBOX.c.status)
        return {r[0]: int(r[1]) for r in await self.conn.execute(query)}

    async def listing(
        self, status: str | None = None, channel: ChannelName | None = None, limit: int = 100
    ) -> list[InboxEntry]:
        """Return the newest stored updates, optionally in one state and on one channel (for admins)."""
        query = (
            select(
                INBOX.c.id,
                INBOX.c.channel,
                INBOX.c.external_id,
                INBOX.c.status,
                INBOX.c.attempts,
                INBOX.c.received_at,
                INBOX.c.last_error,
            )
            .order_by(INBOX.c.id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(INBOX.c.status == status)
        if channel is not None:
            query = query.where(INBOX.c.channel == channel.value)
        return [
            InboxEntry(
                id=int(r.id),
                channel=r.channel,
                external_id=r.external_id,
                status=r.status,
                attempts=int(r.attempts),
                received_at=r.received_at,
                last_error=r.last_error,
            )
            for r in await self.conn.execute(query)
        ]


class ProcessedRepo(SqlRepo):
    """Ids of inbound messages already processed, to drop repeated deliveries."""

    async def seen(self, channel: ChannelName, external_ids: Iterable[str]) -> set[str]:
        """Return which of the ids were processed before."""
        ids = list(set(external_ids))
        if not ids:
            return set()
        return {r[0] for r in await self.conn.execute(_SEEN, {"channel": channel.value, "ids": ids})}

    async def mark(self, items: Iterable[UpdateKey], now: datetime) -> None:
        """Record ids as processed (a concurrent duplicate makes the commit fail, not pass twice)."""
        rows = [{"channel": key.channel.value, "external_id": key.external_id, "processed_at": now} for key in items]
        await _MARK.run(self.conn, rows)

    async def prune(self, before: datetime) -> int:
        """Forget ids processed before a moment; return how many."""
        result = await self.conn.execute(delete(PROCESSED).where(PROCESSED.c.processed_at < before))
        return int(result.rowcount)


class ContactRepo(SqlRepo):
    """When each chat last wrote to us (WhatsApp's 24-hour window is counted from it)."""

    async def note_contact(self, channel: ChannelName, chat_id: str, at: datetime) -> None:
        """Record that a chat wrote at `at` (kept monotonic), also on the citizen's channel identity."""
        await self.note_contacts(channel, {chat_id: at})

    async def note_contacts(self, channel: ChannelName, contacts: Mapping[str, datetime]) -> None:
        """Record when each chat last wrote (kept monotonic), also on the citizens' channel identities."""
        if not contacts:
            return
        rows = [{"channel": channel.value, "chat_id": c, "last_inbound_at": at} for c, at in contacts.items()]
        await self.conn.execute(_NOTE_CONTACT, rows)
        identities = [{"b_channel": channel.value, "chat": c, "at": at} for c, at in contacts.items()]
        await self.conn.execute(_NOTE_IDENTITY, identities)

    async def last_contacts(self, channel: ChannelName, chat_ids: Iterable[str]) -> dict[str, datetime]:
        """Return when each of the chats last wrote to us (chats never seen are missing)."""
        ids = list(set(chat_ids))
        if not ids:
            return {}
        query = select(ACTIVITY.c.chat_id, ACTIVITY.c.last_inbound_at).where(
            ACTIVITY.c.channel == channel.value, ACTIVITY.c.chat_id.in_(ids)
        )
        return {r.chat_id: r.last_inbound_at for r in await self.conn.execute(query)}

    async def forget_contact(self, channel: ChannelName, chat_id: str) -> None:
        """Forget a chat's last message time (the platform said its window is closed)."""
        await self.conn.execute(
            delete(ACTIVITY).where(ACTIVITY.c.channel == channel.value, ACTIVITY.c.chat_id == chat_id)
        )
