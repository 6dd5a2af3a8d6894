"""Reporting periods: parsing, ranges, containment and previous periods, in Asia/Jakarta."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suarawarga.surveys.periods import (
    Period,
    PeriodError,
    PeriodKind,
    parse_period,
    period_between,
    period_containing,
    previous,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CALENDAR_KINDS = [k for k in PeriodKind if k is not PeriodKind.RANGE]

PROPERTY_SETTINGS = settings(deadline=None, database=None)


def jkt(year: int, month: int, day: int, hour: int = 0) -> datetime:
    """A wall-clock time in Jakarta."""
    return datetime(year, month, day, hour, tzinfo=JAKARTA)


# --------------------------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("2026-W48", PeriodKind.WEEK, jkt(2026, 11, 23), jkt(2026, 11, 30)),
        ("2026-11", PeriodKind.MONTH, jkt(2026, 11, 1), jkt(2026, 12, 1)),
        ("2026-12", PeriodKind.MONTH, jkt(2026, 12, 1), jkt(2027, 1, 1)),
        ("2026-02", PeriodKind.MONTH, jkt(2026, 2, 1), jkt(2026, 3, 1)),
        ("2026-Q1", PeriodKind.QUARTER, jkt(2026, 1, 1), jkt(2026, 4, 1)),
        ("2026-Q4", PeriodKind.QUARTER, jkt(2026, 10, 1), jkt(2027, 1, 1)),
        ("2026-S1", PeriodKind.SEMESTER, jkt(2026, 1, 1), jkt(2026, 7, 1)),
        ("2026-S2", PeriodKind.SEMESTER, jkt(2026, 7, 1), jkt(2027, 1, 1)),
        ("2026", PeriodKind.YEAR, jkt(2026, 1, 1), jkt(2027, 1, 1)),
    ],
)
def test_parse_every_form(text: str, kind: PeriodKind, start: datetime, end: datetime) -> None:
    """Each form parses to local-midnight bounds [start, end) with its canonical label and kind."""
    period = parse_period(text, JAKARTA)
    assert period == Period(label=text, start=start, end=end, kind=kind)
    assert period.start.tzinfo is JAKARTA


def test_bounds_are_jakarta_midnight() -> None:
    """Bounds are midnight in Jakarta (UTC+7), i.e. 17:00 UTC the day before."""
    period = parse_period("2026-11", JAKARTA)
    assert period.start.utcoffset() == timedelta(hours=7)
    assert period.start.astimezone(UTC) == datetime(2026, 10, 31, 17, tzinfo=UTC)
    assert period.end.astimezone(UTC) == datetime(2026, 11, 30, 17, tzinfo=UTC)


def test_week_53_exists_in_long_iso_years() -> None:
    """2026 and 2020 have an ISO week 53 that ends in January of the next year."""
    assert parse_period("2026-W53", JAKARTA) == Period(
        label="2026-W53", start=jkt(2026, 12, 28), end=jkt(2027, 1, 4), kind=PeriodKind.WEEK
    )
    assert parse_period("2020-W53", JAKARTA).start == jkt(2020, 12, 28)


def test_week_53_rejected_in_short_iso_years() -> None:
    """2025 has only 52 ISO weeks, so 2025-W53 is an error naming the valid range."""
    with pytest.raises(PeriodError, match=r"weeks 01\.\.52"):
        parse_period("2025-W53", JAKARTA)


def test_week_1_can_start_in_the_previous_year() -> None:
    """ISO week 2026-W01 starts on Monday 29 December 2025; 2027-W01 on 4 January 2027."""
    assert parse_period("2026-W01", JAKARTA).start == jkt(2025, 12, 29)
    assert parse_period("2026-W01", JAKARTA).end == jkt(2026, 1, 5)
    assert parse_period("2027-W01", JAKARTA).start == jkt(2027, 1, 4)


def test_parsing_ignores_case_and_spaces() -> None:
    """Lower-case forms and surrounding spaces are accepted; the label is canonical."""
    assert parse_period(" 2026-q4 ", JAKARTA).label == "2026-Q4"
    assert parse_period("2026-w05", JAKARTA).label == "2026-W05"
    assert parse_period("2026-s1", JAKARTA).label == "2026-S1"


def test_triwulan_alias() -> None:
    """The Indonesian triwulan form 2026-TW4 means 2026-Q4."""
    assert parse_period("2026-TW4", JAKARTA) == parse_period("2026-Q4", JAKARTA)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "cannot read period"),
        ("next month", "cannot read period"),
        ("26", "cannot read period"),
        ("2026-11-01", "cannot read period"),
        ("2026/11", "cannot read period"),
        ("2026-W5", "cannot read period"),
        ("2026-W00", "weeks 01..53"),
        ("2026-W54", "weeks 01..53"),
        ("2026-00", "month must be 01..12"),
        ("2026-13", "month must be 01..12"),
        ("2026-Q0", "quarter"),
        ("2026-Q5", "quarter"),
        ("2026-S0", "semester must be 1 or 2"),
        ("2026-S3", "semester must be 1 or 2"),
        ("0000", "out of range"),
        ("9999", "out of range"),
    ],
)
def test_invalid_texts_rejected(text: str, message: str) -> None:
    """Unreadable or out-of-range texts raise PeriodError (a ValueError) with a clear message."""
    with pytest.raises(PeriodError, match=re.escape(message)):
        parse_period(text, JAKARTA)
    assert issubclass(PeriodError, ValueError)


def test_dst_zone_bounds_are_local_midnight() -> None:
    """In a DST zone both bounds are local midnight, so March 2026 in Amsterdam is 31 days minus one hour."""
    period = parse_period("2026-03", AMSTERDAM)
    assert period.start.utcoffset() == timedelta(hours=1)
    assert period.end.utcoffset() == timedelta(hours=2)
    assert period.end - period.start == timedelta(days=31)  # wall-clock difference, same tzinfo
    assert period.end.astimezone(UTC) - period.start.astimezone(UTC) == timedelta(days=31, hours=-1)


# --------------------------------------------------------------------------------------------- ranges


def test_period_between_is_inclusive_of_both_days() -> None:
    """1..30 November covers [1 Nov 00:00, 1 Dec 00:00), the same span as the month."""
    period = period_between(date(2026, 11, 1), date(2026, 11, 30), JAKARTA)
    month = parse_period("2026-11", JAKARTA)
    assert (period.start, period.end) == (month.start, month.end)
    assert period.label == "2026-11-01..2026-11-30"
    assert period.kind is PeriodKind.RANGE
    assert (period.first_day, period.last_day) == (date(2026, 11, 1), date(2026, 11, 30))


def test_period_between_single_day() -> None:
    """A one-day range is that day's 24 hours."""
    period = period_between(date(2026, 12, 31), date(2026, 12, 31), JAKARTA)
    assert (period.start, period.end) == (jkt(2026, 12, 31), jkt(2027, 1, 1))


def test_period_between_rejects_reversed_range() -> None:
    """A range whose start is after its end is an error."""
    with pytest.raises(PeriodError, match="after its end"):
        period_between(date(2026, 11, 2), date(2026, 11, 1), JAKARTA)


def test_period_between_rejects_datetimes() -> None:
    """Datetimes are refused where whole dates are meant."""
    with pytest.raises(PeriodError, match="not a datetime"):
        period_between(jkt(2026, 11, 1), date(2026, 11, 2), JAKARTA)


# --------------------------------------------------------------------------------------------- containing


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        (PeriodKind.WEEK, "2026-W53"),
        (PeriodKind.MONTH, "2027-01"),
        (PeriodKind.QUARTER, "2027-Q1"),
        (PeriodKind.SEMESTER, "2027-S1"),
        (PeriodKind.YEAR, "2027"),
    ],
)
def test_period_containing_converts_to_jakarta(kind: PeriodKind, label: str) -> None:
    """20:00 UTC on 31 Dec 2026 is 03:00 on 1 Jan 2027 in Jakarta, so it falls in 2027's periods."""
    moment = datetime(2026, 12, 31, 20, tzinfo=UTC)
    period = period_containing(kind, moment, JAKARTA)
    assert period.label == label
    assert period.contains(moment)


def test_period_containing_uses_the_moments_own_zone_by_default() -> None:
    """Without tz, the moment's own zone decides: the same instant in UTC is still 2026."""
    moment = datetime(2026, 12, 31, 20, tzinfo=UTC)
    assert period_containing("year", moment).label == "2026"
    assert period_containing(PeriodKind.YEAR, moment.astimezone(JAKARTA)).label == "2027"


def test_period_containing_rejects_naive_moment_and_bad_kind() -> None:
    """Naive moments, RANGE and unknown kinds are errors."""
    with pytest.raises(PeriodError, match="timezone-aware"):
        period_containing(PeriodKind.MONTH, datetime(2026, 11, 5))  # noqa: DTZ001
    with pytest.raises(PeriodError, match="period_between"):
        period_containing(PeriodKind.RANGE, jkt(2026, 11, 5))
    with pytest.raises(PeriodError, match="unknown period kind"):
        period_containing("fortnight", jkt(2026, 11, 5))


def test_contains_is_start_inclusive_end_exclusive() -> None:
    """A period contains its start instant but not its end instant."""
    period = parse_period("2026-11", JAKARTA)
    assert period.contains(period.start)
    assert period.contains(period.end - timedelta(microseconds=1))
    assert not period.contains(period.end)
    assert not period.contains(datetime(2026, 10, 31, 16, 59, tzinfo=UTC))
    assert period.contains(datetime(2026, 10, 31, 17, 0, tzinfo=UTC))
    with pytest.raises(PeriodError):
        period.contains(datetime(2026, 11, 5))  # noqa: DTZ001


# --------------------------------------------------------------------------------------------- previous


@pytest.mark.parametrize(
    ("label", "before"),
    [
        ("2027-W01", "2026-W53"),
        ("2026-W01", "2025-W52"),
        ("2026-W48", "2026-W47"),
        ("2026-01", "2025-12"),
        ("2026-11", "2026-10"),
        ("2026-Q1", "2025-Q4"),
        ("2026-Q4", "2026-Q3"),
        ("2026-S1", "2025-S2"),
        ("2026-S2", "2026-S1"),
        ("2026", "2025"),
    ],
)
def test_previous_crosses_year_boundaries(label: str, before: str) -> None:
    """previous() returns the period of the same kind just before, across year ends and week 53."""
    period = parse_period(label, JAKARTA)
    earlier = previous(period)
    assert earlier == parse_period(before, JAKARTA)
    assert earlier.end == period.start


def test_previous_range_has_the_same_length() -> None:
    """The range before 1..10 Jan 2027 is 22..31 Dec 2026."""
    period = period_between(date(2027, 1, 1), date(2027, 1, 10), JAKARTA)
    assert previous(period) == period_between(date(2026, 12, 22), date(2026, 12, 31), JAKARTA)


def test_previous_of_the_first_year_is_an_error() -> None:
    """There is no period before year 0001."""
    with pytest.raises(PeriodError, match="no period before 0001"):
        previous(parse_period("0001", JAKARTA))


# --------------------------------------------------------------------------------------------- Period itself


def test_period_requires_aware_ordered_bounds() -> None:
    """A Period with naive bounds or start ≥ end cannot be built."""
    naive = datetime(2026, 1, 1)  # noqa: DTZ001
    with pytest.raises(PeriodError, match="timezone-aware"):
        Period(label="x", start=naive, end=jkt(2026, 1, 2))
    with pytest.raises(PeriodError, match="before end"):
        Period(label="x", start=jkt(2026, 1, 2), end=jkt(2026, 1, 2))


def test_first_and_last_day() -> None:
    """first_day and last_day are the inclusive local dates of the period."""
    period = parse_period("2026-Q4", JAKARTA)
    assert period.first_day == date(2026, 10, 1)
    assert period.last_day == date(2026, 12, 31)
    assert period.tz is JAKARTA


# --------------------------------------------------------------------------------------------- properties


@PROPERTY_SETTINGS
@given(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)),
    st.times(),
    st.sampled_from(CALENDAR_KINDS),
)
def test_containing_period_round_trips(day: date, moment_time: time, kind: PeriodKind) -> None:
    """The period containing a moment contains it, re-parses from its label, and abuts its previous one."""
    moment = datetime.combine(day, moment_time, tzinfo=JAKARTA)
    period = period_containing(kind, moment)
    assert period.kind is kind
    assert period.contains(moment)
    assert parse_period(period.label, JAKARTA) == period
    assert previous(period).end == period.start
    assert period.first_day <= day <= period.last_day
