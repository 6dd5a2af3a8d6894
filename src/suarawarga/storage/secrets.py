"""The port of the secrets the application makes for itself.

No SQLAlchemy here: the SQL implementation is in `secrets_sql.py`; a test or a fake may implement these too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class SecretRepository(Protocol):
    """Secrets the application makes for itself, one per name, shared by every process on the database."""

    async def get_or_add(self, name: str, candidate: str, now: datetime) -> str:
        """Return the secret stored under `name`, storing `candidate` first if there is none (the first one wins)."""
        ...
