"""The channel registry: every platform adapter the product knows, built from the settings when configured.

The runtime iterates over these and nothing else: a new channel adds one factory here. Each factory is imported
only when called, so a command that runs no channel (`suarawarga --help`) loads no platform library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from suarawarga.bot.channels.base import Channel

if TYPE_CHECKING:
    from suarawarga.bootstrap import App

Factory = Callable[["App"], Channel | None]


def _telegram(app: App) -> Channel | None:
    from suarawarga.bot.channels.telegram import telegram_channel

    return telegram_channel(app)


def _whatsapp(app: App) -> Channel | None:
    from suarawarga.bot.channels.whatsapp import whatsapp_channel

    return whatsapp_channel(app)


FACTORIES: tuple[Factory, ...] = (_telegram, _whatsapp)


def configured(app: App) -> list[Channel]:
    """Return every channel whose settings are present, in registry order."""
    return [channel for factory in FACTORIES if (channel := factory(app)) is not None]
