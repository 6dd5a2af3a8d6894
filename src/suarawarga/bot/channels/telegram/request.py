"""A python-telegram-bot request object on the channel toolkit's keep-alive client (`bot/channels/keepalive.py`).

PTB's `HTTPXRequest` goes through httpx and httpcore, whose pool checks every idle connection it hands out with
a readability probe (a `select` call) and which build a full request model per call (in a profile of `serve`
under load, the pool's checks alone took about a fifth of its CPU). `KeepAliveRequest` implements PTB's
documented extension point (`BaseRequest`: `initialize`, `shutdown`, `do_request`) on `KeepAliveClient`: one
keep-alive HTTP/1.1 pool per host of at most `connection_pool_size` requests in flight, no liveness probe, a
request met by a connection the server had just closed written once more on a new one (see that module).

This module adds PTB's side:
- PTB's timeouts: connect, write (`media_write_timeout` for uploads when the caller gave none), read (an answer
  of up to 64 KB whole, a larger one for each read, so a long download is not cut short) and pool; a timeout
  raises `TimedOut`, any other transport trouble `NetworkError`, and the status and body go back to PTB, which
  maps 4xx/5xx (429 included) to its exceptions exactly as for httpx;
- parameters sent as a JSON object (`application/json`, which the Bot API accepts for every call) or, with files,
  multipart (as httpx sends them);
- `post_json`: a call without files whose parameters are handed over as the JSON object they are and written
  with one `json.dumps`. PTB's own path (`Bot._post`) wraps each parameter in a `RequestParameter` and encodes
  it to a JSON string of its own, which the body then encodes once more: 36 µs of CPU per sendMessage with a
  keyboard against 12 µs (docs/architecture.md §6). The call still goes through PTB's `BaseRequest.post`, so
  its answer gets PTB's status and error handling (`RetryAfter`, `BadRequest`, ...) as any call does: the
  parameters wait beside an empty `RequestData` (PTB's class is final) that `do_request` recognises.

No proxy support: a deployment behind a proxy keeps `SUARAWARGA_TELEGRAM_REQUEST=httpx`.
"""

from __future__ import annotations

import json
import ssl
from typing import Any

from telegram._utils.defaultvalue import DefaultValue  # what HTTPXRequest tests for too: "not given"
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from suarawarga.bot.channels.keepalive import HttpError, HttpTimeout, KeepAliveClient, PoolTimeout, Timeouts, multipart

POOL_TIMEOUT = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent to Telegram. "
    "Consider adjusting the connection pool size or the pool timeout."
)


class KeepAliveRequest(BaseRequest):
    """PTB's `BaseRequest` on asyncio streams with long-lived HTTP/1.1 connections (see the module docstring)."""

    __slots__ = (
        "_client",
        "_connect_timeout",
        "_expiry",
        "_headers",
        "_json",
        "_json_headers",
        "_media_write_timeout",
        "_pool_timeout",
        "_read_timeout",
        "_size",
        "_ssl",
        "_timeouts",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        keepalive_expiry: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._expiry = keepalive_expiry
        self._ssl = ssl_context
        self._headers = {"User-Agent": self.USER_AGENT, "Accept": "*/*"}
        self._json_headers = {**self._headers, "Content-Type": "application/json"}
        self._timeouts = Timeouts(connect=connect_timeout, write=write_timeout, read=read_timeout, pool=pool_timeout)
        self._client: KeepAliveClient | None = None
        self._json: dict[RequestData, dict[str, Any]] = {}  # post_json's parameters, by their stand-in RequestData

    @property
    def read_timeout(self) -> float | None:
        """Return the default read timeout in seconds."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Allow requests (connections are opened on first use)."""
        if self._client is None:
            self._client = KeepAliveClient(self._size, keepalive_expiry=self._expiry, ssl_context=self._ssl)

    async def shutdown(self) -> None:
        """Close every idle connection and refuse further requests until initialised again."""
        client, self._client = self._client, None
        if client is not None:
            self._ssl = client.ssl_context  # built once: a default context loads the system's certificates
            await client.aclose()

    async def post_json(self, url: str, payload: dict[str, Any]) -> Any:
        """Make a call without files and return its result (PTB's `post`); `payload`: JSON values, no None."""
        data = RequestData()
        self._json[data] = payload
        try:
            return await self.post(url, data)
        finally:
            del self._json[data]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request and return the status and body of the answer (see `BaseRequest.do_request`)."""
        client = self._client
        if client is None:
            raise RuntimeError("This KeepAliveRequest is not initialized!")
        payload = self._json.get(request_data) if request_data is not None else None
        files = request_data.multipart_data if request_data is not None and payload is None else None
        given = (read_timeout, write_timeout, connect_timeout, pool_timeout)
        if not files and all(isinstance(value, DefaultValue) for value in given):
            timeouts = self._timeouts  # the common case, built once
        else:
            if isinstance(write_timeout, DefaultValue):
                write = self._media_write_timeout if files else self._write_timeout
            else:
                write = write_timeout
            timeouts = Timeouts(
                connect=self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout,
                write=write,
                read=self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout,
                pool=self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout,
            )
        if payload is not None:
            headers, body = self._json_headers, json.dumps(payload, separators=(",", ":")).encode()
        else:
            headers = self._headers
            fields = request_data.json_parameters if request_data is not None else {}
            if files:
                content_type, body = multipart(fields, files)
                headers = {**headers, "Content-Type": content_type}
            elif fields:
                # JSON, which the Bot API takes for every call without files: percent-encoding a keyboard's JSON for
                # a form body cost about 3 % of a processing process's CPU in the load benchmark.
                headers, body = self._json_headers, json.dumps(fields).encode()
            else:
                body = b""
        try:
            response = await client.request(method, url, headers=headers, body=body, timeouts=timeouts)
        except PoolTimeout:
            raise TimedOut(POOL_TIMEOUT) from None
        except HttpTimeout as exc:
            raise TimedOut(str(exc) or None) from None
        except HttpError as exc:
            raise NetworkError(str(exc)) from exc
        return response.status, response.body
