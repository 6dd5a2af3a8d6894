"""What of a complaint the public may see: its category, OPD, status and the public steps of its history.

Never a name, a contact, a chat, the description, a photo, an officer or an officer's note, or an exact place:
the public tracking page and the Open311 feed are built from these records only (docs/complaints.md §4).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from suarawarga.complaints.model import OPEN_STATUSES, ComplaintEvent, ComplaintStatus, EventKind

PUBLIC_STEPS = frozenset(
    {
        EventKind.FILED,
        EventKind.ACCEPTED,
        EventKind.INFO_REQUESTED,
        EventKind.INFO_PROVIDED,
        EventKind.REPLIED,
        EventKind.TRANSFERRED,
        EventKind.RESOLVED,
        EventKind.REOPENED,
        EventKind.CLOSED,
        EventKind.MERGED,
        EventKind.UNMERGED,
    }
)
"""Steps shown to the public; reminders and escalations are internal."""

LOCATION_PLACES = 3
"""Decimal places kept of a published latitude and longitude: about 110 m, so no house can be singled out."""


@dataclass(frozen=True, slots=True)
class PublicStep:
    """One public step of a complaint's history: what happened and when, with no note and no actor."""

    kind: EventKind
    at: datetime


@dataclass(frozen=True, slots=True)
class PublicRequest:
    """A complaint as the Open311 feed publishes it."""

    code: str
    category_id: int
    unit_id: int
    status: ComplaintStatus
    filed_at: datetime
    updated_at: datetime
    latitude: float | None
    longitude: float | None

    @property
    def open(self) -> bool:
        """Tell whether the complaint is still open (Open311's "open"), or resolved or closed ("closed")."""
        return self.status in OPEN_STATUSES


def public_steps(history: Iterable[ComplaintEvent]) -> list[PublicStep]:
    """Return the public steps of a history, oldest first."""
    return [PublicStep(event.kind, event.at) for event in history if event.kind in PUBLIC_STEPS]


def rounded(coordinate: float | None) -> float | None:
    """Return a coordinate rounded for publication (about 110 m)."""
    return None if coordinate is None else round(coordinate, LOCATION_PLACES)
