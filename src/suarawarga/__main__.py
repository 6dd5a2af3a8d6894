"""The `suarawarga` command line: one entry point for admins, the console and the servers."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from suarawarga import __version__
from suarawarga.bootstrap import App, build
from suarawarga.config import load_settings
from suarawarga.logging import configure_logging

Handler = Callable[[App, argparse.Namespace], Awaitable[int]]


async def cmd_db_upgrade(app: App, args: argparse.Namespace) -> int:
    """Create or upgrade the database schema."""
    from suarawarga.storage.migrate import upgrade

    await upgrade(app.db, args.revision)
    print(f"database at revision {args.revision}")
    return 0


async def cmd_seed(app: App, args: argparse.Namespace) -> int:
    """Load service units and categories from a YAML seed (the built-in Kota Padang seed by default)."""
    from suarawarga.complaints.seed import read_seed
    from suarawarga.complaints.services import load_seed

    seed = read_seed(Path(args.file) if args.file else None)
    async with app.uow() as uow:
        result = await load_seed(uow, seed)
        await uow.commit()
    print(
        f"seed {seed.city_name or seed.city_code}: {result.units} units, {result.categories} categories"
        + (f", {result.deactivated} old categories hidden" if result.deactivated else "")
    )
    return 0


async def ensure_ready(app: App) -> None:
    """Upgrade the schema and load the default seed when the database has no units yet."""
    from suarawarga.complaints.seed import read_seed
    from suarawarga.complaints.services import load_seed
    from suarawarga.storage.migrate import upgrade

    await upgrade(app.db)
    async with app.uow() as uow:
        if await uow.units.count() == 0:
            await load_seed(uow, read_seed())
            await uow.commit()


async def cmd_console(app: App, args: argparse.Namespace) -> int:
    """Chat with the bot in this terminal."""
    from suarawarga.bot.channels.console import RecordingSender, console_key, parse_line, print_bot
    from suarawarga.bot.messages import ChannelName

    if not args.no_setup:
        await ensure_ready(app)
    app.senders[ChannelName.CONSOLE] = RecordingSender(app.catalogue, echo=print_bot)
    key = console_key(args.chat)
    print(
        "SuaraWarga console. Type a message, a number to pick an option, /lokasi LAT,LON to share\n"
        "a location,"
        " /foto PATH to send a photo, /menu, /batal, /bantuan, or /keluar (or Ctrl-D) to leave.\n"
    )
    async with app.dispatcher() as dispatcher:
        first = parse_line("/start" if args.fresh else "/lanjut", key, app.clock, app.attachments)
        if not isinstance(first, str):
            await dispatcher.handle(first)
        while True:
            try:
                line = await asyncio.to_thread(input, "you> ")
            except EOFError:
                print()
                break
            if line.strip() in ("/keluar", "/quit", "/exit"):
                break
            if not line.strip():
                continue
            inbound = parse_line(line, key, app.clock, app.attachments)
            if isinstance(inbound, str):
                print(inbound)
                continue
            await dispatcher.handle(inbound)
    return 0


def _complaint_dict(complaint: Any, unit: Any, category: Any) -> dict[str, Any]:
    return {
        "code": complaint.code,
        "status": complaint.status.value,
        "unit": unit.code if unit else None,
        "category": category.code if category else None,
        "identity_mode": complaint.identity_mode.value,
        "filed_at": complaint.filed_at.isoformat(),
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
                print(f"unknown unit {args.unit}", file=sys.stderr)
                return 2
            unit_id = unit.id
        complaints = await uow.complaints.list(unit_id, ComplaintStatus(args.status) if args.status else None)
        units = {u.id: u for u in await uow.units.list()}
        categories = {c.id: c for c in await uow.categories.list()}
    rows = [_complaint_dict(c, units.get(c.unit_id), categories.get(c.category_id)) for c in complaints]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print(f"{'CODE':<11} {'STATUS':<16} {'UNIT':<16} {'CATEGORY':<24} FILED")
        for row in rows:
            print(
                f"{row['code']:<11} {row['status']:<16} {row['unit'] or '-':<16} "
                f"{row['category'] or '-':<24} {row['filed_at'][:16]}"
            )
        print(f"{len(rows)} complaint(s)")
    return 0


async def cmd_complaint_show(app: App, args: argparse.Namespace) -> int:
    """Show one complaint with its history."""
    from suarawarga.complaints.model import IdentityMode, normalise_code

    code = normalise_code(args.code) or args.code
    async with app.uow() as uow:
        complaint = await uow.complaints.by_code(code)
        if complaint is None:
            print(f"no complaint {args.code}", file=sys.stderr)
            return 1
        unit = await uow.units.get(complaint.unit_id)
        category = await uow.categories.get(complaint.category_id)
        history = await uow.complaints.history(complaint.id)
        photos = await uow.complaints.attachment_count(complaint.id)
    data = _complaint_dict(complaint, unit, category)
    data["photos"] = photos
    # The reporter of a confidential complaint is not printed here: it is for the handling OPD only.
    data["reporter"] = complaint.reporter_name if complaint.identity_mode is IdentityMode.NAMED else None
    data["history"] = [
        {
            "at": e.at.isoformat(),
            "event": e.kind.value,
            "by": e.actor.value,
            "status": e.to_status.value if e.to_status else None,
            "note": e.note,
        }
        for e in history
    ]
    if args.format == "json":
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
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
            print(f"{field_name:>14}: {data[field_name] if data[field_name] is not None else '-'}")
        print(f"{'photos':>14}: {photos}")
        print(f"{'description':>14}: {complaint.description}")
        print("history:")
        for event in data["history"]:
            print(f"  {event['at'][:16]}  {event['event']:<15} {event['by']:<8} {event['note'] or ''}")
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
        print(f"unknown unit {args.unit}", file=sys.stderr)
        return 2
    local = expires.astimezone(app.clock.tz)
    print(f"invite code for {unit.name} ({args.role}): {code}")
    print(f"valid once, until {local:%d-%m-%Y %H:%M} ({app.settings.timezone})")
    print(f"an officer sends 'gabung {code}' in a private chat with the bot;")
    print(f"or, in the OPD's group, 'hubungkan {code}' makes the group receive the unit's complaints")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="suarawarga", description="SuaraWarga: complaints and IKM surveys over chat.")
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
    listing.add_argument("--unit", help="unit code, e.g. DPUPR")
    listing.add_argument(
        "--status",
        choices=["diterima", "diproses", "menunggu_info", "perlu_disposisi", "selesai", "ditutup"],
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
    invite.add_argument("unit", help="unit code, e.g. DPUPR")
    invite.add_argument("--role", choices=["officer", "head", "admin"], default="officer")
    invite.add_argument("--hours", type=int, default=72, help="hours the code stays valid (default: 72)")
    invite.set_defaults(handler=cmd_staff_invite)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    args = build_parser().parse_args(argv)
    settings = load_settings()
    configure_logging("WARNING" if args.command == "console" else settings.log_level)
    handler: Handler = args.handler

    async def run() -> int:
        app = build(settings)
        try:
            return await handler(app, args)
        finally:
            await app.aclose()

    try:
        return asyncio.run(run())
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
