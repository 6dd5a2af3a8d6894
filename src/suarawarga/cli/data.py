"""The data commands of `suarawarga`: db upgrade, seed, unit list, complaint list/show and audit."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suarawarga.cli.output import (
    city_iso,
    city_time,
    clean,
    fail,
    out,
    parse_moment,
    refuse,
    unit_code,
    unknown_unit,
)

if TYPE_CHECKING:
    from suarawarga.bootstrap import App


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


def register(sub: Any) -> None:
    """Add db, seed, complaint, audit and unit."""
    from suarawarga.complaints.model import ComplaintStatus, UnitKind

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
