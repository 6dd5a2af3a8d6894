"""The port of the staff console's sign-in: one-time links and browser sessions, kept only as hashes.

No SQLAlchemy here: the SQL implementation is in `staffweb_sql.py`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A console session as stored."""

    id: int
    staff_id: int
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None


class StaffSessionRepository(Protocol):
    """Sign-in links and sessions of the staff console."""

    async def add_link(self, token_hash: str, staff_id: int, now: datetime, expires_at: datetime) -> None:
        """Store a new sign-in link (its token's hash)."""
        ...

    async def use_link(self, token_hash: str, now: datetime) -> int | None:
        """Use up an unexpired, unused link and return its staff id; None if there is no such link."""
        ...

    async def add(self, token_hash: str, staff_id: int, now: datetime) -> int:
        """Store a new session and return its id."""
        ...

    async def get(self, token_hash: str) -> StoredSession | None:
        """Return a session by its cookie's hash."""
        ...

    async def touch(self, session_id: int, now: datetime) -> None:
        """Record that a session was used now (its idle time starts again)."""
        ...

    async def end(self, session_id: int, now: datetime) -> None:
        """End one session."""
        ...

    async def end_for_staff(self, staff_ids: Collection[int], now: datetime) -> int:
        """End every open session of some memberships, and void their unused links; return the sessions ended."""
        ...

    async def staff_names(self, staff_ids: Collection[int]) -> dict[int, str]:
        """Return the names of members of staff by id, removed ones too (a complaint's history names who acted)."""
        ...
