"""The public transparency site: server-rendered pages on the Starlette app of `suarawarga serve`.

Routes: `/` (the city), `/ikm/{UNIT}` (one unit or OPD, with its chart, downloads and survey link), `/lacak` and
`/lacak/{CODE}` (track a complaint by its code), `/open311/v2/...` (a read-only GeoReport v2 feed, see
`site/open311.py`) and `/static/...`. Indonesian by default, English with `?lang=en`; no cookies, no script, a
strict Content-Security-Policy. Every figure comes from the services behind the CLI reports (`site/pages.py`).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from suarawarga.site import open311
from suarawarga.site.pages import (
    city_page,
    enough,
    find_unit,
    period_choices,
    track,
    unit_page,
)
from suarawarga.surveys.definitions import Unsur, unsur_name_key
from suarawarga.surveys.export import report_csv, write_xlsx
from suarawarga.surveys.graphics import nrr_chart, qr_matrix, telegram_link, whatsapp_link
from suarawarga.surveys.mutu import Mutu
from suarawarga.surveys.periods import Period, PeriodError, PeriodKind, parse_period, period_containing
from suarawarga.surveys.services import IkmLine, ikm_report, profile_counts, responses_in

if TYPE_CHECKING:
    from suarawarga.bootstrap import App
    from suarawarga.storage.uow import UnitOfWork

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
PAGE_CACHE = "public, max-age=60"  # figures change with each answer; a minute's staleness is harmless
STATIC_CACHE = "public, max-age=86400"
LANGUAGES = ("id", "en")
TRACK_FAILURES_PER_HOUR = 10  # wrong codes one client may try an hour before it is refused (429)


def _language(request: Request) -> str:
    lang = request.query_params.get("lang", "id")
    return lang if lang in LANGUAGES else "id"


language_of = _language  # the staff console reads the language the same way


def template_environment(*packages: str) -> Environment:
    """Return the Jinja environment of the web pages: templates of `packages` first, then the site's own."""
    return Environment(
        loader=ChoiceLoader([PackageLoader(p, "templates") for p in (*packages, "suarawarga.site")]),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,  # a missing value is a bug to see in tests, not an empty cell
    )


class FailedLookups:
    """Wrong tracking codes per client over the last hour: code enumeration must be slow (per process)."""

    def __init__(self, limit: int = TRACK_FAILURES_PER_HOUR, window: timedelta = timedelta(hours=1)) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, collections.deque[datetime]] = {}

    def _recent(self, client: str, now: datetime) -> collections.deque[datetime]:
        failures = self._failures.get(client)
        if failures is None:
            return collections.deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[client]
        return failures

    def blocked(self, client: str, now: datetime) -> bool:
        """Tell whether the client has used up its wrong codes for now."""
        return len(self._recent(client, now)) >= self.limit

    def record(self, client: str, now: datetime) -> None:
        """Count one wrong code of a client."""
        self._recent(client, now)
        self._failures.setdefault(client, collections.deque()).append(now)
        if len(self._failures) > 100_000:  # bound the memory an attacker with many addresses can take
            self._failures.pop(next(iter(self._failures)))


class Site:
    """The pages, bound to the application."""

    def __init__(self, app: App, templates: tuple[str, ...] = ()) -> None:
        """Serve the app's pages; `templates`: packages whose templates come first (the staff console's)."""
        self.app = app
        self.templates = template_environment(*templates)
        self.failures = FailedLookups()
        self.city_name: str | None = None  # the seeded city's name, read with each page (a re-seed may rename it)

    async def read_city(self, uow: UnitOfWork) -> None:
        """Read the city's name from the seed in a page's own unit of work (kept for pages that read nothing)."""
        self.city_name = await uow.units.city_name() or self.city_name

    # ------------------------------------------------------------------------------------------ helpers

    def text(self, lang: str) -> Callable[..., str]:
        """Return the catalogue lookup for a language (values are escaped by the template)."""
        catalogue = self.app.catalogue

        def t(key: str, **params: object) -> str:
            return catalogue.render(key, lang, {k: str(v) for k, v in params.items()})

        return t

    def context(self, request: Request, lang: str) -> dict[str, Any]:
        """Return what every template needs: texts, language links, number and date formats."""
        t = self.text(lang)
        tz = self.app.clock.tz
        other = "en" if lang == "id" else "id"

        def url(path: str, **params: str) -> str:
            query = {k: v for k, v in params.items() if v}
            if lang != "id":
                query["lang"] = lang
            return path + ("?" + urlencode(query) if query else "")

        switch = {k: v for k, v in request.query_params.items() if k != "lang"}
        if other != "id":
            switch["lang"] = other

        def num(value: object) -> str:
            if value is None:
                return "—"
            text = str(value)
            return text.replace(".", ",") if lang == "id" else text

        def count(value: int) -> str:
            grouped = f"{value:,}"
            return grouped.replace(",", ".") if lang == "id" else grouped

        def percent(value: Decimal | None) -> str:
            return "—" if value is None else f"{num(value)}\u00a0%"

        def change(value: Decimal | None) -> str:
            if value is None:
                return t("site.change.none")
            sign = "+" if value > 0 else "−" if value < 0 else "±"
            return sign + num(abs(value))

        def when(moment: datetime) -> str:
            return moment.astimezone(tz).strftime("%d-%m-%Y %H:%M")

        def sample(line: IkmLine) -> str:
            if line.min_sample is None:
                return t("site.ikm.sample_unknown")
            key = "site.ikm.sample_ok" if line.sample_ok else "site.ikm.sample_short"
            return t(key, minimum=line.min_sample)

        def unsur_name(unsur: Unsur) -> str:
            return t(unsur_name_key(unsur))

        return {
            "t": t,
            "lang": lang,
            "other_lang": other,
            "city": self.city_name or t("site.city"),
            "url": url,
            "switch_url": request.url.path + ("?" + urlencode(switch) if switch else ""),
            "num": num,
            "percent": percent,
            "count": count,
            "change": change,
            "when": when,
            "sample": sample,
            "enough": enough,
            "kinerja": lambda mutu: Mutu(mutu).kinerja,
            "unsur_name": unsur_name,
            "unsur_names": lambda unsurs: ", ".join(unsur_name(u) for u in unsurs),
        }

    def render(self, request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        """Render a template with the common context and the security headers."""
        lang = _language(request)
        html = self.templates.get_template(name).render(**self.context(request, lang), **values)
        headers = {**SECURITY_HEADERS, "cache-control": PAGE_CACHE if status == 200 else "no-store"}
        return HTMLResponse(html, status_code=status, headers=headers)

    def error(self, request: Request, status: int, text: str | None = None) -> HTMLResponse:
        """Render an error page in the request's language."""
        t = self.text(_language(request))
        heading = t(f"site.error.{status}.heading")
        body = text if text is not None else t(f"site.error.{status}.text") if status == 404 else ""
        return self.render(request, "notice.html", status, heading=heading, text=body)

    def _period(self, request: Request) -> Period:
        """Return the period asked for with ?periode= (a quarter, semester or year), or the current quarter."""
        tz = self.app.clock.tz
        asked = request.query_params.get("periode", "").strip()
        if not asked:
            return period_containing(PeriodKind.QUARTER, self.app.clock.now(), tz)
        period = parse_period(asked, tz)
        if period.kind not in (PeriodKind.QUARTER, PeriodKind.SEMESTER, PeriodKind.YEAR, PeriodKind.MONTH):
            raise PeriodError(asked)
        return period

    def _bad_period(self, request: Request) -> HTMLResponse:
        t = self.text(_language(request))
        asked = request.query_params.get("periode", "")[:40]
        return self.error(request, 400, t("site.error.400.period", period=asked))

    # ------------------------------------------------------------------------------------------ pages

    async def home(self, request: Request) -> Response:
        """GET /: the city's IKM, every OPD ranked, complaint figures per OPD."""
        lang = _language(request)
        async with self.app.uow() as uow:
            await self.read_city(uow)
        city = (self.app.settings.city_code, self.city_name or self.text(lang)("site.city"))
        page = await city_page(self.app.uow, self.app.clock.now(), self.app.calendar, city)
        return self.render(request, "city.html", page=page)

    async def unit(self, request: Request) -> Response:
        """GET /ikm/{UNIT}: one unit (or OPD, pooled) in a period."""
        try:
            period = self._period(request)
        except PeriodError:
            return self._bad_period(request)
        async with self.app.uow() as uow:
            await self.read_city(uow)
            found = await find_unit(uow, request.path_params["code"])
            if found is None:
                return self.error(request, 404)
            page = await unit_page(uow, found, period, self.app.clock.now())
        now = self.app.clock.now()
        return self.render(
            request,
            "unit.html",
            page=page,
            choices=period_choices(now, self.app.clock.tz),
            survey_links=self._survey_links(found.code),
        )

    def _survey_links(self, code: str) -> list[tuple[str, str]]:
        settings = self.app.settings
        links = []
        if settings.telegram_bot_username:
            links.append(("site.unit.survey_telegram", telegram_link(settings.telegram_bot_username, code)))
        if settings.whatsapp_phone_number:
            links.append(("site.unit.survey_whatsapp", whatsapp_link(settings.whatsapp_phone_number, code)))
        return links

    async def _unit_report(self, request: Request) -> tuple[Any, Period] | Response:
        try:
            period = self._period(request)
        except PeriodError:
            return self._bad_period(request)
        async with self.app.uow() as uow:
            found = await find_unit(uow, request.path_params["code"])
            if found is None:
                return self.error(request, 404)
            report = await ikm_report(uow, period, unit_code=found.code)
        return report, period

    async def chart(self, request: Request) -> Response:
        """GET /ikm/{UNIT}/grafik.svg: the NRR chart of the reports, as SVG."""
        got = await self._unit_report(request)
        if isinstance(got, Response):
            return got
        report, period = got
        line = report.first()
        if not enough(line) or line.result is None:
            return self.error(request, 404)
        lang = _language(request)
        t = self.text(lang)
        weight = t(report.weight.catalogue_key)

        def draw() -> bytes:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "chart.svg"
                nrr_chart(path, line, period.label, weight, t, lang)
                return path.read_bytes()

        svg = await asyncio.to_thread(draw)
        return Response(svg, media_type="image/svg+xml", headers={**SECURITY_HEADERS, "cache-control": PAGE_CACHE})

    async def download(self, request: Request) -> Response:
        """GET /ikm/{UNIT}/unduh.xlsx or unduh.csv: the standard report, without the free-text suggestions."""
        got = await self._unit_report(request)
        if isinstance(got, Response):
            return got
        report, period = got
        kind = request.path_params["kind"]
        if kind not in ("xlsx", "csv"):
            return self.error(request, 404)
        name = f"ikm-{report.first().code}-{period.label}.{kind}"
        headers = {
            **SECURITY_HEADERS,
            "cache-control": PAGE_CACHE,
            "content-disposition": f'attachment; filename="{name}"',
        }
        if kind == "csv":
            return Response(report_csv(report), media_type="text/csv; charset=utf-8", headers=headers)
        async with self.app.uow() as uow:
            # Suggestions are free text that may name a person: the public workbook leaves them out.
            responses = [dataclasses.replace(r, saran=None) for r in await responses_in(uow, period, report.first())]
            profile = await profile_counts(uow, period, report.first())
        t = self.text(_language(request))

        def write() -> bytes:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / name
                write_xlsx(path, report, responses, profile, lambda key: t(key), self.app.clock.tz)
                return path.read_bytes()

        data = await asyncio.to_thread(write)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(data, media_type=media, headers=headers)

    async def qr(self, request: Request) -> Response:
        """GET /ikm/{UNIT}/qr.svg: the survey link of a unit as a QR code."""
        async with self.app.uow() as uow:
            found = await find_unit(uow, request.path_params["code"])
        links = self._survey_links(found.code) if found else []
        if not links:
            return self.error(request, 404)
        matrix = qr_matrix(links[0][1])
        size = len(matrix)
        cells = "".join(
            f'<rect x="{x}" y="{y}" width="1" height="1"/>'
            for y, row in enumerate(matrix)
            for x, dark in enumerate(row)
            if dark
        )
        svg = (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
            f'<rect width="{size}" height="{size}" fill="#fff"/><g fill="#000">{cells}</g></svg>'
        )
        return Response(svg, media_type="image/svg+xml", headers={**SECURITY_HEADERS, "cache-control": PAGE_CACHE})

    def _client(self, request: Request) -> str:
        # Behind the reverse proxy uvicorn reads the client's address from X-Forwarded-For (trusted loopback).
        return request.client.host if request.client else "unknown"

    async def track_form(self, request: Request) -> Response:
        """GET /lacak (?kode=): the tracking form; a code given goes to its page."""
        asked = request.query_params.get("kode", "").strip()
        if asked:
            target = "/lacak/" + "".join(c for c in asked.upper() if c.isalnum() or c == "-")[:20]
            if _language(request) != "id":
                target += "?lang=" + _language(request)
            return RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
        return self._no_store(self.render(request, "track.html", asked="", message="", found=None))

    async def track_code(self, request: Request) -> Response:
        """GET /lacak/{CODE}: the public steps of one complaint; wrong codes are limited per client."""
        client, now = self._client(request), self.app.clock.now()
        t = self.text(_language(request))
        code = request.path_params["code"][:20]
        if self.failures.blocked(client, now):
            message = t("site.track.too_many")
            response = self.render(request, "track.html", 429, asked=code, message=message, found=None)
            response.headers["retry-after"] = "3600"
            return self._no_store(response)
        async with self.app.uow() as uow:
            await self.read_city(uow)
            found = await track(uow, code, _language(request))
        if found is None:
            self.failures.record(client, now)
            message = t("site.track.not_found", code=code)
            return self._no_store(self.render(request, "track.html", 404, asked=code, message=message, found=None))
        return self._no_store(self.render(request, "track.html", asked=found.code, message="", found=found))

    @staticmethod
    def _no_store(response: Response) -> Response:
        response.headers["cache-control"] = "no-store"  # a tracked code is nobody else's business
        return response

    async def not_found(self, request: Request) -> Response:
        """Any other address: the 404 page."""
        return self.error(request, 404)


class CachedStatic:
    """Static files with caching and the security headers (the site's, or another web package's)."""

    def __init__(self, package: str = "suarawarga.site") -> None:
        folder = resources.files(package) / "static"
        self.files = StaticFiles(directory=str(folder))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a file, adding headers to the response start."""

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"cache-control", STATIC_CACHE.encode()))
                headers.extend((k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items())
                message = {**message, "headers": headers}
            await send(message)

        await self.files(scope, receive, send_with_headers)


def site_routes(app: App) -> list[BaseRoute]:
    """Return the public site's routes; the last one answers every other address with the 404 page."""
    site = Site(app)
    get = ["GET", "HEAD"]

    def route(path: str, endpoint: Callable[[Request], Awaitable[Response]]) -> Route:
        async def guarded(request: Request) -> Response:
            try:
                return await endpoint(request)
            except Exception:  # a visitor gets a page in their language, the log gets the trace
                log.exception("public site: %s failed", request.url.path)
                return site.error(request, 500, site.text(_language(request))("site.error.500.text"))

        return Route(path, guarded, methods=get)

    return [
        route("/", site.home),
        route("/ikm/{code}", site.unit),
        route("/ikm/{code}/grafik.svg", site.chart),
        route("/ikm/{code}/qr.svg", site.qr),
        route("/ikm/{code}/unduh.{kind:str}", site.download),
        route("/lacak", site.track_form),
        route("/lacak/{code}", site.track_code),
        *open311.routes(app),
        Mount("/static", app=CachedStatic(), name="static"),
        route("/{path:path}", site.not_found),
    ]
