"""The per-chat ordered send loop every channel shares, the verdicts on a failed send, chat lanes, resume progress.

A chat's messages go out one after the other. What one send came to decides what happens to the chat's later
messages: after a message that must be retried they are not tried (they wait behind it in the outbox, which keeps
the chat's order); after an unreachable chat they are unreachable too; a failed message (no retry will fix it)
stops nothing. A channel supplies only how to send one item and what its errors mean.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeVar

from suarawarga.bot.channels.base import remember
from suarawarga.bot.sender import Progress, SendReport

Item = TypeVar("Item")


class Verdict(StrEnum):
    """What a failed send means for the message."""

    RETRY = "retry"  # try again later (the chat's later messages wait behind it)
    WINDOW = "window"  # the platform takes the message only in its notice form now (WhatsApp's 24-hour window)
    UNREACHABLE = "unreachable"  # blocked, no such user: the chat's later messages are not sent either
    FAILED = "failed"  # no retry will fix it; the chat's later messages still go


@dataclass(frozen=True, slots=True)
class Sent:
    """The platform accepted the item; `platform_id` is its message id where the platform gives one."""

    platform_id: str = ""


@dataclass(frozen=True, slots=True)
class Deferred:
    """The item was not tried: its turn comes in `wait` (the outbox keeps it)."""

    wait: timedelta


@dataclass(frozen=True, slots=True)
class Failure:
    """Why an item was not sent, and what to do about it.

    `halts`: whether a retry holds the chat's later messages back here (False when the channel holds them itself).
    """

    verdict: Verdict
    error: str
    wait: timedelta | None = None
    code: int | None = None
    halts: bool = True


Outcome = Sent | Deferred | Failure


def record(report: SendReport, ids: Sequence[str], failure: Failure) -> None:
    """Note a failure for every message of an item in the report."""
    for message_id in ids:
        if failure.verdict is Verdict.RETRY:
            report.retry[message_id] = (failure.error, failure.wait)
        elif failure.verdict is Verdict.UNREACHABLE:
            report.unreachable[message_id] = failure.error
        else:
            report.failed[message_id] = failure.error


async def send_in_order(
    items: Sequence[tuple[Sequence[str], Item]],
    send: Callable[[Item], Awaitable[Outcome]],
    progress: Progress | None = None,
    halted: Callable[[], Failure | None] | None = None,
) -> SendReport:
    """Send one chat's items (each with the outbox ids it carries) in order and report what happened to each.

    `halted()` tells of a stop shared by every chat (WhatsApp's number hit its throughput limit): the next item is
    recorded with it, and the rest wait behind it.
    """
    report = SendReport()
    stop: Failure | None = None
    for ids, item in items:
        if stop is not None and stop.verdict is Verdict.RETRY:
            # Not tried: it waits behind the earlier message in the outbox, which keeps the chat's order.
            report.deferred.update(dict.fromkeys(ids, timedelta(0)))
            continue
        if stop is None and halted is not None:
            stop = halted()
        if stop is not None:  # unreachable, or halted: nothing overtakes a message that must wait
            record(report, ids, stop)
            continue
        outcome = await send(item)
        if isinstance(outcome, Sent):
            sent = SendReport(sent=list(ids))
            if outcome.platform_id:
                sent.platform_ids.update(dict.fromkeys(ids, outcome.platform_id))
            report.merge(sent)
            if progress is not None:
                await progress(sent)
        elif isinstance(outcome, Deferred):
            report.deferred.update(dict.fromkeys(ids, outcome.wait))
        else:
            record(report, ids, outcome)
            if outcome.verdict is Verdict.UNREACHABLE or (outcome.verdict is Verdict.RETRY and outcome.halts):
                stop = outcome
    return report


def by_chat(messages: Sequence[Any]) -> dict[str, list[Any]]:
    """Group outbound messages by chat, each chat's in the given order."""
    chats: dict[str, list[Any]] = {}
    for message in messages:
        chats.setdefault(message.key.chat_id, []).append(message)
    return chats


@dataclass(slots=True)
class _Lane:
    """One chat's send lane: the lock a send holds while it sends to the chat, and how many sends hold or await it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    senders: int = 0


class ChatLanes:
    """A send lane per chat: sends to one chat from concurrent callers go one after the other, in arrival order.

    A chat's lane lives only while a send is in it or waiting for it, so the chats of the past cost nothing.
    """

    def __init__(self) -> None:
        self._lanes: dict[Hashable, _Lane] = {}

    @contextlib.asynccontextmanager
    async def lane(self, chat: Hashable) -> AsyncIterator[None]:
        """Hold the chat's lane for the duration of the block (waiting for the sends that came first)."""
        lane = self._lanes.setdefault(chat, _Lane())
        lane.senders += 1
        try:
            async with lane.lock:
                yield
        finally:
            lane.senders -= 1
            if lane.senders == 0:
                self._lanes.pop(chat, None)


class Resume:
    """How far a message that takes several platform calls got, so a retry resumes after the calls made.

    Neither platform takes an idempotency key: without this a retry would repeat the parts already delivered.
    Progress is kept per outbox tag and per rendering (a message rendered differently starts again).
    """

    def __init__(self) -> None:
        self._done: dict[str, tuple[str, int, str]] = {}  # tag -> (rendering, calls made, last platform id)

    def done(self, tag: str, rendering: str = "") -> int:
        """Return how many calls of this rendering were made already."""
        made_rendering, made, _ = self._done.get(tag, ("", 0, ""))
        return made if made_rendering == rendering else 0

    def forget(self, tag: str) -> None:
        """Drop a message's progress (it was sent, or will never be)."""
        self._done.pop(tag, None)

    async def run(self, tag: str, calls: Sequence[Callable[[], Awaitable[str | None]]], rendering: str = "") -> str:
        """Make the calls not yet made, in order; return the last platform id (a call returning None was skipped)."""
        made_rendering, made, last = self._done.get(tag, ("", 0, ""))
        start = made if made_rendering == rendering else 0
        for index in range(start, len(calls)):
            result = await calls[index]()
            if result is None:
                continue
            last = result
            if tag:
                remember(self._done, tag, (rendering, index + 1, last))
        self.forget(tag)
        return last
