"""The inbox: raw platform updates are stored (and committed) before they are acknowledged, then drained.

A webhook answers 200 only after `accept` committed the update, so an update that was acknowledged survives
a crash: `drain` picks up whatever is still pending, at start-up and whenever woken. Each channel supplies a
parser that turns its stored payload into an `Inbound` (downloading files promptly) or None for updates the
bot does not act on. Rows are drained in arrival order, so a chat's messages reach the dispatcher in order.

Scale-out: several `serve` processes may share one database. Every stored update carries a hash of its chat,
and each process drains only its shard (`hash % count == index`), so all of a chat's messages are handled by
one process, in order; whichever process received the webhook, the owner finds the row on its next poll.
The processed-ids table still makes each message take effect exactly once, even across restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from suarawarga.bot.batching import GroupCommit
from suarawarga.bot.dispatcher import Dispatcher, GaveUp, note_windows
from suarawarga.bot.input_limit import NOTICE_KEY, Admission, InputLimit
from suarawarga.bot.messages import ChannelName, ConversationKey, Inbound, Outbound
from suarawarga.bot.tasks import stop
from suarawarga.clock import Clock
from suarawarga.storage.inbox import NewUpdate, PendingUpdate, UpdateKey
from suarawarga.storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

Parser = Callable[[dict[str, Any]], Awaitable[Inbound | None]]
# Tries to parse and handle a stored update: a row that failed this often is dead-lettered (status failed, kept
# and listed until pruned).
MAX_PARSE_ATTEMPTS = 5
POLL_INTERVAL = 2.0  # seconds between drains when nobody wakes the processor (rows left by another process)
SHARDED_POLL_INTERVAL = 0.1  # with several processes, rows stored by the others are found by polling
# While PostgreSQL notifications wake the processor (storage/wakeups_sql.py), polling only covers a lost one.
NOTIFIED_POLL_INTERVAL = 1.0
PARSE_CONCURRENCY = 16  # rows of a batch parsed at the same time
STORE_BATCH = 500  # most updates stored by one statement


# Each channel's reading of the chat a stored update belongs to (tolerant: None when the shape is unknown).
ChatOf = Callable[[dict[str, Any]], str | None]


def chat_hash(channel: ChannelName, chat: str | None) -> int:
    """Return the non-negative hash that assigns a chat's updates to a shard (0 when the chat is unknown)."""
    # surrogatepass: this runs before the adapter checked the ids, on whatever the webhook was sent (a lone
    # surrogate in a chat id made the webhook answer 500); the parser refuses such an update later.
    return zlib.crc32(f"{channel}:{chat}".encode("utf-8", "surrogatepass")) & 0x7FFFFFFF if chat else 0


# A raw update as the webhook hands it over: (channel, external id, payload).
_Update = tuple[ChannelName, str, dict[str, Any]]


class Acceptor(Protocol):
    """What a webhook route needs: store an update durably, answering whether it was new."""

    async def accept(self, channel: ChannelName, external_id: str, payload: dict[str, Any]) -> bool:
        """Store an update and commit; return False if it was stored before (a repeated delivery)."""
        ...


class InboxWriter:
    """Stores updates durably, a group commit at a time; a web process that only accepts needs nothing else."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        on_new: Callable[[], None] | None = None,
        chats: Mapping[ChannelName, ChatOf] | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.on_new = on_new
        self.chats = dict(chats or {})  # channel -> how to read the chat of its updates (to find their shard)
        self._commits: GroupCommit[_Update, bool] = GroupCommit(self._store_batch, max_batch=STORE_BATCH)

    async def accept(self, channel: ChannelName, external_id: str, payload: dict[str, Any]) -> bool:
        """Store an update and commit; return False if it was stored before (a repeated delivery).

        Group commit: updates that arrive while a store is under way are stored together by the next one, so a
        burst costs a few statements instead of one each. Every caller still returns only
        after the commit that holds its update.
        """
        new = await self._commits.add((channel, external_id, payload))
        if new and self.on_new is not None:
            self.on_new()
        return new

    async def _store_batch(self, batch: list[_Update]) -> list[bool | Exception]:
        """Store a batch; if that fails, store its updates one by one so a bad one refuses only itself."""
        try:
            return list(await self._store(batch))
        except Exception:
            if len(batch) == 1:
                raise
        results: list[bool | Exception] = []
        for update in batch:
            try:
                results += await self._store([update])
            except Exception as single:
                results.append(single)
        return results

    def chat_of(self, channel: ChannelName, payload: dict[str, Any]) -> str | None:
        """Return the chat of a stored update, read by its channel (None for a channel not registered here)."""
        read = self.chats.get(channel)
        return read(payload) if read is not None else None

    async def _store(self, batch: list[_Update]) -> list[bool]:
        """Insert a batch in one statement; say of each update whether it was new (only the first copy is)."""
        unique: dict[UpdateKey, _Update] = {}
        for item in batch:  # in arrival order (the inbox is drained by id); of copies of one update, the first
            unique.setdefault(UpdateKey(item[0], item[1]), item)
        # Autocommit: the insert is one statement, which also wakes the processes that drain the inbox (on
        # PostgreSQL); two round trips fewer than a transaction around it.
        async with self.uow_factory(autocommit=True) as uow:
            fresh = await uow.inbox.add_many(
                [NewUpdate(c, e, p, chat_hash(c, self.chat_of(c, p))) for c, e, p in unique.values()],
                self.clock.now(),
            )
            await uow.commit()
        results = []
        for channel, external_id, _ in batch:
            key = UpdateKey(channel, external_id)
            results.append(key in fresh)
            fresh.discard(key)
        return results


class InboxProcessor:
    """Stores updates durably (through its `InboxWriter`) and feeds pending ones to the dispatcher."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        dispatcher: Dispatcher,
        parsers: Mapping[ChannelName, Parser],
        clock: Clock,
        *,
        batch: int = 200,
        shard: tuple[int, int] = (0, 1),
        poll_interval: float | None = None,
        limit: InputLimit | None = None,
        chats: Mapping[ChannelName, ChatOf] | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.dispatcher = dispatcher
        self.limit = limit or InputLimit(metrics=dispatcher.metrics)
        self.parsers = parsers
        self.clock = clock
        self.batch = batch
        if not 0 <= shard[0] < shard[1]:
            raise ValueError(f"shard {shard[0]} of {shard[1]} does not exist")
        self.shard = shard
        if poll_interval is None:
            poll_interval = SHARDED_POLL_INTERVAL if shard[1] > 1 else POLL_INTERVAL
        self.poll_interval = self._polling = poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._drain_lock = asyncio.Lock()
        self.writer = InboxWriter(uow_factory, clock, on_new=self._wake.set, chats=chats)

    async def accept(self, channel: ChannelName, external_id: str, payload: dict[str, Any]) -> bool:
        """Store an update and commit (see `InboxWriter.accept`), then wake the processor."""
        return await self.writer.accept(channel, external_id, payload)

    def wake(self) -> None:
        """Drain now (another process stored updates)."""
        self._wake.set()

    def notified(self, listening: bool) -> None:
        """Poll only as a fallback while the database wakes this processor, as often as configured otherwise."""
        self.poll_interval = max(self._polling, NOTIFIED_POLL_INTERVAL) if listening else self._polling

    async def __aenter__(self) -> InboxProcessor:
        """Start draining in the background (first whatever was left pending)."""
        self._wake.set()
        self._task = asyncio.create_task(self._run(), name="inbox-processor")
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop draining; pending rows stay for the next start."""
        await stop(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                # A batch smaller than the batch size emptied this shard: whatever arrives now wakes the loop again
                # (the writer, or a notification), so asking once more would only cost an empty query.
                while await self.drain() >= self.batch:
                    pass
            except Exception:  # the database may be down: keep the rows, try again later
                log.exception("inbox drain failed")
                await asyncio.sleep(self.poll_interval)

    async def drain(self) -> int:
        """Process one batch of pending updates; return how many rows were taken."""
        async with self._drain_lock:
            async with self.uow_factory(autocommit=True) as uow:
                rows = await uow.inbox.pending(self.batch, shard=self.shard)
            if not rows:
                return 0
            taken = len(rows)
            rows, over = self._split_over_limit(rows)
            if not rows:
                return await self._drop_over_limit(over)
            done: list[int] = []
            failed: list[tuple[int, str, bool]] = []
            parsed: list[tuple[int, Inbound, int]] = []
            channels = {row.id: row.channel for row in rows}
            # Parsers wait on the network (button answers, media downloads, the WhatsApp window's timestamp):
            # rows are parsed side by side, and reach the dispatcher afterwards in arrival order.
            slots = asyncio.Semaphore(PARSE_CONCURRENCY)

            async def parse(parser: Parser, payload: dict[str, Any]) -> Inbound | None:
                async with slots:
                    return await parser(payload)

            work = [
                (row, parser)
                for row in rows
                if (parser := self.parsers.get(row.channel)) is not None  # else another process takes it
            ]
            outcomes = await asyncio.gather(
                *(parse(parser, row.payload) for row, parser in work), return_exceptions=True
            )
            for (row, _), inbound in zip(work, outcomes, strict=True):
                if isinstance(inbound, BaseException):
                    if not isinstance(inbound, Exception):
                        raise inbound
                    log.warning("could not parse %s update %d: %s", row.channel.value, row.id, type(inbound).__name__)
                    failed.append((row.id, type(inbound).__name__, row.attempts + 1 >= MAX_PARSE_ATTEMPTS))
                    continue
                if inbound is None:
                    done.append(row.id)
                else:
                    parsed.append((row.id, inbound, row.attempts))
            # The dispatcher finishes each row in the transaction that handles its message (no commit of its own).
            results = await asyncio.gather(
                *(
                    self.dispatcher.handle(inbound, last_attempt=attempts + 1 >= MAX_PARSE_ATTEMPTS, inbox_row=row_id)
                    for row_id, inbound, attempts in parsed
                ),
                return_exceptions=True,
            )
            handled = 0
            for (row_id, _, attempts), result in zip(parsed, results, strict=True):
                if isinstance(result, GaveUp):  # answered with the apology: a dead letter now
                    failed.append((row_id, str(result), True))
                elif isinstance(result, BaseException):
                    failed.append((row_id, type(result).__name__, attempts + 1 >= MAX_PARSE_ATTEMPTS))
                else:
                    handled += 1
            await self._drop_over_limit(over)  # after the replies to the chat's earlier messages
            if done or failed:
                failing = {row_id for row_id, _, _ in failed}
                async with self.uow_factory() as uow:
                    await uow.inbox.finish(done, self.clock.now())
                    for row_id, error, final in failed:
                        await uow.inbox.fail(row_id, error, final)
                    # The chat wrote even if its turn failed: other processes' sends need its window too.
                    await note_windows(uow, [inbound for row_id, inbound, _ in parsed if row_id in failing])
                    await uow.commit()
            self._count_dead_letters(failed, channels, {row_id for row_id, _, _ in parsed})
            return taken if done or handled or any(final for _, _, final in failed) else 0

    def _count_dead_letters(
        self, failed: list[tuple[int, str, bool]], channels: Mapping[int, ChannelName], dispatched: set[int]
    ) -> None:
        """Log and count the rows given up on (they stay in the inbox with status failed until pruned)."""
        for row_id, error, final in failed:
            if not final:
                continue
            stage = "process" if row_id in dispatched else "parse"
            log.warning(
                "gave up on %s update %d at %s after %d attempts: %s",
                channels[row_id].value,
                row_id,
                stage,
                MAX_PARSE_ATTEMPTS,
                error,
            )
            metrics = self.dispatcher.metrics
            if metrics is not None:
                metrics.dead_letters.labels(channels[row_id].value, stage).inc()

    def _split_over_limit(
        self, rows: list[PendingUpdate]
    ) -> tuple[list[PendingUpdate], list[tuple[int, ConversationKey | None]]]:
        """Split rows into those to process and those of chats over the input limit (with the chat to notify)."""
        now = self.clock.now()
        kept: list[PendingUpdate] = []
        over: list[tuple[int, ConversationKey | None]] = []
        for row in rows:
            chat = self.writer.chat_of(row.channel, row.payload) if row.channel in self.parsers else None
            key = ConversationKey(row.channel, chat) if chat is not None else None
            verdict = Admission.PROCESS if key is None else self.limit.admit(key, now)
            if verdict is Admission.PROCESS:
                kept.append(row)
            else:
                over.append((row.id, key if verdict is Admission.NOTICE else None))
        return kept, over

    async def _drop_over_limit(self, over: list[tuple[int, ConversationKey | None]]) -> int:
        """Finish the rows over the input limit unread and notify their chats once; return how many."""
        if not over:
            return 0
        log.info("dropped %d update(s) of chats writing faster than the input limit", len(over))
        dispatcher = self.dispatcher
        notices = [key for _, key in over if key is not None]
        now = self.clock.now()
        async with self.uow_factory() as uow:
            states = await uow.conversations.load_many(notices)
            default = dispatcher.policy.default_language
            messages = [
                Outbound(key, NOTICE_KEY, language=states[key].language if key in states else default)
                for key in notices
            ]
            stored = await uow.outbox.add_many(messages, now, dispatcher.hold, dispatcher.holder)
            await uow.inbox.finish([row_id for row_id, _ in over], now)
            await uow.commit()
        if stored and dispatcher.on_committed is not None:
            await dispatcher.on_committed(stored)
        return len(over)
