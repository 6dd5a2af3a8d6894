"""The `suarawarga inbox list` command: stored platform updates, above all those given up on (dead letters).

An update that could not be parsed or processed after the inbox's attempts stays in the inbox with status
`failed` (until the message-log pruning removes it), so an admin can see what was given up on, when and why.
`register(subparsers)` adds the command to the parser `suarawarga.__main__.build_parser()` builds.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from suarawarga.bot.messages import ChannelName, InboxStatus

if TYPE_CHECKING:
    from suarawarga.bootstrap import App


async def cmd_inbox_list(app: App, args: argparse.Namespace) -> int:
    """List stored updates, newest first, with their state, attempts and last error (never their content)."""
    async with app.uow() as uow:
        entries = await uow.inbox.listing(
            args.status, ChannelName(args.channel) if args.channel else None, max(args.limit, 0)
        )
    tz = app.settings.tz
    rows = [
        {
            "id": e.id,
            "channel": e.channel,
            "update": e.external_id,
            "status": e.status,
            "attempts": e.attempts,
            "received_at": e.received_at.astimezone(tz).isoformat(),
            "error": e.last_error,
        }
        for e in entries
    ]
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return 0
    lines = [f"{'RECEIVED':<16} {'CHANNEL':<9} {'STATUS':<8} {'TRIES':>5}  {'UPDATE':<24} ERROR"]
    for row in rows:
        update = str(row["update"]).encode("unicode_escape").decode("ascii")  # ids are checked; escape anyway
        lines.append(
            f"{str(row['received_at'])[:16]:<16} {row['channel']:<9} {row['status']:<8} {row['attempts']:>5}  "
            f"{update[:24]:<24} {row['error'] or ''}"
        )
    lines.append(f"{len(rows)} update(s)")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def register(subparsers: Any) -> None:
    """Add `inbox list` to the CLI."""
    inbox = subparsers.add_parser("inbox", help="incoming updates", description="Inspect stored incoming updates.")
    i_sub = inbox.add_subparsers(dest="inbox_command", required=True, metavar="ACTION")
    listing = i_sub.add_parser(
        "list",
        help="list updates and those given up on",
        description="List stored updates, newest first; --status failed shows the ones given up on (dead letters).",
    )
    listing.add_argument("--status", choices=[s.value for s in InboxStatus], help="only this state")
    listing.add_argument("--channel", choices=[c.value for c in ChannelName], help="only this channel")
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default: 50)")
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(handler=cmd_inbox_list)
