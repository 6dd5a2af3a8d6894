"""The message commands of `suarawarga`: outbox list (outgoing messages) and inbox list (stored updates).

An update that could not be parsed or processed after the inbox's attempts stays in the inbox with status
`failed` (until the message-log pruning removes it), so an admin can see what was given up on, when and why.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from suarawarga.bot.messages import ChannelName, InboxStatus, OutboxStatus
from suarawarga.cli.output import city_iso, city_time, clean, out, whole_number

if TYPE_CHECKING:
    from suarawarga.bootstrap import App


def _mask(recipient: str) -> str:
    """Show only the end of a chat id (a WhatsApp id is a phone number)."""
    return "…" + recipient[-4:] if len(recipient) > 4 else recipient


async def cmd_outbox_list(app: App, args: argparse.Namespace) -> int:
    """List outgoing messages, newest first, with their delivery state and last error."""
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


async def cmd_inbox_list(app: App, args: argparse.Namespace) -> int:
    """List stored updates, newest first, with their state, attempts and last error (never their content)."""
    async with app.uow() as uow:
        entries = await uow.inbox.listing(args.status, ChannelName(args.channel) if args.channel else None, args.limit)
    tz = app.settings.tz
    rows = [
        {
            "id": e.id,
            "channel": e.channel,
            "update": e.external_id,
            "status": e.status,
            "attempts": e.attempts,
            "received_at": city_iso(e.received_at, tz),
            "error": e.last_error,
        }
        for e in entries
    ]
    if args.format == "json":
        out(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    lines = [f"{'RECEIVED':<16} {'CHANNEL':<9} {'STATUS':<8} {'TRIES':>5}  {'UPDATE':<24} ERROR"]
    for row in rows:
        update = str(row["update"]).encode("unicode_escape").decode("ascii")  # ids are checked; escape anyway
        lines.append(
            f"{str(row['received_at'])[:16]:<16} {row['channel']:<9} {row['status']:<8} {row['attempts']:>5}  "
            f"{update[:24]:<24} {row['error'] or ''}"
        )
    lines.append(f"{len(rows)} update(s)")
    out("\n".join(lines))
    return 0


def register(sub: Any) -> None:
    """Add `outbox list` and `inbox list`."""

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

    inbox = sub.add_parser("inbox", help="incoming updates", description="Inspect stored incoming updates.")
    i_sub = inbox.add_subparsers(dest="inbox_command", required=True, metavar="ACTION")
    listing = i_sub.add_parser(
        "list",
        help="list updates and those given up on",
        description="List stored updates, newest first; --status failed shows the ones given up on (dead letters).",
    )
    listing.add_argument("--status", choices=[s.value for s in InboxStatus], help="only this state")
    listing.add_argument("--channel", choices=[c.value for c in ChannelName], help="only this channel")
    listing.add_argument("--limit", type=whole_number(1, 100_000), default=50, help="at most this many (default: 50)")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(handler=cmd_inbox_list)
