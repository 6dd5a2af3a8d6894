"""The port of the public site's aggregate reads.

No SQLAlchemy here: the SQL implementation is in `statistics_sql.py`; a test or a fake may implement these too.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from suarawarga.complaints.model import (
    Category,
    ComplaintStatus,
)
from suarawarga.complaints.public import PublicRequest
from suarawarga.complaints.statistics import OpenComplaint, Outcome


class StatisticsRepository(Protocol):
    """Aggregate reads for the public site."""

    async def categories(self) -> list[Category]:
        """Return every category, also those no longer offered (old complaints keep theirs)."""
        ...

    async def outcomes_since(self, since: datetime) -> list[Outcome]:
        """Return the complaints filed since a moment with the time of their first resolution."""
        ...

    async def open_complaints(self) -> list[OpenComplaint]:
        """Return every open complaint's unit, category, status and filing time."""
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
