"""The app's access log (`bot.web.AccessLog`): a line per request, none for an accepted webhook delivery."""

from __future__ import annotations

import logging

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from suarawarga.bot.web import create_web_app


async def webhook(request: Request) -> Response:
    """Accept a delivery with the right secret header, refuse the others, fail on a poisoned one."""
    if request.headers.get("x-secret") != "s3cret":
        return PlainTextResponse("forbidden", status_code=403)
    if await request.body() == b"boom":
        raise RuntimeError("the handler failed")
    return PlainTextResponse("ok")


async def test_accepted_deliveries_are_not_logged_and_every_other_request_is(caplog: pytest.LogCaptureFixture) -> None:
    """200 on a webhook POST: no line; a refusal, a failure, GET /healthz and a query string: uvicorn's line."""
    app = create_web_app([Route("/telegram", webhook, methods=["POST"])])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("203.0.113.7", 4431))
    caplog.set_level(logging.INFO, logger="suarawarga.access")
    async with httpx.AsyncClient(transport=transport, base_url="http://sw.test") as http:
        for _ in range(3):
            assert (await http.post("/telegram", content=b"{}", headers={"x-secret": "s3cret"})).status_code == 200
        assert (await http.post("/telegram", content=b"{}")).status_code == 403
        assert (await http.post("/telegram", content=b"boom", headers={"x-secret": "s3cret"})).status_code == 500
        assert (await http.get("/healthz?probe=1")).status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "suarawarga.access"]
    assert lines == [
        '203.0.113.7:4431 - "POST /telegram HTTP/1.1" 403',
        '203.0.113.7:4431 - "POST /telegram HTTP/1.1" 500',
        '203.0.113.7:4431 - "GET /healthz?probe=1 HTTP/1.1" 200',
    ]
