"""The staff queue: a member's complaints filtered, searched, sorted and paged in SQL, with their deadlines marked.

Who sees what is decided by the caller (the units a member may see, None for every unit: the chat's rule). The
filters become one query (`storage/queue_sql.py`); only the page shown is read. "Overdue" means what the weekly
digest counts: an open complaint with a missed clock (accept, respond or resolve, `complaints/deadlines.py`). The
SQL filter gets it from per-category cut-off moments computed here with the working calendar: a clock of N working
days is missed exactly when the complaint was filed on or before the last city day whose deadline has passed.
The marks on the rows shown are computed from each row's history with `deadlines.clocks` itself, and a test holds
the two equal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from suarawarga.complaints.calendar import WorkingCalendar
from suarawarga.complaints.deadlines import STOPS, Clock, ClockName, clocks
from suarawarga.complaints.model import (
    OPEN_STATUSES,
    Category,
    ComplaintEvent,
    ComplaintStatus,
    EventKind,
    IdentityMode,
    normalise_code,
)
from suarawarga.storage.uow import UnitOfWork

PAGE_SIZES = (25, 50, 100)
EXPORT_LIMIT = 10_000  # rows in one export: a month of a large OPD; a wider export narrows its filters first
SEARCH_MAX = 100
EXCERPT = 140

ACCEPT_STOPS = tuple(sorted(k.value for k in STOPS[ClockName.ACCEPT]))
RESPOND_STOPS = tuple(sorted(k.value for k in STOPS[ClockName.RESPOND]))


class QueueSort(StrEnum):
    """The orders a queue can be shown in; the values are what the address carries."""

    OLDEST = "terlama"  # the chat's queue order: the longest waiting first
    NEWEST = "terbaru"
    UPDATED = "diperbarui"  # most recently changed first
    CODE = "kode"


class Deadline(StrEnum):
    """How a row stands against its clocks."""

    OVERDUE = "overdue"  # a clock missed (what the digest counts)
    NEAR = "near"  # a clock ends today (the day its reminder goes to the OPD)
    OK = "ok"
    DONE = "done"  # resolved or closed: no clock runs


@dataclass(frozen=True, slots=True)
class Cutoff:
    """When a category's clocks have run out: a complaint filed at or before each moment missed that clock."""

    category_id: int
    accept: datetime
    respond: datetime
    resolve: datetime


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the member asked for; every field narrows the list (empty: no narrowing)."""

    statuses: tuple[ComplaintStatus, ...] = ()
    category_ids: tuple[int, ...] = ()
    kecamatan_ids: tuple[int, ...] = ()
    identity_modes: tuple[IdentityMode, ...] = ()
    overdue: bool = False
    filed_from: date | None = None
    filed_to: date | None = None  # inclusive, a city day
    search: str = ""
    sort: QueueSort = QueueSort.OLDEST
    page: int = 1
    per_page: int = PAGE_SIZES[0]


@dataclass(frozen=True, slots=True)
class QueueCriteria:
    """A filter turned into what SQL compares: unit ids, moments, cut-offs (built by `criteria`)."""

    unit_ids: frozenset[int] | None  # None: every unit (a city admin)
    statuses: tuple[str, ...] = ()
    category_ids: tuple[int, ...] = ()
    kecamatan_ids: tuple[int, ...] = ()
    identity_modes: tuple[str, ...] = ()
    filed_from: datetime | None = None
    filed_before: datetime | None = None
    code: str | None = None  # an exact tracking code typed in the search box
    text: str | None = None  # else: a part of a code or of the description
    overdue: tuple[Cutoff, ...] | None = None
    sort: QueueSort = QueueSort.OLDEST


@dataclass(frozen=True, slots=True)
class QueueRow:
    """A complaint as the queue lists it: never the reporter's name or contact."""

    id: int
    code: str
    status: ComplaintStatus
    category_id: int
    unit_id: int
    kecamatan_id: int | None
    identity_mode: IdentityMode
    filed_at: datetime
    updated_at: datetime
    description: str
    location_text: str | None


@dataclass(frozen=True, slots=True)
class GroupCount:
    """Complaints of one group (a category or a kecamatan) filed in a window, and how many are open and overdue."""

    key: int | None  # the category's or kecamatan's id; None: no kecamatan known
    received: int
    resolved: int
    open_now: int
    overdue_now: int


@dataclass(frozen=True, slots=True)
class QueueItem:
    """A row with its deadline mark and the next deadline still running."""

    row: QueueRow
    deadline: Deadline
    due: datetime | None  # the earliest running clock's end (missed or not)
    missed: tuple[ClockName, ...] = ()
    due_clock: ClockName | None = None  # which clock `due` belongs to

    @property
    def excerpt(self) -> str:
        """Return the start of the description on one line."""
        text = " ".join(self.row.description.split())
        return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class QueuePage:
    """One page of a queue, with the total and the count per status (under every filter but the status)."""

    items: tuple[QueueItem, ...]
    total: int
    page: int
    per_page: int
    status_counts: Mapping[ComplaintStatus, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """Return how many pages the filtered list has (at least one)."""
        return max(1, math.ceil(self.total / self.per_page))


def _day_start(day: date, calendar: WorkingCalendar) -> datetime:
    return datetime.combine(day, time(0), tzinfo=calendar.tz)


def working_cutoff(days: int, now: datetime, calendar: WorkingCalendar) -> datetime:
    """Return the moment before which a complaint filed has missed a clock of `days` working days by `now`."""
    day = calendar.day_of(now)
    while calendar.add_working_days(_day_start(day, calendar), days) > now:
        day -= timedelta(days=1)
    return _day_start(day + timedelta(days=1), calendar)


def cutoffs(categories: Iterable[Category], now: datetime, calendar: WorkingCalendar) -> tuple[Cutoff, ...]:
    """Return every category's cut-off moments at `now` (filed_at < accept/respond, filed_at <= resolve)."""
    cache: dict[int, datetime] = {}

    def working(days: int) -> datetime:
        if days not in cache:
            cache[days] = working_cutoff(days, now, calendar)
        return cache[days]

    return tuple(
        Cutoff(c.id, working(c.accept_working_days), working(c.respond_working_days), now - timedelta(c.resolve_days))
        for c in categories
    )


def criteria(
    unit_ids: frozenset[int] | None,
    wanted: QueueFilter,
    categories: Iterable[Category],
    now: datetime,
    calendar: WorkingCalendar,
) -> QueueCriteria:
    """Turn a member's filter into SQL terms (city days become moments in the city's timezone)."""
    search = " ".join(wanted.search.split())[:SEARCH_MAX]
    code = normalise_code(search) if search else None
    return QueueCriteria(
        unit_ids=unit_ids,
        statuses=tuple(sorted(s.value for s in wanted.statuses)),
        category_ids=tuple(sorted(set(wanted.category_ids))),
        kecamatan_ids=tuple(sorted(set(wanted.kecamatan_ids))),
        identity_modes=tuple(sorted(m.value for m in wanted.identity_modes)),
        filed_from=_day_start(wanted.filed_from, calendar) if wanted.filed_from else None,
        filed_before=_day_start(wanted.filed_to + timedelta(days=1), calendar) if wanted.filed_to else None,
        code=code,
        text=None if code or not search else search,
        overdue=cutoffs(categories, now, calendar) if wanted.overdue else None,
        sort=wanted.sort,
    )


def _reminder_day(due: datetime, calendar: WorkingCalendar) -> date:
    """Return the last working day before a deadline: the day its reminder goes out (deadlines.due_alerts)."""
    day = calendar.day_of(due - timedelta(seconds=1))
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


def mark(
    row: QueueRow, category: Category | None, events: Sequence[ComplaintEvent], now: datetime, cal: WorkingCalendar
) -> QueueItem:
    """Return a row with its deadline mark, from its clocks as the deadline job computes them."""
    if row.status not in OPEN_STATUSES or category is None:
        return QueueItem(row, Deadline.DONE, None)
    running: list[Clock] = [c for c in clocks(row.filed_at, category, list(events), cal) if c.met_at is None]
    missed = tuple(c.name for c in running if c.missed(now))
    first = min(running, key=lambda c: c.due, default=None)
    due, name = (first.due, first.name) if first else (None, None)
    if missed:
        return QueueItem(row, Deadline.OVERDUE, due, missed, name)
    if any(_reminder_day(c.due, cal) <= cal.day_of(now) for c in running):
        return QueueItem(row, Deadline.NEAR, due, due_clock=name)
    return QueueItem(row, Deadline.OK, due, due_clock=name)


async def _categories(uow: UnitOfWork) -> dict[int, Category]:
    return {c.id: c for c in await uow.statistics.categories()}


async def queue_page(
    uow: UnitOfWork,
    unit_ids: frozenset[int] | None,
    wanted: QueueFilter,
    now: datetime,
    calendar: WorkingCalendar,
) -> QueuePage:
    """Return one page of the complaints of the given units (None: all) under a member's filter."""
    categories = await _categories(uow)
    terms = criteria(unit_ids, wanted, categories.values(), now, calendar)
    total = await uow.queue.count(terms)
    per_page = wanted.per_page if wanted.per_page in PAGE_SIZES else PAGE_SIZES[0]
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, wanted.page), pages)
    rows = await uow.queue.rows(terms, (page - 1) * per_page, per_page)
    counts = await uow.queue.status_counts(replace(terms, statuses=()))
    items = await _marked(uow, rows, categories, now, calendar)
    return QueuePage(tuple(items), total, page, per_page, {s: counts.get(s.value, 0) for s in ComplaintStatus})


async def _marked(
    uow: UnitOfWork, rows: Sequence[QueueRow], categories: Mapping[int, Category], now: datetime, cal: WorkingCalendar
) -> list[QueueItem]:
    open_ids = [r.id for r in rows if r.status in OPEN_STATUSES]
    events = await uow.queue.events_of(open_ids, (*ACCEPT_STOPS, EventKind.REOPENED.value)) if open_ids else {}
    return [mark(r, categories.get(r.category_id), events.get(r.id, ()), now, cal) for r in rows]


async def queue_export(
    uow: UnitOfWork,
    unit_ids: frozenset[int] | None,
    wanted: QueueFilter,
    now: datetime,
    calendar: WorkingCalendar,
    limit: int = EXPORT_LIMIT,
) -> tuple[list[QueueItem], int]:
    """Return the whole filtered list (at most `limit` rows, in the chosen order) and how many matched."""
    categories = await _categories(uow)
    terms = criteria(unit_ids, wanted, categories.values(), now, calendar)
    total = await uow.queue.count(terms)
    rows = await uow.queue.rows(terms, 0, limit)
    return await _marked(uow, rows, categories, now, calendar), total


class GroupBy(StrEnum):
    """What complaint statistics are grouped by."""

    CATEGORY = "category"
    KECAMATAN = "kecamatan"


async def breakdown(
    uow: UnitOfWork,
    unit_ids: frozenset[int] | None,
    by: GroupBy,
    start: datetime,
    end: datetime,
    now: datetime,
    calendar: WorkingCalendar,
) -> list[GroupCount]:
    """Count the complaints of the given units (None: all) filed in [start, end) per category or kecamatan.

    Received, resolved (resolved or closed now), open now and overdue now (the digest's rule), largest first; the
    kecamatan of a complaint located by neither address nor map is None.
    """
    categories = await _categories(uow)
    terms = QueueCriteria(unit_ids=unit_ids)
    overdue = replace(terms, overdue=cutoffs(categories.values(), now, calendar))
    found = await uow.queue.grouped(terms, by.value, start, end, overdue)
    return sorted(found, key=lambda g: (-g.received, g.key is None, g.key or 0))
