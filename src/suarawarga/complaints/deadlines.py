"""The three clocks of a complaint and what is due for them: reminders and the escalation ladder.

Clocks (SP4N-LAPOR! defaults, configurable per category): accepted by the OPD within 3 working days,
a first response to the citizen within 5 working days, resolved within 60 calendar days. All run from
the original filing time, also after a reopen. A reminder goes to the OPD on the last working day before a
deadline; a missed deadline escalates one rung a working day, from the first working day after it: officers,
then the OPD head, then the city admin. Alerts are recorded as events and never change the complaint's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from suarawarga.complaints.calendar import WorkingCalendar
from suarawarga.complaints.model import Category, ComplaintEvent, EventKind


class ClockName(StrEnum):
    """The three deadlines of a complaint; persisted in alert keys."""

    ACCEPT = "accept"
    RESPOND = "respond"
    RESOLVE = "resolve"


class Rung(StrEnum):
    """Who an alert goes to."""

    OFFICERS = "officers"
    HEAD = "head"
    CITY_ADMIN = "city_admin"


LADDER = (Rung.OFFICERS, Rung.HEAD, Rung.CITY_ADMIN)
STOPS = {
    ClockName.ACCEPT: frozenset({EventKind.ACCEPTED, EventKind.REPLIED, EventKind.INFO_REQUESTED, EventKind.RESOLVED}),
    ClockName.RESPOND: frozenset({EventKind.REPLIED, EventKind.INFO_REQUESTED, EventKind.RESOLVED}),
    ClockName.RESOLVE: frozenset({EventKind.RESOLVED}),
}


@dataclass(frozen=True, slots=True)
class Clock:
    """One deadline of a complaint and when it was met (None while it runs)."""

    name: ClockName
    due: datetime
    met_at: datetime | None

    def missed(self, now: datetime) -> bool:
        """Tell whether the deadline passed without being met."""
        return self.met_at is None and now >= self.due


@dataclass(frozen=True, slots=True)
class Alert:
    """A reminder (rung None) or an escalation to a rung, identified for idempotency by its key."""

    clock: ClockName
    rung: Rung | None
    due: datetime

    def key(self, complaint_id: int) -> str:
        """Return the unique key that makes sending this alert happen once."""
        return f"alert:{complaint_id}:{self.clock}:{self.rung or 'reminder'}"


def resolve_due(filed_at: datetime, category: Category) -> datetime:
    """Return the moment a complaint filed then must be resolved by (calendar days, not working days)."""
    return filed_at + timedelta(days=category.resolve_days)


def clocks(
    filed_at: datetime, category: Category, events: list[ComplaintEvent], calendar: WorkingCalendar
) -> list[Clock]:
    """Return the complaint's three clocks with their deadlines and the moment each was met."""
    due = {
        ClockName.ACCEPT: calendar.add_working_days(filed_at, category.accept_working_days),
        ClockName.RESPOND: calendar.add_working_days(filed_at, category.respond_working_days),
        ClockName.RESOLVE: resolve_due(filed_at, category),
    }
    result = []
    for name, deadline in due.items():
        met = next((e.at for e in events if e.kind in STOPS[name]), None)
        if name is ClockName.RESOLVE:
            # A reopen restarts only the resolution clock, still counted from the original filing.
            resolved = [e.at for e in events if e.kind is EventKind.RESOLVED]
            reopened = [e.at for e in events if e.kind is EventKind.REOPENED]
            met = resolved[-1] if resolved and not (reopened and reopened[-1] >= resolved[-1]) else None
        result.append(Clock(name, deadline, met))
    return result


def due_alerts(clock: Clock, now: datetime, calendar: WorkingCalendar) -> list[Alert]:
    """Return every alert whose moment has come for a running clock (the caller sends each at most once)."""
    if clock.met_at is not None:
        return []
    alerts: list[Alert] = []
    last_day_start = _previous_working_day_start(clock.due, calendar)
    if now >= last_day_start and now < clock.due:
        alerts.append(Alert(clock.name, None, clock.due))
    # Rung k is due at the start of the k-th working day after the first working day on or after the deadline.
    day = calendar.day_of(clock.due)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    for rung in LADDER:
        if now < datetime.combine(day, datetime.min.time(), tzinfo=calendar.tz):
            break
        alerts.append(Alert(clock.name, rung, clock.due))
        day += timedelta(days=1)
        while not calendar.is_working_day(day):
            day += timedelta(days=1)
    return alerts


def _previous_working_day_start(due: datetime, calendar: WorkingCalendar) -> datetime:
    """Return the start of the last working day before a deadline (deadlines end at midnight)."""
    day = calendar.day_of(due - timedelta(seconds=1))
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return datetime.combine(day, datetime.min.time(), tzinfo=calendar.tz)
