"""A frozen clock that tests move by hand."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")


class FrozenClock:
    """A clock that stands still until a test advances it."""

    def __init__(self, start: datetime | None = None, tz: tzinfo = JAKARTA) -> None:
        self._tz = tz
        self._now = start or datetime(2026, 11, 23, 9, 0, tzinfo=tz)  # a Monday morning in Padang
        if self._now.tzinfo is None:
            raise ValueError("FrozenClock needs an aware start time")

    @property
    def tz(self) -> tzinfo:
        """Return the clock's timezone."""
        return self._tz

    def now(self) -> datetime:
        """Return the frozen time."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move time forward."""
        self._now += delta

    def set(self, moment: datetime) -> None:
        """Jump to a moment."""
        self._now = moment
