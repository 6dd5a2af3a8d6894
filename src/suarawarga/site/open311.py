"""A read-only Open311 GeoReport v2 feed: complaint categories as services, complaints as service requests.

`GET /open311/v2/services.json`, `GET /open311/v2/requests.json` (with the spec's `start_date`, `end_date`,
`status`, `service_code` and `service_request_id`, plus `page` and `page_size` for paging) and
`GET /open311/v2/requests/{id}.json`. A request carries its category, status (open or closed), the OPD
responsible, its times and a location rounded to about 110 m; never a description, a name, a contact or media,
and confidential (*rahasia*) complaints are not listed at all (docs/complaints.md §4).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from suarawarga.complaints.model import OPEN_STATUSES, Category, ComplaintStatus, normalise_code
from suarawarga.complaints.public import PublicRequest, rounded

if TYPE_CHECKING:
    from suarawarga.bootstrap import App

DEFAULT_DAYS = 90  # the spec's default window when no dates are given
MAX_PAGE_SIZE = 1000  # the spec's usual cap on results per call
DEFAULT_PAGE_SIZE = 100
HEADERS = {
    "x-content-type-options": "nosniff",
    "cache-control": "public, max-age=60",
    "access-control-allow-origin": "*",
}
CLOSED = frozenset(ComplaintStatus) - OPEN_STATUSES


class BadRequest(ValueError):
    """A query parameter the feed cannot use."""


def _error(status: int, description: str) -> Response:
    """Return an error in the spec's shape: a list of {code, description}."""
    return JSONResponse([{"code": status, "description": description}], status_code=status, headers=HEADERS)


def _moment(text: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} must be a W3C date-time, e.g. 2026-12-01T00:00:00+07:00") from None
    if moment.tzinfo is None:
        raise BadRequest(f"{name} needs a time zone offset, e.g. 2026-12-01T00:00:00+07:00")
    return moment


def _positive(request: Request, name: str, default: int, most: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= most:
        raise BadRequest(f"{name} must be a whole number from 1 to {most}")
    return int(text)


def service(category: Category, language: str) -> dict[str, Any]:
    """Return a category as an Open311 service."""
    hint = category.hint_en if language == "en" else category.hint_id
    return {
        "service_code": category.code,
        "service_name": category.name(language),
        "description": hint or category.name(language),
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": "",
    }


def service_request(
    item: PublicRequest, categories: dict[int, Category], agencies: dict[int, str], language: str
) -> dict[str, Any]:
    """Return a complaint as an Open311 service request (no description, name or media)."""
    category = categories.get(item.category_id)
    expected = item.filed_at + timedelta(days=category.resolve_days) if category and item.open else None
    return {
        "service_request_id": item.code,
        "status": "open" if item.open else "closed",
        "service_code": category.code if category else "",
        "service_name": category.name(language) if category else "",
        "agency_responsible": agencies.get(item.unit_id, ""),
        "service_notice": "",
        "requested_datetime": item.filed_at.isoformat(),
        "updated_datetime": item.updated_at.isoformat(),
        "expected_datetime": expected.isoformat() if expected else None,
        "address": None,
        "lat": rounded(item.latitude),
        "long": rounded(item.longitude),
    }


def routes(app: App) -> list[BaseRoute]:
    """Return the feed's routes."""

    def language(request: Request) -> str:
        return "en" if request.query_params.get("lang") == "en" else "id"

    async def names(requests: Sequence[PublicRequest]) -> tuple[dict[int, Category], dict[int, str]]:
        async with app.uow() as uow:
            categories = {c.id: c for c in await uow.statistics.categories()}
            agencies: dict[int, str] = {}
            for unit_id in {r.unit_id for r in requests}:
                unit = await uow.units.get(unit_id)
                agencies[unit_id] = unit.name if unit else ""
        return categories, agencies

    async def services(request: Request) -> Response:
        async with app.uow() as uow:
            offered = await uow.categories.list()
        return JSONResponse([service(c, language(request)) for c in offered], headers=HEADERS)

    async def requests(request: Request) -> Response:
        params = request.query_params
        now = app.clock.now()
        try:
            ids = params.get("service_request_id")
            if ids:  # the spec: listed ids override every other argument
                return await by_codes(request, [i for i in ids.split(",") if i.strip()][:MAX_PAGE_SIZE])
            end = _moment(params["end_date"], "end_date") if "end_date" in params else now
            start = (
                _moment(params["start_date"], "start_date")
                if "start_date" in params
                else end - timedelta(days=DEFAULT_DAYS)
            )
            if start >= end:
                raise BadRequest("start_date must be before end_date")
            status = params.get("status")
            if status not in (None, "open", "closed"):
                raise BadRequest("status must be open or closed")
            size = _positive(request, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
            page = _positive(request, "page", 1, 1_000_000)
        except BadRequest as exc:
            return _error(400, str(exc))
        async with app.uow() as uow:
            categories = {c.code: c for c in await uow.statistics.categories()}
            wanted = None
            if params.get("service_code"):
                codes = {code.strip().upper() for code in params["service_code"].split(",")}
                wanted = {c.id for code, c in categories.items() if code.upper() in codes}
            statuses = None if status is None else OPEN_STATUSES if status == "open" else CLOSED
            found = await uow.statistics.public_requests(
                start, end, statuses=statuses, category_ids=wanted, offset=(page - 1) * size, limit=size
            )
        by_id, agencies = await names(found)
        return JSONResponse([service_request(r, by_id, agencies, language(request)) for r in found], headers=HEADERS)

    async def by_codes(request: Request, codes: Sequence[str]) -> Response:
        found: list[PublicRequest] = []
        async with app.uow() as uow:
            for code in codes:
                cleaned = normalise_code(code)
                item = await uow.statistics.public_request(cleaned) if cleaned else None
                if item is not None:
                    found.append(item)
        by_id, agencies = await names(found)
        return JSONResponse([service_request(r, by_id, agencies, language(request)) for r in found], headers=HEADERS)

    async def one(request: Request) -> Response:
        response = await by_codes(request, [request.path_params["code"]])
        if response.body == b"[]":
            return _error(404, "no service request with that id")
        return response

    return [
        Route("/open311/v2/services.json", services, methods=["GET", "HEAD"]),
        Route("/open311/v2/requests.json", requests, methods=["GET", "HEAD"]),
        Route("/open311/v2/requests/{code}.json", one, methods=["GET", "HEAD"]),
    ]
