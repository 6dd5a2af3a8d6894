"""What a channel adapter provides to the runtime: a sender, a parser for stored updates, and web routes."""

from __future__ import annotations

from collections.abc import Sequence
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
    """A configured platform: Telegram or WhatsApp."""

    name: ChannelName
    sender: Sender
    parser: Parser

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
