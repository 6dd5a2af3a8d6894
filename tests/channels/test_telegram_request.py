"""The tuned Bot API client (`KeepAliveRequest`): errors mapped as with httpx, keep-alive, stale connections, timeouts.

The sender-level tests run on both clients (`httpx`, `tuned`) so that a verdict that differs between them fails;
the others drive the client against a scripted loopback HTTP server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fakes.telegram_server import FakeBotApi, User
from starlette.requests import Request
from starlette.responses import Response
from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest, RequestData

from suarawarga.bootstrap import App
from suarawarga.bot.channels.telegram import Limits, TelegramChannel
from suarawarga.bot.channels.telegram.pacing import retry_seconds
from suarawarga.bot.channels.telegram.request import KeepAliveRequest
from suarawarga.bot.messages import ChannelName, Choice, ConversationKey, Outbound
from tests.support.scripted_http import CLOSE, OK, STALL, answer, serving

CITIZEN = User(5001, "Budi", language_code="id")
FAST = Limits(per_second=1000, private_burst=1000, private_per_second=1000, group_per_minute=1000)


class SlowBotApi(FakeBotApi):
    """The fake Bot API, able to hold its answer to one method for a while."""

    def __init__(self) -> None:
        super().__init__()
        self.stall: dict[str, float] = {}

    async def _endpoint(self, request: Request) -> Response:
        delay = self.stall.pop(request.url.path.rsplit("/", 1)[-1], 0.0)
        if delay:
            await asyncio.sleep(delay)
        return await super()._endpoint(request)


def client(kind: str, read_timeout: float) -> HTTPXRequest | KeepAliveRequest:
    """Return a Bot API client of a kind with the adapter's settings but a short read timeout."""
    if kind == "httpx":
        return HTTPXRequest(connection_pool_size=8, pool_timeout=10.0, read_timeout=read_timeout)
    return KeepAliveRequest(connection_pool_size=8, pool_timeout=10.0, read_timeout=read_timeout)


@pytest.fixture(params=["httpx", "tuned"])
async def sending(request: pytest.FixtureRequest, app: App) -> AsyncIterator[tuple[TelegramChannel, SlowBotApi]]:
    """Yield a started channel on each client kind, and its (slow-capable) fake Bot API."""
    api = SlowBotApi()
    async with api:
        request_object = client(request.param, 0.3)
        bot = Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url, request=request_object)
        common: dict[str, Any] = {"catalogue": app.catalogue, "attachments": app.attachments, "clock": app.clock}
        channel = TelegramChannel(bot, limits=FAST, **common)
        await channel.start()
        try:
            yield channel, api
        finally:
            await channel.stop()


def to(text_key: str, *choices: Choice) -> Outbound:
    """Return an outbound to the citizen, with an outbox-like id."""
    key = ConversationKey(ChannelName.TELEGRAM, str(CITIZEN.id))
    return Outbound(key=key, text_key=text_key, choices=choices, id=f"m-{text_key}-{time.monotonic_ns()}")


def test_the_setting_picks_the_client(app: App) -> None:
    """`request="httpx"` builds the Bot on PTB's HTTPXRequest, the default (as the setting's) on KeepAliveRequest."""
    common: dict[str, Any] = {"catalogue": app.catalogue, "attachments": app.attachments, "clock": app.clock}
    httpx = TelegramChannel.connect("1:x", "http://127.0.0.1:9", request="httpx", **common)
    assert isinstance(httpx.bot.request, HTTPXRequest)
    assert isinstance(TelegramChannel.connect("1:x", "http://127.0.0.1:9", **common).bot.request, KeepAliveRequest)
    with pytest.raises(ValueError, match="aiohttp"):
        TelegramChannel.connect("1:x", "http://127.0.0.1:9", request="aiohttp", **common)


async def test_sends_keyboards_and_a_429_as_with_httpx(sending: tuple[TelegramChannel, SlowBotApi]) -> None:
    """A message with buttons goes out; a short 429 is waited out, a long one goes back to the outbox."""
    channel, api = sending
    api.private_chat(CITIZEN)
    question = to("complaint.identity.ask", Choice("id:rahasia", "complaint.identity.rahasia"))
    assert (await channel.sender.send([question])).sent == [question.id]
    (record,) = api.sent(CITIZEN.id, "sendMessage")
    assert record["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "id:rahasia"

    api.fail_next("sendMessage", 1, retry_after=1)
    quick = to("menu.intro")
    assert (await channel.sender.send([quick])).sent == [quick.id]
    assert api.rate_limit_hits == 1
    api.fail_next("sendMessage", 1, retry_after=30)
    held = to("menu.intro")
    report = await channel.sender.send([held])
    assert report.retry[held.id][0].startswith("RetryAfter")
    assert len(api.sent(CITIZEN.id, "sendMessage")) == 2


async def test_a_timeout_and_a_502_ask_for_a_retry(sending: tuple[TelegramChannel, SlowBotApi]) -> None:
    """No answer within the read timeout is TimedOut, a 502 a NetworkError: both go back to the outbox."""
    channel, api = sending
    api.private_chat(CITIZEN)
    api.stall["sendMessage"] = 0.6
    slow = to("menu.intro")
    report = await channel.sender.send([slow])
    assert report.retry[slow.id][0].startswith("TimedOut")
    api.fail_next("sendMessage", 1, error_code=502)
    failing = to("menu.intro")
    report = await channel.sender.send([failing])
    assert report.retry[failing.id][0].startswith("NetworkError")
    fine = to("menu.welcome")
    assert (await channel.sender.send([fine])).sent == [fine.id]  # the client recovered from both


@contextlib.asynccontextmanager
async def opened(request: KeepAliveRequest) -> AsyncIterator[KeepAliveRequest]:
    """Initialise a client and shut it down afterwards."""
    async with request:
        yield request


async def test_one_connection_carries_every_call_and_the_form_is_sent() -> None:
    """Sequential calls share one kept-alive connection; parameters travel as a form, with PTB's user agent."""
    async with serving(lambda c, n: answer()) as server, opened(KeepAliveRequest()) as client:
        for _ in range(5):
            assert await client.post(f"{server.url}/botT/sendMessage", RequestData()) is True
            assert await client.do_request(f"{server.url}/botT/getMe", "POST") == (200, OK)
        data = await client.retrieve(f"{server.url}/file/botT/photos/a.jpg")
        assert data == OK
    assert server.connections == 1
    assert len(server.requests) == 11
    first = server.requests[0].decode()
    assert first.startswith("POST /botT/sendMessage HTTP/1.1\r\n")
    assert f"User-Agent: {KeepAliveRequest.USER_AGENT}" in first
    assert server.requests[-1].startswith(b"GET /file/botT/photos/a.jpg HTTP/1.1\r\n")


async def test_post_json_sends_one_json_object_and_maps_errors_as_post_does() -> None:
    """Nested parameters stay JSON objects (not JSON strings inside JSON); a 400 is BadRequest; nothing is kept."""
    refused = answer(b'{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}', status="400 Bad")
    async with serving(lambda c, n: refused if n == 2 else answer()) as server, opened(KeepAliveRequest()) as client:
        markup = {"inline_keyboard": [[{"text": "Ya", "callback_data": "consent:yes"}]]}
        params = {"chat_id": 5001, "text": "Setuju?", "reply_markup": markup}
        assert await client.post_json(f"{server.url}/botT/sendMessage", params) is True
        with pytest.raises(BadRequest, match="Chat not found"):
            await client.post_json(f"{server.url}/botT/sendMessage", params)
        assert not client._json  # a call's parameters are dropped once it is over, failed or not
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    assert b"\r\nContent-Type: application/json\r\n" in head
    assert json.loads(body) == params


async def test_a_connection_the_server_closed_is_not_reused() -> None:
    """An answer with Connection: close, and a connection closed while idle, are followed by a new connection."""

    def script(connection: int, nth: int) -> bytes:
        return answer(OK, "Connection: close") if connection == 1 else answer()

    async with serving(script) as server, opened(KeepAliveRequest()) as client:
        url = f"{server.url}/botT/getMe"
        assert await client.do_request(url, "POST") == (200, OK)
        assert await client.do_request(url, "POST") == (200, OK)
        assert server.connections == 2
        server.drop_idle()
        await asyncio.sleep(0.05)
        assert await client.do_request(url, "POST") == (200, OK)
    assert server.connections == 3


async def test_a_request_that_meets_a_closing_connection_is_written_again_on_a_new_one() -> None:
    """The server closes a kept-alive connection as the next request arrives: the request goes out once more."""

    def script(connection: int, nth: int) -> bytes:
        return CLOSE if (connection, nth) == (1, 2) else answer()

    async with serving(script) as server, opened(KeepAliveRequest()) as client:
        url = f"{server.url}/botT/sendMessage"
        assert await client.do_request(url, "POST") == (200, OK)
        assert await client.do_request(url, "POST") == (200, OK)
    assert server.connections == 2
    assert len(server.requests) == 3


async def test_a_new_connection_closed_without_an_answer_is_a_network_error() -> None:
    """On a fresh connection an end without an answer is not retried: PTB gets a NetworkError."""
    async with serving(lambda c, n: CLOSE) as server, opened(KeepAliveRequest()) as client:
        with pytest.raises(NetworkError) as caught:
            await client.post(f"{server.url}/botT/sendMessage", RequestData())
        assert not isinstance(caught.value, TimedOut)
    assert len(server.requests) == 1


async def test_read_and_pool_timeouts_are_timed_out() -> None:
    """No answer in the read timeout (default or per call) is TimedOut; so is no free connection in the pool's."""
    async with (
        serving(lambda c, n: STALL if c <= 3 else answer()) as server,
        opened(KeepAliveRequest(connection_pool_size=1, read_timeout=0.2, pool_timeout=0.1)) as client,
    ):
        url = f"{server.url}/botT/sendMessage"
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await client.post(url, RequestData())
        assert 0.15 < time.monotonic() - started < 2
        with pytest.raises(TimedOut):
            await client.do_request(url, "POST", read_timeout=0.05)
        held = asyncio.create_task(client.do_request(url, "POST", read_timeout=0.5))
        await asyncio.sleep(0.05)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await client.do_request(url, "POST")
        with pytest.raises(TimedOut):
            await held
        assert await client.do_request(url, "POST") == (200, OK)
    assert server.connections == 4


@pytest.mark.filterwarnings("ignore:.*`retry_after`")  # PTB 22's notice about int periods
async def test_chunked_bodies_bodies_without_length_and_error_statuses() -> None:
    """Chunked and until-close bodies are read whole; a 429 becomes RetryAfter through PTB, as with httpx."""
    chunked = b'7\r\n{"ok":t\r\n12\r\nrue,"result":true}\r\n0\r\n\r\n'
    too_many = b'{"ok":false,"error_code":429,"description":"Too Many Requests","parameters":{"retry_after":3}}'

    def script(connection: int, nth: int) -> bytes:
        if nth == 1:
            return answer(chunked, "Transfer-Encoding: chunked")
        if nth == 2:
            return answer(too_many, status="429 Too Many Requests")
        if connection == 1:
            return b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + OK
        return answer()

    async with serving(script) as server, opened(KeepAliveRequest()) as client:
        url = f"{server.url}/botT/sendMessage"
        assert await client.post(url, RequestData()) is True
        with pytest.raises(RetryAfter) as caught:
            await client.post(url, RequestData())
        assert retry_seconds(caught.value) == 3
        assert await client.do_request(url, "POST") == (200, OK)  # the body ends where the connection does
        assert await client.do_request(url, "POST") == (200, OK)
    assert server.connections == 2


async def test_unusable_states_raise() -> None:
    """Before initialize and after shutdown requests are refused; a refused connection is a NetworkError."""
    client = KeepAliveRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await client.do_request("http://127.0.0.1:9/botT/getMe", "POST")
    async with opened(client):
        with pytest.raises(NetworkError, match="could not connect"):
            await client.do_request("http://127.0.0.1:9/botT/getMe", "POST")
    with pytest.raises(RuntimeError, match="not initialized"):
        await client.do_request("http://127.0.0.1:9/botT/getMe", "POST")
