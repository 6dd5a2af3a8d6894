"""The console's queue page (`/staf/`) and its CSV/xlsx downloads: what a member may see, filtered in SQL.

The address carries the filter (a GET form, so it works without JavaScript and a filtered view can be bookmarked
or shared with a colleague who may see the same units): `status`, `kategori`, `kecamatan`, `identitas`,
`terlambat`, `dari`, `sampai`, `cari`, `urut`, `hal`, `per`. The units shown come from the member's reach (the
chat's authorization rule, `complaints/access.py`); the reporter's name and contact are never on this page or in
its downloads.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from suarawarga.complaints.model import OPEN_STATUSES, Category, ComplaintStatus, IdentityMode, Unit, UnitKind
from suarawarga.complaints.queue import (
    EXPORT_LIMIT,
    PAGE_SIZES,
    Deadline,
    QueueFilter,
    QueueItem,
    QueuePage,
    QueueSort,
    queue_export,
    queue_page,
)
from suarawarga.reports.table_files import Cell, table_csv, table_xlsx
from suarawarga.site.web import language_of
from suarawarga.staffweb.web import NO_STORE, PREFIX

if TYPE_CHECKING:
    from suarawarga.complaints.signin import SignedIn
    from suarawarga.staffweb.web import Console
    from suarawarga.storage.uow import UnitOfWork

log = logging.getLogger(__name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

OPEN, EVERY = "terbuka", "semua"  # the status filter's two groups; no status in the address means open ones
OPEN_ORDER = tuple(s for s in ComplaintStatus if s in OPEN_STATUSES)
FILTER_KEYS = ("status", "kategori", "kecamatan", "identitas", "terlambat", "dari", "sampai", "cari", "urut", "per")
Text = Callable[..., str]


class BadFilter(ValueError):
    """A filter value in the address that means nothing: the page says which (400)."""

    def __init__(self, key: str, **params: str) -> None:
        super().__init__(key)
        self.key, self.params = key, params


@dataclass(frozen=True, slots=True)
class Choices:
    """What the filter form offers: categories and kecamatan (by code), and the member's units."""

    categories: tuple[Category, ...]
    kecamatan: tuple[Unit, ...]
    units: Mapping[int, Unit]


async def choices(uow: UnitOfWork) -> Choices:
    """Read the categories, kecamatan and units the form and the rows name."""
    units = {u.id: u for u in await uow.units.list()}
    categories = tuple(sorted(await uow.statistics.categories(), key=lambda c: c.name_id))
    kecamatan = tuple(sorted((u for u in units.values() if u.kind is UnitKind.KECAMATAN), key=lambda u: u.name))
    return Choices(categories, kecamatan, units)


def _date(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", text)
    try:
        if match:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        return date.fromisoformat(text)
    except ValueError:
        raise BadFilter("console.error.bad_date", value=text[:20]) from None


def _pick(values: Sequence[str], known: Mapping[str, Any], field: str) -> tuple[Any, ...]:
    picked = []
    for value in values:
        if not value:
            continue  # "any" in a select
        if value not in known:
            raise BadFilter("console.error.bad_value", value=value[:30], field=field)
        picked.append(known[value])
    return tuple(dict.fromkeys(picked))


def _number(text: str, default: int) -> int:
    return int(text) if text.isdigit() and len(text) < 7 else default


def parse_filter(params: Any, found: Choices) -> QueueFilter:
    """Read a filter from the query string (a Starlette QueryParams or a MultiDict); BadFilter if it is wrong."""
    asked = [v for v in params.getlist("status") if v]
    if not asked or OPEN in asked:  # the chat's `antrian`: what still needs the OPD
        statuses = OPEN_ORDER
    elif EVERY in asked:
        statuses = ()
    else:
        statuses = _pick(asked, {s.value: s for s in ComplaintStatus}, "status")
    categories = _pick(params.getlist("kategori"), {c.code: c.id for c in found.categories}, "kategori")
    kecamatan_codes = {u.code: u.id for u in found.kecamatan}
    kecamatan = _pick(params.getlist("kecamatan"), kecamatan_codes, "kecamatan")
    modes = _pick(params.getlist("identitas"), {m.value: m for m in IdentityMode}, "identitas")
    sort = _pick([params.get("urut", "")], {s.value: s for s in QueueSort}, "urut")
    first, last = _date(params.get("dari", "")), _date(params.get("sampai", ""))
    if first and last and first > last:
        first, last = last, first
    return QueueFilter(
        statuses=statuses,
        category_ids=categories,
        kecamatan_ids=kecamatan,
        identity_modes=modes,
        overdue=params.get("terlambat", "") in ("1", "on", "ya"),
        filed_from=first,
        filed_to=last,
        search=params.get("cari", "")[:200],
        sort=sort[0] if sort else QueueSort.OLDEST,
        page=_number(params.get("hal", ""), 1),
        per_page=_number(params.get("per", ""), PAGE_SIZES[0]),
    )


def filter_query(params: Any, **changes: str) -> str:
    """Return the query string of the current filter with some values changed (an empty value drops the key)."""
    pairs = [(k, v) for k, v in params.multi_items() if k in (*FILTER_KEYS, "hal", "lang") and k not in changes and v]
    pairs += [(k, v) for k, v in changes.items() if v]
    return urlencode(pairs)


@dataclass(frozen=True, slots=True)
class QueueView:
    """Everything the queue template shows."""

    page: QueuePage
    wanted: QueueFilter
    found: Choices
    scope_units: tuple[Unit, ...] | None  # None: every unit


def visible(unit_ids: frozenset[int] | None, units: Mapping[int, Unit]) -> tuple[Unit, ...] | None:
    """Return the member's units by name (None: a city admin sees every unit)."""
    if unit_ids is None:
        return None
    return tuple(sorted((units[i] for i in unit_ids if i in units), key=lambda u: u.name))


async def queue_view(
    uow: UnitOfWork, unit_ids: frozenset[int] | None, params: Any, now: datetime, calendar: Any
) -> QueueView:
    """Read one page of the queue of the given units (None: all) under the filter in the address."""
    found = await choices(uow)
    wanted = parse_filter(params, found)
    page = await queue_page(uow, unit_ids, wanted, now, calendar)
    return QueueView(page, wanted, found, visible(unit_ids, found.units))


def short_kecamatan(unit: Unit | None) -> str:
    """Return a kecamatan's name without the word the column heading already says."""
    if unit is None:
        return "—"
    return unit.name.removeprefix("Kecamatan ").removeprefix("Kec. ") or unit.name


def due_text(moment: datetime, tz: tzinfo) -> str:
    """Return a deadline as people read it: a deadline at midnight is the end of the day before (no "00:00")."""
    local = moment.astimezone(tz)
    if (local.hour, local.minute) == (0, 0):
        return (local - timedelta(minutes=1)).strftime("%d-%m-%Y")
    return local.strftime("%d-%m-%Y %H:%M")


def late_text(item: QueueItem, now: datetime, t: Text) -> str:
    """Return "Terlambat N hari" for an overdue row (counted from its earliest missed deadline)."""
    days = (now - item.due).days if item.due else 0
    return t("console.deadline.overdue_days", days=str(days)) if days >= 1 else t("console.deadline.overdue")


def export_table(
    items: Sequence[QueueItem], found: Choices, t: Text, lang: str, tz: tzinfo
) -> tuple[list[str], list[list[Cell]]]:
    """Return the download's headings and rows: what the page shows, with the whole description and location."""
    headings = [
        t("console.queue.col.code"),
        t("console.queue.col.filed"),
        t("console.queue.status"),
        t("console.queue.col.deadline"),
        t("console.queue.col.due"),
        t("console.queue.col.missed"),
        t("console.queue.category"),
        t("console.queue.col.unit"),
        t("console.queue.kecamatan"),
        t("console.queue.identity"),
        t("console.queue.col.location"),
        t("console.queue.col.description"),
    ]
    categories = {c.id: c for c in found.categories}
    rows: list[list[Cell]] = []
    for item in items:
        row = item.row
        category = categories.get(row.category_id)
        unit = found.units.get(row.unit_id)
        kecamatan = found.units.get(row.kecamatan_id) if row.kecamatan_id is not None else None
        rows.append(
            [
                row.code,
                row.filed_at.astimezone(tz),
                t(f"console.status.{row.status}"),
                t(f"console.deadline.{item.deadline}") if item.deadline is not Deadline.DONE else "",
                item.due.astimezone(tz) if item.due else None,
                ", ".join(t(f"console.clock.{c}") for c in item.missed),
                category.name(lang) if category else "",
                unit.name if unit else "",
                kecamatan.name if kecamatan else "",
                t(f"console.identity.{row.identity_mode}"),
                row.location_text or "",
                row.description,
            ]
        )
    return headings, rows


async def queue_download(
    uow: UnitOfWork,
    unit_ids: frozenset[int] | None,
    params: Any,
    kind: str,
    now: datetime,
    calendar: Any,
    t: Text,
    lang: str,
) -> tuple[bytes, int]:
    """Return the whole filtered list as CSV or xlsx bytes, and how many complaints matched."""
    found = await choices(uow)
    wanted = parse_filter(params, found)
    items, total = await queue_export(uow, unit_ids, wanted, now, calendar)
    headings, rows = export_table(items, found, t, lang, calendar.tz)
    if kind == "csv":
        return table_csv(headings, rows), total
    data = await asyncio.to_thread(table_xlsx, t("console.queue.sheet"), headings, rows)
    return data, total


def routes(console: Console) -> list[BaseRoute]:
    """Return the queue (the console's landing page, `/`) and its downloads."""
    app = console.app

    def scope(who: SignedIn) -> frozenset[int] | None:
        return None if who.reach.everything else who.reach.unit_ids

    def bad(request: Request, error: BadFilter) -> Response:
        t = console.text(request)
        return console.notice(request, 400, t("console.error.bad_filter", detail=t(error.key, **error.params)))

    async def page(request: Request, who: SignedIn) -> Response:
        lang = language_of(request)
        try:
            async with app.uow() as uow:
                view = await queue_view(uow, scope(who), request.query_params, app.clock.now(), app.calendar)
        except BadFilter as error:
            return bad(request, error)
        categories = {c.id: c.name(lang) for c in view.found.categories}
        params = request.query_params

        def q(**changes: str) -> str:
            return filter_query(params, **changes)

        return console.render(
            request,
            "console_queue.html",
            view=view,
            q=q,
            filtered=any(params.get(k) for k in FILTER_KEYS if k not in ("urut", "per", "status")),
            statuses=list(ComplaintStatus),
            open_statuses=OPEN_ORDER,
            modes=list(IdentityMode),
            sorts=list(QueueSort),
            page_sizes=PAGE_SIZES,
            export_limit=EXPORT_LIMIT,
            category_name=lambda i: categories.get(i, "—"),
            unit_name=lambda i: view.found.units[i].name if i in view.found.units else "—",
            unit_code=lambda i: view.found.units[i].code if i in view.found.units else "—",
            kecamatan_name=lambda i: short_kecamatan(view.found.units.get(i)),
            due=lambda moment: due_text(moment, app.clock.tz),
            late=lambda item: late_text(item, app.clock.now(), console.text(request)),
            complaint_url=lambda code: console.site.context(request, lang)["url"](f"{PREFIX}/aduan/{code}"),
            queue_path=f"{PREFIX}/",
            download_path=f"{PREFIX}/unduh",
        )

    async def download(request: Request, who: SignedIn) -> Response:
        kind = request.path_params["kind"]
        if kind not in ("csv", "xlsx"):
            return console.refused(request, 404)
        lang = language_of(request)
        t = console.text(request)
        now = app.clock.now()
        try:
            async with app.uow() as uow:
                data, total = await queue_download(
                    uow, scope(who), request.query_params, kind, now, app.calendar, t, lang
                )
        except BadFilter as error:
            return bad(request, error)
        # Who exported how many rows is worth a line; what they hold is not (no codes, no text).
        log.info(
            "staff member %d downloaded the queue as %s (%d of %d rows)",
            who.staff.id,
            kind,
            min(total, EXPORT_LIMIT),
            total,
        )
        name = f"antrian-{now.astimezone(app.clock.tz):%Y%m%d-%H%M}.{kind}"
        media = "text/csv; charset=utf-8" if kind == "csv" else XLSX
        return Response(
            data, media_type=media, headers={**NO_STORE, "content-disposition": f'attachment; filename="{name}"'}
        )

    return [console.page("/", page), console.page("/unduh.{kind:str}", download)]
