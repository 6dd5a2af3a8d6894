"""SQL repository of the secrets the application makes for itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from suarawarga.storage.base_sql import (
    APP_SECRETS,
    SqlRepo,
    upsert,
)


class SecretRepo(SqlRepo):
    """Secrets the application makes for itself, one per name, shared by every process on the database."""

    async def get_or_add(self, name: str, candidate: str, now: datetime) -> str:
        """Return the secret stored under `name`, storing `candidate` first if there is none (the first one wins)."""
        stmt = upsert(self.conn, APP_SECRETS).values(name=name, value=candidate, created_at=now)
        await self.conn.execute(stmt.on_conflict_do_nothing(index_elements=[APP_SECRETS.c.name]))
        found = await self.conn.execute(select(APP_SECRETS.c.value).where(APP_SECRETS.c.name == name))
        return str(found.scalar_one())
