"""The console's reports (`/staf/laporan/...`): IKM, the weekly digest, complaint statistics and QR posters.

One code path with the CLI and the public site: the IKM comes from `surveys.services.ikm_report` (the function
behind `suarawarga report ikm`), its chart from `surveys.graphics`, its workbook from `surveys.export.write_xlsx`;
the digest from `reports.digest.gather` and the texts the chat sends (`jobs.digests`); the poster from
`reports.ikm_files`. Who may read what follows the chat: heads see their OPD's IKM and posters, city admins every
unit's and the city's; a unit's digest and complaint statistics go to whoever the chat sends the digest to (the
unit's members, of any role) and to city admins.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from suarawarga.complaints.model import Unit, UnitKind
from suarawarga.complaints.queue import GroupBy, GroupCount, breakdown
from suarawarga.site.web import language_of
from suarawarga.surveys.periods import (
    Period,
    PeriodError,
    PeriodKind,
    parse_period,
    period_between,
    period_containing,
    previous,
)

if TYPE_CHECKING:
    from suarawarga.bootstrap import App
    from suarawarga.complaints.access import Reach
    from suarawarga.complaints.signin import SignedIn
    from suarawarga.staffweb.web import Console
    from suarawarga.storage.uow import UnitOfWork
    from suarawarga.surveys.services import IkmReport

log = logging.getLogger(__name__)
Text = Callable[..., str]
STATISTICS_DAYS = 90  # the default window of the complaint statistics (as on the public site)


class BadPeriod(ValueError):
    """A period in the address that cannot be read."""


def read_period(params: Any, now: datetime, tz: Any, default: PeriodKind = PeriodKind.QUARTER) -> Period:
    """Return the period asked for: `periode` (2026-W48, 2026-11, 2026-Q4, 2026-S2, 2026) or `dari`/`sampai`."""
    asked = params.get("periode", "").strip()
    first, last = params.get("dari", "").strip(), params.get("sampai", "").strip()
    try:
        if asked:
            return parse_period(asked, tz)
        if first or last:
            return period_between(date.fromisoformat(first or last), date.fromisoformat(last or first), tz)
    except (PeriodError, ValueError):
        raise BadPeriod((asked or f"{first}..{last}")[:40]) from None
    return period_containing(default, now, tz)


def period_choices(now: datetime, tz: Any) -> list[Period]:
    """Return the periods in the picker: three months, four quarters, two semesters and two years, newest first."""
    found: list[Period] = []
    for kind, count in ((PeriodKind.MONTH, 3), (PeriodKind.QUARTER, 4), (PeriodKind.SEMESTER, 2), (PeriodKind.YEAR, 2)):
        period = period_containing(kind, now, tz)
        for _ in range(count):
            found.append(period)
            period = previous(period)
    return found


def past_weeks(now: datetime, tz: Any, count: int = 12) -> list[Period]:
    """Return the last `count` ISO weeks that have ended, newest first."""
    week = previous(period_containing(PeriodKind.WEEK, now, tz))
    found = []
    for _ in range(count):
        found.append(week)
        week = previous(week)
    return found


def report_units(reach: Reach, units: list[Unit]) -> list[Unit]:
    """Return the units whose IKM a member may read: every unit for a city admin, else the units they head."""
    return sorted((u for u in units if reach.everything or reach.sees_reports(u.id)), key=lambda u: u.name)


def poster_units(reach: Reach, units: list[Unit]) -> list[Unit]:
    """Return the units whose poster a member may print: those they read reports of, and their sub-units."""
    heads = {u.id for u in units if reach.everything or reach.sees_reports(u.id)}
    return sorted((u for u in units if u.id in heads or u.parent_id in heads), key=lambda u: u.name)


def digest_units(reach: Reach, units: list[Unit]) -> list[Unit]:
    """Return the units whose weekly digest a member receives in chat (every unit for a city admin)."""
    return [u for u in units if reach.everything or u.id in reach.unit_ids]


@dataclass(frozen=True, slots=True)
class IkmView:
    """The IKM page: the report of one unit (or of the city) in a period."""

    report: IkmReport
    period: Period
    unit: Unit | None  # None: the city


async def ikm_view(app: App, uow: UnitOfWork, unit: Unit | None, period: Period, t: Text) -> IkmView:
    """Compute the IKM of a unit (pooled with its sub-units) or of the city, as `suarawarga report ikm` does."""
    from suarawarga.surveys.services import ikm_report

    city = (app.settings.city_code, t("survey.report.city"))
    report = await ikm_report(uow, period, unit_code=unit.code if unit else None, city=city)
    return IkmView(report, period, unit)


def chart_png(view: IkmView, t: Text, lang: str) -> bytes | None:
    """Draw the report's chart as PNG: NRR per unsur of a unit, or the OPDs ranked for the city (None: no answers)."""
    from suarawarga.reports.ikm_files import ranking_entries, ranking_title
    from suarawarga.surveys.graphics import ikm_ranking_chart, nrr_chart

    report = view.report
    weight = t(report.weight.catalogue_key)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "chart.png"
        if view.unit is not None:
            line = report.first()
            if line.result is None:
                return None
            nrr_chart(path, line, report.period.label, weight, t, lang)
        else:
            entries = ranking_entries(report)
            if not entries:
                return None
            title = ranking_title(report, t, lang)
            ikm_ranking_chart(path, title, entries, t, lang)
        return path.read_bytes()


async def ikm_workbook(app: App, view: IkmView, t: Text) -> bytes:
    """Write the standard xlsx report (with the suggestions sheet: staff of the unit read their own saran)."""
    from suarawarga.surveys.export import write_xlsx
    from suarawarga.surveys.services import profile_counts, responses_in

    async with app.uow() as uow:
        responses = await responses_in(uow, view.period, view.report.first())
        profile = await profile_counts(uow, view.period, view.report.first())

    def write() -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "report.xlsx"
            write_xlsx(path, view.report, responses, profile, lambda key: t(key), app.clock.tz)
            return path.read_bytes()

    return await asyncio.to_thread(write)


@dataclass(frozen=True, slots=True)
class DigestView:
    """The weekly digest of a past week: the texts the chat sent, for the member's units (and the city)."""

    week: Period
    units: list[tuple[Unit, str]]  # each unit's digest text
    city: str | None  # the city admins' text


async def digest_view(app: App, uow: UnitOfWork, reach: Reach, week: Period, lang: str) -> DigestView:
    """Recompute a week's digest (`reports.digest.gather`) and render it with the chat's texts."""
    from suarawarga.jobs.digests import city_params, unit_params
    from suarawarga.reports.digest import gather

    digest = await gather(uow, app.calendar, week, app.clock.now())
    mine = {u.id for u in digest_units(reach, [line.unit for line in digest.units])}
    texts = [
        (line.unit, app.catalogue.render("digest.unit", lang, unit_params(line, week, app.catalogue, lang)))
        for line in digest.ordered()
        if line.unit.id in mine and (line.active or not reach.everything)
    ]
    city = (
        app.catalogue.render("digest.city", lang, city_params(digest, app.catalogue, lang))
        if reach.everything
        else None
    )
    return DigestView(week, texts, city)


async def digest_files(app: App, week: Period, lang: str) -> tuple[bytes, bytes]:
    """Return the city digest's chart (PNG) and workbook (xlsx) of a week, as the chat attaches them."""
    from suarawarga.reports.digest import gather
    from suarawarga.reports.digest_files import write_chart, write_workbook

    async with app.uow() as uow:
        digest = await gather(uow, app.calendar, week, app.clock.now())

    def label(key: str, /, **params: str) -> str:
        return app.catalogue.render(key, lang, params)

    def write() -> tuple[bytes, bytes]:
        with tempfile.TemporaryDirectory() as folder:
            chart, sheet = Path(folder) / "chart.png", Path(folder) / "sheet.xlsx"
            write_chart(digest, chart, label, lang)
            write_workbook(digest, sheet)
            return chart.read_bytes(), sheet.read_bytes()

    return await asyncio.to_thread(write)


@dataclass(frozen=True, slots=True)
class StatisticsView:
    """Complaints per category and per kecamatan in a period, for the member's units (or every unit)."""

    period: Period
    by_category: list[tuple[str, GroupCount]]
    by_kecamatan: list[tuple[str, GroupCount]]


async def statistics_view(
    app: App, uow: UnitOfWork, unit_ids: frozenset[int] | None, period: Period, lang: str, none_label: str
) -> StatisticsView:
    """Count the complaints filed in the period per category and per kecamatan (open and overdue as of now)."""
    now = app.clock.now()
    names = {u.id: u.name for u in await uow.units.list() if u.kind is UnitKind.KECAMATAN}
    categories = {c.id: c.name(lang) for c in await uow.statistics.categories()}
    by_category = await breakdown(uow, unit_ids, GroupBy.CATEGORY, period.start, period.end, now, app.calendar)
    by_kecamatan = await breakdown(uow, unit_ids, GroupBy.KECAMATAN, period.start, period.end, now, app.calendar)
    return StatisticsView(
        period,
        [(categories.get(g.key, "?") if g.key is not None else none_label, g) for g in by_category],
        [(names.get(g.key, "?") if g.key is not None else none_label, g) for g in by_kecamatan],
    )


def statistics_window(params: Any, now: datetime, tz: Any) -> Period:
    """Return the statistics' period: the one asked for, else the last 90 days (today included)."""
    if any(params.get(k, "").strip() for k in ("periode", "dari", "sampai")):
        return read_period(params, now, tz)
    today = now.astimezone(tz).date()
    return period_between(today - timedelta(days=STATISTICS_DAYS - 1), today, tz)


async def poster_files(app: App, unit: Unit, lang: str) -> tuple[bytes, bytes] | None:
    """Print a unit's counter poster (PNG and PDF) as `suarawarga qr` does; None when no chat link is configured."""
    from suarawarga.reports.ikm_files import poster_links, poster_text
    from suarawarga.surveys.graphics import qr_poster

    def label(key: str, /, **params: str) -> str:
        return app.catalogue.render(key, lang, params)

    settings = app.settings
    links = poster_links(unit.code, settings.telegram_bot_username, settings.whatsapp_phone_number, label)
    if not links:
        return None
    async with app.uow() as uow:
        city = await uow.units.city_name()
    text = poster_text(unit, city, label)

    def write() -> tuple[bytes, bytes]:
        with tempfile.TemporaryDirectory() as folder:
            poster = qr_poster(Path(folder) / f"qr-{unit.code}.png", text, links)
            return poster.png.read_bytes(), poster.pdf.read_bytes()

    return await asyncio.to_thread(write)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def routes(console: Console) -> list[BaseRoute]:
    """Return the report pages under /laporan."""
    from suarawarga.staffweb.web import NO_STORE, PREFIX

    app = console.app
    base = f"{PREFIX}/laporan"

    def file(data: bytes, media: str, name: str, attachment: bool = True) -> Response:
        headers = {**NO_STORE}
        if attachment:
            headers["content-disposition"] = f'attachment; filename="{name}"'
        return Response(data, media_type=media, headers=headers)

    def bad_period(request: Request, asked: str) -> Response:
        t = console.text(request)
        return console.notice(request, 400, t("console.reports.bad_period", period=asked))

    async def index(request: Request, who: SignedIn) -> Response:
        async with app.uow() as uow:
            units = await uow.units.list()
        return console.render(
            request,
            "console_reports_index.html",
            base=base,
            everything=who.reach.everything,
            ikm_units=report_units(who.reach, units),
            poster_units=poster_units(who.reach, units),
        )

    async def _ikm(request: Request, who: SignedIn) -> tuple[IkmView, list[Unit]] | Response:
        """Return the IKM asked for, or the page refusing it (400 bad period, 403 not theirs, 404 unknown unit)."""
        try:
            period = read_period(request.query_params, app.clock.now(), app.clock.tz)
        except BadPeriod as error:
            return bad_period(request, str(error))
        code = request.query_params.get("unit", "").strip().upper()[:32]
        async with app.uow() as uow:
            allowed = report_units(who.reach, await uow.units.list())
            if code:
                unit = await uow.units.by_code(code)
                if unit is None:
                    return console.refused(request, 404)
            elif who.reach.everything:
                unit = None
            elif allowed:
                unit = allowed[0]
            else:
                return console.refused(request, 403)
            if unit is not None and unit.id not in {u.id for u in allowed}:
                return console.refused(request, 403)
            view = await ikm_view(app, uow, unit, period, console.text(request))
        return view, allowed

    def ikm_query(view: IkmView, request: Request) -> str:
        pairs = [("unit", view.unit.code)] if view.unit else []
        pairs.append(("periode", view.period.label) if view.period.kind is not PeriodKind.RANGE else ("periode", ""))
        if view.period.kind is PeriodKind.RANGE:
            pairs += [
                ("dari", request.query_params.get("dari", "")),
                ("sampai", request.query_params.get("sampai", "")),
            ]
        if language_of(request) != "id":
            pairs.append(("lang", language_of(request)))
        return urlencode([(k, v) for k, v in pairs if v])

    async def ikm(request: Request, who: SignedIn) -> Response:
        got = await _ikm(request, who)
        if isinstance(got, Response):
            return got
        view, allowed = got
        return console.render(
            request,
            "console_reports_ikm.html",
            base=base,
            view=view,
            units=allowed,
            everything=who.reach.everything,
            choices=period_choices(app.clock.now(), app.clock.tz),
            query=ikm_query(view, request),
        )

    async def ikm_chart(request: Request, who: SignedIn) -> Response:
        got = await _ikm(request, who)
        if isinstance(got, Response):
            return got
        view, _ = got
        png = await asyncio.to_thread(chart_png, view, console.text(request), language_of(request))
        if png is None:
            return console.refused(request, 404)
        return file(png, "image/png", "", attachment=False)

    async def ikm_xlsx(request: Request, who: SignedIn) -> Response:
        got = await _ikm(request, who)
        if isinstance(got, Response):
            return got
        view, _ = got
        data = await ikm_workbook(app, view, console.text(request))
        log.info("staff member %d downloaded the IKM workbook of %s", who.staff.id, view.report.first().code)
        return file(data, XLSX, f"ikm-{view.report.first().code}-{view.period.label}.xlsx")

    def week_of(request: Request) -> Period | None:
        asked = request.query_params.get("minggu", "").strip()
        if not asked:
            return past_weeks(app.clock.now(), app.clock.tz, 1)[0]
        try:
            week = parse_period(asked, app.clock.tz)
        except PeriodError:
            return None
        return week if week.kind is PeriodKind.WEEK and week.end <= app.clock.now() else None

    def bad_week(request: Request) -> Response:
        t = console.text(request)
        return console.notice(
            request, 400, t("console.reports.bad_week", week=request.query_params.get("minggu", "")[:20])
        )

    async def digest(request: Request, who: SignedIn) -> Response:
        week = week_of(request)
        if week is None:
            return bad_week(request)
        async with app.uow() as uow:
            view = await digest_view(app, uow, who.reach, week, language_of(request))
        tz = app.clock.tz

        def day(moment: datetime, shift: int = 0) -> str:
            return (moment.astimezone(tz) + timedelta(days=shift)).strftime("%d-%m")

        return console.render(
            request,
            "console_reports_digest.html",
            base=base,
            view=view,
            weeks=past_weeks(app.clock.now(), tz),
            day=day,
        )

    async def digest_file(request: Request, who: SignedIn) -> Response:
        wanted = (request.path_params["file"], request.path_params["kind"])
        if wanted not in (("grafik", "png"), ("unduh", "xlsx")):
            return console.refused(request, 404)
        if not who.reach.everything:
            return console.refused(request, 403)
        week = week_of(request)
        if week is None:
            return bad_week(request)
        chart, sheet = await digest_files(app, week, language_of(request))
        if wanted[1] == "png":
            return file(chart, "image/png", f"ikm-{week.label}.png", attachment=False)
        return file(sheet, XLSX, f"laporan-{week.label}.xlsx")

    async def statistics(request: Request, who: SignedIn) -> Response:
        try:
            period = statistics_window(request.query_params, app.clock.now(), app.clock.tz)
        except BadPeriod as error:
            return bad_period(request, str(error))
        t = console.text(request)
        unit_ids = None if who.reach.everything else who.reach.unit_ids
        async with app.uow() as uow:
            view = await statistics_view(
                app, uow, unit_ids, period, language_of(request), t("console.reports.no_kecamatan")
            )
            units = {u.id: u for u in await uow.units.list()}
        scope_units = (
            None if unit_ids is None else sorted((units[i] for i in unit_ids if i in units), key=lambda u: u.name)
        )
        last_day = (period.end - timedelta(days=1)).astimezone(app.clock.tz).date().isoformat()
        return console.render(
            request, "console_reports_statistics.html", base=base, view=view, scope_units=scope_units, last_day=last_day
        )

    def configured() -> bool:
        return bool(app.settings.telegram_bot_username or app.settings.whatsapp_phone_number)

    async def posters(request: Request, who: SignedIn) -> Response:
        async with app.uow() as uow:
            units = poster_units(who.reach, await uow.units.list())
        if not units:
            return console.refused(request, 403)
        return console.render(request, "console_reports_posters.html", base=base, units=units, configured=configured())

    async def poster(request: Request, who: SignedIn) -> Response:
        kind = request.path_params["kind"]
        async with app.uow() as uow:
            unit = await uow.units.by_code(request.path_params["code"].strip().upper()[:32])
            allowed = {u.id for u in poster_units(who.reach, await uow.units.list())}
        if unit is None or kind not in ("png", "pdf"):
            return console.refused(request, 404)
        if unit.id not in allowed:
            return console.refused(request, 403)
        made = await poster_files(app, unit, language_of(request))
        if made is None:
            return console.refused(request, 404)
        png, pdf = made
        if kind == "png":
            return file(png, "image/png", f"qr-{unit.code}.png")
        return file(pdf, "application/pdf", f"qr-{unit.code}.pdf")

    return [
        console.page("/laporan", index),
        console.page("/laporan/ikm", ikm),
        console.page("/laporan/ikm/grafik.png", ikm_chart),
        console.page("/laporan/ikm/unduh.xlsx", ikm_xlsx),
        console.page("/laporan/ringkasan", digest),
        console.page("/laporan/ringkasan/{file:str}.{kind:str}", digest_file),
        console.page("/laporan/statistik", statistics),
        console.page("/laporan/poster", posters),
        console.page("/laporan/poster/{code:str}.{kind:str}", poster),
    ]
