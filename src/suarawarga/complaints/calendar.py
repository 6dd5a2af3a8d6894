"""The city's working-day calendar: Saturdays, Sundays, national holidays, cuti bersama and city days off."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo

import holidays


class WorkingCalendar:
    """Counts working days in the city's timezone.

    A deadline of N working days after a moment ends at midnight (00:00, city time) after the N-th working
    day that follows the moment's calendar day; the filing day itself never counts.
    """

    def __init__(self, tz: tzinfo, extra_days_off: Iterable[date] = (), country: str = "ID") -> None:
        self.tz = tz
        self.extra = frozenset(extra_days_off)
        self.country = country
        self._years: dict[int, frozenset[date]] = {}

    def _holidays(self, year: int) -> frozenset[date]:
        if year not in self._years:
            # "government" adds cuti bersama (joint leave days) to the public holidays.
            found = holidays.country_holidays(self.country, years=year, categories=("public", "government"))
            self._years[year] = frozenset(found)
        return self._years[year]

    def is_working_day(self, day: date) -> bool:
        """Tell whether offices are open on a day."""
        return day.weekday() < 5 and day not in self._holidays(day.year) and day not in self.extra

    def day_of(self, moment: datetime) -> date:
        """Return the city's calendar day of a moment."""
        return moment.astimezone(self.tz).date()

    def add_working_days(self, moment: datetime, days: int) -> datetime:
        """Return the end of the `days`-th working day after the moment's day (midnight, city time)."""
        day = self.day_of(moment)
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Return how many whole working days lie after start's day up to and including end's day."""
        day, last, count = self.day_of(start), self.day_of(end), 0
        while day < last:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count
