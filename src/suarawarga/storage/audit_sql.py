"""SQL repository of the audit log of officers viewing confidential reporters' identities."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select

from suarawarga.storage.audit import IdentityView
from suarawarga.storage.base_sql import (
    COMPLAINTS,
    IDENTITY_VIEWS,
    STAFF,
    UNITS,
    SqlRepo,
)


class AuditRepo(SqlRepo):
    """The log of officers viewing confidential reporters' identities."""

    async def identity_viewed(self, staff_id: int, complaint_id: int, at: datetime) -> None:
        """Record that an officer saw a confidential complaint's reporter."""
        await self.conn.execute(insert(IDENTITY_VIEWS).values(staff_id=staff_id, complaint_id=complaint_id, at=at))

    async def identity_views(self, since: datetime | None = None) -> list[IdentityView]:
        """Return the identity views (since a moment, or all), newest first."""
        query = (
            select(IDENTITY_VIEWS.c.at, STAFF.c.name, UNITS.c.code, STAFF.c.channel, COMPLAINTS.c.code)
            .join(STAFF, STAFF.c.id == IDENTITY_VIEWS.c.staff_id)
            .join(UNITS, UNITS.c.id == STAFF.c.unit_id)
            .join(COMPLAINTS, COMPLAINTS.c.id == IDENTITY_VIEWS.c.complaint_id)
            .order_by(IDENTITY_VIEWS.c.at.desc(), IDENTITY_VIEWS.c.id.desc())
        )
        if since is not None:
            query = query.where(IDENTITY_VIEWS.c.at >= since)
        return [IdentityView(r[0], r[1], r[2], r[3], r[4]) for r in await self.conn.execute(query)]
