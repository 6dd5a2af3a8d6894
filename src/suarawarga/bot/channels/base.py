"""What a channel adapter provides to the runtime: its webhook routes, the chat of a stored update, a parser, a sender.

Every adapter implements `Channel`; `registry.py` lists the adapters, and the runtime reads each configured one's
parts from there (nothing outside `bot/channels/` names a platform).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

from starlette.routing import BaseRoute

from suarawarga.bot.inbox import Acceptor, Parser
from suarawarga.bot.messages import ChannelName, IncomingFile
from suarawarga.bot.sender import Sender

MEMORY = 10_000  # entries kept in each of a sender's in-memory maps


def remember(store: dict[Any, Any], key: Any, value: Any, limit: int = MEMORY) -> None:
    """Set `store[key]` as its newest entry, dropping the oldest entries beyond `limit` (a bounded cache)."""
    store.pop(key, None)
    store[key] = value
    while len(store) > limit:
        store.pop(next(iter(store)))


class Channel(Protocol):
    """A configured platform (Telegram, WhatsApp, ...): everything the runtime needs of it."""

    name: ChannelName
    sender: Sender
    parser: Parser
    # How long the platform may take to echo a send it accepted back to a webhook (zero: it echoes nothing). After a
    # restart, messages an earlier run was sending wait that long, so that an echo can mark them sent first.
    echo_grace: timedelta

    def chat_of(self, payload: dict[str, Any]) -> str | None:
        """Return the chat a stored update belongs to, None when the shape is unknown (never raises)."""
        ...

    async def fetch(self, item: IncomingFile, limit: int) -> bytes:
        """Download a file a chat sent (at most `limit` bytes), once a step accepts it."""
        ...

    def routes(self, inbox: Acceptor) -> Sequence[BaseRoute]:
        """Return the webhook routes of this channel (verified before parsing)."""
        ...

    async def start(self) -> None:
        """Open network clients."""
        ...

    async def stop(self) -> None:
        """Close network clients."""
        ...
