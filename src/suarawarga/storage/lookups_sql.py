"""SQL repository of failed status look-ups per chat (the look-up limit)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select

from suarawarga.storage.base_sql import (
    LOOKUP_FAILURES,
    SqlRepo,
)


class LookupRepo(SqlRepo):
    """Failed status look-ups per chat (by a hash of the chat), kept only as long as the limit looks back."""

    async def failures_since(self, chat_hash: str, since: datetime) -> int:
        """Return how many look-ups of a chat failed since a moment."""
        query = select(func.count()).where(LOOKUP_FAILURES.c.chat_hash == chat_hash, LOOKUP_FAILURES.c.at >= since)
        return int((await self.conn.execute(query)).scalar_one())

    async def add_failure(self, chat_hash: str, at: datetime, forget_before: datetime) -> None:
        """Record a failed look-up, and forget every chat's failures older than `forget_before`."""
        await self.conn.execute(delete(LOOKUP_FAILURES).where(LOOKUP_FAILURES.c.at < forget_before))
        await self.conn.execute(insert(LOOKUP_FAILURES).values(chat_hash=chat_hash, at=at))
