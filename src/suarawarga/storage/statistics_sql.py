"""SQL reads for what the public sees: complaint statistics and the Open311 feed, without any personal field.

Only the columns a statistic or the feed needs are selected (unit, category, status, times, a location the
caller rounds), so nothing personal can leak into a public page through these reads. Confidential (*rahasia*)
complaints are never listed. Repositories never commit.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, type_coerce
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from suarawarga.complaints.model import OPEN_STATUSES, Category, ComplaintStatus, EventKind, IdentityMode
from suarawarga.complaints.public import PublicRequest
from suarawarga.complaints.statistics import OpenComplaint, Outcome
from suarawarga.storage.base_sql import CATEGORIES, COMPLAINTS, EVENTS
from suarawarga.storage.orm import AwareDateTime
from suarawarga.storage.units_sql import CategoryRepo


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
        query = select(
            COMPLAINTS.c.code,
            COMPLAINTS.c.category_id,
            COMPLAINTS.c.unit_id,
            COMPLAINTS.c.status,
            COMPLAINTS.c.filed_at,
            COMPLAINTS.c.updated_at,
            COMPLAINTS.c.latitude,
            COMPLAINTS.c.longitude,
        ).where(
            COMPLAINTS.c.filed_at >= start,
            COMPLAINTS.c.filed_at < end,
            COMPLAINTS.c.identity_mode != IdentityMode.RAHASIA.value,
        )
        if statuses is not None:
            query = query.where(COMPLAINTS.c.status.in_(sorted(s.value for s in statuses)))
        if category_ids is not None:
            query = query.where(COMPLAINTS.c.category_id.in_(sorted(category_ids)))
        query = query.order_by(COMPLAINTS.c.filed_at.desc(), COMPLAINTS.c.id.desc()).offset(offset).limit(limit)
        return [_request(r) for r in await self.conn.execute(query)]

    async def public_request(self, code: str) -> PublicRequest | None:
        """Return one non-confidential complaint by its code."""
        query = select(COMPLAINTS).where(
            COMPLAINTS.c.code == code, COMPLAINTS.c.identity_mode != IdentityMode.RAHASIA.value
        )
        row = (await self.conn.execute(query)).first()
        return None if row is None else _request(row)


def _request(row: Row[Any]) -> PublicRequest:
    return PublicRequest(
        code=row.code,
        category_id=int(row.category_id),
        unit_id=int(row.unit_id),
        status=ComplaintStatus(row.status),
        filed_at=row.filed_at,
        updated_at=row.updated_at,
        latitude=row.latitude,
        longitude=row.longitude,
    )
