"""The port of citizens, their channel identities and consents.

No SQLAlchemy here: the SQL implementation is in `citizens_sql.py`; a test or a fake may implement these too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from suarawarga.bot.messages import ChannelName
from suarawarga.complaints.model import (
    Consent,
    ConsentPurpose,
)


@dataclass(frozen=True, slots=True)
class KnownCitizen:
    """A citizen found by one of their chat accounts."""

    id: int
    consent_at: datetime | None
    language: str


@dataclass(frozen=True, slots=True)
class ChatAccount:
    """One of a citizen's identities on a channel, and since when it is known."""

    channel: ChannelName
    external_id: str
    since: datetime


class CitizenRepository(Protocol):
    """Citizens and their identities on each channel."""

    async def find(self, channel: ChannelName, external_id: str) -> KnownCitizen | None:
        """Return the citizen behind a channel identity, if known."""
        ...

    async def register(
        self, channel: ChannelName, external_id: str, language: str, now: datetime, consent: bool
    ) -> int:
        """Create a citizen with one channel identity and return the citizen's id."""
        ...

    async def register_consenting(
        self,
        channel: ChannelName,
        external_id: str,
        language: str,
        now: datetime,
        purpose: ConsentPurpose,
        text_version: str,
    ) -> int:
        """Create a citizen who consents to a purpose (identity and consent stored too); return the citizen's id."""
        ...

    async def identities(self, citizen_id: int) -> list[ChatAccount]:
        """Return a citizen's chat accounts, first registered first."""
        ...

    async def delete(self, citizen_id: int) -> None:
        """Delete a citizen, their consents and their channel identities."""
        ...

    async def set_consent(self, citizen_id: int, at: datetime | None) -> None:
        """Record (or withdraw, with None) a citizen's consent."""
        ...

    async def consents(self, citizen_id: int) -> list[Consent]:
        """Return the purposes a citizen consented to, oldest first."""
        ...

    async def give_consent(self, citizen_id: int, purpose: ConsentPurpose, at: datetime, text_version: str) -> None:
        """Record a citizen's consent to a purpose (a renewed consent replaces the time and text version)."""
        ...

    async def set_language(self, citizen_id: int, channel: ChannelName, external_id: str, language: str) -> None:
        """Store a citizen's language: on them, on this chat account, and on their complaints' updates."""
        ...
