"""Complaint statistics per OPD for the public: received, resolved, on time, median time, open and overdue.

Counted per top-level unit (an OPD with its sub-units), over the complaints filed in a window (the public site
shows the last 90 days), plus what is open right now. "On time" means resolved within the category's resolution
limit; "overdue" means open past the resolution limit, or still waiting for the OPD past the acceptance limit
(docs/complaints.md §3). Nothing here names a person, a text or a place.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from suarawarga.complaints.calendar import WorkingCalendar
from suarawarga.complaints.model import Category, ComplaintStatus, Unit
from suarawarga.storage.uow import UnitOfWork

DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A complaint filed in the window, as the statistics need it (no personal data)."""

    unit_id: int
    category_id: int
    status: ComplaintStatus
    filed_at: datetime
    resolved_at: datetime | None  # its first resolution, if any


@dataclass(frozen=True, slots=True)
class OpenComplaint:
    """A complaint open now, as the statistics need it."""

    unit_id: int
    category_id: int
    status: ComplaintStatus
    filed_at: datetime


@dataclass(slots=True)
class UnitComplaintStats:
    """One OPD's figures."""

    unit: Unit
    received: int = 0
    supporters: int = 0  # citizens who joined these complaints ("saya juga mengalami"): demand, not complaints
    resolved: int = 0
    resolved_on_time: int = 0
    open_now: int = 0
    overdue_now: int = 0
    days_to_resolve: list[float] = field(default_factory=list)

    @property
    def on_time_percent(self) -> Decimal | None:
        """Return the share of resolved complaints resolved within the limit, in percent (1 decimal)."""
        if not self.resolved:
            return None
        return (Decimal(100 * self.resolved_on_time) / self.resolved).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def median_days(self) -> Decimal | None:
        """Return the median number of days from filing to first resolution (1 decimal)."""
        if not self.days_to_resolve:
            return None
        return Decimal(str(statistics.median(self.days_to_resolve))).quantize(Decimal("0.1"), ROUND_HALF_UP)


def top_unit_of(units: Mapping[int, Unit]) -> dict[int, Unit]:
    """Return, for every unit id, the top-level unit it belongs to (an OPD for a puskesmas)."""
    tops: dict[int, Unit] = {}
    for unit in units.values():
        top, seen = unit, {unit.id}
        while top.parent_id is not None and top.parent_id in units and top.parent_id not in seen:
            top = units[top.parent_id]
            seen.add(top.id)
        tops[unit.id] = top
    return tops


def _overdue(item: OpenComplaint, category: Category | None, calendar: WorkingCalendar, now: datetime) -> bool:
    if category is None:
        return False
    if item.filed_at + category.resolve_days * DAY <= now:
        return True
    waiting = item.status in (ComplaintStatus.DITERIMA, ComplaintStatus.PERLU_DISPOSISI)
    return waiting and calendar.add_working_days(item.filed_at, category.accept_working_days) <= now


def tally(
    outcomes: Iterable[Outcome],
    open_now: Iterable[OpenComplaint],
    units: Mapping[int, Unit],
    categories: Mapping[int, Category],
    calendar: WorkingCalendar,
    now: datetime,
) -> list[UnitComplaintStats]:
    """Add up the figures per top-level unit; units without any complaint are left out."""
    tops = top_unit_of(units)
    stats: dict[int, UnitComplaintStats] = {}

    def of(unit_id: int) -> UnitComplaintStats | None:
        top = tops.get(unit_id)
        return None if top is None else stats.setdefault(top.id, UnitComplaintStats(top))

    for outcome in outcomes:
        entry = of(outcome.unit_id)
        if entry is None:
            continue
        entry.received += 1
        if outcome.resolved_at is not None:
            entry.resolved += 1
            entry.days_to_resolve.append((outcome.resolved_at - outcome.filed_at) / DAY)
            category = categories.get(outcome.category_id)
            if category is not None and outcome.resolved_at <= outcome.filed_at + category.resolve_days * DAY:
                entry.resolved_on_time += 1
    for item in open_now:
        entry = of(item.unit_id)
        if entry is None:
            continue
        entry.open_now += 1
        if _overdue(item, categories.get(item.category_id), calendar, now):
            entry.overdue_now += 1
    return sorted(stats.values(), key=lambda s: s.unit.name)


async def complaint_statistics(
    uow: UnitOfWork, calendar: WorkingCalendar, now: datetime, days: int = 90
) -> list[UnitComplaintStats]:
    """Return the figures per OPD for the complaints filed in the last `days` days and those open now."""
    units = {u.id: u for u in await uow.units.list()}
    categories = {c.id: c for c in await uow.statistics.categories()}
    outcomes = await uow.statistics.outcomes_since(now - days * DAY)
    open_now = await uow.statistics.open_complaints()
    supporters = await uow.supports.supporters_since(now - days * DAY)
    for unit_id in {o.unit_id for o in outcomes} | {o.unit_id for o in open_now}:
        if unit_id not in units:  # a unit no longer active still owns its complaints
            old = await uow.units.get(unit_id)
            if old is not None:
                units[unit_id] = old
    for unit_id in supporters:
        if unit_id not in units and (old := await uow.units.get(unit_id)) is not None:
            units[unit_id] = old
    stats = tally(outcomes, open_now, units, categories, calendar, now)
    tops = top_unit_of(units)
    by_top = {s.unit.id: s for s in stats}
    for unit_id, count in supporters.items():
        top = tops.get(unit_id)
        if top is not None:
            by_top.setdefault(top.id, UnitComplaintStats(top)).supporters += count
    return sorted(by_top.values(), key=lambda s: s.unit.name)
