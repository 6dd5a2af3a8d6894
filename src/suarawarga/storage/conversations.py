"""The port of the conversation state per chat.

No SQLAlchemy here: the SQL implementation is in `conversations_sql.py`; a test or a fake may implement these too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from suarawarga.bot.conversation import ConversationState
from suarawarga.bot.messages import ConversationKey


@dataclass(frozen=True, slots=True)
class DraftHolder:
    """A chat in a flow or keeping a draft for `lanjut`: the only states that hold draft files."""

    key: ConversationKey
    data: dict[str, Any]  # the flow's data; a kept draft's data is under the key "parked"
    updated_at: datetime


class ConversationRepository(Protocol):
    """Conversation state per chat; loaded and saved for a whole batch in one statement each."""

    async def load_many(self, keys: Iterable[ConversationKey]) -> dict[ConversationKey, ConversationState]:
        """Return the stored states of the given chats (absent chats are missing from the result)."""
        ...

    async def save_many(self, states: dict[ConversationKey, ConversationState], now: datetime) -> None:
        """Insert or update the states of the given chats (and delete those marked to be forgotten)."""
        ...

    async def drop_parked(self, before: datetime) -> list[dict[str, Any]]:
        """Forget the drafts kept since before a moment; return them (their files are the caller's to delete)."""
        ...

    async def drafts(self) -> list[DraftHolder]:
        """Return every chat in a flow or keeping a draft for `lanjut`, with its data and last change."""
        ...

    async def expire(self, key: ConversationKey, idle_since: datetime, now: datetime) -> bool:
        """Leave the flow of a chat untouched since `idle_since` (its draft expires); False if it changed since."""
        ...
