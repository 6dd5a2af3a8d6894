"""The channel toolkit's keep-alive HTTP/1.1 client, against a scripted loopback server.

Its use by python-telegram-bot (`KeepAliveRequest`) is tested in test_telegram_request.py, and by the Graph API
calls in test_whatsapp_transport.py; these tests hold the client's own contract: requests as given, answers whole,
connections kept, stale ones replaced, timeouts, and the body limit.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from suarawarga.bot.channels.keepalive import (
    BodyTooLarge,
    HttpError,
    HttpTimeout,
    KeepAliveClient,
    PoolTimeout,
    Timeouts,
    multipart,
)
from tests.support.scripted_http import CLOSE, LATE, LATE_SECONDS, OK, STALL, THEN_CLOSE, THEN_STALL, answer, serving

LIMIT = 100_000


async def test_requests_go_out_as_given_and_answers_come_back_whole_on_one_connection() -> None:
    """Method, target, Host, the caller's headers and body are sent; status, reason, headers and body come back."""
    script = [
        answer(b'{"id":"1"}', "Content-Type: application/json", "X-Trace: a"),
        answer(b"", status="204 No Content"),
        answer(b"nope", status="404 Not Found"),
    ]
    async with serving(lambda c, n: script[n - 1]) as server:
        client = KeepAliveClient(timeouts=Timeouts(read=2.0))
        first = await client.request(
            "POST", f"{server.url}/v1/x?a=1", headers={"Authorization": "Bearer t"}, body=b'{"k":1}'
        )
        second = await client.request("GET", f"{server.url}/v1/y")
        third = await client.request("GET", f"{server.url}/v1/z")
        await client.aclose()
    assert (first.status, first.reason, first.body) == (200, "OK", b'{"id":"1"}')
    assert first.headers["content-type"] == "application/json" and first.headers["x-trace"] == "a"
    assert (second.status, second.body) == (204, b"")
    assert (third.status, third.reason, third.body) == (404, "Not Found", b"nope")
    port = server.url.rsplit(":", 1)[1]
    assert (
        server.requests[0]
        == (
            f"POST /v1/x?a=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer t\r\n"
            'Content-Length: 7\r\n\r\n{"k":1}'
        ).encode()
    )
    assert b"Content-Length" not in server.requests[1]  # a GET without a body says nothing of one
    assert server.connections == 1


async def test_a_reused_connection_the_server_dropped_is_replaced_and_a_new_one_is_not_retried() -> None:
    """No byte of an answer on a reused connection: written once more on a new one; on a new one: HttpError."""
    async with serving(lambda c, n: CLOSE if (c, n) in ((1, 2), (3, 1)) else answer()) as server:
        client = KeepAliveClient()
        assert (await client.request("POST", server.url)).body == OK
        assert (await client.request("POST", server.url)).body == OK  # connection 1 closed: again on 2
        assert server.connections == 2 and len(server.requests) == 3
        server.drop_idle()
        await asyncio.sleep(0.05)
        with pytest.raises(HttpError, match="IncompleteRead") as caught:
            await client.request("POST", server.url)  # the idle one was seen closed: a new one, closed at once
        assert not isinstance(caught.value, HttpTimeout)
        await client.aclose()
    assert server.connections == 3


async def test_timeouts_of_read_and_pool_and_a_refused_connection() -> None:
    """Read and pool timeouts are HttpTimeout (the pool's: PoolTimeout); a refused connection is HttpError."""
    async with serving(lambda c, n: STALL if c == 1 else answer()) as server:
        client = KeepAliveClient(1, Timeouts(read=0.3, pool=0.1))
        held = asyncio.create_task(client.request("GET", server.url))
        await asyncio.sleep(0.05)
        with pytest.raises(PoolTimeout):
            await client.request("GET", server.url)
        started = time.monotonic()
        with pytest.raises(HttpTimeout):
            await held
        assert time.monotonic() - started < 2
        assert (await client.request("GET", server.url, timeouts=Timeouts(read=1.0))).body == OK
        await client.aclose()
    refused = KeepAliveClient()
    with pytest.raises(HttpError, match="could not connect") as caught:
        await refused.request("GET", "http://127.0.0.1:9/")
    assert not isinstance(caught.value, HttpTimeout)


async def test_a_reused_connection_that_ends_after_the_head_is_an_error_not_a_second_write() -> None:
    """The server answered (a head came): the request is not written again, even when no byte of the body came."""
    truncated = answer(b"", "Content-Length: 20") + THEN_CLOSE
    async with serving(lambda c, n: truncated if n == 2 else answer()) as server:
        client = KeepAliveClient()
        assert (await client.request("POST", server.url)).body == OK
        with pytest.raises(HttpError, match="IncompleteRead"):
            await client.request("POST", server.url, body=b"pay")
        await client.aclose()
    assert len(server.requests) == 2 and server.connections == 1


async def test_a_small_answer_has_the_read_timeout_in_all() -> None:
    """The head comes late and its small body never whole: the read timeout runs out once, from the request.

    Head after 0.5 s, read timeout 0.6 s: one deadline for the answer ends at 0.6 s; a second deadline for the
    body alone would have run to 1.1 s.
    """
    async with serving(lambda c, n: LATE + answer(b"{", "Content-Length: 20") + THEN_STALL) as server:
        client = KeepAliveClient(timeouts=Timeouts(read=0.6))
        started = time.monotonic()
        with pytest.raises(HttpTimeout):
            await client.request("GET", server.url)
        assert LATE_SECONDS < time.monotonic() - started < 0.95
        await client.aclose()


@pytest.mark.parametrize("framing", ["declared", "chunked", "until-close"])
async def test_a_body_over_the_limit_is_refused_without_being_read_whole(framing: str) -> None:
    """A declared length over the limit is refused at once; chunks or an open end stop once over it.

    The server sends far more than the limit, then nothing more: the refusal must come from the limit, not from
    the read timeout or the end of the body.
    """
    piece = b"x" * 16_384
    if framing == "declared":
        raw = answer(piece, f"Content-Length: {10**12}") + THEN_STALL
    elif framing == "chunked":
        raw = answer(b"", "Transfer-Encoding: chunked") + (b"4000\r\n" + piece + b"\r\n") * 20 + THEN_STALL
    else:
        raw = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + piece * 20 + THEN_STALL
    async with serving(lambda c, n: raw if c == 1 else answer()) as server:
        client = KeepAliveClient(timeouts=Timeouts(read=5.0))
        started = time.monotonic()
        with pytest.raises(BodyTooLarge):
            await client.request("GET", server.url, limit=LIMIT)
        assert time.monotonic() - started < 2.5
        assert (await client.request("GET", server.url, limit=LIMIT)).body == OK  # on a new connection
        await client.aclose()
    assert server.connections == 2


async def test_bodies_up_to_the_limit_pass_in_every_framing() -> None:
    """Exactly the limit, declared, chunked or until close, is read whole."""
    data = bytes(range(256)) * (LIMIT // 256) + b"z" * (LIMIT % 256)
    chunks = b"".join(b"%x\r\n" % len(data[i : i + 7000]) + data[i : i + 7000] + b"\r\n" for i in range(0, LIMIT, 7000))
    script = [
        answer(data),
        answer(b"", "Transfer-Encoding: chunked") + chunks + b"0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + data,
    ]
    async with serving(lambda c, n: script[c - 1 + n - 1]) as server:
        client = KeepAliveClient()
        for _ in script:
            assert (await client.request("GET", server.url, limit=LIMIT)).body == data
        await client.aclose()


async def test_a_closed_client_refuses_and_header_injection_is_refused() -> None:
    """After aclose requests raise; a header value with a line break never reaches the wire."""
    async with serving(lambda c, n: answer()) as server:
        client = KeepAliveClient()
        with pytest.raises(ValueError, match="line break"):
            await client.request("GET", server.url, headers={"X-A": "b\r\nX-Evil: 1"})
        assert (await client.request("GET", server.url)).body == OK
        await client.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await client.request("GET", server.url)
    assert len(server.requests) == 1


def test_multipart_bodies_carry_fields_then_files() -> None:
    """The form fields come first, then each file with its name and type; quotes in names are escaped."""
    content_type, body = multipart({"type": "image/png"}, {"file": ('a"b.png', b"\x89PNG", "image/png")})
    boundary = content_type.removeprefix("multipart/form-data; boundary=")
    assert (
        body
        == (
            f'--{boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\nimage/png\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a%22b.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + b"\x89PNG\r\n"
        + f"--{boundary}--\r\n".encode()
    )


@pytest.mark.parametrize("size", [b"-5", b"0x1f", b"1_0", b"zz", b""])
async def test_a_chunk_size_that_is_not_hexadecimal_digits_is_refused(size: bytes) -> None:
    """Python's int() would take "-5" (a read to the end), "0x1f" or "1_0": only hex digits are a chunk size."""
    raw = answer(b"", "Transfer-Encoding: chunked") + size + b"\r\nabcde\r\n0\r\n\r\n"
    async with serving(lambda c, n: raw) as server:
        client = KeepAliveClient(timeouts=Timeouts(read=2.0))
        with pytest.raises(HttpError, match="chunk size"):
            await client.request("GET", server.url)
        await client.aclose()


async def test_head_is_refused() -> None:
    """A HEAD answer announces a body that never comes: the client does not offer the method."""
    client = KeepAliveClient()
    with pytest.raises(ValueError, match="HEAD"):
        await client.request("HEAD", "http://127.0.0.1:9/")
    await client.aclose()
