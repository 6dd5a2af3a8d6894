"""The web app that receives webhooks: one Starlette app for every channel, plus a health check.

Each route verifies the request before it parses it (Telegram's secret-token header, WhatsApp's HMAC over
the raw body), stores the update through the inbox (committed), and only then answers 200.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from suarawarga.bot.inbox import InboxProcessor
from suarawarga.bot.messages import ChannelName

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000  # bytes; Telegram and Meta deliveries are far smaller
HealthCheck = Callable[[], Any]


async def read_limited(request: Request, limit: int = MAX_BODY) -> bytes | None:
    """Read the raw body, or return None if it is larger than the limit."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


def telegram_route(inbox: InboxProcessor, secret: str) -> Route:
    """Return POST /telegram: secret header checked in constant time before the body is parsed."""
    expected = secret.encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "").encode()
        if not secrets.compare_digest(given, expected):
            return PlainTextResponse("forbidden", status_code=403)
        body = await read_limited(request)
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        try:
            update = json.loads(body)
            update_id = int(update["update_id"])
        except (ValueError, KeyError, TypeError):
            return PlainTextResponse("bad update", status_code=400)
        await inbox.accept(ChannelName.TELEGRAM, str(update_id), update)
        return PlainTextResponse("ok")

    return Route("/telegram", receive, methods=["POST"])


def metrics_route(render: Callable[[], Awaitable[bytes]]) -> Route:
    """Return GET /metrics in the Prometheus text format."""

    async def metrics(_request: Request) -> Response:
        return Response(await render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return Route("/metrics", metrics, methods=["GET"])


def create_web_app(extra_routes: Sequence[BaseRoute], health: HealthCheck | None = None) -> Starlette:
    """Return the ASGI app with the given channel routes and GET /healthz."""

    async def healthz(_request: Request) -> Response:
        if health is not None:
            try:
                await health()
            except Exception as exc:
                log.warning("health check failed: %s", type(exc).__name__)
                return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[*extra_routes, Route("/healthz", healthz, methods=["GET"])])
