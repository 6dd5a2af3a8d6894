"""Where "now" comes from: the only module that reads the system time."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Protocol


class Clock(Protocol):
    """A source of timezone-aware 'now' values in the city's timezone."""

    @property
    def tz(self) -> tzinfo:
        """Return the city's timezone."""
        ...

    def now(self) -> datetime:
        """Return the current time, timezone-aware."""
        ...


class SystemClock:
    """The real clock, in a given timezone."""

    def __init__(self, tz: tzinfo) -> None:
        self._tz = tz

    @property
    def tz(self) -> tzinfo:
        """Return the city's timezone."""
        return self._tz

    def now(self) -> datetime:
        """Return the current wall-clock time in the city's timezone."""
        return datetime.now(self._tz)


def day_start(moment: datetime, tz: tzinfo) -> datetime:
    """Return local midnight (in tz) of the day a moment falls on."""
    return moment.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
