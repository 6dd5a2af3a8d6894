"""The commands that run SuaraWarga: console, worker, poll, serve and process."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from suarawarga.cli import serving
from suarawarga.cli.data import ensure_ready
from suarawarga.cli.output import (
    command_name,
    note,
    out,
    refuse,
    whole_number,
)

if TYPE_CHECKING:
    from suarawarga.bootstrap import App


async def cmd_console(app: App, args: argparse.Namespace) -> int:
    """Chat with the bot in this terminal (this chat's messages only; Ctrl-C leaves at once)."""
    from suarawarga.bot.channels.console import (
        ConsoleSender,
        Hint,
        LineReader,
        console_key,
        parse_line,
        print_between,
        read_local_file,
        show_waiting,
        watch_outbox,
    )

    if not args.no_setup:
        await ensure_ready(app)
    key = console_key(args.chat)
    reader = LineReader(app.catalogue.render("console.prompt", app.catalogue.default_language))
    console = ConsoleSender(app.catalogue, key.chat_id, lambda text: print_between(text, reader))
    app.register_sender(key.channel, console, read_local_file)
    print(app.catalogue.render("console.banner", app.catalogue.default_language))
    delivery = app.delivery()
    async with app.dispatcher() as dispatcher:
        await show_waiting(app.uow, delivery, key)  # messages for this chat written while its console was closed
        first = parse_line("/start" if args.fresh else "/lanjut", key, app.clock)
        if not isinstance(first, Hint):
            await dispatcher.handle(first)
        watcher = asyncio.create_task(watch_outbox(app.uow, delivery, key))
        try:
            while True:
                line = await reader.readline()
                if line is None:
                    print()
                    break
                if line.strip() in ("/keluar", "/quit", "/exit"):
                    break
                if not line.strip():
                    continue
                inbound = parse_line(line, key, app.clock)
                if isinstance(inbound, Hint):
                    print(app.catalogue.render(inbound.key, app.catalogue.default_language, inbound.params))
                    continue
                await dispatcher.handle(inbound)
        finally:
            watcher.cancel()
    return 0


async def cmd_worker(app: App, args: argparse.Namespace) -> int:
    """Run the scheduler and the outbox delivery until interrupted (exactly one worker per deployment)."""
    from suarawarga.jobs.scheduler import build_scheduler
    from suarawarga.runtime import channels_for, started

    if not args.no_setup:
        await ensure_ready(app)
    channels = channels_for(app)
    async with started(channels):
        for channel in channels:
            app.register_sender(channel.name, channel.sender, channel.fetch)
        scheduler = build_scheduler(app)
        scheduler.start()
        out(f"worker running: jobs {', '.join(j.id for j in scheduler.get_jobs())}; Ctrl-C to stop")
        try:
            await serving.until_stopped(serving.forever())
        finally:
            scheduler.shutdown(wait=False)
    return 0


async def cmd_poll(app: App, args: argparse.Namespace) -> int:
    """Run the bot on Telegram by long polling (no public URL needed)."""
    from suarawarga.errors import ChannelError
    from suarawarga.runtime import channels_for, running

    channels = channels_for(app)
    telegram = serving.telegram_channel(channels)
    if telegram is None:
        return refuse(args, "set SUARAWARGA_TELEGRAM_TOKEN to the bot token @BotFather gave you")
    if not args.no_setup:
        await ensure_ready(app)
    try:
        async with running(app, channels) as run:
            await telegram.delete_webhook()
            out(f"polling Telegram as @{telegram.username}; Ctrl-C to stop")
            await serving.until_stopped(telegram.poll(run.acceptor.accept))
    except ChannelError as exc:
        return refuse(args, f"telegram: {exc}", 1)
    return 0


async def cmd_serve(app: App, args: argparse.Namespace) -> int:
    """Serve the webhooks (POST /telegram, /whatsapp) and GET /healthz over HTTP, behind an HTTPS proxy."""
    from suarawarga.errors import ChannelError
    from suarawarga.runtime import accepting, channels_for, running, web_app

    settings = app.settings
    channels = channels_for(app)
    telegram = serving.telegram_channel(channels)
    if telegram is not None and not telegram.secret_is_valid():
        return refuse(
            args,
            "refusing to serve Telegram without a valid webhook secret: set SUARAWARGA_TELEGRAM_WEBHOOK_SECRET "
            "(1-256 characters of A-Z a-z 0-9 _ -), or use `suarawarga poll`",
        )
    if args.set_webhook and (telegram is None or not settings.public_url):
        return refuse(args, "--set-webhook needs SUARAWARGA_TELEGRAM_TOKEN and SUARAWARGA_PUBLIC_URL")
    if args.accept_only and args.shard != (0, 1):
        return refuse(args, "--accept-only stores every update: --shard belongs to `suarawarga process`")
    if not channels:
        note(f"{command_name(args)}: no channel is configured: only /healthz and /metrics will answer")
    if not args.no_setup:
        await ensure_ready(app)
    try:
        if args.accept_only:
            async with accepting(app, channels) as accepted:
                await serving.serve_http(app, args, web_app(accepted), telegram)
        else:
            async with running(app, channels, shard=args.shard) as run:
                await serving.serve_http(app, args, web_app(run), telegram)
    except ChannelError as exc:
        return refuse(args, f"channel: {exc}", 1)
    return 0


async def cmd_process(app: App, args: argparse.Namespace) -> int:
    """Process the updates that `serve --accept-only` processes stored, and send the replies (no webhooks)."""
    from suarawarga.errors import ChannelError
    from suarawarga.runtime import PROCESS_POLL_INTERVAL, channels_for, running, status_app

    channels = channels_for(app)
    if not channels:
        return refuse(args, "no channel is configured: set the Telegram or WhatsApp settings")
    if not args.no_setup:
        await ensure_ready(app)
    try:
        async with running(app, channels, shard=args.shard, poll_interval=PROCESS_POLL_INTERVAL) as run:
            index, count = args.shard
            out(f"processing shard {index}/{count} of the inbox; Ctrl-C to stop")
            if args.port is None:
                serving.settle_heap()
                await serving.until_stopped(serving.forever())
            else:  # /healthz and /metrics of this process
                await serving.serve_http(app, args, status_app(run), None)
    except ChannelError as exc:
        return refuse(args, f"channel: {exc}", 1)
    return 0


def register(sub: Any) -> None:
    """Add console, worker, poll, serve and process."""
    console = sub.add_parser("console", help="chat with the bot here", description="Chat with the bot in the terminal.")
    console.add_argument(
        "--chat", default="local", help="console session id; the conversation resumes (default: local)"
    )
    console.add_argument("--no-setup", action="store_true", help="do not upgrade the schema or load the default seed")
    console.add_argument("--fresh", action="store_true", help="start over with /start instead of resuming")
    console.set_defaults(handler=cmd_console)

    worker = sub.add_parser(
        "worker", help="run the scheduled jobs", description="Run the scheduler and outbox delivery (one per city)."
    )
    worker.add_argument("--no-setup", action="store_true", help="do not upgrade the schema first")
    worker.set_defaults(handler=cmd_worker)

    poll = sub.add_parser(
        "poll",
        help="run the Telegram bot by long polling",
        description="Run the bot on Telegram by long polling: no public URL needed. Needs SUARAWARGA_TELEGRAM_TOKEN.",
    )
    poll.add_argument("--no-setup", action="store_true", help="do not upgrade the schema or load the default seed")
    poll.set_defaults(handler=cmd_poll)

    serve = sub.add_parser(
        "serve",
        help="serve the webhooks over HTTP",
        description="Serve POST /telegram (and /whatsapp) and GET /healthz; put it behind an HTTPS reverse proxy. "
        "Telegram needs SUARAWARGA_TELEGRAM_WEBHOOK_SECRET.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=whole_number(1, 65535), default=8080, help="port to listen on (default: 8080)")
    serve.add_argument(
        "--set-webhook",
        action="store_true",
        help="register SUARAWARGA_PUBLIC_URL/telegram and the secret with Telegram once listening",
    )
    serve.add_argument("--no-setup", action="store_true", help="do not upgrade the schema or load the default seed")
    serving.add_shard(serve, "serve")
    serve.add_argument(
        "--accept-only",
        action="store_true",
        help="only store each update and answer 200; `suarawarga process` processes handle them (PostgreSQL)",
    )
    serve.set_defaults(handler=cmd_serve)

    process = sub.add_parser(
        "process",
        help="process updates that `serve --accept-only` stored",
        description="Process the stored updates of shard I/N and send the replies; no webhooks. "
        "Runs beside `serve --accept-only` processes on one PostgreSQL.",
    )
    serving.add_shard(process, "process")
    process.add_argument("--host", default="127.0.0.1", help="address of /healthz and /metrics (default: 127.0.0.1)")
    process.add_argument(
        "--port", type=whole_number(1, 65535), help="serve /healthz and /metrics on this port (default: none)"
    )
    process.add_argument("--no-setup", action="store_true", help="do not upgrade the schema or load the default seed")
    process.set_defaults(handler=cmd_process)
