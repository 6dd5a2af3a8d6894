"""How replies leave: a channel's Sender, and Delivery, which sends outbox messages and records outcomes."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from suarawarga.bot.batching import GroupCommit
from suarawarga.bot.messages import ChannelName, ConversationKey, Outbound, OutboxStatus
from suarawarga.bot.metrics import Metrics
from suarawarga.bot.tasks import stop
from suarawarga.clock import Clock
from suarawarga.storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 8  # sends of one outbox message before it is given up as failed
HOLD = timedelta(seconds=60)  # how long freshly committed messages belong to the in-process pump
HOLD_MARGIN = timedelta(seconds=20)  # the pump starts no message this close to its hold's end (a slice takes seconds)
CLAIM_LEASE = timedelta(seconds=120)  # how long the retry loop owns a message it claimed
CLAIM_PER_CHAT = 8  # a chat's messages in one retry pass: a backlog neither fills the pass nor outlasts the lease
PUMP_CHAT_SLICE = 4  # a chat's messages the pump hands over at once (Telegram's burst): other chats go meanwhile
STALE_AFTER = timedelta(minutes=5)  # a reply this old with a later reply behind it is dropped, not sent
ORDER_PATIENCE = 10.0  # seconds to keep asking the database whether a chat has an earlier message pending
# The console prints in the process, at once and never fails: none of its messages waits for a retry.
NEVER_PENDING = frozenset({ChannelName.CONSOLE})
RETRY_BASE = timedelta(seconds=5)
RECORD_PATIENCE = 60.0  # seconds to keep trying to record what was sent while the database is unreachable
RETRY_CAP = timedelta(minutes=30)


@dataclass(slots=True)
class SendReport:
    """What happened to each message a sender was given, by outbox id."""

    sent: list[str] = field(default_factory=list)
    retry: dict[str, tuple[str, timedelta | None]] = field(default_factory=dict)  # id -> (error, wait)
    unreachable: dict[str, str] = field(default_factory=dict)  # id -> error (blocked, no such user)
    failed: dict[str, str] = field(default_factory=dict)  # id -> error that no retry will fix
    platform_ids: dict[str, str] = field(default_factory=dict)  # id -> the platform's message id, where known
    deferred: dict[str, timedelta] = field(default_factory=dict)  # id -> wait; not tried (its turn had not come)

    def merge(self, other: SendReport) -> None:
        """Add another report's outcomes to this one."""
        self.sent += other.sent
        self.retry.update(other.retry)
        self.unreachable.update(other.unreachable)
        self.failed.update(other.failed)
        self.platform_ids.update(other.platform_ids)
        self.deferred.update(other.deferred)

    def without_sent(self, ids: set[str]) -> SendReport:
        """Return a copy without these sent messages (already recorded)."""
        return SendReport(
            [i for i in self.sent if i not in ids],
            dict(self.retry),
            dict(self.unreachable),
            dict(self.failed),
            {i: p for i, p in self.platform_ids.items() if i not in ids},
            dict(self.deferred),
        )


# Called by a sender with each message the platform accepted, as soon as it did (a report of sent ids only).
Progress = Callable[[SendReport], Awaitable[None]]


class Sender(Protocol):
    """Sends messages to one channel's platform."""

    async def send(self, messages: Sequence[Outbound], progress: Progress | None = None) -> SendReport:
        """Send the messages in order and say what happened to each (telling `progress` of each one sent)."""
        ...


def backoff(attempts: int) -> timedelta:
    """Return the wait before retry number `attempts` (exponential, capped)."""
    return min(RETRY_BASE * (1 << min(max(attempts - 1, 0), 20)), RETRY_CAP)


class Delivery:
    """Sends committed outbox messages through the channels' senders and records the outcome."""

    def __init__(
        self,
        senders: Mapping[ChannelName, Sender],
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        metrics: Metrics | None = None,
    ) -> None:
        self.senders = senders
        self.uow_factory = uow_factory
        self.clock = clock
        self.metrics = metrics
        self._sent = GroupCommit(self._record_sent)
        self._order: GroupCommit[Sequence[Outbound], set[ConversationKey]] = GroupCommit(self._waiting_chats)

    async def deliver(
        self, messages: Sequence[Outbound], attempts: Mapping[str, int] | None = None, *, in_turn: bool = False
    ) -> SendReport:
        """Send messages now (grouped per channel, order kept) and store sent/retry/unreachable states.

        A message the platform accepted is recorded as sent while the chat's next message goes out (a group
        commit shared by concurrent deliveries), not after the whole batch: a process killed mid-batch then
        sends again at most two messages of a chat, those whose record was not yet stored, as neither platform
        takes an idempotency key.

        A chat's messages leave in the order they were written: while an earlier message to the chat is still
        pending (waiting for a retry, or being sent by another process), these wait behind it in the outbox.
        `in_turn`: the caller took them in that order from the outbox already (the retry loop).
        """
        report = SendReport()
        recorded: set[str] = set()
        if not in_turn:
            messages = await self._in_turn(messages, report)
        # A chat's next message does not wait for the record of the one just sent, only for the record of the one
        # before it: the records of concurrent sends gather into fewer, larger transactions, a kill leaves at most
        # two of a chat's sends unrecorded, and every record is awaited before this delivery returns.
        records: list[tuple[SendReport, asyncio.Future[None]]] = []
        crashed: list[tuple[str, list[Outbound]]] = []
        chats = {m.id: m.key for m in messages}
        last: dict[ConversationKey, asyncio.Future[None]] = {}

        async def progress(part: SendReport) -> None:
            record = self._sent.submit(part)
            record.add_done_callback(_retrieved)  # if this delivery is cancelled before it awaits the record
            records.append((part, record))
            chat = chats.get(part.sent[0]) if part.sent else None
            if chat is None:
                return
            before, last[chat] = last.get(chat), record
            if before is not None and not before.done():
                await asyncio.wait([before])  # its failure is handled below, with every record's

        by_channel: dict[ChannelName, list[Outbound]] = {}
        for message in messages:
            by_channel.setdefault(message.key.channel, []).append(message)
        for channel, batch in by_channel.items():
            sender = self.senders.get(channel)
            if sender is None:
                continue  # no sender in this process (the console has no Telegram): the worker sends them
            try:
                report.merge(await sender.send(batch, progress))
            except Exception as exc:  # a sender bug must not lose messages: they stay pending for a retry
                log.exception("sender for %s failed", channel)
                crashed.append((type(exc).__name__, batch))
        for part, record in records:
            try:
                await record
            except Exception:  # the database is unreachable: recorded with the rest below, or retried
                log.warning("could not record %d sent message(s) yet", len(part.sent))
                continue
            recorded.update(part.sent)
        for error, batch in crashed:
            report.retry.update({m.id: (error, None) for m in batch if m.id not in recorded})
        await self._record_patiently(report.without_sent(recorded), attempts or {})
        if self.metrics is not None:
            channels = {m.id: m.key.channel.value for m in messages}
            for message_id in report.sent:
                self.metrics.sent.labels(channels.get(message_id, "?")).inc()
            for reason, ids in (
                ("retry", report.retry),
                ("unreachable", report.unreachable),
                ("failed", report.failed),
            ):
                for message_id in ids:
                    self.metrics.send_failures.labels(channels.get(message_id, "?"), reason).inc()
        return report

    async def _in_turn(self, messages: Sequence[Outbound], report: SendReport) -> list[Outbound]:
        """Return the messages whose chat has no earlier message pending; the others are deferred in `report`.

        While the database cannot say (a restart), none is sent: they stay pending and the retry loop sends them
        in order once their hold ends.
        """
        checked = [m for m in messages if m.key.channel not in NEVER_PENDING]
        if not checked:
            return list(messages)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ORDER_PATIENCE
        wait = 0.05
        while True:
            try:
                waiting = await self._order.add(checked)
                break
            except Exception:
                if loop.time() + wait > deadline:
                    log.warning("could not check the order of %d message(s); the retry loop sends them", len(messages))
                    return []
                await asyncio.sleep(wait)
                wait = min(wait * 2, 2.0)
        for message in messages:
            if message.key in waiting:
                report.deferred[message.id] = timedelta(0)
        return [m for m in messages if m.key not in waiting]

    async def _waiting_chats(self, batches: list[Sequence[Outbound]]) -> list[set[ConversationKey]]:
        """Find, for many deliveries in one query, the chats with an earlier message still pending."""
        async with self.uow_factory(autocommit=True) as uow:
            waiting = await uow.outbox.waiting_chats([m for batch in batches for m in batch])
        return [{m.key for m in batch} & waiting for batch in batches]

    async def _record_patiently(self, report: SendReport, attempts: Mapping[str, int]) -> None:
        """Record outcomes, retrying while the database is unreachable (a PostgreSQL restart).

        Only this process knows which messages the platform accepted: giving up at once would have them sent
        again after their hold. After RECORD_PATIENCE seconds it gives up and they are (re)sent later.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RECORD_PATIENCE
        wait = 0.05
        while True:
            try:
                await self.record(report, attempts)
                return
            except Exception:
                if loop.time() + wait > deadline:
                    raise
                log.warning("could not record the outcome of %d message(s); trying again", len(report.sent))
                await asyncio.sleep(wait)
                wait = min(wait * 2, 2.0)

    async def _record_sent(self, parts: list[SendReport]) -> list[None]:
        """Store messages as sent, many senders' reports in one transaction."""
        merged = SendReport()
        for part in parts:
            merged.merge(part)
        await self.record(merged, {})
        return [None] * len(parts)

    async def record(self, report: SendReport, attempts: Mapping[str, int]) -> None:
        """Store the outcome of a send in the outbox."""
        if not (
            report.sent or report.retry or report.unreachable or report.failed or report.platform_ids or report.deferred
        ):
            return
        now = self.clock.now()
        # A transaction even for sends alone (one statement): measured in the load benchmark, recording in
        # autocommit made the group commit of concurrent sends take fewer at once and cost more CPU per update
        # (3.1-3.3 ms instead of 2.5-2.7 with the old statement; with the one-UPDATE statement 1.89-1.91 ms against
        # 1.78-1.87, and more CPU in PostgreSQL).
        async with self.uow_factory() as uow:
            await uow.outbox.mark_sent(report.sent, now, report.platform_ids)
            for delay in set(report.deferred.values()):
                await uow.outbox.defer([i for i, d in report.deferred.items() if d == delay], now + delay)
            for message_id, (error, wait) in report.retry.items():
                tries = attempts.get(message_id, 0) + 1
                if tries >= MAX_SEND_ATTEMPTS:
                    await uow.outbox.mark_final(message_id, OutboxStatus.FAILED, error)
                else:
                    await uow.outbox.mark_retry(message_id, error, now + (wait or backoff(tries)))
            for message_id, error in report.unreachable.items():
                await uow.outbox.mark_final(message_id, OutboxStatus.UNREACHABLE, error)
            for message_id, error in report.failed.items():
                await uow.outbox.mark_final(message_id, OutboxStatus.FAILED, error)
            await uow.commit()

    async def deliver_due(self, limit: int = 200) -> SendReport:
        """Send pending outbox messages whose next attempt is due (the retry loop); returns what happened."""
        now = self.clock.now()
        async with self.uow_factory() as uow:
            stale = await uow.outbox.drop_overtaken(now, STALE_AFTER, "not sent: overtaken by later replies")
            claimed = await uow.outbox.claim_due(now, CLAIM_LEASE, limit, per_chat=CLAIM_PER_CHAT)
            await uow.commit()
        if stale:
            log.info("dropped %d reply(ies) the conversation had overtaken while they waited", len(stale))
            if self.metrics is not None:
                for reply in stale:
                    self.metrics.send_failures.labels(reply.channel.value, "stale").inc()
        # Messages for channels this process cannot send stay claimed until the lease ends, then are due again.
        sendable = [due for due in claimed if due.message.key.channel in self.senders]
        if not sendable:
            return SendReport()
        attempts = {due.message.id: due.attempts for due in sendable}
        return await self.deliver([due.message for due in sendable], attempts, in_turn=True)


class OutboxPump:
    """Sends freshly committed messages in the background, each chat in commit order, chats independently.

    Every chat has its own queue and, while it has messages, its own worker, which hands the chat's messages to
    delivery a slice (`PUMP_CHAT_SLICE`) at a time, then lets the other chats' workers run. So a chat that floods,
    and whose platform pacing (Telegram: 1 message a second) makes its backlog slow, holds up only itself: another
    chat's reply leaves as soon as the platform's overall pacing allows, on every channel. (Concurrent deliveries
    share their database work: the order check and WhatsApp's window look-up are group queries.)

    Messages are stored with a hold (`HOLD`): for that long only this pump may send them. A message still
    queued when its hold is nearly over is left to the retry loop instead, so it is never sent twice; the
    chat's later messages then wait behind it in the outbox (`Delivery.deliver`).
    """

    def __init__(self, delivery: Delivery, clock: Clock) -> None:
        self.delivery = delivery
        self.clock = clock
        self._chats: dict[ConversationKey, deque[tuple[datetime, Outbound]]] = {}
        self._workers: dict[ConversationKey, asyncio.Task[None]] = {}
        self._open = False

    async def submit(self, messages: list[Outbound]) -> None:
        """Queue committed messages for sending (each chat's behind its earlier ones)."""
        deadline = self.clock.now() + HOLD - HOLD_MARGIN
        for message in messages:
            self._chats.setdefault(message.key, deque()).append((deadline, message))
        if not self._open:
            return  # not started (or stopping): they stay pending in the outbox for the retry loop
        for key in dict.fromkeys(m.key for m in messages):
            if key not in self._workers:
                self._workers[key] = asyncio.create_task(self._chat(key), name="outbox-pump-chat")

    async def __aenter__(self) -> OutboxPump:
        """Start sending in the background."""
        self._open = True
        for key in self._chats:
            self._workers.setdefault(key, asyncio.create_task(self._chat(key), name="outbox-pump-chat"))
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop; whatever is still queued stays pending in the outbox for the retry loop."""
        self._open = False
        for task in list(self._workers.values()):
            await stop(task)
        self._workers.clear()
        self._chats.clear()

    async def drain(self) -> None:
        """Wait until everything submitted so far was handed to the senders (for tests and shutdown)."""
        while self._workers:
            await asyncio.wait(list(self._workers.values()))

    async def _chat(self, key: ConversationKey) -> None:
        """Deliver one chat's queue, a slice at a time, until it is empty."""
        try:
            while True:
                queue = self._chats.get(key)
                if not queue:
                    break
                now = self.clock.now()
                batch: list[Outbound] = []
                while queue and len(batch) < PUMP_CHAT_SLICE:
                    deadline, message = queue.popleft()
                    if deadline > now:  # else its hold ends soon: the retry loop sends it, in order
                        batch.append(message)
                if not batch:
                    continue
                try:
                    await self.delivery.deliver(batch)
                except Exception:  # they stay pending in the outbox; the retry loop takes them after the hold
                    log.exception("outbox pump failed to deliver %d messages", len(batch))
                await asyncio.sleep(0)  # the other chats' workers run before this chat's next slice
        finally:
            if self._workers.get(key) is asyncio.current_task():
                del self._workers[key]
                if not self._chats.get(key):
                    self._chats.pop(key, None)


def _retrieved(future: asyncio.Future[None]) -> None:
    """Mark a record's failure as seen: the delivery that awaits it logs it; a cancelled one has no use for it."""
    if not future.cancelled():
        future.exception()
