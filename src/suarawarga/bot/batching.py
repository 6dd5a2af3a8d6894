"""Group commit: work that arrives while a transaction is under way is written together in the next one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Calls `flush(items)` with what was added since the last flush began; `add` returns its item's result.

    While one flush runs, new items wait and go into the next flush together (at most `max_batch` at once), so
    a burst of small writes costs a few transactions instead of one each. `flush` returns one result per item,
    in order; an exception among them is raised by that item's `add` alone. If `flush` itself raises, every
    `add` whose item it held raises that error.
    """

    def __init__(
        self, flush: Callable[[list[T]], Awaitable[Sequence[R | Exception]]], max_batch: int | None = None
    ) -> None:
        self._flush = flush
        self._max_batch = max_batch
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    async def add(self, item: T) -> R:
        """Queue an item and return its result once a flush holding it has finished."""
        return await self.submit(item)

    def submit(self, item: T) -> asyncio.Future[R]:
        """Queue an item and return at once the future of its result (the caller goes on meanwhile)."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="group-commit")
        return done

    async def _run(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._waiting:
                size = self._max_batch or len(self._waiting)
                batch, self._waiting = self._waiting[:size], self._waiting[size:]
                try:
                    results = await self._flush([item for item, _ in batch])
                except Exception as exc:
                    results = [exc] * len(batch)
                for (_, done), result in zip(batch, results, strict=True):
                    if done.done():
                        continue
                    if isinstance(result, Exception):
                        done.set_exception(result)
                    else:
                        done.set_result(result)
        except asyncio.CancelledError:
            for _, done in [*batch, *self._waiting]:
                done.cancel()
            self._waiting = []
            raise
        finally:
            self._task = None
