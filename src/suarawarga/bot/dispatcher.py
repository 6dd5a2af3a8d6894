"""The dispatcher: every inbound goes through dedupe, state, the flow step and the outbox in one transaction.

Order of work for each inbound (docs/architecture.md §2, §3):
1. drop it if (channel, external id) was processed before;
2. serialise it behind earlier messages of the same chat (a chat always maps to the same lane);
3. load the chat's state, run the step, save the state and write the replies to the outbox, then commit; the
   same transaction records the message as processed, marks its stored update done (the inbox row) and, for a
   message that opens a reply window (WhatsApp), stores when the chat last wrote;
4. only after the commit, hand the replies to delivery.

Group commit: a lane takes every message waiting for it and runs them all in one transaction (messages of one
chat in arrival order), so a busy bot pays a handful of round trips per batch rather than per message. If any
step fails, the batch is rolled back and its messages are run again one per transaction, so one bad message
cannot take others down with it; a message whose step fails on its own gets an apology and a reset state. A
message that fails on its own outside a step (e.g. the database refuses what it wrote) fails alone; the caller
may try it again, and on its last attempt it gets the apology too and `GaveUp` tells the caller to stop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from suarawarga.bot.attachments import MediaIntake
from suarawarga.bot.conversation import ConversationEngine, ConversationState, Policy, Turn, offered
from suarawarga.bot.messages import ChannelName, ConversationKey, Inbound, Outbound
from suarawarga.bot.metrics import Metrics
from suarawarga.bot.tasks import stop
from suarawarga.bot.texts import LANGUAGES, Catalogue
from suarawarga.clock import Clock
from suarawarga.storage.inbox import UpdateKey
from suarawarga.storage.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

OnCommitted = Callable[[list[Outbound]], Awaitable[None]]


class StepFailed(Exception):
    """A flow step raised: the batch must be retried one message at a time."""


class GaveUp(Exception):
    """A message failed on its last attempt: its chat got the apology instead, and it is not to be tried again."""


@dataclass(slots=True)
class _Item:
    inbound: Inbound
    future: asyncio.Future[list[Outbound]] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    queued: float = field(default_factory=time.perf_counter)
    duplicate: bool = False  # a repeat of a message already processed: counted as such, not as processed
    last: bool = False  # its last attempt: if it fails on its own, apologise and give up instead of raising
    inbox_row: int | None = None  # the stored update it came from: finished in the transaction that handles it


class Dispatcher:
    """Runs inbound messages through the conversation engine with exactly-once state changes and replies."""

    def __init__(
        self,
        conversations: ConversationEngine,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        policy: Policy,
        catalogue: Catalogue,
        on_committed: OnCommitted | None = None,
        *,
        lanes: int = 1,
        max_batch: int = 200,
        hold: timedelta = timedelta(0),
        holder: str | None = None,
        on_erase: Callable[[list[str]], None] | None = None,
        metrics: Metrics | None = None,
        media: MediaIntake | None = None,
        outage: Callable[[BaseException], str | None] | None = None,
    ) -> None:
        self.conversations = conversations
        self.uow_factory = uow_factory
        self.clock = clock
        self.policy = policy
        self.catalogue = catalogue
        self.on_committed = on_committed
        self.max_batch = max_batch
        self.hold = hold  # how long new outbox rows are left to this process's sender before retries
        self.holder = holder  # this process's name on the rows it holds (its shard)
        self.on_erase = on_erase  # deletes erased citizens' files, only after their records are gone
        self.metrics = metrics
        self.media = media  # what steps fetch accepted files with
        # Tells a database outage (a restart) from a step's own failure: a step that meets an outage is not the
        # step's fault, so its chat gets no apology and keeps its state; the message is tried again later.
        self.outage = outage
        self._queues: list[asyncio.Queue[_Item]] = [asyncio.Queue() for _ in range(max(lanes, 1))]
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Dispatcher:
        """Start the lanes."""
        self._tasks = [
            asyncio.create_task(self._lane(q), name=f"dispatcher-lane-{i}") for i, q in enumerate(self._queues)
        ]
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Finish what is queued, then stop the lanes."""
        for queue in self._queues:
            await queue.join()
        for task in self._tasks:
            await stop(task)
        self._tasks = []

    async def handle(
        self, inbound: Inbound, *, last_attempt: bool = False, inbox_row: int | None = None
    ) -> list[Outbound]:
        """Process one inbound and return the replies it produced (empty for a duplicate).

        If it fails on its own it raises; with `last_attempt` it is answered with the apology and raises `GaveUp`.
        `inbox_row`: the stored update it came from, marked done in the same transaction (on any return, the
        update's row is done; the caller need not finish it).
        """
        if not self._tasks:
            raise RuntimeError("use 'async with dispatcher:' before handle()")
        item = _Item(inbound, last=last_attempt, inbox_row=inbox_row)
        self._queues[self._lane_of(inbound.key)].put_nowait(item)
        return await item.future

    async def handle_many(self, inbounds: Sequence[Inbound]) -> list[list[Outbound]]:
        """Process several inbound messages concurrently; each chat's messages keep their order."""
        return list(await asyncio.gather(*(self.handle(i) for i in inbounds)))

    def _lane_of(self, key: ConversationKey) -> int:
        return zlib.crc32(f"{key.channel}:{key.chat_id}".encode("utf-8", "surrogatepass")) % len(self._queues)

    async def _lane(self, queue: asyncio.Queue[_Item]) -> None:
        while True:
            items = [await queue.get()]
            while len(items) < self.max_batch and not queue.empty():
                items.append(queue.get_nowait())
            try:
                await self._process(items)
            except Exception as exc:  # infrastructure failure (database down): the callers see it and may retry
                problem = self.outage(exc) if self.outage is not None else None
                if problem is None:
                    log.exception("dispatcher batch of %d failed", len(items))
                else:
                    log.warning("dispatcher batch of %d failed: %s", len(items), problem)
                if self.metrics is not None:
                    self.metrics.errors.labels("batch_failed").inc()
                for item in items:
                    if not item.future.done():
                        item.future.set_exception(exc)
            finally:
                for _ in items:
                    queue.task_done()

    async def _process(self, items: list[_Item]) -> None:
        gave_up: GaveUp | None = None
        try:
            results, outbound = await self._run_batch(items)
        except Exception as exc:
            if len(items) > 1:
                # Isolate the failing message (a failed step, a write the database refuses, or e.g. a duplicate
                # that another process stored at the same moment): each runs alone, and one that fails on its own
                # fails alone while the others still go through.
                for item in items:
                    try:
                        await self._process([item])
                    except Exception as single:
                        self._failed(item, single)
                return
            if isinstance(exc, StepFailed):
                results, outbound = await self._apologise(items[0].inbound, items[0].inbox_row)
            elif items[0].last:
                log.error(
                    "giving up on a %s message after its last attempt", items[0].inbound.key.channel, exc_info=exc
                )
                results, outbound = await self._apologise(items[0].inbound, items[0].inbox_row)
                gave_up = GaveUp(type(exc).__name__)
            else:
                raise
        done = time.perf_counter()
        for item, replies in zip(items, results, strict=True):
            if self.metrics is not None and not item.duplicate:
                channel = item.inbound.key.channel.value
                self.metrics.inbound.labels(channel).inc()
                self.metrics.latency.labels(channel).observe(done - item.queued)
            if item.future.done():
                continue
            if gave_up is not None:
                item.future.set_exception(gave_up)
            else:
                item.future.set_result(replies)
        if outbound and self.on_committed is not None:
            await self.on_committed(outbound)

    def _failed(self, item: _Item, exc: Exception) -> None:
        """Fail one isolated message (its caller may try it again); no traceback: it is bounded by the attempts."""
        log.warning("a %s message failed on its own: %s", item.inbound.key.channel, type(exc).__name__)
        if self.metrics is not None:
            self.metrics.errors.labels("message_failed").inc()
        if not item.future.done():
            item.future.set_exception(exc)

    async def _run_batch(self, items: list[_Item]) -> tuple[list[list[Outbound]], list[Outbound]]:
        now = self.clock.now()
        results: list[list[Outbound]] = [[] for _ in items]
        async with self.uow_factory() as uow:
            fresh = await self._fresh(uow, items)
            rows = [item.inbox_row for item in items if item.inbox_row is not None]
            if not fresh:
                if rows:
                    await uow.inbox.finish(rows, now)
                    await uow.commit()
                return results, []
            keys = {items[i].inbound.key for i in fresh}
            states = await uow.conversations.load_many(keys)
            touched: dict[ConversationKey, ConversationState] = {}
            pending: list[tuple[int, list[Outbound]]] = []
            erase: list[str] = []
            for index in fresh:
                inbound = items[index].inbound
                state = states.get(inbound.key)
                if state is None:
                    state = states[inbound.key] = ConversationState(
                        language=_language(inbound, self.policy.default_language)
                    )
                turn = Turn(inbound, state, uow, self.clock, self.policy, self.catalogue, self.media)
                try:
                    await self.conversations.run(turn)
                except Exception as exc:
                    if self.outage is not None and self.outage(exc) is not None:
                        raise  # the database, not the step: tried again later, without an apology or a reset
                    log.exception("step failed in flow %s step %s", state.flow, state.step)
                    if self.metrics is not None:
                        self.metrics.errors.labels("step_failed").inc()
                    raise StepFailed from exc
                touched[inbound.key] = state
                erase += turn.erase_files
                extra = await self._run_handoffs(uow, turn, states, touched)
                await self._remember_offers(uow, turn.after_commit, states, touched)
                pending.append((index, turn.replies + turn.after_commit + extra))
                results[index] = turn.replies
            # The turn's own bookkeeping is written last: on SQLite the first write takes the database's one write
            # lock, which a step that downloads a photo would otherwise hold meanwhile.
            await uow.conversations.save_many(touched, now)
            await uow.processed.mark((_update_key(items[i].inbound) for i in fresh), now)
            await note_windows(uow, [items[i].inbound for i in fresh])
            await uow.inbox.finish(rows, now)
            stored = await uow.outbox.add_many([m for _, ms in pending for m in ms], now, self.hold, self.holder)
            await uow.commit()
        if erase and self.on_erase is not None:
            self.on_erase(erase)
        # The stored copies carry their outbox ids; hand those back in the same order.
        cursor = 0
        for index, messages in pending:
            count = len(messages)
            chunk = stored[cursor : cursor + count]
            results[index] = chunk[: len(results[index])]
            cursor += count
        return results, stored

    async def _run_handoffs(
        self,
        uow: UnitOfWork,
        turn: Turn,
        states: dict[ConversationKey, ConversationState],
        touched: dict[ConversationKey, ConversationState],
    ) -> list[Outbound]:
        """Start the flows a turn handed to other chats, and return what those chats are asked."""
        out: list[Outbound] = []
        for key, flow, data in turn.handoffs:
            if key not in states:
                states.update(await uow.conversations.load_many([key]))
            target = states.setdefault(key, ConversationState(language=self.policy.default_language))
            inbound = dataclasses.replace(
                turn.inbound, key=key, text=None, command=None, choice=None, media=(), group=False, opens_window=False
            )
            other = Turn(inbound, target, uow, self.clock, self.policy, self.catalogue)
            try:
                await self.conversations.start(other, flow, data)
            except Exception as exc:
                log.exception("handoff to flow %s failed", flow)
                raise StepFailed from exc
            touched[key] = target
            out += other.replies + other.after_commit
        return out

    async def _remember_offers(
        self,
        uow: UnitOfWork,
        messages: list[Outbound],
        states: dict[ConversationKey, ConversationState],
        touched: dict[ConversationKey, ConversationState],
    ) -> None:
        """Make the buttons of a message to another, idle chat (e.g. "is it solved?") what its typed numbers mean."""
        for message in messages:
            if not message.choices:
                continue
            if message.key not in states:
                states.update(await uow.conversations.load_many([message.key]))
            target = states.get(message.key)
            if target is None or target.flow is not None:
                continue  # a chat in the middle of a question keeps that question's options
            target.choices = offered(message, self.catalogue)
            touched[message.key] = target

    async def _fresh(self, uow: UnitOfWork, items: list[_Item]) -> list[int]:
        """Return the indexes of items not processed before and not repeated earlier in the batch."""
        by_channel: dict[ChannelName, list[str]] = {}
        for item in items:
            by_channel.setdefault(item.inbound.key.channel, []).append(item.inbound.external_id)
        seen: set[UpdateKey] = set()
        for channel, ids in by_channel.items():
            seen |= {UpdateKey(channel, e) for e in await uow.processed.seen(channel, ids)}
        fresh: list[int] = []
        for index, item in enumerate(items):
            key = _update_key(item.inbound)
            if key not in seen:
                seen.add(key)
                fresh.append(index)
            else:
                item.duplicate = True
                if self.metrics is not None:
                    self.metrics.duplicates.labels(key.channel.value).inc()
        return fresh

    async def _apologise(self, inbound: Inbound, inbox_row: int | None) -> tuple[list[list[Outbound]], list[Outbound]]:
        """Mark a message whose step failed as processed, reset the chat and say sorry, in one transaction."""
        now = self.clock.now()
        rows = [inbox_row] if inbox_row is not None else []
        async with self.uow_factory() as uow:
            if await uow.processed.seen(inbound.key.channel, [inbound.external_id]):
                if rows:
                    await uow.inbox.finish(rows, now)
                    await uow.commit()
                return [[]], []
            states = await uow.conversations.load_many([inbound.key])
            state = states.get(inbound.key) or ConversationState(
                language=_language(inbound, self.policy.default_language)
            )
            state.clear()
            sorry = Outbound(key=inbound.key, text_key="error.generic", language=state.language)
            await uow.conversations.save_many({inbound.key: state}, now)
            await uow.processed.mark([_update_key(inbound)], now)
            await note_windows(uow, [inbound])
            await uow.inbox.finish(rows, now)
            stored = await uow.outbox.add_many([sorry], now, self.hold, self.holder)
            await uow.commit()
        return [stored], stored


async def note_windows(uow: UnitOfWork, inbounds: Sequence[Inbound]) -> None:
    """Store when the chats of these messages last wrote, for those that open a reply window (WhatsApp's 24 h)."""
    by_channel: dict[ChannelName, dict[str, datetime]] = {}
    for inbound in inbounds:
        if inbound.opens_window:
            chats = by_channel.setdefault(inbound.key.channel, {})
            chat = inbound.key.chat_id
            chats[chat] = max(inbound.received_at, chats.get(chat, inbound.received_at))
    for channel, chats in by_channel.items():
        await uow.contacts.note_contacts(channel, chats)


def _language(inbound: Inbound, default: str) -> str:
    hint = (inbound.language or "").lower()[:2]
    return hint if hint in LANGUAGES else default


def _update_key(inbound: Inbound) -> UpdateKey:
    """Return the key an inbound message is recorded as processed under."""
    return UpdateKey(inbound.key.channel, inbound.external_id)
