"""The port of the audit log of identity views.

No SQLAlchemy here: the SQL implementation is in `audit_sql.py`; a test or a fake may implement these too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class IdentityView:
    """An officer saw a confidential complaint's reporter."""

    at: datetime
    officer: str  # the officer's name
    unit_code: str
    channel: str  # the officer's channel
    complaint_code: str


class AuditRepository(Protocol):
    """The log of officers viewing confidential reporters' identities."""

    async def identity_viewed(self, staff_id: int, complaint_id: int, at: datetime) -> None:
        """Record that an officer saw a confidential complaint's reporter."""
        ...

    async def identity_views(self, since: datetime | None = None) -> list[IdentityView]:
        """Return the identity views (since a moment, or all), newest first."""
        ...
