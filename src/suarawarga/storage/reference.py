"""Reference data kept in memory for a few seconds: the service units and the complaint categories.

The complaint flow reads them at almost every step (the category menu, the chosen category, the kecamatan list,
the routing at submission): about 7 statements per complaint, each a round trip and a few dozen objects built.
They change only when an administrator imports a seed (docs/architecture.md §3). So each process keeps one
snapshot of each table for `ttl` seconds. A write through this process's repositories drops the snapshots at once
(and again at its commit); a write by another process (the CLI, another worker) is seen within `ttl` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from suarawarga.complaints.model import Category, Unit

T = TypeVar("T")

REFERENCE_TTL = 5.0  # seconds an import by another process may stay unseen


@dataclass(frozen=True, slots=True)
class Snapshot(Generic[T]):
    """Every row of a table, in its display order, each with whether it is active."""

    rows: tuple[tuple[T, bool], ...]
    taken: float  # monotonic seconds

    def active(self) -> list[T]:
        """Return the active rows in display order."""
        return [row for row, active in self.rows if active]


@dataclass
class _Slot(Generic[T]):
    snapshot: Snapshot[T] | None = None


@dataclass
class ReferenceCache:
    """This process's snapshots of the units and the categories (not SQL-specific: it holds domain objects).

    A reader takes `generation` before it queries and stores with it: a write that happened meanwhile bumped
    the generation, so the stale result is not kept.
    """

    ttl: float = REFERENCE_TTL
    clock: Callable[[], float] = time.monotonic  # elapsed time, not the city's time: an injected Clock is not needed
    generation: int = 0
    _units: _Slot[Unit] = field(default_factory=_Slot)
    _categories: _Slot[Category] = field(default_factory=_Slot)

    def units(self) -> Snapshot[Unit] | None:
        """Return the units' snapshot while it is fresh."""
        return self._fresh(self._units)

    def categories(self) -> Snapshot[Category] | None:
        """Return the categories' snapshot while it is fresh."""
        return self._fresh(self._categories)

    def keep_units(self, rows: tuple[tuple[Unit, bool], ...], generation: int) -> Snapshot[Unit]:
        """Keep the units read at `generation` (unless a write came since) and return them as a snapshot."""
        return self._keep(self._units, rows, generation)

    def keep_categories(self, rows: tuple[tuple[Category, bool], ...], generation: int) -> Snapshot[Category]:
        """Keep the categories read at `generation` (unless a write came since) and return them as a snapshot."""
        return self._keep(self._categories, rows, generation)

    def invalidate(self) -> None:
        """Drop both snapshots: units or categories were written."""
        self.generation += 1
        self._units.snapshot = None
        self._categories.snapshot = None

    def _fresh(self, slot: _Slot[T]) -> Snapshot[T] | None:
        snapshot = slot.snapshot
        if snapshot is None or self.clock() - snapshot.taken >= self.ttl:
            return None
        return snapshot

    def _keep(self, slot: _Slot[T], rows: tuple[tuple[T, bool], ...], generation: int) -> Snapshot[T]:
        snapshot = Snapshot(rows, self.clock())
        if generation == self.generation:
            slot.snapshot = snapshot
        return snapshot
