"""The weekly digest: each OPD's complaint handling and IKM figures for an ISO week, and the city ranking.

Figures per unit (complaints by the unit they are routed to now; IKM pooled over the unit and its sub-units):
received, accepted, resolved and reopened in the week; overdue at the end of the week (a missed clock, with the
oldest codes); median time from filing to acceptance and to resolution of those accepted/resolved in the week;
the citizens' handling rating (1–4, its own figure, never part of the IKM); IKM of the week and of the quarter
so far with n and sample adequacy, the weakest unsur; change against the previous week.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from suarawarga.complaints.calendar import WorkingCalendar
from suarawarga.complaints.deadlines import clocks
from suarawarga.complaints.model import OPEN_STATUSES, Category, EventKind, Unit, UnitKind
from suarawarga.storage.complaints import pages
from suarawarga.storage.uow import UnitOfWork
from suarawarga.surveys.ikm import Weight
from suarawarga.surveys.periods import Period, PeriodKind, period_containing, previous
from suarawarga.surveys.services import IkmLine, ikm_report

OLDEST_SHOWN = 3
DIGEST_KINDS = (UnitKind.OPD, UnitKind.KECAMATAN, UnitKind.OTHER)


@dataclass(frozen=True, slots=True)
class IkmFigure:
    """An IKM with its sample, for one period (None values when nobody answered)."""

    ikm: Decimal | None
    mutu: str | None
    n: int
    sample_ok: bool | None
    weakest: tuple[str, ...] = ()


@dataclass
class UnitWeek:
    """One unit's figures for one week."""

    unit: Unit
    received: int = 0
    accepted: int = 0
    resolved: int = 0
    reopened: int = 0
    overdue: int = 0
    oldest_overdue: list[str] = field(default_factory=list)
    median_accept_hours: Decimal | None = None
    median_resolve_days: Decimal | None = None
    rating_mean: Decimal | None = None
    rating_n: int = 0
    ikm_week: IkmFigure = field(default_factory=lambda: IkmFigure(None, None, 0, None))
    ikm_quarter: IkmFigure = field(default_factory=lambda: IkmFigure(None, None, 0, None))
    received_before: int = 0
    ikm_before: Decimal | None = None

    @property
    def received_change(self) -> int:
        """Return received this week minus received the week before."""
        return self.received - self.received_before

    @property
    def active(self) -> bool:
        """Return whether the unit had any complaint figure this week (or an overdue one)."""
        return any((self.received, self.accepted, self.resolved, self.reopened, self.overdue, self.rating_n))

    @property
    def ikm_change(self) -> Decimal | None:
        """Return this week's IKM minus last week's (None if either is missing)."""
        if self.ikm_week.ikm is None or self.ikm_before is None:
            return None
        return self.ikm_week.ikm - self.ikm_before


@dataclass
class CityDigest:
    """Every unit's week, ranked for the city admins."""

    week: Period
    generated_at: datetime
    units: list[UnitWeek]

    def ranking(self) -> list[UnitWeek]:
        """Return the units with an IKM this quarter, highest first (ties by fewer overdue, then by name)."""
        return sorted(
            (u for u in self.units if u.ikm_quarter.ikm is not None),
            key=lambda u: (-(u.ikm_quarter.ikm or 0), u.overdue, u.unit.name.casefold()),
        )

    def unrated(self) -> list[UnitWeek]:
        """Return the units with complaints but no IKM this quarter, most overdue first, then by name."""
        return sorted(
            (u for u in self.units if u.ikm_quarter.ikm is None and u.active),
            key=lambda u: (-u.overdue, u.unit.name.casefold()),
        )

    def idle(self) -> list[UnitWeek]:
        """Return the units with neither survey answers this quarter nor complaints, by name."""
        return sorted(
            (u for u in self.units if u.ikm_quarter.ikm is None and not u.active),
            key=lambda u: u.unit.name.casefold(),
        )

    def ordered(self) -> list[UnitWeek]:
        """Return every unit: the ranking, then the unrated units with complaints, then the idle ones."""
        return self.ranking() + self.unrated() + self.idle()


def _two(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _figure(line: IkmLine | None) -> IkmFigure:
    if line is None or line.result is None:
        return IkmFigure(None, None, line.n_respondents if line else 0, line.sample_ok if line else None)
    result = line.result
    return IkmFigure(
        result.ikm_rounded,
        result.mutu.value,
        line.n_respondents,
        line.sample_ok,
        tuple(u.value for u in result.weakest),
    )


async def _ikm_lines(uow: UnitOfWork, period: Period, units: list[Unit]) -> dict[int, IkmLine]:
    report = await ikm_report(uow, period, Weight.EXACT)
    by_code = {line.code: line for line in report.lines}
    return {u.id: by_code[u.code] for u in units if u.code in by_code}


async def gather(uow: UnitOfWork, calendar: WorkingCalendar, week: Period, now: datetime) -> CityDigest:
    """Compute the digest of `week` for every OPD-level unit."""
    units = [u for u in await uow.units.list() if u.kind in DIGEST_KINDS]
    lines = {u.id: UnitWeek(u) for u in units}
    before = previous(week)
    for complaint in await uow.complaints.filed_between(week.start, week.end):
        if complaint.unit_id in lines:
            lines[complaint.unit_id].received += 1
    for complaint in await uow.complaints.filed_between(before.start, before.end):
        if complaint.unit_id in lines:
            lines[complaint.unit_id].received_before += 1
    accept_hours: dict[int, list[float]] = {}
    resolve_days: dict[int, list[float]] = {}
    for event in await uow.complaints.events_between(
        week.start, week.end, (EventKind.ACCEPTED, EventKind.RESOLVED, EventKind.REOPENED)
    ):
        line = lines.get(event.unit_id)
        if line is None:
            continue
        waited = event.at - event.filed_at
        if event.kind is EventKind.ACCEPTED:
            line.accepted += 1
            accept_hours.setdefault(event.unit_id, []).append(waited / timedelta(hours=1))
        elif event.kind is EventKind.RESOLVED:
            line.resolved += 1
            resolve_days.setdefault(event.unit_id, []).append(waited / timedelta(days=1))
        else:
            line.reopened += 1
    for unit_id, values in accept_hours.items():
        lines[unit_id].median_accept_hours = _two(statistics.median(values))
    for unit_id, values in resolve_days.items():
        lines[unit_id].median_resolve_days = _two(statistics.median(values))
    categories: dict[int, Category | None] = {c.id: c for c in await uow.categories.list()}
    async for page in pages(uow.complaints, OPEN_STATUSES):
        histories = await uow.complaints.histories([c.id for c in page])
        for complaint in page:
            line = lines.get(complaint.unit_id)
            if complaint.category_id not in categories:  # no longer offered: still the complaint's category
                categories[complaint.category_id] = await uow.categories.get(complaint.category_id)
            category = categories[complaint.category_id]
            if line is None or category is None:
                continue
            history = histories[complaint.id]
            if any(c.missed(week.end) for c in clocks(complaint.filed_at, category, history, calendar)):
                line.overdue += 1
                if len(line.oldest_overdue) < OLDEST_SHOWN:
                    line.oldest_overdue.append(complaint.code)  # complaints come oldest first
    for line in lines.values():
        scores = await uow.ratings.scores(line.unit.id, week.start, week.end)
        if scores:
            line.rating_n = len(scores)
            line.rating_mean = _two(Decimal(sum(scores)) / len(scores))
    quarter = period_containing(PeriodKind.QUARTER, week.end - timedelta(seconds=1), calendar.tz)
    quarter_so_far = Period(quarter.label, quarter.start, min(quarter.end, week.end), quarter.kind)
    week_lines = await _ikm_lines(uow, week, units)
    quarter_lines = await _ikm_lines(uow, quarter_so_far, units)
    before_lines = await _ikm_lines(uow, before, units)
    for unit in units:
        line = lines[unit.id]
        line.ikm_week = _figure(week_lines.get(unit.id))
        line.ikm_quarter = _figure(quarter_lines.get(unit.id))
        line.ikm_before = _figure(before_lines.get(unit.id)).ikm
    return CityDigest(week, now, list(lines.values()))
