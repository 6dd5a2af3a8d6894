"""What a client can hold or slip past the webhooks: body slots and deadlines, disconnects, header deadlines,
strict Telegram update ids."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from fakes.serving import serve_app
from sqlalchemy.exc import OperationalError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from suarawarga.bootstrap import App
from suarawarga.bot.channels.telegram import telegram_route
from suarawarga.bot.inbox import InboxWriter
from suarawarga.bot.web import BodyReader, create_web_app
from suarawarga.httpserver import server_options
from suarawarga.storage.uow import UnitOfWork
from tests.support.clock import FrozenClock
from tests.support.whatsapp import Rig, whatsapp_rig

SECRET = "webhook_Secret-123"


@pytest.mark.parametrize("update_id", ['"42"', "43.9", "43.0", "true", "false", "null", "[1]", str(2**53), "-1"])
async def test_telegram_update_id_must_be_an_integer(app: App, update_id: str) -> None:
    """A string, a float (even 43.0), a bool, null or an id beyond 52 bits is refused with 400 and not stored."""
    web = create_web_app([telegram_route(InboxWriter(app.uow, app.clock), SECRET)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://test") as http:
        body = '{"update_id": ' + update_id + ', "message": {"text": "hi"}}'
        response = await http.post("/telegram", content=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        assert response.status_code == 400
        good = await http.post(
            "/telegram", content='{"update_id": 44}', headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
        )
        assert good.status_code == 200
    async with app.uow() as uow:
        assert await uow.inbox.counts() == {"pending": 1}


@pytest.fixture
async def rig(app: App, clock: FrozenClock) -> AsyncIterator[Rig]:
    """The product with its WhatsApp channel, against the fake Graph API."""
    async with whatsapp_rig(app, clock) as running:
        yield running


async def _open_upload(
    url: str, declared: int = 100_000, sent: int = 1_000
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Start a POST /whatsapp with a (wrong) signature and send only the start of its body."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(
        b"POST /whatsapp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"X-Hub-Signature-256: sha256=" + b"0" * 64 + b"\r\nContent-Length: " + str(declared).encode() + b"\r\n\r\n"
    )
    writer.write(b"{" + b" " * (sent - 1))
    await writer.drain()
    return reader, writer


async def _status(reader: asyncio.StreamReader, within: float) -> int:
    async with asyncio.timeout(within):
        line = await reader.readline()
    return int(line.split()[1])


async def test_slow_uploads_hold_at_most_a_few_slots_and_then_time_out(rig: Rig) -> None:
    """With every body slot held by a slow upload, the next request gets 503 at once; slow bodies end with 408."""
    rig.channel.bodies = BodyReader(slots=2, timeout=0.6, wait=0.1)
    held = [await _open_upload(rig.url) for _ in range(2)]
    await asyncio.sleep(0.05)
    reader, writer = await _open_upload(rig.url)
    assert await _status(reader, within=2) == 503
    writer.close()
    for reader, writer in held:
        assert await _status(reader, within=3) == 408
        writer.close()
    citizen_ok = await rig.api.post(b'{"object": "whatsapp_business_account", "entry": []}')
    assert citizen_ok.status_code == 200  # the slots are free again


async def test_a_client_that_leaves_mid_upload_is_not_an_error(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    """An aborted upload is a quiet 4xx: no ERROR and no traceback in the log."""
    caplog.set_level(logging.INFO)
    for _ in range(3):
        _, writer = await _open_upload(rig.url)
        await asyncio.sleep(0.05)
        writer.close()
    await asyncio.sleep(0.3)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "Traceback" not in caplog.text


async def _echo(request: Request) -> Response:
    return PlainTextResponse("ok")


@pytest.mark.parametrize("sent", [b"", b"POST /x HTTP/1.1\r\nHost: a\r\n", b"GET /x HTTP/1.1\r\nHost: a\r\n\r\nGET /x"])
async def test_a_connection_without_complete_headers_is_closed(sent: bytes) -> None:
    """Nothing sent, headers left unfinished, or a kept-alive connection's next request left unfinished: closed."""
    web = create_web_app([Route("/x", _echo, methods=["GET", "POST"])])
    async with serve_app(web, **server_options(header_timeout=0.3)) as url:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writer.write(sent)
        await writer.drain()
        async with asyncio.timeout(3):
            rest = await reader.read()  # until the server closes the connection
        writer.close()
    assert rest.count(b"HTTP/1.1 200") == sent.count(b"\r\n\r\n")


async def test_a_slow_but_steady_header_sender_is_cut_off() -> None:
    """A header a byte at a time (slowloris) does not reset the deadline."""
    web = create_web_app([Route("/x", _echo, methods=["GET"])])
    async with serve_app(web, **server_options(header_timeout=0.5)) as url:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writer.write(b"GET /x HTTP/1.1\r\nX-Slow: ")
        closed = False
        for _ in range(30):
            await asyncio.sleep(0.1)
            if reader.at_eof() or writer.is_closing():
                closed = True
                break
            try:
                writer.write(b"a")
                await writer.drain()
            except ConnectionError:
                closed = True
                break
            try:
                async with asyncio.timeout(0.01):
                    if await reader.read(1) == b"":
                        closed = True
                        break
            except TimeoutError:
                pass
        writer.close()
    assert closed


async def test_a_database_outage_is_answered_503_and_logged_once(app: App, caplog: pytest.LogCaptureFixture) -> None:
    """While the database is unreachable a webhook gets 503 with Retry-After (the platform retries), no traceback;
    an error that is not an outage still reaches the server as a 500."""

    def down(*, autocommit: bool = False) -> UnitOfWork:
        raise OperationalError("INSERT INTO inbox", {}, ConnectionRefusedError("connection refused"))

    def broken(*, autocommit: bool = False) -> UnitOfWork:
        raise ValueError("a bug")

    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    web = create_web_app([telegram_route(InboxWriter(down, app.clock), SECRET)], unavailable=app.database_problem)
    with caplog.at_level(logging.WARNING):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://test") as http:
            for update_id in (1, 2, 3):
                response = await http.post("/telegram", content=f'{{"update_id": {update_id}}}', headers=headers)
                assert (response.status_code, response.headers["retry-after"]) == (503, "1")
    outage = [r for r in caplog.records if "answered 503" in r.getMessage()]
    assert len(outage) == 1 and "connection refused" in outage[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)
    web = create_web_app([telegram_route(InboxWriter(broken, app.clock), SECRET)], unavailable=app.database_problem)
    transport = httpx.ASGITransport(app=web, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        assert (await http.post("/telegram", content='{"update_id": 4}', headers=headers)).status_code == 500
