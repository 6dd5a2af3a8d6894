"""SQL reads for public statistics: complaint outcomes and open complaints, without any personal field.

Only the columns a statistic needs are selected (unit, category, status, times), so nothing personal can leak
into a public page through these reads. Repositories never commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncConnection

from suarawarga.complaints.model import OPEN_STATUSES, Category, ComplaintStatus, EventKind
from suarawarga.complaints.statistics import OpenComplaint, Outcome
from suarawarga.storage.orm import AwareDateTime
from suarawarga.storage.sql import CATEGORIES, COMPLAINTS, EVENTS, CategoryRepo


class StatisticsRepo:
    """Aggregate reads for the public site."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def categories(self) -> list[Category]:
        """Return every category, also those no longer offered (old complaints keep theirs)."""
        return [CategoryRepo._category(r) for r in await self.conn.execute(select(CATEGORIES))]

    async def outcomes_since(self, since: datetime) -> list[Outcome]:
        """Return the complaints filed since a moment with the time of their first resolution."""
        first_resolved = (
            select(func.min(EVENTS.c.at))
            .where(EVENTS.c.complaint_id == COMPLAINTS.c.id, EVENTS.c.kind == EventKind.RESOLVED.value)
            .scalar_subquery()
        )
        query = select(
            COMPLAINTS.c.unit_id,
            COMPLAINTS.c.category_id,
            COMPLAINTS.c.status,
            COMPLAINTS.c.filed_at,
            type_coerce(first_resolved, AwareDateTime()).label("resolved_at"),
        ).where(COMPLAINTS.c.filed_at >= since)
        rows = await self.conn.execute(query)
        return [
            Outcome(int(r.unit_id), int(r.category_id), ComplaintStatus(r.status), r.filed_at, r.resolved_at)
            for r in rows
        ]

    async def open_complaints(self) -> list[OpenComplaint]:
        """Return every open complaint's unit, category, status and filing time."""
        query = select(
            COMPLAINTS.c.unit_id, COMPLAINTS.c.category_id, COMPLAINTS.c.status, COMPLAINTS.c.filed_at
        ).where(COMPLAINTS.c.status.in_(sorted(s.value for s in OPEN_STATUSES)))
        return [
            OpenComplaint(int(r.unit_id), int(r.category_id), ComplaintStatus(r.status), r.filed_at)
            for r in await self.conn.execute(query)
        ]
