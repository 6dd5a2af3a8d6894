"""The Graph API client: the few calls the channel makes, Meta's error codes and what they mean."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx

from suarawarga.bot.messages import (
    ChannelName,
)

if TYPE_CHECKING:
    pass

from suarawarga.bot.channels.ordered import Verdict

log = logging.getLogger(__name__)

CHANNEL = ChannelName.WHATSAPP

# Meta error codes (docs/platforms.md §2.9) and what to do about them.
THROUGHPUT = 130429
PAIR_RATE = 131056
WINDOW_CLOSED = 131047
UNREACHABLE_CODES = frozenset({131026, 131030})  # undeliverable / not a WhatsApp user; number not allowed
RETRY_WAITS: dict[int, timedelta | None] = {
    THROUGHPUT: None,  # None: the outbox's exponential backoff
    PAIR_RATE: None,
    131048: timedelta(minutes=10),  # spam rate limit
    131000: None,  # something went wrong
    131016: None,  # service unavailable
    131052: None,  # media download error
    131053: None,  # media upload error
    1: None,
    2: None,
    4: timedelta(minutes=1),  # application request limit
    80007: timedelta(minutes=1),  # WABA rate limit
    190: timedelta(minutes=5),  # access token expired: an admin must renew it
    368: timedelta(hours=1),  # temporarily blocked for policy violations
    131031: timedelta(hours=1),  # account locked
    131042: timedelta(hours=1),  # payment problem
}


class GraphError(Exception):
    """An error answer of the Graph API (or a failed request)."""

    def __init__(self, code: int | None, status: int, message: str) -> None:
        """Keep Meta's error code, the HTTP status (0: no answer) and the message."""
        super().__init__(message)
        self.code, self.status, self.message = code, status, message

    def describe(self) -> str:
        """Return the error as stored in the outbox: code and message."""
        return f"{self.code if self.code is not None else self.status} {self.message}"[:300]


def classify(error: GraphError) -> tuple[Verdict, timedelta | None]:
    """Decide what an error means for the message: retry (with a wait), template, unreachable or failed."""
    code = error.code
    if code == WINDOW_CLOSED:
        return Verdict.WINDOW, None
    if code in UNREACHABLE_CODES:
        return Verdict.UNREACHABLE, None
    if code is not None and code in RETRY_WAITS:
        return Verdict.RETRY, RETRY_WAITS[code]
    if error.status == 0 or error.status == 429 or error.status >= 500:
        return Verdict.RETRY, None
    return Verdict.FAILED, None


class GraphApi:
    """The few Graph API calls the channel makes, over one httpx client."""

    def __init__(self, base_url: str, version: str, phone_number_id: str, token: str) -> None:
        """Prepare the calls; the httpx client is set by the channel."""
        self.root = f"{base_url.rstrip('/')}/{version.strip('/')}"
        self.phone_number_id = phone_number_id
        self._headers = {"Authorization": f"Bearer {token}"}
        self.client: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self.client is None:
            raise RuntimeError("the WhatsApp channel is not started")
        return self.client

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._client().request(method, url, headers=self._headers, **kwargs)
        except httpx.HTTPError as exc:
            raise GraphError(None, 0, type(exc).__name__) from exc
        if response.status_code >= 400:
            raise _graph_error(response)
        return response

    async def send(self, body: Mapping[str, Any]) -> str:
        """Send one message; return its wamid ("" if the answer did not carry one)."""
        response = await self._request("POST", f"{self.root}/{self.phone_number_id}/messages", json=body)
        try:
            return str(response.json()["messages"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError):
            log.warning("WhatsApp accepted a message without returning its id")
            return ""

    async def upload(self, data: bytes, mime: str, filename: str) -> str:
        """Upload a file for sending and return its media id."""
        response = await self._request(
            "POST",
            f"{self.root}/{self.phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime},
            files={"file": (filename, data, mime)},
        )
        try:
            return str(response.json()["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise GraphError(None, 502, "media upload answered without an id") from exc

    async def download(self, media_id: str, limit: int) -> tuple[bytes, str]:
        """Fetch a received file (media id -> URL -> bytes, both with the token); return (bytes, mime)."""
        response = await self._request("GET", f"{self.root}/{media_id}")
        try:
            info = response.json()
            url, mime = str(info["url"]), str(info.get("mime_type") or "application/octet-stream")
            declared = int(info.get("file_size") or 0)
        except (ValueError, KeyError, TypeError) as exc:
            raise GraphError(None, 502, "media answer without a URL") from exc
        if declared > limit:
            raise GraphError(None, 413, f"file of {declared} bytes is over {limit}")
        try:
            async with self._client().stream("GET", url, headers=self._headers) as stream:
                if stream.status_code >= 400:
                    await stream.aread()
                    raise _graph_error(stream)
                data = bytearray()
                async for chunk in stream.aiter_bytes():
                    data.extend(chunk)
                    if len(data) > limit:
                        raise GraphError(None, 413, f"file over {limit} bytes")
        except httpx.HTTPError as exc:
            raise GraphError(None, 0, type(exc).__name__) from exc
        return bytes(data), mime.split(";")[0].strip() or mime


def _graph_error(response: httpx.Response) -> GraphError:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    return _error_from(error, response.status_code, str(error.get("message") or response.reason_phrase or "error"))


def _error_from(error: Mapping[str, Any], status: int, text: str) -> GraphError:
    """Return Meta's error object (an API answer's, or a failed status's) as a GraphError with its details."""
    code = error.get("code") if isinstance(error.get("code"), int) else None
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    return GraphError(code, status, f"{text}: {details}" if details else text)
