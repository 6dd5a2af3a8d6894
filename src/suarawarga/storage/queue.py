"""The port of the staff console's queue reads (no SQLAlchemy here; the SQL is in `queue_sql.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from suarawarga.complaints.model import ComplaintEvent
from suarawarga.complaints.queue import GroupCount, QueueCriteria, QueueRow


class QueueRepository(Protocol):
    """The filtered, sorted, paged queue and its grouped counts."""

    async def count(self, criteria: QueueCriteria) -> int:
        """Return how many complaints match."""
        ...

    async def rows(self, criteria: QueueCriteria, offset: int, limit: int) -> list[QueueRow]:
        """Return one page of the matching complaints in the chosen order."""
        ...

    async def status_counts(self, criteria: QueueCriteria) -> dict[str, int]:
        """Return how many complaints match, per status."""
        ...

    async def events_of(self, complaint_ids: Sequence[int], kinds: Sequence[str]) -> dict[int, list[ComplaintEvent]]:
        """Return the events of some kinds of a few complaints, oldest first (what their clocks need)."""
        ...

    async def grouped(
        self, criteria: QueueCriteria, by: str, start: datetime, end: datetime, overdue: QueueCriteria
    ) -> list[GroupCount]:
        """Count the complaints filed in [start, end) per category or per kecamatan, with open and overdue now."""
        ...
