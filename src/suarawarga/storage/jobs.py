"""The port of the idempotency marks of scheduled work.

No SQLAlchemy here: the SQL implementation is in `jobs_sql.py`; a test or a fake may implement these too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class JobRepository(Protocol):
    """Idempotency marks for scheduled work."""

    async def mark(self, key: str, now: datetime) -> bool:
        """Record that `key` was done; return False if it was recorded before (then do nothing)."""
        ...
