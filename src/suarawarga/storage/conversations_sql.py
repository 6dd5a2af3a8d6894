"""SQL repository of the conversation state per chat."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, tuple_, update

from suarawarga.bot.conversation import ConversationState
from suarawarga.bot.messages import ChannelName, ConversationKey
from suarawarga.storage.base_sql import CONVERSATIONS, SqlRepo, json_insert
from suarawarga.storage.conversations import DraftHolder

_UPDATED = ("flow", "step", "data", "choices", "language", "updated_at", "parked", "parked_at")
# Every chat turn saves its states: compiled once; on PostgreSQL every state of a batch in one statement
# (base_sql.json_insert), on SQLite one upsert per state (base_sql.upsert_text).
_SAVE = json_insert(
    CONVERSATIONS, ("channel", "chat_id", *_UPDATED), ("channel", "chat_id"), {c: f"excluded.{c}" for c in _UPDATED}
)

# Every turn loads its chats' states: built once (a statement built at each call costs a new cache key).
_LOAD = select(CONVERSATIONS).where(
    tuple_(CONVERSATIONS.c.channel, CONVERSATIONS.c.chat_id).in_(bindparam("pairs", expanding=True))
)


class ConversationRepo(SqlRepo):
    """Conversation state per chat; loaded and saved for a whole batch in one statement each."""

    async def load_many(self, keys: Iterable[ConversationKey]) -> dict[ConversationKey, ConversationState]:
        """Return the stored states of the given chats (absent chats are missing from the result)."""
        pairs = {(k.channel.value, k.chat_id) for k in keys}
        if not pairs:
            return {}
        return {
            ConversationKey(ChannelName(r.channel), r.chat_id): ConversationState(
                flow=r.flow,
                step=r.step,
                data=dict(r.data or {}),
                language=r.language,
                choices=list(r.choices.get("c", [])) if r.choices else [],
                parked=dict(r.parked) if r.parked else None,
                parked_at=r.parked_at,
            )
            for r in await self.conn.execute(_LOAD, {"pairs": list(pairs)})
        }

    async def save_many(self, states: dict[ConversationKey, ConversationState], now: datetime) -> None:
        """Insert or update the states of the given chats (and delete those marked to be forgotten)."""
        forget = [k for k, s in states.items() if s.forget]
        for key in forget:
            await self.conn.execute(
                delete(CONVERSATIONS).where(
                    CONVERSATIONS.c.channel == key.channel.value, CONVERSATIONS.c.chat_id == key.chat_id
                )
            )
        states = {k: s for k, s in states.items() if not s.forget}
        if not states:
            return
        rows = [
            {
                "channel": k.channel.value,
                "chat_id": k.chat_id,
                "flow": s.flow,
                "step": s.step,
                "data": s.data,
                "choices": {"c": s.choices},
                "language": s.language,
                "updated_at": now,
                "parked": s.parked,
                "parked_at": s.parked_at if s.parked else None,
            }
            for k, s in states.items()
        ]
        await _SAVE.run(self.conn, rows)

    async def drop_parked(self, before: datetime) -> list[dict[str, Any]]:
        """Forget the drafts kept since before a moment; return them (their files are the caller's to delete)."""
        expired = CONVERSATIONS.c.parked_at < before
        drafts = [dict(r[0]) for r in await self.conn.execute(select(CONVERSATIONS.c.parked).where(expired)) if r[0]]
        await self.conn.execute(update(CONVERSATIONS).where(expired).values(parked=None, parked_at=None))
        return drafts

    async def drafts(self) -> list[DraftHolder]:
        """Return every chat in a flow or keeping a draft for `lanjut`, with its data and last change."""
        query = select(
            CONVERSATIONS.c.channel,
            CONVERSATIONS.c.chat_id,
            CONVERSATIONS.c.data,
            CONVERSATIONS.c.parked,
            CONVERSATIONS.c.updated_at,
        )
        busy = or_(CONVERSATIONS.c.flow.is_not(None), CONVERSATIONS.c.parked.is_not(None))
        return [
            DraftHolder(
                ConversationKey(ChannelName(r.channel), r.chat_id),
                {**dict(r.data or {}), "parked": r.parked} if r.parked else dict(r.data or {}),
                r.updated_at,
            )
            for r in await self.conn.execute(query.where(busy))
        ]

    async def expire(self, key: ConversationKey, idle_since: datetime, now: datetime) -> bool:
        """Leave the flow of a chat untouched since `idle_since` (its draft expires); False if it changed since."""
        result = await self.conn.execute(
            update(CONVERSATIONS)
            .where(
                CONVERSATIONS.c.channel == key.channel.value,
                CONVERSATIONS.c.chat_id == key.chat_id,
                CONVERSATIONS.c.updated_at <= idle_since,
            )
            .values(flow=None, step=None, data={}, choices={"c": []}, updated_at=now)
        )
        return bool(result.rowcount)
