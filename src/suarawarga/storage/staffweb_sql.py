"""SQL for the staff console's sign-in: one-time links and browser sessions, both kept only as hashes.

Repositories never commit. A link is used up with one conditional UPDATE, so two browsers opening the same
link at once cannot both get a session.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import insert, select, update

from suarawarga.storage.base_sql import STAFF, SqlRepo, _table
from suarawarga.storage.orm.staff import StaffLoginTokenRow, StaffSessionRow
from suarawarga.storage.staffweb import StoredSession

LOGIN_TOKENS = _table(StaffLoginTokenRow)
SESSIONS = _table(StaffSessionRow)


class StaffSessionRepo(SqlRepo):
    """Sign-in links and sessions of the staff console."""

    async def add_link(self, token_hash: str, staff_id: int, now: datetime, expires_at: datetime) -> None:
        """Store a new sign-in link (its token's hash)."""
        await self.conn.execute(
            insert(LOGIN_TOKENS).values(token_hash=token_hash, staff_id=staff_id, created_at=now, expires_at=expires_at)
        )

    async def use_link(self, token_hash: str, now: datetime) -> int | None:
        """Use up an unexpired, unused link and return its staff id; None if there is no such link."""
        result = await self.conn.execute(
            update(LOGIN_TOKENS)
            .where(
                LOGIN_TOKENS.c.token_hash == token_hash,
                LOGIN_TOKENS.c.used_at.is_(None),
                LOGIN_TOKENS.c.expires_at > now,
            )
            .values(used_at=now)
            .returning(LOGIN_TOKENS.c.staff_id)
        )
        row = result.first()
        return int(row[0]) if row else None

    async def add(self, token_hash: str, staff_id: int, now: datetime) -> int:
        """Store a new session and return its id."""
        result = await self.conn.execute(
            insert(SESSIONS)
            .values(token_hash=token_hash, staff_id=staff_id, created_at=now, last_seen_at=now)
            .returning(SESSIONS.c.id)
        )
        return int(result.scalar_one())

    async def get(self, token_hash: str) -> StoredSession | None:
        """Return a session by its cookie's hash."""
        row = (await self.conn.execute(select(SESSIONS).where(SESSIONS.c.token_hash == token_hash))).first()
        if row is None:
            return None
        return StoredSession(row.id, row.staff_id, row.created_at, row.last_seen_at, row.ended_at)

    async def touch(self, session_id: int, now: datetime) -> None:
        """Record that a session was used now (its idle time starts again)."""
        await self.conn.execute(update(SESSIONS).where(SESSIONS.c.id == session_id).values(last_seen_at=now))

    async def end(self, session_id: int, now: datetime) -> None:
        """End one session."""
        await self.conn.execute(
            update(SESSIONS).where(SESSIONS.c.id == session_id, SESSIONS.c.ended_at.is_(None)).values(ended_at=now)
        )

    async def end_for_staff(self, staff_ids: Collection[int], now: datetime) -> int:
        """End every open session of some memberships, and void their unused links; return the sessions ended."""
        ids = list(staff_ids)
        if not ids:
            return 0
        await self.conn.execute(
            update(LOGIN_TOKENS)
            .where(LOGIN_TOKENS.c.staff_id.in_(ids), LOGIN_TOKENS.c.used_at.is_(None))
            .values(used_at=now)
        )
        result = await self.conn.execute(
            update(SESSIONS).where(SESSIONS.c.staff_id.in_(ids), SESSIONS.c.ended_at.is_(None)).values(ended_at=now)
        )
        return int(result.rowcount)

    async def staff_names(self, staff_ids: Collection[int]) -> dict[int, str]:
        """Return the names of members of staff by id, removed ones too (a complaint's history names who acted)."""
        ids = list(set(staff_ids))
        if not ids:
            return {}
        query = select(STAFF.c.id, STAFF.c.name).where(STAFF.c.id.in_(ids))
        return {int(r[0]): str(r[1]) for r in await self.conn.execute(query)}
