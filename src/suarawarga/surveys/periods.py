"""Reporting periods: ISO week, month, triwulan, semester, year, or an inclusive range of days.

A :class:`Period` is a half-open interval ``[start, end)`` of timezone-aware datetimes at local midnight in
the city's timezone, so ``start <= moment < end`` decides membership without any rounding. Labels are the
canonical texts ``2026-W48``, ``2026-11``, ``2026-Q4``, ``2026-S2``, ``2026`` and ``2026-11-01..2026-11-15``.
Pure stdlib; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Final

__all__ = [
    "Period",
    "PeriodError",
    "PeriodKind",
    "parse_period",
    "period_between",
    "period_containing",
    "previous",
]

MIN_YEAR: Final = 1
MAX_YEAR: Final = 9998
"""The last year whose periods still end inside :mod:`datetime`'s range."""


class PeriodError(ValueError):
    """A period text, range or moment that cannot be turned into a period."""


class PeriodKind(StrEnum):
    """The kinds of reporting period; RANGE is an arbitrary inclusive range of days."""

    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    SEMESTER = "semester"
    YEAR = "year"
    RANGE = "range"


@dataclass(frozen=True, slots=True)
class Period:
    """A labelled half-open interval [start, end) of timezone-aware datetimes (end exclusive)."""

    label: str
    start: datetime
    end: datetime
    kind: PeriodKind = PeriodKind.RANGE

    def __post_init__(self) -> None:
        """Check that both bounds are timezone-aware and that start < end."""
        for name, value in (("start", self.start), ("end", self.end)):
            if value.tzinfo is None or value.utcoffset() is None:
                raise PeriodError(f"period {name} must be timezone-aware, got {value.isoformat()}")
        if not self.start < self.end:
            raise PeriodError(f"period start {self.start.isoformat()} must be before end {self.end.isoformat()}")

    @property
    def tz(self) -> tzinfo:
        """Return the timezone the period's days are counted in."""
        tz = self.start.tzinfo
        if tz is None:  # pragma: no cover - excluded by __post_init__
            raise PeriodError("period start must be timezone-aware")
        return tz

    @property
    def first_day(self) -> date:
        """Return the first local day in the period."""
        return self.start.date()

    @property
    def last_day(self) -> date:
        """Return the last local day in the period (inclusive)."""
        return self.end.astimezone(self.tz).date() - timedelta(days=1)

    def contains(self, moment: datetime) -> bool:
        """Return whether a timezone-aware moment lies in [start, end)."""
        _require_aware(moment)
        return self.start <= moment < self.end


# --------------------------------------------------------------------------------------------- helpers


def _require_aware(moment: datetime) -> None:
    if not isinstance(moment, datetime):
        raise PeriodError(f"expected a datetime, got {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise PeriodError(f"moment {moment.isoformat()} must be timezone-aware")


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(f"year {year} is out of range {MIN_YEAR}..{MAX_YEAR}")


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def _span(label: str, kind: PeriodKind, first: date, end: date, tz: tzinfo) -> Period:
    return Period(label=label, start=_midnight(first, tz), end=_midnight(end, tz), kind=kind)


def _iso_weeks_in(year: int) -> int:
    return date(year, 12, 28).isocalendar().week


def _week(year: int, week: int, tz: tzinfo) -> Period:
    _check_year(year)
    weeks = _iso_weeks_in(year)
    if not 1 <= week <= weeks:
        raise PeriodError(f"ISO year {year} has weeks 01..{weeks}, not {week:02d}")
    monday = date.fromisocalendar(year, week, 1)
    return _span(f"{year:04d}-W{week:02d}", PeriodKind.WEEK, monday, monday + timedelta(days=7), tz)


def _months(year: int, first_month: int, months: int) -> tuple[date, date]:
    _check_year(year)
    first = date(year, first_month, 1)
    last_month = first_month + months  # 13 means January of the next year
    end = date(year + 1, 1, 1) if last_month > 12 else date(year, last_month, 1)
    return first, end


def _month(year: int, month: int, tz: tzinfo) -> Period:
    if not 1 <= month <= 12:
        raise PeriodError(f"month must be 01..12, not {month:02d}")
    first, end = _months(year, month, 1)
    return _span(f"{year:04d}-{month:02d}", PeriodKind.MONTH, first, end, tz)


def _quarter(year: int, quarter: int, tz: tzinfo) -> Period:
    if not 1 <= quarter <= 4:
        raise PeriodError(f"triwulan (quarter) must be 1..4, not {quarter}")
    first, end = _months(year, 3 * quarter - 2, 3)
    return _span(f"{year:04d}-Q{quarter}", PeriodKind.QUARTER, first, end, tz)


def _semester(year: int, semester: int, tz: tzinfo) -> Period:
    if not 1 <= semester <= 2:
        raise PeriodError(f"semester must be 1 or 2, not {semester}")
    first, end = _months(year, 6 * semester - 5, 6)
    return _span(f"{year:04d}-S{semester}", PeriodKind.SEMESTER, first, end, tz)


def _year(year: int, tz: tzinfo) -> Period:
    first, end = _months(year, 1, 12)
    return _span(f"{year:04d}", PeriodKind.YEAR, first, end, tz)


def _range(first: date, last: date, tz: tzinfo) -> Period:
    if first > last:
        raise PeriodError(f"range start {first.isoformat()} is after its end {last.isoformat()}")
    _check_year(first.year)
    _check_year(last.year)
    label = f"{first.isoformat()}..{last.isoformat()}"
    return _span(label, PeriodKind.RANGE, first, last + timedelta(days=1), tz)


def _for_day(kind: PeriodKind, day: date, tz: tzinfo) -> Period:
    if kind is PeriodKind.WEEK:
        iso = day.isocalendar()
        return _week(iso.year, iso.week, tz)
    if kind is PeriodKind.MONTH:
        return _month(day.year, day.month, tz)
    if kind is PeriodKind.QUARTER:
        return _quarter(day.year, (day.month - 1) // 3 + 1, tz)
    if kind is PeriodKind.SEMESTER:
        return _semester(day.year, (day.month - 1) // 6 + 1, tz)
    if kind is PeriodKind.YEAR:
        return _year(day.year, tz)
    raise PeriodError(f"no calendar period of kind {kind!r}; use period_between() for ranges")


# --------------------------------------------------------------------------------------------- public API

_YEAR_RE: Final = re.compile(r"(\d{4})")
_WEEK_RE: Final = re.compile(r"(\d{4})-W(\d{2})")
_MONTH_RE: Final = re.compile(r"(\d{4})-(\d{2})")
_QUARTER_RE: Final = re.compile(r"(\d{4})-(?:Q|TW)(\d)")
_SEMESTER_RE: Final = re.compile(r"(\d{4})-S(\d)")

_FORMS: Final = "2026-W48 (ISO week), 2026-11 (month), 2026-Q4 (triwulan), 2026-S2 (semester) or 2026 (year)"


def parse_period(text: str, tz: tzinfo) -> Period:
    """Parse ``2026-W48``, ``2026-11``, ``2026-Q4`` (or ``2026-TW4``), ``2026-S2`` or ``2026`` in tz."""
    cleaned = text.strip().upper() if isinstance(text, str) else ""
    if match := _YEAR_RE.fullmatch(cleaned):
        year = int(match.group(1))
        _check_year(year)
        return _year(year, tz)
    if match := _WEEK_RE.fullmatch(cleaned):
        return _week(int(match.group(1)), int(match.group(2)), tz)
    if match := _MONTH_RE.fullmatch(cleaned):
        return _month(int(match.group(1)), int(match.group(2)), tz)
    if match := _QUARTER_RE.fullmatch(cleaned):
        return _quarter(int(match.group(1)), int(match.group(2)), tz)
    if match := _SEMESTER_RE.fullmatch(cleaned):
        return _semester(int(match.group(1)), int(match.group(2)), tz)
    raise PeriodError(f"cannot read period {text!r}; write {_FORMS}")


def period_between(from_date: date, to_date: date, tz: tzinfo) -> Period:
    """Return the period of whole local days from_date..to_date inclusive, i.e. [from 00:00, to+1 00:00)."""
    for name, value in (("from_date", from_date), ("to_date", to_date)):
        if isinstance(value, datetime) or not isinstance(value, date):
            raise PeriodError(f"{name} must be a date (not a datetime), got {value!r}")
    return _range(from_date, to_date, tz)


def period_containing(kind: PeriodKind | str, moment: datetime, tz: tzinfo | None = None) -> Period:
    """Return the week/month/quarter/semester/year containing a timezone-aware moment (in tz, if given)."""
    try:
        period_kind = PeriodKind(kind)
    except ValueError:
        raise PeriodError(f"unknown period kind {kind!r}; expected one of {[k.value for k in PeriodKind]}") from None
    _require_aware(moment)
    local = moment.astimezone(tz) if tz is not None else moment
    zone = local.tzinfo
    if zone is None:  # pragma: no cover - astimezone() of an aware datetime is aware
        raise PeriodError("moment must be timezone-aware")
    return _for_day(period_kind, local.date(), zone)


def previous(period: Period) -> Period:
    """Return the period of the same kind just before this one (a range: the same number of days before)."""
    tz = period.tz
    try:
        last = period.first_day - timedelta(days=1)
        if period.kind is PeriodKind.RANGE:
            days = (period.last_day - period.first_day).days + 1
            return _range(last - timedelta(days=days - 1), last, tz)
    except OverflowError:
        raise PeriodError(f"no period before {period.label}: out of the calendar's range") from None
    return _for_day(period.kind, last, tz)
