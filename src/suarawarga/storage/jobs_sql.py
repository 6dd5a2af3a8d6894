"""SQL repository of the idempotency marks of scheduled work."""

from __future__ import annotations

from datetime import datetime

from suarawarga.storage.base_sql import (
    JOB_MARKS,
    SqlRepo,
    upsert,
)


class JobRepo(SqlRepo):
    """Idempotency marks for scheduled work."""

    async def mark(self, key: str, now: datetime) -> bool:
        """Record that `key` was done; return False if it was recorded before (then do nothing)."""
        stmt = upsert(self.conn, JOB_MARKS).values(key=key, created_at=now)
        result = await self.conn.execute(
            stmt.on_conflict_do_nothing(index_elements=[JOB_MARKS.c.key]).returning(JOB_MARKS.c.key)
        )
        return result.first() is not None
