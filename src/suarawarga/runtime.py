"""Long-running modes: `serve` (webhooks), `poll` (Telegram long polling) and the outbox retry loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette

from suarawarga.bootstrap import App
from suarawarga.bot.channels.base import Channel
from suarawarga.bot.dispatcher import Dispatcher
from suarawarga.bot.inbox import InboxProcessor
from suarawarga.bot.sender import OutboxPump
from suarawarga.bot.tasks import stop
from suarawarga.bot.web import create_web_app, metrics_route

log = logging.getLogger(__name__)

RETRY_INTERVAL = 5.0  # seconds between passes of the outbox retry loop


@dataclass
class Running:
    """The parts of a running process that tests and the CLI reach into."""

    app: App
    channels: Sequence[Channel]
    dispatcher: Dispatcher
    inbox: InboxProcessor
    pump: OutboxPump


async def retry_loop(app: App, interval: float = RETRY_INTERVAL) -> None:
    """Send due outbox messages (retries, and messages another process left) until cancelled."""
    delivery = app.delivery()
    while True:
        try:
            while (await delivery.deliver_due()).sent:
                pass
        except Exception:  # database or network down: try again at the next pass
            log.exception("outbox retry pass failed")
        await asyncio.sleep(interval)


@asynccontextmanager
async def running(
    app: App, channels: Sequence[Channel], *, retries: bool = True, shard: tuple[int, int] = (0, 1)
) -> AsyncIterator[Running]:
    """Start channels, dispatcher, outbox pump, inbox processor and (optionally) the retry loop."""
    for channel in channels:
        app.senders[channel.name] = channel.sender
    parsers = {channel.name: channel.parser for channel in channels}
    pump = OutboxPump(app.delivery(), app.clock)
    started: list[Channel] = []
    try:
        for channel in channels:
            await channel.start()
            started.append(channel)
        async with pump, app.dispatcher(pump.submit) as dispatcher:
            inbox = InboxProcessor(app.uow, dispatcher, parsers, app.clock, shard=shard)
            async with inbox:
                retry = asyncio.create_task(retry_loop(app)) if retries else None
                try:
                    yield Running(app, channels, dispatcher, inbox, pump)
                finally:
                    await stop(retry)
            await pump.drain()
    finally:
        for channel in reversed(started):
            await channel.stop()


def channels_for(app: App) -> list[Channel]:
    """Return every channel configured in the settings (Telegram, WhatsApp)."""
    from suarawarga.bot.channels.telegram import telegram_channel
    from suarawarga.bot.channels.whatsapp import whatsapp_channel

    found: list[Channel] = []
    telegram = telegram_channel(app)
    if telegram is not None:
        found.append(telegram)
    whatsapp = whatsapp_channel(app)
    if whatsapp is not None:
        found.append(whatsapp)
    return found


def web_app(run: Running) -> Starlette:
    """Return the ASGI app for a running process: every channel's webhook routes and /healthz."""
    routes = [route for channel in run.channels for route in channel.routes(run.inbox)]

    async def health() -> None:
        async with run.app.uow() as uow:
            await uow.units.count()

    async def metrics() -> bytes:
        async with run.app.uow() as uow:
            counts = await uow.outbox.counts()
            oldest = await uow.outbox.oldest_pending()
            inbox = await uow.inbox.counts()
        run.app.metrics.set_outbox(counts, oldest, run.app.clock.now())
        run.app.metrics.inbox_backlog.set(inbox.get("pending", 0))
        return run.app.metrics.render()

    return create_web_app([*routes, metrics_route(metrics)], health)
