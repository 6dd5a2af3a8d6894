"""The working-day calendar: weekends, national holidays, cuti bersama and city days off."""

from __future__ import annotations

from datetime import date, datetime

from suarawarga.complaints.calendar import WorkingCalendar
from tests.support.clock import JAKARTA


def test_weekends_holidays_and_joint_leave_are_days_off() -> None:
    """Saturday, Sunday, Pancasila Day and the Eid al-Adha joint leave day are not working days."""
    calendar = WorkingCalendar(JAKARTA)
    assert not calendar.is_working_day(date(2026, 5, 30))  # Saturday
    assert not calendar.is_working_day(date(2026, 6, 1))  # Hari Lahir Pancasila
    assert not calendar.is_working_day(date(2026, 5, 28))  # cuti bersama Iduladha
    assert not calendar.is_working_day(date(2026, 12, 24))  # cuti bersama Natal
    assert calendar.is_working_day(date(2026, 6, 2))


def test_friday_before_a_long_weekend() -> None:
    """Three working days after Friday 29 May 2026 (Sat, Sun/Waisak, Mon/Pancasila off) end on Thursday 4 June."""
    calendar = WorkingCalendar(JAKARTA)
    filed = datetime(2026, 5, 29, 10, 0, tzinfo=JAKARTA)
    assert calendar.add_working_days(filed, 3) == datetime(2026, 6, 5, 0, 0, tzinfo=JAKARTA)
    assert calendar.add_working_days(filed, 5) == datetime(2026, 6, 9, 0, 0, tzinfo=JAKARTA)


def test_city_days_off_count_too() -> None:
    """A configured city day off is skipped like a national holiday."""
    calendar = WorkingCalendar(JAKARTA, [date(2026, 11, 24)])
    filed = datetime(2026, 11, 23, 9, 0, tzinfo=JAKARTA)
    assert calendar.add_working_days(filed, 1) == datetime(2026, 11, 26, 0, 0, tzinfo=JAKARTA)


def test_the_city_day_is_taken_in_the_city_timezone() -> None:
    """A UTC moment late on Friday is already Saturday in Padang."""
    calendar = WorkingCalendar(JAKARTA)
    late_friday_utc = datetime.fromisoformat("2026-11-27T18:30:00+00:00")
    assert calendar.day_of(late_friday_utc) == date(2026, 11, 28)


def test_working_days_between() -> None:
    """Ten working days after Monday 23 November 2026 is Monday 7 December."""
    calendar = WorkingCalendar(JAKARTA)
    start = datetime(2026, 11, 23, 10, 0, tzinfo=JAKARTA)
    assert calendar.working_days_between(start, datetime(2026, 12, 4, 23, 0, tzinfo=JAKARTA)) == 9
    assert calendar.working_days_between(start, datetime(2026, 12, 7, 0, 1, tzinfo=JAKARTA)) == 10
