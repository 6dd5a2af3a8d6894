"""Per-chat input limit: a chat that writes faster than a person does gets one notice; the rest is dropped unread.

A chat (a script, a stuck client, a 50-photo album) could otherwise make the bot work and answer for every one of
its messages, and its replies, paced by the platform at about one a second, pile up. Beyond `per_minute` messages
in the last minute a chat's stored updates are marked done without being parsed (no file downloaded, no flow step,
no reply), except the first one over the limit, which is answered with one polite notice (`input.too_fast`) per
minute. Messages dropped are counted in /metrics (`suarawarga_input_dropped`).

The count lives in the process: a chat's updates are all drained by one process (its shard), in order.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from suarawarga.bot.messages import ConversationKey
from suarawarga.bot.metrics import Metrics

INPUT_PER_MINUTE = 30
WINDOW = timedelta(minutes=1)
NOTICE_KEY = "input.too_fast"
MEMORY = 10_000  # chats tracked before idle ones are forgotten


class Admission(StrEnum):
    """What to do with one stored update."""

    PROCESS = "process"
    NOTICE = "notice"  # drop it, and tell the chat once that it writes too fast
    DROP = "drop"


@dataclass(slots=True)
class _Chat:
    admitted: deque[datetime]
    noticed: datetime | None = None


class InputLimit:
    """Counts each chat's messages over the last minute and says which to process."""

    def __init__(self, per_minute: int = INPUT_PER_MINUTE, metrics: Metrics | None = None) -> None:
        self.per_minute = per_minute
        self.metrics = metrics
        self._chats: dict[ConversationKey, _Chat] = {}

    def admit(self, key: ConversationKey, now: datetime) -> Admission:
        """Count one message of a chat arriving at `now`; only processed messages count towards the limit."""
        chat = self._chats.get(key)
        if chat is None:
            if len(self._chats) >= MEMORY:
                self._forget_idle(now)
            chat = self._chats[key] = _Chat(deque())
        while chat.admitted and chat.admitted[0] <= now - WINDOW:
            chat.admitted.popleft()
        if len(chat.admitted) < self.per_minute:
            chat.admitted.append(now)
            return Admission.PROCESS
        if self.metrics is not None:
            self.metrics.input_dropped.labels(key.channel.value).inc()
        if chat.noticed is None or chat.noticed <= now - WINDOW:
            chat.noticed = now
            return Admission.NOTICE
        return Admission.DROP

    def _forget_idle(self, now: datetime) -> None:
        self._chats = {
            key: chat
            for key, chat in self._chats.items()
            if (chat.admitted and chat.admitted[-1] > now - WINDOW) or (chat.noticed and chat.noticed > now - WINDOW)
        }
