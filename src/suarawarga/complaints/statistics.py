"""Complaint statistics per OPD for the public: received, resolved, on time, median time, open and overdue.

Counted per top-level unit (an OPD with its sub-units), over the complaints filed in a window (the public site
shows the last 90 days), plus what is open right now (docs/site.md §2 defines each figure).

The rules stay here, in the domain: when a complaint is first resolved, `resolution` decides whether it was
within the deadline and how long it took, and the complaint keeps that (stored by the resolve action, backfilled
by migration 0021), so the database only adds up stored facts. "Overdue now" depends on the clock and the
working-day calendar: `overdue_cutoffs` turns the rule into one filing-time bound per category, which the
database compares against. Nothing here names a person, a text or a place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from suarawarga.complaints.calendar import WorkingCalendar
from suarawarga.complaints.deadlines import resolve_due
from suarawarga.complaints.model import Category, ComplaintStatus, Unit
from suarawarga.storage.uow import UnitOfWork

DAY = timedelta(days=1)
SECONDS_PER_DAY = 86_400
WAITING_FOR_OPD = frozenset({ComplaintStatus.DITERIMA, ComplaintStatus.PERLU_DISPOSISI})
"""Open complaints nobody at an OPD has taken up yet: the acceptance deadline still applies to them."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a complaint keeps of its first resolution: when, how long after filing, and whether in time."""

    at: datetime
    seconds: int  # whole seconds from filing to the first resolution
    within_deadline: bool


def within_deadline(filed_at: datetime, resolved_at: datetime, category: Category) -> bool:
    """Tell whether a resolution met the category's resolution limit (a resolution at the limit counts)."""
    return resolved_at <= resolve_due(filed_at, category)


def resolution(filed_at: datetime, resolved_at: datetime, category: Category) -> Resolution:
    """Return what to keep of a complaint's first resolution."""
    seconds = int((resolved_at - filed_at).total_seconds())
    return Resolution(resolved_at, max(seconds, 0), within_deadline(filed_at, resolved_at, category))


def is_overdue(
    status: ComplaintStatus, filed_at: datetime, category: Category, calendar: WorkingCalendar, now: datetime
) -> bool:
    """Tell whether an open complaint is overdue: past the resolution limit, or waiting past the acceptance one."""
    if resolve_due(filed_at, category) <= now:
        return True
    return status in WAITING_FOR_OPD and calendar.add_working_days(filed_at, category.accept_working_days) <= now


@dataclass(frozen=True, slots=True)
class OverdueCutoffs:
    """`is_overdue` for one category at one moment, as filing-time bounds the database can compare against.

    An open complaint is overdue exactly when filed_at <= resolve_by, or when it waits for an OPD and
    filed_at < accept_before.
    """

    resolve_by: datetime
    accept_before: datetime


def overdue_cutoffs(category: Category, calendar: WorkingCalendar, now: datetime) -> OverdueCutoffs:
    """Return the filing-time bounds of `is_overdue` for a category at `now`.

    The acceptance deadline depends only on the filing day and never goes back when the day moves on, so the
    complaints past it are those filed before the first day whose deadline is still ahead; that day is found
    by walking back from today with the calendar itself.
    """
    day = calendar.day_of(now)
    while _accept_due(day - DAY, category, calendar) > now:
        day -= DAY
    accept_before = datetime.combine(day, time(0), tzinfo=calendar.tz)
    return OverdueCutoffs(now - category.resolve_days * DAY, accept_before)


def _accept_due(day: date, category: Category, calendar: WorkingCalendar) -> datetime:
    return calendar.add_working_days(datetime.combine(day, time(12), tzinfo=calendar.tz), category.accept_working_days)


@dataclass(frozen=True, slots=True)
class OutcomeCounts:
    """A unit's complaints filed in the window: how many, how many resolved, how many of those in time."""

    unit_id: int
    received: int
    resolved: int
    resolved_on_time: int


@dataclass(frozen=True, slots=True)
class OpenCounts:
    """A unit's complaints open now, and how many of them are overdue."""

    unit_id: int
    open_now: int
    overdue_now: int


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
    median_days: Decimal | None = None  # days from filing to first resolution (1 decimal)

    @property
    def on_time_percent(self) -> Decimal | None:
        """Return the share of resolved complaints resolved within the limit, in percent (1 decimal)."""
        if not self.resolved:
            return None
        return (Decimal(100 * self.resolved_on_time) / self.resolved).quantize(Decimal("0.1"), ROUND_HALF_UP)


def median_days(middle: tuple[int, ...]) -> Decimal | None:
    """Return the median in days (1 decimal) from the middle value, or the two middle values, of the seconds."""
    if not middle:
        return None
    return (Decimal(sum(middle)) / (len(middle) * SECONDS_PER_DAY)).quantize(Decimal("0.1"), ROUND_HALF_UP)


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


async def complaint_statistics(
    uow: UnitOfWork, calendar: WorkingCalendar, now: datetime, days: int = 90
) -> list[UnitComplaintStats]:
    """Return the figures per OPD for the complaints filed in the last `days` days and those open now.

    Three aggregate queries, whatever the number of complaints; OPDs without any complaint are left out.
    """
    since = now - days * DAY
    units = {u.id: u for u in await uow.units.list()}
    categories = await uow.statistics.categories()
    outcomes = await uow.statistics.outcome_counts(since)
    open_now = await uow.statistics.open_counts({c.id: overdue_cutoffs(c, calendar, now) for c in categories})
    supporters = await uow.supports.supporters_since(since)
    for unit_id in {o.unit_id for o in outcomes} | {o.unit_id for o in open_now} | set(supporters):
        if unit_id not in units:  # a unit no longer active still owns its complaints
            old = await uow.units.get(unit_id)
            if old is not None:
                units[unit_id] = old
    tops = top_unit_of(units)
    stats: dict[int, UnitComplaintStats] = {}

    def of(unit_id: int) -> UnitComplaintStats | None:
        top = tops.get(unit_id)
        return None if top is None else stats.setdefault(top.id, UnitComplaintStats(top))

    for outcome in outcomes:
        if (entry := of(outcome.unit_id)) is not None:
            entry.received += outcome.received
            entry.resolved += outcome.resolved
            entry.resolved_on_time += outcome.resolved_on_time
    for counts in open_now:
        if (entry := of(counts.unit_id)) is not None:
            entry.open_now += counts.open_now
            entry.overdue_now += counts.overdue_now
    for unit_id, count in supporters.items():  # demand, not extra complaints (docs/complaints.md §8)
        if (entry := of(unit_id)) is not None:
            entry.supporters += count
    groups = {o.unit_id: tops[o.unit_id].id for o in outcomes if o.resolved and o.unit_id in tops}
    if groups:
        middles = await uow.statistics.middle_resolve_seconds(since, groups)
        for top_id, middle in middles.items():
            stats[top_id].median_days = median_days(middle)
    return sorted(stats.values(), key=lambda s: s.unit.name)
