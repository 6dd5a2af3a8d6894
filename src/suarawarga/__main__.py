"""The `suarawarga` command line: one entry point for admins, the console and the servers."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suarawarga import __version__
from suarawarga.cli_output import (
    USER_ERROR,
    CliError,
    CliParser,
    city_iso,
    city_time,
    clean,
    command_name,
    commands,
    fail,
    note,
    out,
    parse_moment,
    refuse,
    report_unexpected,
    unit_code,
    unknown_unit,
    whole_number,
)

# The database layer, the bot and pydantic are imported by the commands that use them, not here: `--help` and
# a mistyped option answer at once.
if TYPE_CHECKING:
    from suarawarga.bootstrap import App
    from suarawarga.bot.channels.base import Channel
    from suarawarga.bot.channels.telegram import TelegramChannel
    from suarawarga.config import Settings

    Handler = Callable[[App, argparse.Namespace], Awaitable[int]]

MAX_INVITE_HOURS = 24 * 30  # an invite is for someone expected to join soon; a month covers leave and holidays


async def cmd_db_upgrade(app: App, args: argparse.Namespace) -> int:
    """Create or upgrade the database schema."""
    from suarawarga.storage.migrate import upgrade

    await upgrade(app.db, args.revision, app.settings.timezone)
    out(f"database at revision {args.revision}")
    return 0


async def cmd_seed(app: App, args: argparse.Namespace) -> int:
    """Load service units and categories from a YAML seed (the built-in Kota Padang seed by default)."""
    from suarawarga.complaints.seed import read_seed
    from suarawarga.complaints.services import load_seed

    try:
        seed = read_seed(Path(args.file) if args.file else None)
    except OSError as exc:
        fail(f"cannot read {args.file!r}: {exc.strerror or exc} (expected a seed YAML file)")
    except UnicodeDecodeError:
        fail(f"{args.file!r} is not UTF-8 text (expected a seed YAML file)")
    async with app.uow() as uow:
        result = await load_seed(uow, seed)
        await uow.commit()
    out(
        f"seed {seed.city_name or seed.city_code}: {result.units} units, {result.categories} categories"
        + (f", {result.deactivated} old categories hidden" if result.deactivated else "")
    )
    return 0


async def ensure_ready(app: App) -> None:
    """Upgrade the schema and load the default seed when the database has no units yet."""
    from suarawarga.complaints.seed import read_seed
    from suarawarga.complaints.services import load_seed
    from suarawarga.storage.migrate import upgrade

    await upgrade(app.db, timezone=app.settings.timezone)
    async with app.uow() as uow:
        if await uow.units.count() == 0:
            await load_seed(uow, read_seed())
            await uow.commit()
    await app.load_log_key()  # made and stored on first setup


async def cmd_console(app: App, args: argparse.Namespace) -> int:
    """Chat with the bot in this terminal (this chat's messages only; Ctrl-C leaves at once)."""
    from suarawarga.bot.channels.console import (
        ConsoleSender,
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
    reader = LineReader("you> ")
    console = ConsoleSender(app.catalogue, key.chat_id, lambda text: print_between(text, reader))
    app.register_sender(key.channel, console, read_local_file)
    print(
        "SuaraWarga console. Type a message, a number to pick an option, /lokasi LAT,LON to share\n"
        "a location,"
        " /foto PATH to send a photo, /menu, /batal, /bantuan, or /keluar (or Ctrl-D) to leave.\n"
    )
    delivery = app.delivery()
    async with app.dispatcher() as dispatcher:
        await show_waiting(app.uow, delivery, key)  # messages for this chat written while its console was closed
        first = parse_line("/start" if args.fresh else "/lanjut", key, app.clock)
        if not isinstance(first, str):
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
                if isinstance(inbound, str):
                    print(inbound)
                    continue
                await dispatcher.handle(inbound)
        finally:
            watcher.cancel()
    return 0


def _complaint_dict(complaint: Any, unit: Any, category: Any, app: App) -> dict[str, Any]:
    return {
        "code": complaint.code,
        "status": complaint.status.value,
        "unit": unit.code if unit else None,
        "category": category.code if category else None,
        "identity_mode": complaint.identity_mode.value,
        "filed_at": city_iso(complaint.filed_at, app.clock.tz),
        "description": complaint.description,
        "location": complaint.location_text
        or (f"{complaint.latitude},{complaint.longitude}" if complaint.latitude is not None else None),
    }


async def cmd_complaint_list(app: App, args: argparse.Namespace) -> int:
    """List complaints, oldest first, optionally for one unit and status."""
    from suarawarga.complaints.model import ComplaintStatus

    async with app.uow() as uow:
        unit_id = None
        if args.unit:
            unit = await uow.units.by_code(args.unit)
            if unit is None:
                fail(unknown_unit(args.unit))
            unit_id = unit.id
        complaints = await uow.complaints.list(unit_id, ComplaintStatus(args.status) if args.status else None)
        units = {u.id: u for u in await uow.units.list()}
        categories = {c.id: c for c in await uow.categories.list()}
    rows = [_complaint_dict(c, units.get(c.unit_id), categories.get(c.category_id), app) for c in complaints]
    if args.format == "json":
        out(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        out(f"{'CODE':<11} {'STATUS':<16} {'UNIT':<16} {'CATEGORY':<24} FILED ({app.settings.timezone})")
        for row, complaint in zip(rows, complaints, strict=True):
            out(
                f"{clean(row['code']):<11} {row['status']:<16} {clean(row['unit'] or '-'):<16} "
                f"{clean(row['category'] or '-'):<24} {city_time(complaint.filed_at, app.clock.tz)}"
            )
        out(f"{len(rows)} complaint(s)")
    return 0


async def cmd_complaint_show(app: App, args: argparse.Namespace) -> int:
    """Show one complaint with its history."""
    from suarawarga.complaints.model import IdentityMode, normalise_code

    code = normalise_code(args.code) or args.code
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(code)
        if complaint is None:
            return refuse(args, f"no complaint {args.code!r} (expected a tracking code, e.g. PDG-7K3QX9)", 1)
        unit = await uow.units.get(complaint.unit_id)
        category = await uow.categories.get(complaint.category_id)
        history = await uow.complaints.history(complaint.id)
        photos = await uow.complaints.attachment_count(complaint.id)
    data = _complaint_dict(complaint, unit, category, app)
    data["photos"] = photos
    # The reporter of a confidential complaint is not printed here: it is for the handling OPD only.
    data["reporter"] = complaint.reporter_name if complaint.identity_mode is IdentityMode.NAMED else None
    data["history"] = [
        {
            "at": city_iso(e.at, app.clock.tz),
            "event": e.kind.value,
            "by": e.actor.value,
            "status": e.to_status.value if e.to_status else None,
            "note": e.note,
        }
        for e in history
    ]
    if args.format == "json":
        out(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        shown = {**data, "filed_at": f"{city_time(complaint.filed_at, app.clock.tz)} ({app.settings.timezone})"}
        for field_name in (
            "code",
            "status",
            "unit",
            "category",
            "identity_mode",
            "reporter",
            "filed_at",
            "location",
        ):
            out(f"{field_name:>14}: {clean(shown[field_name]) if shown[field_name] is not None else '-'}")
        out(f"{'photos':>14}: {photos}")
        out(f"{'description':>14}: {clean(complaint.description)}")
        out("history:")
        for event, entry in zip(history, data["history"], strict=True):
            out(
                f"  {city_time(event.at, app.clock.tz)}  {entry['event']:<15} {entry['by']:<8} "
                f"{clean(entry['note'] or '')}"
            )
    return 0


async def cmd_staff_invite(app: App, args: argparse.Namespace) -> int:
    """Print a one-time code that makes its user an officer of a unit (or links a group to it)."""
    from datetime import timedelta

    from suarawarga.complaints.handling import create_invite
    from suarawarga.complaints.model import StaffRole
    from suarawarga.errors import NotFound

    try:
        async with app.uow() as uow:
            code, unit, expires = await create_invite(
                uow, args.unit, StaffRole(args.role), app.clock.now(), timedelta(hours=args.hours)
            )
            await uow.commit()
    except NotFound:
        fail(unknown_unit(args.unit))
    local = expires.astimezone(app.clock.tz)
    out(f"invite code for {clean(unit.name)} ({args.role}): {code}")
    out(f"valid once, until {local:%d-%m-%Y %H:%M} ({app.settings.timezone})")
    out(f"an officer sends 'gabung {code}' in a private chat with the bot;")
    out(f"or, in the OPD's group, 'hubungkan {code}' makes the group receive the unit's complaints")
    return 0


def _week(option: str, text: str, app: App) -> Any:
    """Parse an ISO week typed by an admin (a digest covers exactly one week), or fail naming the option."""
    from suarawarga.surveys.periods import PeriodError, PeriodKind, parse_period

    try:
        period = parse_period(text.strip(), app.clock.tz)
    except PeriodError as exc:
        fail(f"{option} {text!r}: {exc} (expected an ISO week, e.g. 2026-W48)")
    if period.kind is not PeriodKind.WEEK:
        fail(f"{option} {text!r} is a {period.kind.value}, expected an ISO week, e.g. 2026-W48")
    return period


class JobNames(Sequence[str]):
    """The names `run-job` accepts: the job registry's, read only when a job name is checked or listed."""

    def _names(self) -> list[str]:
        from suarawarga.jobs.scheduler import jobs

        return [name.value for name in jobs()]

    def __getitem__(self, index: Any) -> Any:
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()


async def cmd_run_job(app: App, args: argparse.Namespace) -> int:
    """Run one scheduled job now, or as if it were --at TIME (or just after the digest week --period)."""
    from suarawarga.jobs.digests import week_before
    from suarawarga.jobs.scheduler import JobName, jobs

    registry = jobs()
    name = next(job for job in registry if job == args.name)
    at = app.clock.now()
    if args.period and name != JobName.DIGESTS:
        fail(f"--period is for the digests job only; run {name} as of a time with --at")
    if args.at:
        at = parse_moment("--at", args.at, app.clock.tz)
    elif args.period:
        at = _week("--period", args.period, app).end  # the job runs as if just after the week ended
    if name == JobName.DIGESTS:
        week = week_before(at, app)
        if week.end > app.clock.now():
            # Sending it now would send a partial week and mark it sent, so the full digest would never go out.
            fail(
                f"week {week.label} has not ended yet (it ends {city_time(week.end, app.clock.tz)} "
                f"{app.settings.timezone}); its digest can be sent after that"
            )
    # The job itself, not scheduler.run_job: that one also logs the summary, which printed it twice here.
    result = await registry[name](app, at)
    out(result.summary())
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
            await _until_stopped(_forever())
        finally:
            scheduler.shutdown(wait=False)
    return 0


async def _forever() -> None:
    """Wait until cancelled (by `_until_stopped` on SIGINT/SIGTERM)."""
    await asyncio.Event().wait()


async def _until_stopped(work: Awaitable[None]) -> None:
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


def _telegram(channels: Sequence[Channel]) -> TelegramChannel | None:
    """Return the Telegram channel among the configured ones."""
    from suarawarga.bot.channels.telegram import TelegramChannel

    for channel in channels:
        if isinstance(channel, TelegramChannel):
            return channel
    return None


async def cmd_poll(app: App, args: argparse.Namespace) -> int:
    """Run the bot on Telegram by long polling (no public URL needed)."""
    from suarawarga.errors import ChannelError
    from suarawarga.runtime import channels_for, running

    channels = channels_for(app)
    telegram = _telegram(channels)
    if telegram is None:
        return refuse(args, "set SUARAWARGA_TELEGRAM_TOKEN to the bot token @BotFather gave you")
    if not args.no_setup:
        await ensure_ready(app)
    try:
        async with running(app, channels) as run:
            await telegram.delete_webhook()
            out(f"polling Telegram as @{telegram.username}; Ctrl-C to stop")
            await _until_stopped(telegram.poll(run.acceptor.accept))
    except ChannelError as exc:
        return refuse(args, f"telegram: {exc}", 1)
    return 0


async def _serve_http(app: App, args: argparse.Namespace, asgi: Any, telegram: TelegramChannel | None) -> None:
    """Serve an ASGI app with uvicorn until SIGINT/SIGTERM; register the Telegram webhook once listening."""
    import contextlib
    import socket

    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn without its own signal handling (`_until_stopped` stops it, after open requests finish)."""

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
    _settle_heap()
    await _until_stopped(serve(Server(config)))


def _settle_heap() -> None:
    """Take what start-up allocated out of the garbage collector's sight, before serving.

    Modules, the catalogue, SQLAlchemy's and PTB's objects live as long as the process. Left in the collected
    heap, every full collection walks them all: a pause of about 100 ms that a burst of webhooks waits through.
    """
    gc.collect()
    gc.freeze()


async def cmd_serve(app: App, args: argparse.Namespace) -> int:
    """Serve the webhooks (POST /telegram, /whatsapp) and GET /healthz over HTTP, behind an HTTPS proxy."""
    from suarawarga.errors import ChannelError
    from suarawarga.runtime import accepting, channels_for, running, web_app

    settings = app.settings
    channels = channels_for(app)
    telegram = _telegram(channels)
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
                await _serve_http(app, args, web_app(accepted), telegram)
        else:
            async with running(app, channels, shard=args.shard) as run:
                await _serve_http(app, args, web_app(run), telegram)
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
                _settle_heap()
                await _until_stopped(_forever())
            else:  # /healthz and /metrics of this process
                await _serve_http(app, args, status_app(run), None)
    except ChannelError as exc:
        return refuse(args, f"channel: {exc}", 1)
    return 0


def _mask(recipient: str) -> str:
    """Show only the end of a chat id (a WhatsApp id is a phone number)."""
    return "…" + recipient[-4:] if len(recipient) > 4 else recipient


async def cmd_outbox_list(app: App, args: argparse.Namespace) -> int:
    """List outgoing messages, newest first, with their delivery state and last error."""
    from suarawarga.bot.messages import ChannelName, OutboxStatus

    async with app.uow() as uow:
        entries = await uow.outbox.listing(
            OutboxStatus(args.status) if args.status else None,
            ChannelName(args.channel) if args.channel else None,
            args.limit,
        )
    rows = [
        {
            "id": e.id,
            "channel": e.channel,
            "recipient": _mask(e.recipient),
            "message": e.text_key,
            "status": e.status,
            "delivery": e.platform_status,
            "attempts": e.attempts,
            "created_at": city_iso(e.created_at, app.clock.tz),
            "error": e.last_error,
        }
        for e in entries
    ]
    if args.format == "json":
        out(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        out(
            f"{'CREATED (' + app.settings.timezone + ')':<16} {'CHANNEL':<9} {'TO':<7} {'STATUS':<11} "
            f"{'DELIVERY':<9} {'MESSAGE':<28} ERROR"
        )
        for e in entries:
            out(
                f"{city_time(e.created_at, app.clock.tz):<16} {e.channel:<9} {clean(_mask(e.recipient)):<7} "
                f"{e.status:<11} {clean(e.platform_status or '-'):<9} {clean(e.text_key):<28} "
                f"{clean(e.last_error or '')}"
            )
        out(f"{len(entries)} message(s)")
    return 0


async def cmd_digest_preview(app: App, args: argparse.Namespace) -> int:
    """Print the digest a unit (or the city admins) would get for a week, without sending anything."""
    from suarawarga.jobs.digests import city_params, unit_params
    from suarawarga.reports.digest import gather

    week = _week("--week", args.week, app)
    async with app.uow() as uow:
        digest = await gather(uow, app.calendar, week, app.clock.now())
    if args.unit is None:
        out(app.catalogue.render("digest.city", "id", city_params(digest, app.catalogue)))
        return 0
    line = next((u for u in digest.units if u.unit.code == args.unit), None)
    if line is None:
        fail(f"no digest for unit {args.unit}: expected the code of an OPD-level unit (see suarawarga unit list)")
    out(app.catalogue.render("digest.unit", "id", unit_params(line, week, app.catalogue)))
    return 0


async def cmd_audit(app: App, args: argparse.Namespace) -> int:
    """List who viewed the reporters of confidential complaints, newest first."""
    since = parse_moment("--since", args.since, app.clock.tz) if args.since else None
    async with app.uow() as uow:
        views = await uow.audit.identity_views(since)
    rows = [
        {
            "at": v.at.astimezone(app.clock.tz).isoformat(),
            "officer": v.officer,
            "unit": v.unit_code,
            "channel": v.channel,
            "complaint": v.complaint_code,
        }
        for v in views
    ]
    if args.format == "json":
        out(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for v in views:
            out(
                f"{city_time(v.at, app.clock.tz)}  {clean(v.complaint_code)}  {clean(v.unit_code):<16} "
                f"{clean(v.officer)} ({clean(v.channel)})"
            )
        out(f"{len(rows)} identity view(s)")
    return 0


async def cmd_unit_list(app: App, args: argparse.Namespace) -> int:
    """List the service units with their codes (the codes every other command takes), by name."""
    from suarawarga.complaints.model import UnitKind

    async with app.uow() as uow:
        units = await uow.units.list(UnitKind(args.kind) if args.kind else None)
        parents = {u.id: u.code for u in await uow.units.list()}
    rows = [
        {
            "code": u.code,
            "name": u.name,
            "kind": u.kind.value,
            "parent": parents.get(u.parent_id) if u.parent_id is not None else None,
        }
        for u in units
    ]
    if args.format == "json":
        out(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        out(f"{'CODE':<20} {'KIND':<10} {'PARENT':<12} NAME")
        for row in rows:
            out(f"{clean(row['code']):<20} {row['kind']:<10} {clean(row['parent'] or '-'):<12} {clean(row['name'])}")
        out(f"{len(rows)} unit(s)")
    return 0


def _add_shard(parser: argparse.ArgumentParser, command: str) -> None:
    """Add --shard I/N to a command that processes updates."""
    parser.add_argument(
        "--shard",
        type=_shard,
        default=(0, 1),
        metavar="I/N",
        help=f"with N {command} processes on one PostgreSQL, this one (0..N-1) handles the chats of shard I "
        "(default: 0/1)",
    )


def _shard(text: str) -> tuple[int, int]:
    """Parse I/N for --shard."""
    try:
        index_text, count_text = text.split("/")
        index, count = int(index_text), int(count_text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected I/N, e.g. 0/4") from None
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError("I must be between 0 and N-1")
    return index, count


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand."""
    from suarawarga.bot.messages import ChannelName, OutboxStatus
    from suarawarga.complaints.model import ComplaintStatus, StaffRole, UnitKind

    parser = CliParser(prog="suarawarga", description="SuaraWarga: complaints and IKM surveys over chat.")
    parser.add_argument("--version", action="version", version=f"suarawarga {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = sub.add_parser("db", help="database schema", description="Manage the database schema.")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="create or upgrade the schema", description="Run the migrations.")
    up.add_argument("--revision", default="head", help="target revision (default: head)")
    up.set_defaults(handler=cmd_db_upgrade)

    seed = sub.add_parser(
        "seed", help="load units and categories", description="Load service units and categories from YAML."
    )
    seed.add_argument("file", nargs="?", help="seed YAML (default: the built-in Kota Padang seed)")
    seed.set_defaults(handler=cmd_seed)

    console = sub.add_parser("console", help="chat with the bot here", description="Chat with the bot in the terminal.")
    console.add_argument(
        "--chat", default="local", help="console session id; the conversation resumes (default: local)"
    )
    console.add_argument("--no-setup", action="store_true", help="do not upgrade the schema or load the default seed")
    console.add_argument("--fresh", action="store_true", help="start over with /start instead of resuming")
    console.set_defaults(handler=cmd_console)

    complaint = sub.add_parser("complaint", help="list or show complaints", description="Inspect complaints.")
    c_sub = complaint.add_subparsers(dest="complaint_command", required=True, metavar="ACTION")
    listing = c_sub.add_parser("list", help="list complaints", description="List complaints, oldest first.")
    listing.add_argument("--unit", type=unit_code, help="unit code, e.g. DPUPR (see suarawarga unit list)")
    listing.add_argument(
        "--status",
        choices=[s.value for s in ComplaintStatus],
        help="only this status",
    )
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(handler=cmd_complaint_list)
    show = c_sub.add_parser("show", help="show one complaint", description="Show a complaint and its history.")
    show.add_argument("code", help="tracking code, e.g. PDG-7K3QX9")
    show.add_argument("--format", choices=["table", "json"], default="table")
    show.set_defaults(handler=cmd_complaint_show)

    staff = sub.add_parser("staff", help="OPD officers", description="Manage OPD officers.")
    s_sub = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    invite = s_sub.add_parser(
        "invite", help="print a one-time invite code", description="Print a one-time invite code for a unit."
    )
    invite.add_argument("unit", type=unit_code, help="unit code, e.g. DPUPR (see suarawarga unit list)")
    invite.add_argument("--role", choices=[r.value for r in StaffRole], default="officer")
    invite.add_argument(
        "--hours",
        type=whole_number(1, MAX_INVITE_HOURS, "hours"),
        default=72,
        help=f"hours the code stays valid, 1–{MAX_INVITE_HOURS} (default: 72)",
    )
    invite.set_defaults(handler=cmd_staff_invite)
    from suarawarga import cli_staff

    cli_staff.register(s_sub)

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
    _add_shard(serve, "serve")
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
    _add_shard(process, "process")
    process.add_argument("--host", default="127.0.0.1", help="address of /healthz and /metrics (default: 127.0.0.1)")
    process.add_argument(
        "--port", type=whole_number(1, 65535), help="serve /healthz and /metrics on this port (default: none)"
    )
    process.add_argument("--no-setup", action="store_true", help="do not upgrade the schema or load the default seed")
    process.set_defaults(handler=cmd_process)

    run_job_parser = sub.add_parser(
        "run-job", help="run one job now", description="Run one scheduled job by hand (idempotent: reruns skip)."
    )
    run_job_parser.add_argument("name", choices=JobNames(), metavar="JOB", help="the job: %(choices)s")
    when = run_job_parser.add_mutually_exclusive_group()
    when.add_argument("--at", help="run as if it were this time (ISO, city time if no offset)")
    when.add_argument("--period", help="digests only: the week, once it has ended, e.g. 2026-W48")
    run_job_parser.set_defaults(handler=cmd_run_job)

    digest = sub.add_parser("digest", help="weekly digests", description="Look at the weekly digests.")
    d_sub = digest.add_subparsers(dest="digest_command", required=True, metavar="ACTION")
    preview = d_sub.add_parser(
        "preview", help="print a digest without sending it", description="Print what a digest would say."
    )
    preview.add_argument("--unit", type=unit_code, help="unit code (default: the city admins' ranking)")
    preview.add_argument("--week", required=True, help="ISO week, e.g. 2026-W48")
    preview.set_defaults(handler=cmd_digest_preview)

    outbox = sub.add_parser("outbox", help="outgoing messages", description="Inspect outgoing messages.")
    o_sub = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    o_list = o_sub.add_parser(
        "list", help="list messages and delivery errors", description="List outgoing messages, newest first."
    )
    o_list.add_argument("--status", choices=[s.value for s in OutboxStatus], help="only this state")
    o_list.add_argument("--channel", choices=[c.value for c in ChannelName], help="only this channel")
    o_list.add_argument("--limit", type=whole_number(1, 100_000), default=50, help="at most this many (default: 50)")
    o_list.add_argument("--format", choices=["table", "json"], default="table")
    o_list.set_defaults(handler=cmd_outbox_list)

    audit = sub.add_parser(
        "audit",
        help="who viewed confidential reporters",
        description="List officers' views of confidential complaints' reporters.",
    )
    audit.add_argument("--since", help="only views since this date/time (ISO)")
    audit.add_argument("--format", choices=["table", "json"], default="table")
    audit.set_defaults(handler=cmd_audit)

    unit = sub.add_parser("unit", help="service units and their codes", description="Look up service units.")
    u_sub = unit.add_subparsers(dest="unit_command", required=True, metavar="ACTION")
    u_list = u_sub.add_parser(
        "list", help="list units and their codes", description="List the active service units by name."
    )
    u_list.add_argument("--kind", choices=[k.value for k in UnitKind], help="only this kind of unit")
    u_list.add_argument("--format", choices=["table", "json"], default="table")
    u_list.set_defaults(handler=cmd_unit_list)

    from suarawarga import cli_inbox, cli_surveys

    cli_surveys.register(sub)
    cli_inbox.register(sub)
    for words, command in commands(parser):  # every error and remark names the command it is about
        command.set_defaults(command_name=" ".join(["suarawarga", *words]))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line: a user error is one line and exit code 2, never a traceback."""
    args = build_parser().parse_args(argv)
    command = command_name(args)
    settings: Settings | None = None
    try:
        settings = _settings()
        return _run(settings, args)
    except CliError as exc:
        note(f"{command}: {exc}")
        return USER_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader left (`suarawarga unit list | head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # the last resort: one line, and the trace in a file
        from suarawarga.logging import redact

        problem = _user_problem(exc, settings)
        if problem is not None:
            note(f"{command}: {redact(clean(problem))}")
            return USER_ERROR
        return report_unexpected(command, exc, redact)


def _settings() -> Settings:
    """Read the settings; an invalid one is a user error naming the variable, its value and what is expected."""
    from pydantic import ValidationError

    from suarawarga.config import describe_invalid, load_settings

    try:
        return load_settings()
    except ValidationError as exc:
        raise CliError(describe_invalid(exc)) from None


def _run(settings: Settings, args: argparse.Namespace) -> int:
    """Build the app and run the command's handler in an event loop."""
    from suarawarga.bootstrap import build
    from suarawarga.logging import configure_logging

    configure_logging("WARNING" if args.command == "console" else settings.log_level, settings.log_format)
    handler: Handler = args.handler

    async def run() -> int:
        app = build(settings)
        failed = True
        try:
            code = await handler(app, args)
            failed = False
            return code
        finally:
            await app.aclose()
            if failed:
                from suarawarga.storage.db import settle_failed_connections

                await settle_failed_connections()

    with asyncio.Runner(loop_factory=_loop_factory(args.command)) as runner:
        return runner.run(run())


def _user_problem(exc: Exception, settings: Settings | None) -> str | None:
    """Return the one-line text of an error the admin can fix (bad seed, period, database URL), else None."""
    from suarawarga.errors import ConfigError
    from suarawarga.surveys.periods import PeriodError

    if isinstance(exc, ConfigError | PeriodError):
        return " ".join(str(exc).split())
    if settings is None:
        return None
    from suarawarga.storage.db import database_problem

    return database_problem(exc, settings.database_url)


SERVER_COMMANDS = frozenset({"serve", "process", "poll", "worker"})


def _loop_factory(command: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """Return uvloop's event loop for the long-running servers where it is installed (less CPU per request)."""
    if command not in SERVER_COMMANDS:
        return None
    try:
        import uvloop
    except ImportError:  # not on this platform (Windows): the standard loop does the same, a little slower
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


if __name__ == "__main__":
    sys.exit(main())
