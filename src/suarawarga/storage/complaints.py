"""The ports of complaints (history, attachments) and of the citizens' ratings of resolutions.

No SQLAlchemy here: the SQL implementation is in `complaints_sql.py`; a test or a fake may implement these too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from suarawarga.bot.messages import ChannelName
from suarawarga.complaints.model import (
    ActorKind,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    EventKind,
    IdentityMode,
    NewAttachment,
)

PAGE_SIZE = 500  # complaints per page when a job or report reads them all


async def pages(
    complaints: ComplaintRepository, statuses: Collection[ComplaintStatus], size: int = PAGE_SIZE
) -> AsyncIterator[list[Complaint]]:
    """Yield every complaint in these statuses, a page at a time, oldest filed first (no cap)."""
    after: Complaint | None = None
    while page := await complaints.page(statuses, after, size):
        yield page
        after = page[-1]


@dataclass(frozen=True, slots=True)
class NewComplaint:
    """A complaint to store as filed (routed, with its tracking code); `filed_at` is also its first update."""

    code: str
    status: ComplaintStatus
    category_id: int
    unit_id: int
    description: str
    identity_mode: IdentityMode
    language: str
    filed_at: datetime
    kecamatan_id: int | None = None
    citizen_id: int | None = None
    channel: ChannelName | None = None
    chat_id: str | None = None
    reporter_name: str | None = None
    reporter_contact: str | None = None
    location_text: str | None = None
    place_key: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class Rating:
    """A citizen's rating of one resolution round: solved (ya/tidak) and a score, as far as given."""

    round: int
    solved: str | None
    score: int | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class UnitEvent:
    """An event of a complaint as a unit's weekly figures count it."""

    unit_id: int
    kind: EventKind
    at: datetime
    filed_at: datetime  # when the complaint was filed


class ComplaintRepository(Protocol):
    """Complaints, their history and attachments."""

    async def add(self, complaint: NewComplaint, filed: ComplaintEvent) -> Complaint | None:
        """Insert a complaint with its first history entry; return it as stored, None if its code is taken."""
        ...

    async def add_event(self, complaint_id: int, event: ComplaintEvent) -> None:
        """Append an entry to a complaint's history."""
        ...

    async def add_attachments(
        self, complaint_id: int, items: Sequence[NewAttachment], uploaded_by: ActorKind, now: datetime
    ) -> None:
        """Record attachment metadata for a complaint."""
        ...

    async def update_if(
        self,
        seen: Complaint,
        now: datetime,
        *,
        status: ComplaintStatus | None = None,
        unit_id: int | None = None,
    ) -> bool:
        """Change a complaint's status or unit only if both are still those `seen`; return whether it was changed.

        The row is written even when nothing changes (its `updated_at`), so that concurrent actions queue on it.
        """
        ...

    async def by_code(self, code: str) -> Complaint | None:
        """Return a complaint by tracking code."""
        ...

    async def attachments(self, complaint_id: int, uploaded_by: ActorKind | None = None) -> list[NewAttachment]:
        """Return a complaint's files, oldest first (optionally only the citizen's or the staff's)."""
        ...

    async def attachment_paths(self) -> set[str]:
        """Return the path of every file an attachment row refers to (the files job keeps exactly these)."""
        ...

    async def history(self, complaint_id: int) -> list[ComplaintEvent]:
        """Return a complaint's events, oldest first."""
        ...

    async def histories(self, complaint_ids: Collection[int]) -> dict[int, list[ComplaintEvent]]:
        """Return the events of many complaints at once, each oldest first (a complaint without any: [])."""
        ...

    async def unlink_citizen(self, complaint_id: int, now: datetime) -> None:
        """Cut a complaint from its reporter: no citizen, chat, name, contact, photos or words of theirs."""
        ...

    async def closed_before(self, moment: datetime, placeholder: str) -> list[int]:
        """Return the ids of closed complaints last closed before `moment` whose text is not yet `placeholder`."""
        ...

    async def erase_personal_data(self, complaint_id: int, placeholder: str, now: datetime) -> None:
        """Remove everything personal from a complaint: reporter, chat, citizen link, text, notes and files."""
        ...

    async def attachment_count(self, complaint_id: int) -> int:
        """Return how many files a complaint has."""
        ...

    async def filed_between(self, start: datetime, end: datetime) -> list[Complaint]:
        """Return the complaints filed in [start, end), oldest first."""
        ...

    async def events_between(self, start: datetime, end: datetime, kinds: Sequence[EventKind]) -> list[UnitEvent]:
        """Return the events of some kinds in [start, end), oldest first."""
        ...

    async def count_filed_since(self, citizen_id: int, since: datetime) -> int:
        """Return how many complaints a citizen filed since a moment."""
        ...

    async def for_citizen(self, citizen_id: int, limit: int | None = 10) -> list[Complaint]:
        """Return a citizen's most recent complaints (limit None: all of them)."""
        ...

    async def page(
        self, statuses: Collection[ComplaintStatus], after: Complaint | None = None, size: int = PAGE_SIZE
    ) -> list[Complaint]:
        """Return up to `size` complaints in these statuses filed after `after` (None: the first), oldest first."""
        ...

    async def list(
        self,
        unit_id: int | None = None,
        status: ComplaintStatus | None = None,
        limit: int = 1000,
        statuses: Iterable[ComplaintStatus] | None = None,
    ) -> list[Complaint]:
        """Return complaints, oldest first, filtered by unit and status."""
        ...

    async def count(self) -> int:
        """Return how many complaints exist."""
        ...


class RatingRepository(Protocol):
    """The citizens' ratings of resolutions: whether it was solved, and a score, per resolution round."""

    async def rating(self, complaint_id: int, round_: int) -> Rating | None:
        """Return the rating given for a resolution round, if any."""
        ...

    async def rate(
        self,
        complaint_id: int,
        round_: int,
        unit_id: int,
        now: datetime,
        solved: str | None = None,
        score: int | None = None,
    ) -> None:
        """Store the solved answer or the score of a resolution round."""
        ...

    async def ratings(self, complaint_id: int) -> list[Rating]:
        """Return a complaint's ratings, oldest round first."""
        ...

    async def scores(self, unit_id: int | None, since: datetime, until: datetime) -> list[int]:
        """Return the handling scores given in a period (for one unit, or all)."""
        ...
