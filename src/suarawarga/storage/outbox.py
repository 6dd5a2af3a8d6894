"""The port of the outbox: messages to send with their delivery state.

No SQLAlchemy here: the SQL implementation is in `outbox_sql.py`; a test or a fake may implement these too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from suarawarga.bot.messages import ChannelName, ConversationKey, Outbound, OutboxStatus


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One outbox row as admins and delivery receipts see it."""

    id: str
    channel: str
    recipient: str
    text_key: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    platform_id: str | None
    platform_status: str | None


@dataclass(frozen=True, slots=True)
class DueMessage:
    """A pending message whose next attempt is due, with the attempts made so far."""

    message: Outbound
    attempts: int


@dataclass(frozen=True, slots=True)
class MessageState:
    """A message to a chat with its delivery state."""

    message: Outbound
    status: OutboxStatus


@dataclass(frozen=True, slots=True)
class DroppedReply:
    """A reply marked stale because later replies to its chat overtook it."""

    channel: ChannelName
    id: str


class OutboxRepository(Protocol):
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
        ...

    async def mark_sent(self, ids: Sequence[str], now: datetime, platform_ids: Mapping[str, str] | None = None) -> None:
        """Mark messages as sent, with the platform's message id of those it gave one, in one statement."""
        ...

    async def mark_retry(self, message_id: str, error: str, next_at: datetime) -> None:
        """Count a failed attempt and schedule the next one."""
        ...

    async def release_held(
        self, holder: str, now: datetime, grace: Mapping[ChannelName, timedelta] | None = None
    ) -> int:
        """Make the fresh messages a (restarted) process held due now; return how many.

        `grace`: a channel whose platform echoes an accepted send back (WhatsApp's status webhooks) has its
        messages due that much later, so that the echo of a send the earlier run made but never recorded can mark
        it sent first (`mark_echoed`).
        """
        ...

    async def mark_final(self, message_id: str, status: OutboxStatus, error: str) -> None:
        """Stop retrying a message (failed for good, or its recipient is unreachable)."""
        ...

    async def due(
        self,
        now: datetime,
        limit: int = 100,
        channel: ChannelName | None = None,
        min_age: timedelta | None = None,
    ) -> list[DueMessage]:
        """Return pending messages whose next attempt is due, oldest first, with their attempt counts."""
        ...

    async def claim_due(
        self, now: datetime, lease: timedelta, limit: int = 100, per_chat: int | None = None
    ) -> list[DueMessage]:
        """Take pending messages whose next attempt is due, pushing it `lease` ahead so no one else sends them.

        A chat's messages are taken in the order they were written: none while an earlier one to the same chat is
        pending and not due (waiting for its retry, held by a pump, or claimed by another sender), and at most
        `per_chat` of a chat at once, so that one chat's backlog cannot fill a pass (nor outlast the lease).
        """
        ...

    async def waiting_chats(self, messages: Sequence[Outbound]) -> set[ConversationKey]:
        """Return the chats of these messages that have an earlier message still pending (not among them)."""
        ...

    async def defer(self, ids: Sequence[str], next_at: datetime) -> None:
        """Put messages back for later without counting an attempt (they waited their turn; nothing was tried)."""
        ...

    async def drop_overtaken(self, now: datetime, older_than: timedelta, reason: str) -> list[DroppedReply]:
        """Mark STALE the due replies written before `now - older_than` that a later reply to their chat follows.

        Sent that late, a reply would answer a question the conversation has left (the citizen would answer an old
        menu where a later question was asked). Notices (`notice` set) are never dropped. Returns the replies
        dropped.
        """
        ...

    async def prune(self, before: datetime) -> int:
        """Delete finished messages (sent, failed, unreachable) created before a moment."""
        ...

    async def oldest_pending(self) -> datetime | None:
        """Return when the oldest pending message was created."""
        ...

    async def cancel_for(self, channel: ChannelName, recipient: str, reason: str) -> int:
        """Stop every pending message to a chat; return how many."""
        ...

    async def pending_for(self, channel: ChannelName, recipient: str, limit: int = 100) -> list[Outbound]:
        """Return the pending messages to one chat, oldest first, whatever their next attempt (a console's own)."""
        ...

    async def counts(self) -> dict[str, int]:
        """Return how many messages are in each delivery state."""
        ...

    async def for_recipient(self, channel: ChannelName, recipient: str) -> list[MessageState]:
        """Return every message to one chat with its status, oldest first."""
        ...

    async def by_platform_ids(self, channel: ChannelName, platform_ids: Sequence[str]) -> dict[str, list[OutboxEntry]]:
        """Return the messages sent as each platform message id, in one query (merged messages share one id)."""
        ...

    async def mark_echoed(
        self, channel: ChannelName, ids: Sequence[str], platform_id: str, platform_status: str, now: datetime
    ) -> int:
        """Mark sent the pending messages the platform says it accepted as `platform_id`; return how many.

        Only messages whose send was never recorded (no platform id) and that no failed delivery reopened: the
        platform's echo of a send whose sender died before recording it.
        """
        ...

    async def set_platform_status(self, ids: Sequence[str], status: str) -> None:
        """Record a delivery status; it only moves forward (sent < delivered < read) and never past failed."""
        ...

    async def reopen(self, ids: Sequence[str], error: str, next_at: datetime) -> None:
        """Put sent messages whose delivery failed back in the queue, to be sent again from `next_at`."""
        ...

    async def fail_delivery(self, ids: Sequence[str], status: OutboxStatus, error: str) -> None:
        """Mark sent messages that the platform could not deliver as failed or unreachable, with the error."""
        ...

    async def listing(
        self, status: OutboxStatus | None = None, channel: ChannelName | None = None, limit: int = 100
    ) -> list[OutboxEntry]:
        """Return the newest messages, optionally in one state and on one channel (for admins)."""
        ...
