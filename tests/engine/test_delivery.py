"""Delivery records each accepted message while the chat's next one goes out: a killed process re-sends little."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from suarawarga.bootstrap import App
from suarawarga.bot.batching import GroupCommit
from suarawarga.bot.channels.console import console_key
from suarawarga.bot.messages import ChannelName, Outbound, OutboxStatus
from suarawarga.bot.sender import Progress, SendReport


class StallingSender:
    """Accepts the first `accept` messages (telling progress of each), then hangs as a network call can."""

    def __init__(self, accept: int) -> None:
        self.accept = accept
        self.stalled = asyncio.Event()

    async def send(self, messages: Sequence[Outbound], progress: Progress | None = None) -> SendReport:
        """Send the first messages, then wait forever (until cancelled, as a killed process stops)."""
        report = SendReport()
        for message in messages[: self.accept]:
            report.sent.append(message.id)
            if progress is not None:
                await progress(SendReport(sent=[message.id]))
        self.stalled.set()
        await asyncio.Event().wait()
        return report


async def statuses(app: App, messages: Sequence[Outbound]) -> list[str]:
    """Return the outbox status of each message, in order."""
    found: dict[str, str] = {}
    async with app.uow() as uow:
        for message in messages:
            for state in await uow.outbox.for_recipient(ChannelName.CONSOLE, message.key.chat_id):
                found[state.message.id] = state.status
    return [found[m.id] for m in messages]


async def test_accepted_messages_are_recorded_before_the_batch_ends(app: App) -> None:
    """Cut off mid-batch, the messages the platform accepted are already SENT; the rest stay pending."""
    messages = [Outbound(console_key(f"k{n}"), "menu.intro") for n in range(5)]
    async with app.uow() as uow:
        stored = await uow.outbox.add_many(messages, app.clock.now())
        await uow.commit()
    sender = StallingSender(accept=3)
    app.register_sender(ChannelName.CONSOLE, sender)
    task = asyncio.create_task(app.delivery().deliver(stored))
    await sender.stalled.wait()
    task.cancel()  # the batch stops as a kill would stop it: no code of this delivery runs after this point
    with pytest.raises(asyncio.CancelledError):
        await task
    # The records of the accepted sends were submitted before the stall, to the group commit the deliveries share
    # (a cancelled delivery does not stop it; a real SIGKILL would lose what it had not yet stored): they land
    # within a few of its flushes.
    expected = [OutboxStatus.SENT] * 3 + [OutboxStatus.PENDING] * 2
    for _ in range(100):
        if await statuses(app, stored) == expected:
            break
        await asyncio.sleep(0.01)
    assert await statuses(app, stored) == expected


class OneChatSender:
    """Sends every message, telling progress after each, and notes which were sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, messages: Sequence[Outbound], progress: Progress | None = None) -> SendReport:
        """Send the messages one after the other, as a chat's messages go."""
        report = SendReport()
        for message in messages:
            self.sent.append(message.id)
            report.sent.append(message.id)
            if progress is not None:
                await progress(SendReport(sent=[message.id]))
        return report


async def test_a_chats_next_message_waits_only_for_the_record_of_the_one_before_the_last(app: App) -> None:
    """While the record of a chat's first message is still being written, its second is sent, not its third."""
    messages = [Outbound(console_key("k1"), "menu.intro") for _ in range(3)]
    async with app.uow() as uow:
        stored = await uow.outbox.add_many(messages, app.clock.now())
        await uow.commit()
    sender = OneChatSender()
    app.register_sender(ChannelName.CONSOLE, sender)
    delivery = app.delivery()
    gate = asyncio.Event()
    record = delivery._record_sent  # held back below, to see what the sender does meanwhile

    async def held_record(parts: list[SendReport]) -> list[None]:
        await gate.wait()
        return await record(parts)

    delivery._sent = GroupCommit(held_record)
    task = asyncio.create_task(delivery.deliver(stored))
    for _ in range(20):
        await asyncio.sleep(0.01)
    # Two sent while no record is written yet: a process killed now would send at most these two again.
    assert sender.sent == [m.id for m in stored[:2]]
    assert not task.done()
    gate.set()
    report = await task
    assert report.sent == [m.id for m in stored]
    assert await statuses(app, stored) == [OutboxStatus.SENT] * 3


async def test_group_commit_flushes_concurrent_items_together_and_reports_failure_to_each() -> None:
    """Items added while a flush runs share the next flush; a failed flush raises in every waiting `add`."""
    flushes: list[list[int]] = []
    gate = asyncio.Event()

    async def flush(items: list[int]) -> list[None]:
        flushes.append(items)
        await gate.wait()
        if 99 in items:
            raise RuntimeError("database down")
        return [None] * len(items)

    commit: GroupCommit[int, None] = GroupCommit(flush)
    first = asyncio.create_task(commit.add(1))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(commit.add(n)) for n in (2, 3, 99)]
    await asyncio.sleep(0)
    gate.set()
    await first
    results = await asyncio.gather(*rest, return_exceptions=True)
    assert flushes == [[1], [2, 3, 99]]
    assert [type(r).__name__ for r in results] == ["RuntimeError"] * 3
    await commit.add(4)
    assert flushes[-1] == [4]


async def test_a_restarted_process_releases_the_messages_it_held(app: App) -> None:
    """Messages held by shard 0/1's pump are due again as soon as that shard starts; another shard's are not."""
    from datetime import timedelta

    from suarawarga.runtime import running

    now = app.clock.now()
    async with app.uow() as uow:
        mine = await uow.outbox.add_many([Outbound(console_key("a"), "menu.intro")], now, timedelta(minutes=1), "0/1")
        theirs = await uow.outbox.add_many([Outbound(console_key("b"), "menu.intro")], now, timedelta(minutes=1), "1/2")
        await uow.commit()
        assert await uow.outbox.due(now) == []
    async with running(app, [], retries=False), app.uow() as uow:
        due = [d.message.id for d in await uow.outbox.due(app.clock.now())]
    assert due == [mine[0].id]
    assert theirs[0].id not in due


class AcceptingSender:
    """Accepts every message, telling progress of each, as the platforms' senders do."""

    async def send(self, messages: Sequence[Outbound], progress: Progress | None = None) -> SendReport:
        """Report every message sent."""
        report = SendReport()
        for message in messages:
            report.sent.append(message.id)
            if progress is not None:
                await progress(SendReport(sent=[message.id]))
        return report


async def test_outcomes_are_recorded_once_the_database_is_back(app: App) -> None:
    """Sent while the database restarts: the outcome is recorded when it is back, so nothing goes out twice."""
    from suarawarga.bot.sender import Delivery
    from suarawarga.storage.uow import UnitOfWork

    messages = [Outbound(console_key(f"d{n}"), "menu.intro") for n in range(2)]
    async with app.uow() as uow:
        stored = await uow.outbox.add_many(messages, app.clock.now())
        await uow.commit()
    down = asyncio.Event()
    down.set()
    refused = 0

    def flaky(*, autocommit: bool = False) -> UnitOfWork:
        nonlocal refused
        if down.is_set():
            refused += 1
            raise ConnectionRefusedError("the database is restarting")
        return app.uow(autocommit=autocommit)

    delivery = Delivery({ChannelName.CONSOLE: AcceptingSender()}, flaky, app.clock)

    async def restart() -> None:
        await asyncio.sleep(0.3)
        down.clear()

    back = asyncio.create_task(restart())
    report = await delivery.deliver(stored)
    await back
    assert sorted(report.sent) == sorted(m.id for m in stored)
    assert refused >= 3  # both progress records and at least one final attempt met the outage
    assert await statuses(app, stored) == [OutboxStatus.SENT] * 2


async def test_group_commit_gives_each_item_its_own_result_and_caps_the_batch() -> None:
    """Each `add` gets its item's result; an exception among the results fails that item alone."""
    flushes: list[list[int]] = []

    async def flush(items: list[int]) -> list[int | Exception]:
        flushes.append(items)
        return [ValueError(f"bad {n}") if n < 0 else n * 10 for n in items]

    commit: GroupCommit[int, int] = GroupCommit(flush, max_batch=2)
    results = await asyncio.gather(*(commit.add(n) for n in (1, -2, 3)), return_exceptions=True)
    assert results[0] == 10 and results[2] == 30
    assert isinstance(results[1], ValueError)
    assert flushes == [[1, -2], [3]]
