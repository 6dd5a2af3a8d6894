"""The web app that receives webhooks: one Starlette app for every channel's routes, plus a health check.

The routes are the channels' own (`Channel.routes`): each verifies the request before it parses it, stores the
update through the inbox (committed), and only then answers 200. This module gives them the shared parts.

Bodies are read by a `BodyReader`: at most a few at a time (a body is read before WhatsApp's signature can be
checked, so anyone may send one), each within a deadline and a size limit. A client that goes away mid-upload
gets a quiet 400, not a logged traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
access = logging.getLogger("suarawarga.access")

MAX_BODY = 1_000_000  # bytes; Telegram and Meta deliveries are far smaller
READ_SLOTS = 16  # bodies read at the same time per route: with MAX_BODY, at most ~16 MB held by uploads
SLOT_WAIT = 5.0  # seconds a request may wait for a slot before it is told to come back later (503)
BODY_TIMEOUT = 10.0  # seconds a whole body may take to arrive (webhooks send a few kB at once)
MAX_DEPTH = 64  # levels of nesting; deliveries have about ten, and storing one recurses once per level
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


class BodyReader:
    """Reads request bodies at most `slots` at a time, each within `timeout` seconds and `limit` bytes.

    An unauthenticated sender can make the server hold a body (WhatsApp's signature covers the body, so it is
    read first): 150 held uploads took 190 MB. Here at most `slots` bodies are in memory at once; a request that
    finds no slot within `wait` seconds gets 503 (Meta and Telegram retry), a body slower than `timeout` 408.
    """

    def __init__(
        self, limit: int = MAX_BODY, slots: int = READ_SLOTS, timeout: float = BODY_TIMEOUT, wait: float = SLOT_WAIT
    ) -> None:
        self.limit, self.timeout, self.wait = limit, timeout, wait
        self._slots = asyncio.Semaphore(slots)

    async def read(self, request: Request) -> bytes | Response:
        """Return the raw body, or the refusal to answer with."""
        try:
            async with asyncio.timeout(self.wait):
                await self._slots.acquire()
        except TimeoutError:
            return PlainTextResponse("busy", status_code=503, headers={"retry-after": "5"})
        try:
            async with asyncio.timeout(self.timeout):
                body = await read_limited(request, self.limit)
        except TimeoutError:
            return PlainTextResponse("body too slow", status_code=408, headers={"connection": "close"})
        except ClientDisconnect:  # the sender went away mid-upload: nobody reads the answer, nothing to log
            return PlainTextResponse("incomplete body", status_code=400)
        finally:
            self._slots.release()
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        return body


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _nesting(value: Any) -> int:
    """Return how deeply lists and objects nest in a parsed JSON value (without recursing)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def load_json(body: bytes) -> Any:
    """Parse a webhook body as strict JSON, or raise ValueError.

    NaN, Infinity, numbers beyond a double and deep nesting are refused: the payload is stored as JSON in the
    database, which has no representation for the first ones, and encoding it recurses once per level.
    """
    try:
        value = json.loads(body, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if _nesting(value) > MAX_DEPTH:
        raise ValueError("nested too deeply")
    return value


def metrics_route(render: Callable[[], Awaitable[bytes]]) -> Route:
    """Return GET /metrics in the Prometheus text format."""

    async def metrics(_request: Request) -> Response:
        return Response(await render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return Route("/metrics", metrics, methods=["GET"])


# Says what is wrong with the database when an error means it cannot be reached or used (None otherwise).
Unavailable = Callable[[BaseException], str | None]
UNAVAILABLE_LOG_EVERY = 10.0  # seconds between the warnings of an outage (a webhook burst would log each request)


class AnswerUnavailable:
    """ASGI middleware: a request that fails because the database is unreachable gets 503, not a 500 and a traceback.

    A platform retries a webhook on 503 as on 500 (Retry-After asks for a second), but the server neither logs a
    traceback per request during a restart nor drops the connection, as it did when the error reached it.
    """

    def __init__(self, app: ASGIApp, unavailable: Unavailable) -> None:
        self.app = app
        self.unavailable = unavailable
        self._last_log = -math.inf
        self._unlogged = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; answer 503 if it raised a database outage before it started its answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            problem = self.unavailable(exc)
            if problem is None or started:
                raise
            self._note(problem)
            answer = PlainTextResponse("unavailable, try again", status_code=503, headers={"Retry-After": "1"})
            await answer(scope, receive, send)

    def _note(self, problem: str) -> None:
        """Log the outage once every UNAVAILABLE_LOG_EVERY seconds, with how many requests got 503 meanwhile."""
        self._unlogged += 1
        now = asyncio.get_running_loop().time()
        if now - self._last_log >= UNAVAILABLE_LOG_EVERY:
            log.warning("answered 503 to %d request(s): %s", self._unlogged, problem)
            self._last_log, self._unlogged = now, 0


class AccessLog:
    """ASGI middleware: the access log (uvicorn's is off), with no line for a webhook delivery that was accepted.

    uvicorn wrote one line per request. At a few hundred webhook deliveries a second that line was about a tenth
    of an accepting process's CPU (docs/performance.md), and it said nothing the inbox does not: every accepted
    delivery is stored there, and `/metrics` counts them (`suarawarga_inbound_processed`). A POST to a channel's
    webhook answered 2xx is therefore not logged; every other request is, as uvicorn wrote it (client, method,
    path with query, HTTP version, status): refused and failed deliveries, Meta's verification, pages, /healthz.
    """

    def __init__(self, app: ASGIApp, webhooks: Collection[str]) -> None:
        self.app = app
        self.webhooks = frozenset(webhooks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; log the request unless it is an accepted webhook delivery."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what uvicorn answers when the app fails before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if not (200 <= status < 300 and scope["method"] == "POST" and scope["path"] in self.webhooks):
                self._line(scope, status)

    @staticmethod
    def _line(scope: Scope, status: int) -> None:
        if not access.isEnabledFor(logging.INFO):
            return
        client = scope.get("client")
        where = f"{client[0]}:{client[1]}" if client else "-"
        path = quote(scope.get("root_path", "") + scope["path"])
        if scope.get("query_string"):
            path += "?" + scope["query_string"].decode("ascii", "replace")
        access.info('%s - "%s %s HTTP/%s" %d', where, scope["method"], path, scope.get("http_version", "1.1"), status)


def create_web_app(
    extra_routes: Sequence[BaseRoute],
    health: HealthCheck | None = None,
    site: Sequence[BaseRoute] = (),
    unavailable: Unavailable | None = None,
) -> Starlette:
    """Return the ASGI app with the given channel routes and GET /healthz, then the public site's routes.

    `unavailable`: how to recognise a database outage, answered 503 (see `AnswerUnavailable`).
    """

    async def healthz(_request: Request) -> Response:
        if health is not None:
            try:
                await health()
            except Exception as exc:
                log.warning("health check failed: %s", type(exc).__name__)
                return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    webhooks = [route.path for route in extra_routes if isinstance(route, Route)]
    middleware = [Middleware(AccessLog, webhooks=webhooks)]
    if unavailable is not None:
        middleware.append(Middleware(AnswerUnavailable, unavailable=unavailable))
    return Starlette(routes=[*extra_routes, Route("/healthz", healthz, methods=["GET"]), *site], middleware=middleware)
