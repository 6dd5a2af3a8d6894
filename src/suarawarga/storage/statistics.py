"""The port of the public site's aggregate reads.

No SQLAlchemy here: the SQL implementation is in `statistics_sql.py`; a test or a fake may implement these too.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Protocol

from suarawarga.complaints.model import (
    Category,
    ComplaintStatus,
)
from suarawarga.complaints.public import PublicRequest
from suarawarga.complaints.statistics import OpenCounts, OutcomeCounts, OverdueCutoffs, Resolution


class StatisticsRepository(Protocol):
    """Aggregate reads for the public site, and the stored first resolution they count."""

    async def categories(self) -> list[Category]:
        """Return every category, also those no longer offered (old complaints keep theirs)."""
        ...

    async def record_resolution(self, complaint_id: int, first: Resolution) -> None:
        """Keep a complaint's first resolution; a later one (after a reopen) leaves it as it is."""
        ...

    async def outcome_counts(self, since: datetime) -> list[OutcomeCounts]:
        """Return, per unit, the complaints filed since a moment, those resolved and those resolved in time."""
        ...

    async def open_counts(self, cutoffs: Mapping[int, OverdueCutoffs]) -> list[OpenCounts]:
        """Return, per unit, the complaints open now and how many are overdue by their category's cutoffs."""
        ...

    async def middle_resolve_seconds(self, since: datetime, groups: Mapping[int, int]) -> dict[int, tuple[int, ...]]:
        """Return, per group, the middle one or two of the resolution times (seconds) of complaints filed since."""
        ...

    async def public_requests(
        self,
        start: datetime,
        end: datetime,
        *,
        statuses: Collection[ComplaintStatus] | None = None,
        category_ids: Collection[int] | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[PublicRequest]:
        """Return the non-confidential complaints filed in [start, end), newest first, one page of them."""
        ...

    async def public_request(self, code: str) -> PublicRequest | None:
        """Return one non-confidential complaint by its code."""
        ...
