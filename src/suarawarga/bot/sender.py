"""How replies leave: a channel's Sender, and Delivery, which sends outbox messages and records outcomes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from suarawarga.bot.messages import ChannelName, Outbound, OutboxStatus
from suarawarga.clock import Clock
from suarawarga.storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
RETRY_BASE = timedelta(seconds=5)
RETRY_CAP = timedelta(minutes=30)


@dataclass(slots=True)
class SendReport:
    """What happened to each message a sender was given, by outbox id."""

    sent: list[str] = field(default_factory=list)
    retry: dict[str, tuple[str, timedelta | None]] = field(default_factory=dict)  # id -> (error, wait)
    unreachable: dict[str, str] = field(default_factory=dict)  # id -> error (blocked, no such user)
    failed: dict[str, str] = field(default_factory=dict)  # id -> error that no retry will fix

    def merge(self, other: SendReport) -> None:
        """Add another report's outcomes to this one."""
        self.sent += other.sent
        self.retry.update(other.retry)
        self.unreachable.update(other.unreachable)
        self.failed.update(other.failed)


class Sender(Protocol):
    """Sends messages to one channel's platform."""

    async def send(self, messages: Sequence[Outbound]) -> SendReport:
        """Send the messages in order and say what happened to each."""
        ...


def backoff(attempts: int) -> timedelta:
    """Return the wait before retry number `attempts` (exponential, capped)."""
    return min(RETRY_BASE * (1 << min(max(attempts - 1, 0), 20)), RETRY_CAP)


class Delivery:
    """Sends committed outbox messages through the channels' senders and records the outcome."""

    def __init__(
        self, senders: Mapping[ChannelName, Sender], uow_factory: UnitOfWorkFactory, clock: Clock
    ) -> None:
        self.senders = senders
        self.uow_factory = uow_factory
        self.clock = clock
        self._lock = asyncio.Lock()

    async def deliver(
        self, messages: Sequence[Outbound], attempts: Mapping[str, int] | None = None
    ) -> SendReport:
        """Send messages now (grouped per channel, order kept) and store sent/retry/unreachable states."""
        report = SendReport()
        by_channel: dict[ChannelName, list[Outbound]] = {}
        for message in messages:
            by_channel.setdefault(message.key.channel, []).append(message)
        for channel, batch in by_channel.items():
            sender = self.senders.get(channel)
            if sender is None:
                continue  # no sender in this process (the console has no Telegram): the worker sends them
            try:
                report.merge(await sender.send(batch))
            except Exception as exc:  # a sender bug must not lose messages: they stay pending for a retry
                log.exception("sender for %s failed", channel)
                for m in batch:
                    report.retry[m.id] = (type(exc).__name__, None)
        await self.record(report, attempts or {})
        return report

    async def record(self, report: SendReport, attempts: Mapping[str, int]) -> None:
        """Store the outcome of a send in the outbox."""
        now = self.clock.now()
        async with self.uow_factory() as uow:
            await uow.outbox.mark_sent(report.sent, now)
            for message_id, (error, wait) in report.retry.items():
                tries = attempts.get(message_id, 0) + 1
                if tries >= MAX_ATTEMPTS:
                    await uow.outbox.mark_final(message_id, OutboxStatus.FAILED, error)
                else:
                    await uow.outbox.mark_retry(message_id, error, now + (wait or backoff(tries)))
            for message_id, error in report.unreachable.items():
                await uow.outbox.mark_final(message_id, OutboxStatus.UNREACHABLE, error)
            for message_id, error in report.failed.items():
                await uow.outbox.mark_final(message_id, OutboxStatus.FAILED, error)
            await uow.commit()

    async def deliver_due(self, limit: int = 200, min_age: timedelta | None = None) -> SendReport:
        """Send pending outbox messages whose next attempt is due (the worker's retry loop)."""
        async with self._lock:
            async with self.uow_factory() as uow:
                due = await uow.outbox.due(self.clock.now(), limit, min_age=min_age)
            sendable = [(m, n) for m, n in due if m.key.channel in self.senders]
            return await self.deliver([m for m, _ in sendable], {m.id: n for m, n in sendable})
