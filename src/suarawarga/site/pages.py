"""What the public pages show, built from the same services as the reports (no storage access of their own).

Every IKM figure comes from `surveys.services.ikm_report`, the function behind `suarawarga report ikm`, so a page
and the report always agree (a test compares them). A figure is published only when enough people answered
(`enough`, the same rule that hatches a bar on the charts); otherwise the page says so instead of showing a
number (docs/ikm.md §4).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal

from suarawarga.complaints.calendar import WorkingCalendar
from suarawarga.complaints.model import ComplaintStatus, Unit, normalise_code
from suarawarga.complaints.public import PublicStep, public_steps
from suarawarga.complaints.statistics import UnitComplaintStats, complaint_statistics
from suarawarga.storage.uow import UnitOfWork, UnitOfWorkFactory
from suarawarga.surveys.graphics import sample_short
from suarawarga.surveys.ikm import Weight
from suarawarga.surveys.periods import Period, PeriodKind, period_containing, previous
from suarawarga.surveys.services import IkmLine, IkmReport, Scope, ikm_report

STATISTICS_DAYS = 90


def enough(line: IkmLine | None) -> bool:
    """Tell whether a line has enough answers to publish its IKM: the charts' rule (the minimum sample, or 30)."""
    if line is None or line.result is None:
        return False
    return not sample_short(line.n_respondents, line.sample_ok)


@dataclass(frozen=True, slots=True)
class Ranked:
    """One OPD on the city page: this period's line, the previous period's, and the change."""

    unit: Unit
    line: IkmLine | None
    before: IkmLine | None

    @property
    def published(self) -> bool:
        """Tell whether this period's IKM is shown."""
        return enough(self.line)

    @property
    def change(self) -> Decimal | None:
        """Return the change of the shown IKM against the previous period (both must be published)."""
        if not (self.published and enough(self.before)) or self.line is None or self.before is None:
            return None
        if self.line.result is None or self.before.result is None:
            return None
        return self.line.result.ikm_rounded - self.before.result.ikm_rounded


@dataclass(frozen=True, slots=True)
class CityPage:
    """The city page: its IKM now and before, every OPD ranked, and complaint figures per OPD."""

    period: Period
    before: Period
    city: IkmLine
    city_before: IkmLine
    ranking: tuple[Ranked, ...]
    complaints: tuple[UnitComplaintStats, ...]
    statistics_days: int


def _tops(report: IkmReport) -> dict[str, IkmLine]:
    """Return the line of every top-level unit (an OPD's pooled line, or a lone unit's own) by code."""
    units = report.units
    top_codes = {u.code for u in units.values() if u.parent_id is None or u.parent_id not in units}
    found: dict[str, IkmLine] = {}
    for line in report.lines:
        if line.scope is not Scope.CITY and line.code in top_codes and line.code not in found:
            found[line.code] = line
    return found


async def city_page(
    uows: UnitOfWorkFactory,
    now: datetime,
    calendar: WorkingCalendar,
    city: tuple[str, str],
    weight: Weight = Weight.EXACT,
) -> CityPage:
    """Build the city page for the quarter containing `now`.

    The complaint figures and the IKM are read in two units of work side by side: the database works out the
    complaint aggregates while this process sums the IKM (the page's two halves share nothing).
    """
    period = period_containing(PeriodKind.QUARTER, now, calendar.tz)
    before = previous(period)

    async def complaints() -> list[UnitComplaintStats]:
        async with uows() as uow:
            return await complaint_statistics(uow, calendar, now, STATISTICS_DAYS)

    async def reports() -> tuple[IkmReport, IkmReport]:
        async with uows() as uow:
            return await ikm_report(uow, period, weight, city=city), await ikm_report(uow, before, weight, city=city)

    stats, (report, earlier) = await asyncio.gather(complaints(), reports())
    lines, old_lines = _tops(report), _tops(earlier)
    tops = sorted(
        (u for u in report.units.values() if u.parent_id is None or u.parent_id not in report.units),
        key=lambda u: u.name,
    )
    ranked = [Ranked(u, lines.get(u.code), old_lines.get(u.code)) for u in tops]
    shown = sorted(
        (r for r in ranked if r.published and r.line is not None and r.line.result is not None),
        key=lambda r: (-r.line.result.ikm_rounded if r.line and r.line.result else Decimal(0), r.unit.name),
    )
    waiting = [r for r in ranked if not r.published]
    return CityPage(period, before, report.first(), earlier.first(), (*shown, *waiting), tuple(stats), STATISTICS_DAYS)


@dataclass(frozen=True, slots=True)
class Trend:
    """A unit's IKM in one earlier period, for the trend table."""

    period: Period
    line: IkmLine

    @property
    def published(self) -> bool:
        """Tell whether the figure is shown."""
        return enough(self.line)


@dataclass(frozen=True, slots=True)
class UnitPage:
    """One unit's (or OPD's, pooled) page for a period."""

    unit: Unit
    report: IkmReport
    trend: tuple[Trend, ...]

    @property
    def line(self) -> IkmLine:
        """Return the unit's own line (pooled with its sub-units for an OPD)."""
        return self.report.first()

    @property
    def members(self) -> tuple[IkmLine, ...]:
        """Return the sub-units' lines of an OPD (with answers)."""
        return self.report.lines[1:] if self.line.scope is Scope.OPD else ()

    @property
    def published(self) -> bool:
        """Tell whether the IKM is shown."""
        return enough(self.line)


async def find_unit(uow: UnitOfWork, code: str) -> Unit | None:
    """Return an active unit by its code, whatever the case of the code given."""
    cleaned = code.strip().upper()
    if not cleaned or len(cleaned) > 32:
        return None
    return await uow.units.by_code(cleaned)


async def unit_page(
    uow: UnitOfWork, unit: Unit, period: Period, now: datetime, weight: Weight = Weight.EXACT
) -> UnitPage:
    """Build a unit's page: its IKM in the period, and its last four quarters."""
    report = await ikm_report(uow, period, weight, unit_code=unit.code)
    quarters: list[Trend] = []
    quarter = period_containing(PeriodKind.QUARTER, now, report.period.tz)
    for _ in range(4):
        quarter_report = await ikm_report(uow, quarter, weight, unit_code=unit.code)
        quarters.append(Trend(quarter, quarter_report.first()))
        quarter = previous(quarter)
    return UnitPage(unit, report, tuple(reversed(quarters)))


def period_choices(now: datetime, tz: tzinfo) -> list[Period]:
    """Return the periods offered by the picker: the last four quarters, two semesters and two years."""
    choices: list[Period] = []
    for kind, count in ((PeriodKind.QUARTER, 4), (PeriodKind.SEMESTER, 2), (PeriodKind.YEAR, 2)):
        period = period_containing(kind, now, tz)
        for _ in range(count):
            choices.append(period)
            period = previous(period)
    return choices


@dataclass(frozen=True, slots=True)
class Tracked:
    """A complaint as the tracking page shows it."""

    code: str
    category: str
    unit: str
    status: ComplaintStatus
    filed_at: datetime
    steps: Sequence[PublicStep]
    supporters: int = 0  # citizens who joined it ("saya juga mengalami"); a count, never who


async def track(uow: UnitOfWork, code: str, language: str) -> Tracked | None:
    """Return what the public may see of a complaint, or None when the code is unknown."""
    cleaned = normalise_code(code)
    if cleaned is None:
        return None
    complaint = await uow.complaints.by_code(cleaned)
    if complaint is None:
        return None
    category = await uow.categories.get(complaint.category_id)
    unit = await uow.units.get(complaint.unit_id)
    return Tracked(
        complaint.code,
        category.name(language) if category else "",
        unit.name if unit else "",
        complaint.status,
        complaint.filed_at,
        public_steps(await uow.complaints.history(complaint.id)),
        (await uow.supports.counts([complaint.id])).get(complaint.id, 0),
    )
