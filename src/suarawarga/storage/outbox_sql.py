"""SQL repository of the outbox: messages to send, in each chat's order, with their delivery state."""

from __future__ import annotations

import dataclasses
import itertools
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import TextClause, and_, bindparam, delete, func, or_, select, text, tuple_, update
from sqlalchemy.engine import Row

from suarawarga.bot.messages import ChannelName, ConversationKey, Outbound, OutboxStatus, notice_kind
from suarawarga.storage.base_sql import OUTBOX, SqlRepo, json_insert
from suarawarga.storage.outbox import DroppedReply, DueMessage, MessageState, OutboxEntry

PLATFORM_STATUS_ORDER = ["sent", "delivered", "read", "failed"]  # a platform status only moves right


class OutboxRepo(SqlRepo):
    """Messages to send, with their delivery state."""

    async def add_many(
        self,
        messages: Sequence[Outbound],
        now: datetime,
        hold: timedelta = timedelta(0),
        holder: str | None = None,
    ) -> list[Outbound]:
        """Store messages as pending and return them with their outbox ids.

        `hold` leaves them to this process's own sender for that long before the retry loop may take them;
        `holder` names that process (its shard), so that it can release them when it starts again.
        """
        stored = [_with_id(m) for m in messages]
        if not stored:
            return stored
        rows = [
            {
                "id": m.id,
                "channel": m.key.channel.value,
                "recipient": m.key.chat_id,
                "payload": m.to_payload(),
                "status": OutboxStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now + hold,
                "created_at": now,
                "held_by": holder if hold else None,
            }
            for m in stored
        ]
        await _ADD.run(self.conn, rows)
        return stored

    async def mark_sent(self, ids: Sequence[str], now: datetime, platform_ids: Mapping[str, str] | None = None) -> None:
        """Mark messages as sent, with the platform's message id of those it gave one, in one statement.

        A message a platform's echo marked already keeps its time and attempt count; a new platform id clears
        the platform status, the same id keeps it (a status webhook may have come first: `mark_echoed`).
        """
        if not ids:
            return
        known = platform_ids or {}
        unique = list(dict.fromkeys(ids))
        if self.conn.dialect.name == "postgresql":
            pids = [known.get(i) for i in unique]
            params = {"ids": unique, "pids": pids, "now": now, "sent": OutboxStatus.SENT.value}
            await self.conn.execute(_MARK_SENT_PG, params)
        else:
            rows = [{"id": i, "now": now, "pid": known.get(i), "sent": OutboxStatus.SENT.value} for i in unique]
            await self.conn.execute(_MARK_SENT, rows)

    async def mark_retry(self, message_id: str, error: str, next_at: datetime) -> None:
        """Count a failed attempt and schedule the next one."""
        await self.conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == message_id)
            .values(attempts=OUTBOX.c.attempts + 1, last_error=error[:300], next_attempt_at=next_at, held_by=None)
        )

    async def release_held(
        self, holder: str, now: datetime, grace: Mapping[ChannelName, timedelta] | None = None
    ) -> int:
        """Make the fresh messages a (restarted) process held due now; return how many.

        `grace`: a channel whose platform echoes an accepted send back (WhatsApp's status webhooks) has its
        messages due that much later, so that the echo of a send the earlier run made but never recorded can mark
        it sent first (`mark_echoed`).
        """
        later = {channel.value: wait for channel, wait in (grace or {}).items() if wait > timedelta(0)}
        held = and_(
            OUTBOX.c.held_by == holder,
            OUTBOX.c.status == OutboxStatus.PENDING.value,
            OUTBOX.c.next_attempt_at > now,
        )
        released = 0
        for channel, wait in later.items():
            result = await self.conn.execute(
                update(OUTBOX).where(held, OUTBOX.c.channel == channel).values(next_attempt_at=now + wait, held_by=None)
            )
            released += int(result.rowcount or 0)
        others = and_(held, OUTBOX.c.channel.not_in(list(later))) if later else held
        result = await self.conn.execute(update(OUTBOX).where(others).values(next_attempt_at=now, held_by=None))
        return released + int(result.rowcount or 0)

    async def mark_final(self, message_id: str, status: OutboxStatus, error: str) -> None:
        """Stop retrying a message (failed for good, or its recipient is unreachable)."""
        await self.conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == message_id)
            .values(status=status.value, attempts=OUTBOX.c.attempts + 1, last_error=error[:300])
        )

    async def due(
        self,
        now: datetime,
        limit: int = 100,
        channel: ChannelName | None = None,
        min_age: timedelta | None = None,
    ) -> list[DueMessage]:
        """Return pending messages whose next attempt is due, oldest first, with their attempt counts."""
        query = (
            select(OUTBOX)
            .where(OUTBOX.c.status == OutboxStatus.PENDING.value, OUTBOX.c.next_attempt_at <= now)
            .order_by(OUTBOX.c.created_at, OUTBOX.c.id)
            .limit(limit)
        )
        if channel is not None:
            query = query.where(OUTBOX.c.channel == channel.value)
        if min_age is not None:
            query = query.where(OUTBOX.c.created_at <= now - min_age)
        return [_due(r) for r in await self.conn.execute(query)]

    async def claim_due(
        self, now: datetime, lease: timedelta, limit: int = 100, per_chat: int | None = None
    ) -> list[DueMessage]:
        """Take pending messages whose next attempt is due, pushing it `lease` ahead so no one else sends them.

        A chat's messages are taken in the order they were written: none while an earlier one to the same chat is
        pending and not due (waiting for its retry, held by a pump, or claimed by another sender), and at most
        `per_chat` of a chat at once, so that one chat's backlog cannot fill a pass (nor outlast the lease).
        """
        earlier = OUTBOX.alias("earlier")
        waits_behind = (
            select(earlier.c.id)
            .where(
                earlier.c.channel == OUTBOX.c.channel,
                earlier.c.recipient == OUTBOX.c.recipient,
                earlier.c.status == OutboxStatus.PENDING.value,
                earlier.c.next_attempt_at > now,
                _before(earlier, OUTBOX),
            )
            .exists()
        )
        query = (
            select(OUTBOX)
            .where(OUTBOX.c.status == OutboxStatus.PENDING.value, OUTBOX.c.next_attempt_at <= now, ~waits_behind)
            .order_by(OUTBOX.c.created_at, OUTBOX.c.id)
            .limit(limit)
        )
        if self.conn.dialect.name == "postgresql":
            # Claimers take turns: one that skipped rows another had locked could take a later message of a chat
            # whose earlier one that other is about to send.
            await self.conn.execute(select(func.pg_advisory_xact_lock(_CLAIM_LOCK)))
            query = query.with_for_update(skip_locked=True)
        claimed: list[DueMessage] = []
        taken: dict[tuple[str, str], int] = {}
        for r in await self.conn.execute(query):
            chat = (r.channel, r.recipient)
            if per_chat is not None and taken.get(chat, 0) >= per_chat:
                continue
            taken[chat] = taken.get(chat, 0) + 1
            claimed.append(_due(r))
        if claimed:  # the lease changes nothing the caller reads: the rows were read once, locked
            await self.conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_([due.message.id for due in claimed]))
                .values(next_attempt_at=now + lease, held_by=None)
            )
        return claimed

    async def waiting_chats(self, messages: Sequence[Outbound]) -> set[ConversationKey]:
        """Return the chats of these messages that have an earlier message still pending (not among them)."""
        firsts: dict[ConversationKey, str] = {}
        for message in messages:
            firsts.setdefault(message.key, message.id)
        if not firsts:
            return set()
        params = {"firsts": list(firsts.values()), "ids": [m.id for m in messages]}
        return {ConversationKey(ChannelName(r.channel), r.recipient) for r in await self.conn.execute(_WAITING, params)}

    async def defer(self, ids: Sequence[str], next_at: datetime) -> None:
        """Put messages back for later without counting an attempt (they waited their turn; nothing was tried)."""
        if ids:
            await self.conn.execute(
                update(OUTBOX).where(OUTBOX.c.id.in_(list(ids))).values(next_attempt_at=next_at, held_by=None)
            )

    async def drop_overtaken(self, now: datetime, older_than: timedelta, reason: str) -> list[DroppedReply]:
        """Mark STALE the due replies written before `now - older_than` that a later reply to their chat follows.

        Sent that late, a reply would answer a question the conversation has left (the citizen would answer an old
        menu where a later question was asked). Notices (`notice` set) are never dropped. Returns the replies
        dropped.
        """
        old = await self.conn.execute(
            select(OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.recipient, OUTBOX.c.created_at, OUTBOX.c.payload).where(
                OUTBOX.c.status == OutboxStatus.PENDING.value,
                OUTBOX.c.next_attempt_at <= now,
                OUTBOX.c.created_at < now - older_than,
            )
        )
        candidates = [r for r in old if not notice_kind(r.payload)]
        if not candidates:
            return []
        chats = {(r.channel, r.recipient) for r in candidates}
        replies = await self.conn.execute(
            select(OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.recipient, OUTBOX.c.created_at, OUTBOX.c.payload).where(
                tuple_(OUTBOX.c.channel, OUTBOX.c.recipient).in_(list(chats))
            )
        )
        latest: dict[tuple[str, str], tuple[datetime, str]] = {}
        for r in replies:
            if not notice_kind(r.payload):
                chat = (r.channel, r.recipient)
                latest[chat] = max(latest.get(chat, (r.created_at, r.id)), (r.created_at, r.id))
        stale = [
            DroppedReply(ChannelName(r.channel), r.id)
            for r in candidates
            if latest[(r.channel, r.recipient)] > (r.created_at, r.id)
        ]
        if stale:
            await self.conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_([reply.id for reply in stale]), OUTBOX.c.status == OutboxStatus.PENDING.value)
                .values(status=OutboxStatus.STALE.value, last_error=reason[:300], held_by=None)
            )
        return stale

    async def prune(self, before: datetime) -> int:
        """Delete finished messages (sent, failed, unreachable) created before a moment."""
        result = await self.conn.execute(
            delete(OUTBOX).where(OUTBOX.c.status != OutboxStatus.PENDING.value, OUTBOX.c.created_at < before)
        )
        return int(result.rowcount)

    async def oldest_pending(self) -> datetime | None:
        """Return when the oldest pending message was created."""
        query = select(func.min(OUTBOX.c.created_at)).where(OUTBOX.c.status == OutboxStatus.PENDING.value)
        moment: datetime | None = (await self.conn.execute(query)).scalar_one_or_none()  # typed as the column
        return moment

    async def cancel_for(self, channel: ChannelName, recipient: str, reason: str) -> int:
        """Stop every pending message to a chat; return how many."""
        result = await self.conn.execute(
            update(OUTBOX)
            .where(
                OUTBOX.c.channel == channel.value,
                OUTBOX.c.recipient == recipient,
                OUTBOX.c.status == OutboxStatus.PENDING.value,
            )
            .values(status=OutboxStatus.FAILED.value, last_error=reason)
        )
        return int(result.rowcount)

    async def pending_for(self, channel: ChannelName, recipient: str, limit: int = 100) -> list[Outbound]:
        """Return the pending messages to one chat, oldest first, whatever their next attempt (a console's own)."""
        query = (
            select(OUTBOX)
            .where(
                OUTBOX.c.channel == channel.value,
                OUTBOX.c.recipient == recipient,
                OUTBOX.c.status == OutboxStatus.PENDING.value,
            )
            .order_by(OUTBOX.c.created_at, OUTBOX.c.id)
            .limit(limit)
        )
        return [
            Outbound.from_payload(ConversationKey(channel, recipient), r.payload, r.id)
            for r in await self.conn.execute(query)
        ]

    async def counts(self) -> dict[str, int]:
        """Return how many messages are in each delivery state."""
        query = select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status)
        return {r[0]: int(r[1]) for r in await self.conn.execute(query)}

    async def for_recipient(self, channel: ChannelName, recipient: str) -> list[MessageState]:
        """Return every message to one chat with its status, oldest first."""
        query = (
            select(OUTBOX)
            .where(and_(OUTBOX.c.channel == channel.value, OUTBOX.c.recipient == recipient))
            .order_by(OUTBOX.c.created_at, OUTBOX.c.id)
        )
        return [
            MessageState(
                Outbound.from_payload(ConversationKey(channel, recipient), r.payload, r.id), OutboxStatus(r.status)
            )
            for r in await self.conn.execute(query)
        ]

    @staticmethod
    def _entry(row: Row[Any]) -> OutboxEntry:
        return OutboxEntry(
            id=row.id,
            channel=row.channel,
            recipient=row.recipient,
            text_key=str(row.payload.get("text_key", "")),
            status=row.status,
            attempts=int(row.attempts),
            created_at=row.created_at,
            sent_at=row.sent_at,
            last_error=row.last_error,
            platform_id=row.platform_id,
            platform_status=row.platform_status,
        )

    async def by_platform_ids(self, channel: ChannelName, platform_ids: Sequence[str]) -> dict[str, list[OutboxEntry]]:
        """Return the messages sent as each platform message id, in one query (merged messages share one id)."""
        query = select(OUTBOX).where(OUTBOX.c.channel == channel.value, OUTBOX.c.platform_id.in_(set(platform_ids)))
        found: dict[str, list[OutboxEntry]] = {}
        for row in await self.conn.execute(query.order_by(OUTBOX.c.created_at, OUTBOX.c.id)):
            found.setdefault(row.platform_id, []).append(self._entry(row))
        return found

    async def mark_echoed(
        self, channel: ChannelName, ids: Sequence[str], platform_id: str, platform_status: str, now: datetime
    ) -> int:
        """Mark sent the pending messages the platform says it accepted as `platform_id`; return how many.

        Only messages whose send was never recorded (no platform id) and that no failed delivery reopened: the
        platform's echo of a send whose sender died before recording it.
        """
        if not ids:
            return 0
        result = await self.conn.execute(
            update(OUTBOX)
            .where(
                OUTBOX.c.id.in_(list(ids)),
                OUTBOX.c.channel == channel.value,
                OUTBOX.c.status == OutboxStatus.PENDING.value,
                OUTBOX.c.platform_id.is_(None),
                # A reopened message's old wamid may still report a late "sent": that send was not delivered.
                or_(OUTBOX.c.platform_status.is_(None), OUTBOX.c.platform_status != "failed"),
            )
            .values(
                status=OutboxStatus.SENT.value,
                sent_at=now,
                attempts=OUTBOX.c.attempts + 1,
                platform_id=platform_id,
                platform_status=platform_status,
                held_by=None,
            )
        )
        return int(result.rowcount or 0)

    async def set_platform_status(self, ids: Sequence[str], status: str) -> None:
        """Record a delivery status; it only moves forward (sent < delivered < read) and never past failed."""
        lower = PLATFORM_STATUS_ORDER[: PLATFORM_STATUS_ORDER.index(status)] if status in PLATFORM_STATUS_ORDER else []
        if ids:
            await self.conn.execute(
                update(OUTBOX)
                .where(
                    OUTBOX.c.id.in_(list(ids)),
                    or_(OUTBOX.c.platform_status.is_(None), OUTBOX.c.platform_status.in_(lower)),
                )
                .values(platform_status=status)
            )

    async def reopen(self, ids: Sequence[str], error: str, next_at: datetime) -> None:
        """Put sent messages whose delivery failed back in the queue, to be sent again from `next_at`."""
        if ids:
            await self.conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(list(ids)))
                .values(
                    status=OutboxStatus.PENDING.value,
                    platform_status="failed",
                    platform_id=None,
                    last_error=error[:300],
                    next_attempt_at=next_at,
                )
            )

    async def fail_delivery(self, ids: Sequence[str], status: OutboxStatus, error: str) -> None:
        """Mark sent messages that the platform could not deliver as failed or unreachable, with the error."""
        if ids:
            await self.conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(list(ids)))
                .values(status=status.value, platform_status="failed", last_error=error[:300])
            )

    async def listing(
        self, status: OutboxStatus | None = None, channel: ChannelName | None = None, limit: int = 100
    ) -> list[OutboxEntry]:
        """Return the newest messages, optionally in one state and on one channel (for admins)."""
        query = select(OUTBOX).order_by(OUTBOX.c.created_at.desc(), OUTBOX.c.id).limit(limit)
        if status is not None:
            query = query.where(OUTBOX.c.status == status.value)
        if channel is not None:
            query = query.where(OUTBOX.c.channel == channel.value)
        return [self._entry(r) for r in await self.conn.execute(query)]


_OUTBOX_SEQUENCE = itertools.count()


_CLAIM_LOCK = 0x5357_0B0C  # PostgreSQL advisory lock key: outbox claimers take turns


def _due(row: Row[Any]) -> DueMessage:
    """Return a pending outbox row as the message to send and its attempts so far."""
    key = ConversationKey(ChannelName(row.channel), row.recipient)
    return DueMessage(Outbound.from_payload(key, row.payload, row.id), int(row.attempts))


def _before(a: Any, b: Any) -> Any:
    """Return the condition "outbox row `a` was written before row `b`" (the outbox's (created_at, id) order)."""
    return or_(a.c.created_at < b.c.created_at, and_(a.c.created_at == b.c.created_at, a.c.id < b.c.id))


def _outbox_id() -> str:
    """Return a unique outbox id that sorts after the ids made before it.

    The rows of one commit share `created_at`, and the outbox is read in (created_at, id) order: a random id would
    let a chat's later message of the same turn overtake an earlier one when both are retried.
    """
    return f"{time.time_ns():016x}-{next(_OUTBOX_SEQUENCE) % 0x1000000:06x}-{uuid.uuid4().hex[:12]}"


def _with_id(message: Outbound) -> Outbound:
    if message.id:
        return message
    return dataclasses.replace(message, id=_outbox_id())


# Recording sends runs after every delivery: text statements, compiled once (a Core UPDATE with CASE clauses cost
# a cache key at each execution). PostgreSQL takes every row in one statement (arrays, unnested); SQLite runs one
# statement for each row. Both set the same: see `OutboxRepo.mark_sent`.


def _mark_sent(pid: str, rows: str) -> TextClause:
    """Return the UPDATE that records sends: `pid` is the SQL of a row's platform id, `rows` picks the rows."""
    # `pid` and `rows` are the two constants below, never input; every value is a bound parameter.
    return text(
        "UPDATE outbox SET status = :sent, sent_at = CASE WHEN status = :sent THEN sent_at ELSE :now END, "  # noqa: S608
        "attempts = CASE WHEN status = :sent THEN attempts ELSE attempts + 1 END, "
        f"platform_id = COALESCE({pid}, platform_id), "
        f"platform_status = CASE WHEN {pid} IS NULL OR platform_id = {pid} THEN platform_status END {rows}"
    ).bindparams(bindparam("now", type_=OUTBOX.c.sent_at.type), bindparam("sent", type_=OUTBOX.c.status.type))


_MARK_SENT_PG = _mark_sent(
    "v.pid", "FROM unnest(CAST(:ids AS varchar[]), CAST(:pids AS varchar[])) AS v(id, pid) WHERE outbox.id = v.id"
)
_MARK_SENT = _mark_sent(":pid", "WHERE id = :id").bindparams(bindparam("pid", type_=OUTBOX.c.platform_id.type))
# Every delivery writes its replies and checks their chats' order: statements built once (a statement built at
# each call costs a new cache key).
_ADD = json_insert(  # a turn's replies in one statement (base_sql.json_insert)
    OUTBOX, ("id", "channel", "recipient", "payload", "status", "attempts", "next_attempt_at", "created_at", "held_by")
)
_FIRST = OUTBOX.alias("first")
_WAITING = (
    select(OUTBOX.c.channel, OUTBOX.c.recipient)
    .join(_FIRST, and_(_FIRST.c.channel == OUTBOX.c.channel, _FIRST.c.recipient == OUTBOX.c.recipient))
    .where(
        _FIRST.c.id.in_(bindparam("firsts", expanding=True)),
        OUTBOX.c.status == OutboxStatus.PENDING.value,
        OUTBOX.c.id.not_in(bindparam("ids", expanding=True)),
        _before(OUTBOX, _FIRST),
    )
    .distinct()
)
