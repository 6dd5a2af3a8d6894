"""Pacing of Bot API calls (docs/platforms.md §1.1): overall, per private chat, per group; 429 waits."""

from __future__ import annotations

import time
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import (
    RetryAfter,
)

from suarawarga.bot.channels.base import MEMORY

_GROUP_WINDOW = 61.0  # seconds: Telegram's minute, plus a margin for the time a request takes to arrive


@dataclass(frozen=True, slots=True)
class Limits:
    """How fast the sender may call the Bot API (defaults stay under Telegram's published limits)."""

    per_second: int = 28  # calls a second overall, evenly spaced (Telegram: about 30; 2 spare for network jitter)
    private_burst: float = 4  # calls a private chat may get at once ...
    private_per_second: float = 1.0  # ... before this rate applies (Telegram: 1 a second, short bursts allowed)
    group_per_minute: int = 20  # calls a minute to one group (Telegram: 20)
    max_wait: float = 3.0  # seconds a send may wait in line; longer waits go back to the outbox
    retries: int = 3  # 429 answers a call may get (each waited out) before it goes back to the outbox
    parallel: int = 16  # Bot API calls in flight at once


def retry_seconds(error: RetryAfter) -> float:
    """Return a RetryAfter's wait in seconds (PTB gives an int or a timedelta, depending on PTB_TIMEDELTA)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB's deprecation notice about int periods
        value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# --------------------------------------------------------------------------- pacing


class Pacer:
    """Spaces Bot API calls: overall, per private chat (a burst, then a steady rate), per group (a minute's quota)."""

    def __init__(self, limits: Limits, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._now = monotonic
        self._overall: deque[float] = deque()
        self._next: float | None = None  # when the next call is due (calls are spaced evenly)
        self._private: dict[int, tuple[float, float]] = {}  # chat -> (tokens, at)
        self._groups: dict[int, deque[float]] = {}
        self._blocked: dict[int, float] = {}  # chat -> until (a 429 said so)

    def chat_wait(self, chat_id: int) -> float:
        """Return the seconds before the chat may get its next message."""
        now = self._now()
        wait = self._blocked.get(chat_id, now) - now
        if chat_id > 0:
            tokens, at = self._private.get(chat_id, (self.limits.private_burst, now))
            tokens = min(self.limits.private_burst, tokens + (now - at) * self.limits.private_per_second)
            if tokens < 1:
                wait = max(wait, (1 - tokens) / self.limits.private_per_second)
        else:
            window = self._groups.get(chat_id)
            if window:
                while window and window[0] <= now - _GROUP_WINDOW:
                    window.popleft()
                if len(window) >= self.limits.group_per_minute:
                    wait = max(wait, window[0] + _GROUP_WINDOW - now)
        return max(wait, 0.0)

    def overall_wait(self) -> float:
        """Return the seconds before the next call may go out (its turn in the spacing, within a second's quota)."""
        now = self._now()
        while self._overall and self._overall[0] <= now - 1:
            self._overall.popleft()
        wait = self._next - now if self._next is not None else 0.0
        if len(self._overall) >= self.limits.per_second:
            wait = max(wait, self._overall[0] + 1 - now)
        return max(wait, 0.0)

    def take(self, chat_id: int | None) -> None:
        """Count a call (to a chat's message quota too, when a chat is given)."""
        now = self._now()
        self._overall.append(now)
        # The next call is due one interval after this one was due, so a late wake-up does not slow the rate;
        # after an idle spell or a stall (more than half an interval late) the spacing starts again from now,
        # so lost time is never made up with a burst.
        interval = 1.0 / self.limits.per_second
        due = self._next if self._next is not None and now - self._next <= interval / 2 else now
        self._next = due + interval
        if chat_id is None:
            return
        if chat_id > 0:
            tokens, at = self._private.get(chat_id, (self.limits.private_burst, now))
            tokens = min(self.limits.private_burst, tokens + (now - at) * self.limits.private_per_second)
            self._private[chat_id] = (tokens - 1, now)
        else:
            self._groups.setdefault(chat_id, deque()).append(now)
        if len(self._private) + len(self._groups) > MEMORY:
            self._prune(now)

    def block(self, chat_id: int, seconds: float) -> None:
        """Hold a chat back for `seconds` (Telegram answered 429)."""
        self._blocked[chat_id] = max(self._blocked.get(chat_id, 0.0), self._now() + seconds)

    def _prune(self, now: float) -> None:
        full = self.limits.private_burst / self.limits.private_per_second
        self._private = {c: v for c, v in self._private.items() if now - v[1] < full}
        self._groups = {c: w for c, w in self._groups.items() if w and w[-1] > now - _GROUP_WINDOW}
        self._blocked = {c: t for c, t in self._blocked.items() if t > now}
