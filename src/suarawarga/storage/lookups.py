"""The port of failed status look-ups per chat.

No SQLAlchemy here: the SQL implementation is in `lookups_sql.py`; a test or a fake may implement these too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class LookupRepository(Protocol):
    """Failed status look-ups per chat (by a hash of the chat), kept only as long as the limit looks back."""

    async def failures_since(self, chat_hash: str, since: datetime) -> int:
        """Return how many look-ups of a chat failed since a moment."""
        ...

    async def add_failure(self, chat_hash: str, at: datetime, forget_before: datetime) -> None:
        """Record a failed look-up, and forget every chat's failures older than `forget_before`."""
        ...
