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
class Slot(Generic[T]):
    """Where one table's snapshot is kept."""

    snapshot: Snapshot[T] | None = None


@dataclass
class ReferenceCache:
    """This process's snapshots of the units and the categories (not SQL-specific: it holds domain objects).

    A reader takes `generation` before it queries and keeps what it read with it: a write that happened meanwhile
    bumped the generation, so the stale result is not kept.
    """

    ttl: float = REFERENCE_TTL
    clock: Callable[[], float] = time.monotonic  # elapsed time, not the city's time: an injected Clock is not needed
    generation: int = 0
    units: Slot[Unit] = field(default_factory=Slot)
    categories: Slot[Category] = field(default_factory=Slot)

    def fresh(self, slot: Slot[T]) -> Snapshot[T] | None:
        """Return the slot's snapshot while it is fresh."""
        snapshot = slot.snapshot
        if snapshot is None or self.clock() - snapshot.taken >= self.ttl:
            return None
        return snapshot

    def keep(self, slot: Slot[T], rows: tuple[tuple[T, bool], ...], generation: int) -> Snapshot[T]:
        """Keep rows read at `generation` (unless a write came since) and return them as a snapshot."""
        snapshot = Snapshot(rows, self.clock())
        if generation == self.generation:
            slot.snapshot = snapshot
        return snapshot

    def invalidate(self) -> None:
        """Drop both snapshots: units or categories were written."""
        self.generation += 1
        self.units.snapshot = None
        self.categories.snapshot = None
