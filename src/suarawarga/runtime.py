"""Long-running modes: `serve` (webhooks), `process`, `poll` (Telegram long polling) and the outbox retry loop.

By default one process (`running`) accepts webhooks, processes the stored updates and sends the replies; that is
the only layout SQLite supports well. On PostgreSQL the work can be split: `serve --accept-only` processes
(`accepting`) only store each update and answer 200, so an acknowledgement never waits behind a flow step or a
reply; `process` processes (`running` without webhooks) drain the inbox, each its shard of the chats, and send the
replies. A killed accepting process cannot send a reply twice: it sends none.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from suarawarga.bootstrap import App
from suarawarga.bot.channels.base import Channel
from suarawarga.bot.channels.registry import configured
from suarawarga.bot.dispatcher import Dispatcher
from suarawarga.bot.inbox import Acceptor, ChatOf, InboxProcessor, InboxWriter
from suarawarga.bot.messages import ChannelName
from suarawarga.bot.sender import OutboxPump
from suarawarga.bot.tasks import stop
from suarawarga.bot.web import create_web_app, metrics_route

log = logging.getLogger(__name__)

RETRY_INTERVAL = 5.0  # seconds between passes of the outbox retry loop
PROCESS_POLL_INTERVAL = 0.05  # without notifications, a `process` process learns of new updates by polling


@dataclass
class Accepting:
    """A running process that accepts webhooks: its channels and where it stores updates."""

    app: App
    channels: Sequence[Channel]
    acceptor: Acceptor


@dataclass
class Running(Accepting):
    """A process that also processes updates: the parts tests and the CLI reach into."""

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
async def started(channels: Sequence[Channel]) -> AsyncIterator[None]:
    """Start the channels' clients, and stop those started on the way out."""
    started: list[Channel] = []
    try:
        for channel in channels:
            await channel.start()
            started.append(channel)
        yield
    finally:
        for channel in reversed(started):
            await channel.stop()


@asynccontextmanager
async def accepting(app: App, channels: Sequence[Channel]) -> AsyncIterator[Accepting]:
    """Start an `accept` process: webhooks store updates, nothing else runs here."""
    async with started(channels):
        yield Accepting(app, channels, InboxWriter(app.uow, app.clock, chats=chats_of(channels)))


@asynccontextmanager
async def running(
    app: App,
    channels: Sequence[Channel],
    *,
    retries: bool = True,
    shard: tuple[int, int] = (0, 1),
    poll_interval: float | None = None,
) -> AsyncIterator[Running]:
    """Start channels, dispatcher, outbox pump, inbox processor and (optionally) the retry loop.

    `poll_interval`: how often to look for updates other processes stored (default: the inbox's own).
    """
    await app.load_log_key()
    async with started(channels):
        for channel in channels:
            app.register_sender(channel.name, channel.sender, channel.fetch)
        parsers = {channel.name: channel.parser for channel in channels}
        # One processing process per shard: messages held under this name belong to an earlier run of this
        # process (killed, or stopped with messages queued), so its retry loop may send them now, not in a minute.
        holder = f"{shard[0]}/{shard[1]}"
        grace = {channel.name: channel.echo_grace for channel in channels}
        async with app.uow() as uow:
            released = await uow.outbox.release_held(holder, app.clock.now(), grace)
            await uow.commit()
        if released:
            log.info("released %d message(s) held by an earlier run of shard %s", released, holder)
        pump = OutboxPump(app.delivery(), app.clock)
        async with pump, app.dispatcher(pump.submit, holder=holder) as dispatcher:
            inbox = InboxProcessor(
                app.uow,
                dispatcher,
                parsers,
                app.clock,
                shard=shard,
                poll_interval=poll_interval,
                chats=chats_of(channels),
            )
            async with app.listening_for_inbox(inbox.wake, inbox.notified), inbox:
                retry = asyncio.create_task(retry_loop(app)) if retries else None
                try:
                    yield Running(app, channels, inbox, dispatcher, inbox, pump)
                finally:
                    await stop(retry)
            await pump.drain()


def channels_for(app: App) -> list[Channel]:
    """Return every channel of the registry that the settings configure."""
    return configured(app)


def chats_of(channels: Sequence[Channel]) -> dict[ChannelName, ChatOf]:
    """Return how each channel reads the chat of its stored updates (for shards and the input limit)."""
    return {channel.name: channel.chat_of for channel in channels}


def web_app(run: Accepting) -> Starlette:
    """Return the ASGI app for a web process: every channel's webhook routes, /healthz and /metrics.

    A process that also processes updates (`serve` without `--accept-only`) serves the public site and the staff
    console (/staf) too; an accept-only process keeps to the webhooks, so that nothing delays an acknowledgement.
    """
    site: list[BaseRoute] = []
    if isinstance(run, Running):
        from suarawarga.site.web import site_routes
        from suarawarga.staffweb.web import staff_routes

        site = [*staff_routes(run.app, run.pump.submit), *site_routes(run.app)]  # the site's 404 route is last
    return _app(run, [route for channel in run.channels for route in channel.routes(run.acceptor)], site)


def status_app(run: Accepting) -> Starlette:
    """Return the ASGI app of a `process` process: /healthz and /metrics only."""
    return _app(run, [])


def _app(run: Accepting, routes: list[BaseRoute], site: Sequence[BaseRoute] = ()) -> Starlette:
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
        run.app.metrics.inbox_failed.set(inbox.get("failed", 0))
        return run.app.metrics.render()

    return create_web_app([*routes, metrics_route(metrics)], health, site, run.app.database_problem)
