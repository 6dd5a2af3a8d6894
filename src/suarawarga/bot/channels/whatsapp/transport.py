"""The Graph API's two transports: httpx, and the channel toolkit's keep-alive client (`SUARAWARGA_WHATSAPP_CLIENT`).

Both send the same requests (a JSON body as httpx encodes it, a form, or a form with files as multipart), hand
back the answer whatever its status, and fail the same way: `GraphError(None, 0, <error type>)` when no answer
came, `GraphError(None, 413, ...)` when a body is over the caller's limit, which is refused without reading it
whole (httpx stops its stream; the keep-alive client refuses a declared length over the limit at once and stops
counting chunks there). Everything else (statuses, Meta's error objects) is read by `GraphApi`.

The keep-alive client has no proxy support: behind HTTPS_PROXY or ALL_PROXY the setting defaults to httpx.
"""

from __future__ import annotations

from collections.abc import Mapping
from json import dumps
from typing import Any
from urllib.parse import urlencode

import httpx

from suarawarga.bot.channels.keepalive import BodyTooLarge, HttpError, KeepAliveClient, Timeouts, multipart
from suarawarga.bot.channels.whatsapp.api import Answer, Files, GraphError, Transport

KINDS = ("httpx", "tuned")
# As long as httpx is given here: 5 s to connect, 20 s for the rest. Unlike httpx (per socket write), the tuned
# client gives the whole upload of a request its write time: a 100 MB document needs 5 MB/s to go out in 20 s.
CONNECT_SECONDS, OTHER_SECONDS = 5.0, 20.0
POOL_SIZE = 100  # requests in flight per host, as httpx's default connection limit


class HttpxTransport:
    """The Graph API calls through an httpx client."""

    def __init__(self, client: httpx.AsyncClient, *, own: bool = True) -> None:
        """Use a client; `own`: close it in aclose (an injected one is left to its owner)."""
        self.client, self._own = client, own

    async def call(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        json: Mapping[str, Any] | None = None,
        form: Mapping[str, str] | None = None,
        files: Files | None = None,
        limit: int | None = None,
    ) -> Answer:
        """Send a request and return the answer (see `Transport.call`)."""
        try:
            if limit is None:
                response = await self.client.request(method, url, headers=headers, json=json, data=form, files=files)
                return Answer(response.status_code, response.reason_phrase, response.content)
            async with self.client.stream(method, url, headers=headers, json=json, data=form, files=files) as stream:
                if stream.status_code >= 400:
                    return Answer(stream.status_code, stream.reason_phrase, await stream.aread())
                data = bytearray()
                async for chunk in stream.aiter_bytes():
                    data.extend(chunk)
                    if len(data) > limit:
                        raise GraphError(None, 413, f"file over {limit} bytes")
                return Answer(stream.status_code, stream.reason_phrase, bytes(data))
        except httpx.HTTPError as exc:
            raise GraphError(None, 0, type(exc).__name__) from exc

    async def aclose(self) -> None:
        """Close the client if this transport opened it."""
        if self._own:
            await self.client.aclose()


class TunedTransport:
    """The Graph API calls through the toolkit's `KeepAliveClient` (long-lived connections, no probe per call)."""

    HEADERS = {"User-Agent": "SuaraWarga", "Accept": "*/*", "Accept-Encoding": "identity"}  # noqa: RUF012

    def __init__(self, client: KeepAliveClient) -> None:
        """Use a keep-alive client (closed by aclose)."""
        self.client = client

    async def call(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        json: Mapping[str, Any] | None = None,
        form: Mapping[str, str] | None = None,
        files: Files | None = None,
        limit: int | None = None,
    ) -> Answer:
        """Send a request and return the answer (see `Transport.call`)."""
        sent = {**self.HEADERS, **headers}
        body = b""
        if json is not None:  # encoded as httpx encodes it: compact, UTF-8
            body = dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            sent["Content-Type"] = "application/json"
        elif files:
            sent["Content-Type"], body = multipart(form or {}, files)
        elif form:
            body = urlencode(form).encode("ascii")
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            response = await self.client.request(method, url, headers=sent, body=body, limit=limit)
        except BodyTooLarge:
            raise GraphError(None, 413, f"file over {limit} bytes") from None
        except (HttpError, ValueError) as exc:  # ValueError: a header with a line break (httpx refuses it too)
            raise GraphError(None, 0, type(exc).__name__) from exc
        return Answer(response.status, response.reason, response.body)

    async def aclose(self) -> None:
        """Close the idle connections."""
        await self.client.aclose()


def open_transport(kind: str) -> Transport:
    """Return a new transport of a kind: "httpx" or "tuned" (the keep-alive client)."""
    if kind == "httpx":
        return HttpxTransport(httpx.AsyncClient(timeout=httpx.Timeout(OTHER_SECONDS, connect=CONNECT_SECONDS)))
    if kind == "tuned":
        timeouts = Timeouts(connect=CONNECT_SECONDS, write=OTHER_SECONDS, read=OTHER_SECONDS, pool=OTHER_SECONDS)
        return TunedTransport(KeepAliveClient(POOL_SIZE, timeouts))
    raise ValueError(f"unknown WhatsApp client kind {kind!r} (httpx or tuned)")
