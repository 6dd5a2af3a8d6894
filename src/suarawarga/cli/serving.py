"""What the long-running commands share: running until SIGINT/SIGTERM, serving HTTP with uvicorn, --shard."""

from __future__ import annotations

import argparse
import asyncio
import gc
from collections.abc import Awaitable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from suarawarga.cli.output import (
    out,
)

if TYPE_CHECKING:
    from suarawarga.bootstrap import App
    from suarawarga.bot.channels.base import Channel
    from suarawarga.bot.channels.telegram import TelegramChannel


async def forever() -> None:
    """Wait until cancelled (by `until_stopped` on SIGINT/SIGTERM)."""
    await asyncio.Event().wait()


async def until_stopped(work: Awaitable[None]) -> None:
    """Run `work` until it ends or SIGINT/SIGTERM arrives; a signal cancels it so that everything shuts down."""
    import signal

    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    watched = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, task.cancel)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            continue
        watched.append(sig)
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # cancelled from outside, not by a signal
    finally:
        for sig in watched:
            loop.remove_signal_handler(sig)


def telegram_channel(channels: Sequence[Channel]) -> TelegramChannel | None:
    """Return the Telegram channel among the configured ones."""
    from suarawarga.bot.channels.telegram import TelegramChannel

    for channel in channels:
        if isinstance(channel, TelegramChannel):
            return channel
    return None


async def serve_http(app: App, args: argparse.Namespace, asgi: Any, telegram: TelegramChannel | None) -> None:
    """Serve an ASGI app with uvicorn until SIGINT/SIGTERM; register the Telegram webhook once listening."""
    import contextlib
    import socket

    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn without its own signal handling (`until_stopped` stops it, after open requests finish)."""

        def __init__(self, config: uvicorn.Config) -> None:
            super().__init__(config)
            self.listening = asyncio.Event()

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            self.listening.set()

    async def serve(server: Server) -> None:
        task = asyncio.ensure_future(server.serve())
        try:
            listening = asyncio.ensure_future(server.listening.wait())
            await asyncio.wait([task, listening], return_when=asyncio.FIRST_COMPLETED)
            listening.cancel()
            if telegram is not None and getattr(args, "set_webhook", False) and server.started:
                url = f"{(app.settings.public_url or '').rstrip('/')}/telegram"
                await telegram.set_webhook(url)
                out(f"webhook set: {url}")
            await asyncio.shield(task)
        except asyncio.CancelledError:
            server.should_exit = True
            await task
            raise
        finally:
            if not task.done():
                server.should_exit = True
                await task

    from suarawarga.httpserver import server_options

    config = uvicorn.Config(
        asgi, host=args.host, port=args.port, lifespan="off", log_config=None, server_header=False, **server_options()
    )
    settle_heap()
    await until_stopped(serve(Server(config)))


def settle_heap() -> None:
    """Take what start-up allocated out of the garbage collector's sight, before serving.

    Modules, the catalogue, SQLAlchemy's and PTB's objects live as long as the process. Left in the collected
    heap, every full collection walks them all: a pause of about 100 ms that a burst of webhooks waits through.
    """
    gc.collect()
    gc.freeze()


def add_shard(parser: argparse.ArgumentParser, command: str) -> None:
    """Add --shard I/N to a command that processes updates."""
    parser.add_argument(
        "--shard",
        type=shard,
        default=(0, 1),
        metavar="I/N",
        help=f"with N {command} processes on one PostgreSQL, this one (0..N-1) handles the chats of shard I "
        "(default: 0/1)",
    )


def shard(text: str) -> tuple[int, int]:
    """Parse I/N for --shard."""
    try:
        index_text, count_text = text.split("/")
        index, count = int(index_text), int(count_text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected I/N, e.g. 0/4") from None
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError("I must be between 0 and N-1")
    return index, count
