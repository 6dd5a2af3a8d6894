"""Chat pauses of the Telegram sender: waits longer than a send may block, kept in the outbox's time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from suarawarga.clock import Clock

PAUSE_GRACE = timedelta(minutes=2)  # a chat's pause lapses this long after its due time, whatever happened


@dataclass(slots=True)
class _Pause:
    """A chat paused until `until`: its messages wait in the outbox; `ids` must go out, in order, before anything newer.

    (Not an outbox hold, which is a reservation of committed messages for the in-process pump.)
    """

    until: datetime
    ids: set[str] = field(default_factory=set)


class ChatPauses:
    """The chats paused (a long pacing wait or a long 429): their messages wait in the outbox, the paused ones first."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._pauses: dict[int, _Pause] = {}

    def wait(self, chat_id: int, message_id: str) -> float | None:
        """Return how long a message must still wait behind the paused chat's earlier messages, or None to send it."""
        pause = self._pauses.get(chat_id)
        if pause is None:
            return None
        now = self.clock.now()
        if now >= pause.until + PAUSE_GRACE:
            del self._pauses[chat_id]
            return None
        remaining = (pause.until - now).total_seconds()
        if message_id in pause.ids:
            return remaining if remaining > 0 else None
        pause.ids.add(message_id)
        return max(remaining, 0.0) + 1.0  # due just after the paused ones, so the outbox keeps the order

    def pause(self, chat_id: int, message_id: str, seconds: float) -> None:
        """Pause a chat for `seconds` behind a message that must go out first."""
        until = self.clock.now() + timedelta(seconds=seconds)
        pause = self._pauses.setdefault(chat_id, _Pause(until))
        pause.until = max(pause.until, until)
        pause.ids.add(message_id)

    def release(self, chat_id: int, message_id: str) -> None:
        """Note that a message is done with (sent or given up): the pause ends with its last paused message."""
        pause = self._pauses.get(chat_id)
        if pause is not None:
            pause.ids.discard(message_id)
            if not pause.ids:
                del self._pauses[chat_id]
