"""What a channel adapter provides to the runtime: a sender, a parser for stored updates, and web routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from starlette.routing import BaseRoute

from suarawarga.bot.inbox import Acceptor, Parser
from suarawarga.bot.messages import ChannelName
from suarawarga.bot.sender import Sender


class Channel(Protocol):
    """A configured platform: Telegram or WhatsApp."""

    name: ChannelName
    sender: Sender
    parser: Parser

    def routes(self, inbox: Acceptor) -> Sequence[BaseRoute]:
        """Return the webhook routes of this channel (verified before parsing)."""
        ...

    async def start(self) -> None:
        """Open network clients."""
        ...

    async def stop(self) -> None:
        """Close network clients."""
        ...
