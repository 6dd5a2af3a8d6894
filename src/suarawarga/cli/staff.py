"""The staff commands of `suarawarga`: invite, list, remove, unlink-group and history.

A user error is one line on stderr naming the command, the value and what is expected, with exit code 2
(through `cli.output`). Unit codes are case-insensitive.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from suarawarga.cli.output import city_time, clean, fail, out, unit_code, unknown_unit, whole_number
from suarawarga.complaints import staffing
from suarawarga.complaints.model import StaffRole, Unit
from suarawarga.errors import NotFound

if TYPE_CHECKING:
    from suarawarga.bootstrap import App

MAX_INVITE_HOURS = 24 * 30  # an invite is for someone expected to join soon; a month covers leave and holidays


def _safe(text: str | None) -> str:
    """Return text from a chat (an officer's display name) as one line for a terminal, "-" when there is none."""
    return "-" if text is None else clean(text)


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


async def _unit(app: App, code: str | None) -> Unit | None:
    """Return the unit named (None: every unit), or stop the command when there is no such unit."""
    if not code:
        return None
    async with app.uow() as uow:
        try:
            return await staffing.unit_by_code(uow, code)
        except NotFound:
            fail(unknown_unit(code))


async def cmd_staff_list(app: App, args: argparse.Namespace) -> int:
    """List the active officers and linked groups (of one unit), with the numbers remove/unlink-group take."""
    unit = await _unit(app, args.unit)
    async with app.uow() as uow:
        roster = await staffing.roster(uow, unit)
    tz = str(app.settings.timezone)
    if args.format == "json":
        data = {
            "officers": [
                {
                    "id": m.staff.id,
                    "unit": m.unit_code,
                    "role": m.staff.role.value,
                    "channel": m.staff.channel,
                    "name": m.staff.name,
                    "joined_at": m.joined_at.astimezone(app.clock.tz).isoformat(),
                }
                for m in roster.members
            ],
            "groups": [
                {
                    "id": g.id,
                    "unit": g.unit_code,
                    "channel": g.channel,
                    "chat_id": g.chat_id,
                    "linked_at": g.linked_at.astimezone(app.clock.tz).isoformat(),
                }
                for g in roster.groups
            ],
        }
        out(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    out(f"{'ID':>5}  {'UNIT':<16} {'ROLE':<8} {'CHANNEL':<9} {'JOINED (' + tz + ')':<24} NAME")
    for m in roster.members:
        out(
            f"{m.staff.id:>5}  {m.unit_code:<16} {m.staff.role.value:<8} {m.staff.channel:<9} "
            f"{city_time(m.joined_at, app.clock.tz):<24} {_safe(m.staff.name)}"
        )
    out(f"{len(roster.members)} officer(s); remove one with: suarawarga staff remove ID")
    if roster.groups:
        out("")
        out(f"{'GROUP':>5}  {'UNIT':<16} {'CHANNEL':<9} {'LINKED (' + tz + ')':<24} CHAT")
        for g in roster.groups:
            linked = city_time(g.linked_at, app.clock.tz)
            out(f"{g.id:>5}  {g.unit_code:<16} {g.channel:<9} {linked:<24} {_safe(g.chat_id)}")
    out(f"{len(roster.groups)} linked group(s); unlink one with: suarawarga staff unlink-group GROUP")
    return 0


async def cmd_staff_remove(app: App, args: argparse.Namespace) -> int:
    """Remove an officer (by the ID `staff list` shows): their buttons stop working at once; recorded."""
    now = app.clock.now()
    async with app.uow() as uow:
        try:
            member = await staffing.remove_member(uow, args.id, now, reason=args.reason)
        except NotFound:
            fail(f"no active officer with ID {args.id}: expected an ID from suarawarga staff list")
        unit = await uow.units.get(member.unit_id)
        unit_name = unit.name if unit else "-"
        await uow.outbox.add_many([staffing.removal_notice(member, unit_name)], now)
        await uow.commit()
    out(f"removed {_safe(member.name)} ({member.role.value}, {member.channel}) from {unit_name}")
    out("their buttons and officer commands no longer work; they are told in chat; the removal is recorded")
    return 0


async def cmd_staff_unlink_group(app: App, args: argparse.Namespace) -> int:
    """Stop posting a unit's complaints to a group chat (by the GROUP number `staff list` shows); recorded."""
    now = app.clock.now()
    async with app.uow() as uow:
        try:
            group = await staffing.unlink_group(uow, args.id, now, reason=args.reason)
        except NotFound:
            fail(f"no linked group with number {args.id}: expected a GROUP from suarawarga staff list")
        unit = await uow.units.get(group.unit_id)
        unit_name = unit.name if unit else group.unit_code
        await uow.outbox.add_many([staffing.unlink_notice(group, unit_name)], now)
        await uow.commit()
    out(f"the {group.channel} group {_safe(group.chat_id)} no longer receives the complaints of {unit_name}")
    out("the unlink is recorded; without a group, the unit's complaints go to its officers' private chats")
    return 0


async def cmd_staff_history(app: App, args: argparse.Namespace) -> int:
    """List the recorded staff changes (joins, removals, group links and unlinks), newest first."""
    unit = await _unit(app, args.unit)
    async with app.uow() as uow:
        events = await staffing.history(uow, unit, args.limit)
    rows: list[dict[str, Any]] = [
        {
            "at": e.at.astimezone(app.clock.tz).isoformat(),
            "event": e.kind.value,
            "unit": e.unit_code,
            "channel": e.channel,
            "officer": e.staff_name,
            "officer_id": e.staff_id,
            "group": e.chat_id,
            "by": e.by_name if e.via is staffing.Via.CHAT and e.by_name else e.via.value,
            "reason": e.reason,
        }
        for e in events
    ]
    if args.format == "json":
        out(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for e, row in zip(events, rows, strict=True):
        subject = _safe(e.staff_name) if e.staff_id is not None else f"group {_safe(e.chat_id)}"
        if e.kind in (staffing.StaffEventKind.JOINED, staffing.StaffEventKind.LINKED):
            how = "with an invite" + (f" as {_safe(e.reason)}" if e.reason else "")
        else:
            by = "admin (CLI)" if e.via is staffing.Via.CLI else _safe(e.by_name) if e.by_name else "chat"
            how = f"by {by}" + (f" — {_safe(e.reason)}" if e.reason else "")
        out(f"{city_time(e.at, app.clock.tz)}  {row['event']:<9} {e.unit_code:<16} {subject} ({e.channel}) {how}")
    out(f"{len(rows)} staff change(s)")
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from suarawarga staff list, got {text!r}") from None
    if not 0 < value < 2**31:
        raise argparse.ArgumentTypeError(f"expected a number from suarawarga staff list, got {text!r}")
    return value


def register(sub: Any) -> None:
    """Add `suarawarga staff` with invite, list, remove, unlink-group and history."""
    group = sub.add_parser("staff", help="OPD officers", description="Manage OPD officers.")
    s_sub = group.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
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

    listing = s_sub.add_parser(
        "list",
        help="officers and linked groups",
        description="List the active officers and the linked groups, of one unit or of all, with their numbers.",
    )
    listing.add_argument(
        "unit", nargs="?", type=unit_code, help="unit code, e.g. DPUPR (any letter case; default: every unit)"
    )
    listing.add_argument("--format", choices=["table", "json"], default="table")
    listing.set_defaults(handler=cmd_staff_list)

    remove = s_sub.add_parser(
        "remove",
        help="remove an officer",
        description="Remove an officer from their unit: their buttons and commands stop working at once, they are "
        "told in chat, and the removal is recorded (see staff history).",
    )
    remove.add_argument("id", type=_positive, help="the officer's ID in suarawarga staff list")
    remove.add_argument("--reason", help="why (kept in the record)")
    remove.set_defaults(handler=cmd_staff_remove)

    unlink = s_sub.add_parser(
        "unlink-group",
        help="stop posting a unit's complaints to a group",
        description="Unlink a group chat from its unit; the unit's complaints then go to its officers' private "
        "chats (or to another linked group). Recorded (see staff history).",
    )
    unlink.add_argument("id", type=_positive, help="the GROUP number in suarawarga staff list")
    unlink.add_argument("--reason", help="why (kept in the record)")
    unlink.set_defaults(handler=cmd_staff_unlink_group)

    history = s_sub.add_parser(
        "history",
        help="recorded staff changes",
        description="List who joined, who was removed and which groups were linked or unlinked, newest first.",
    )
    history.add_argument("unit", nargs="?", type=unit_code, help="unit code (default: every unit)")
    history.add_argument("--limit", type=_positive, default=200, help="at most this many (default: 200)")
    history.add_argument("--format", choices=["table", "json"], default="table")
    history.set_defaults(handler=cmd_staff_history)
