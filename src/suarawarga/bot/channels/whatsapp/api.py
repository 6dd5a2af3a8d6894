"""The Graph API client: the few calls the channel makes, Meta's error codes and what they mean.

The calls go through a `Transport` (transport.py: httpx, or the channel toolkit's keep-alive client): it sends a
request and hands back the status, reason and body whatever the status, and turns a request that got no answer
into `GraphError(None, 0, ...)` and a body over the caller's limit into `GraphError(None, 413, ...)`. Reading
Meta's answers and errors is done here, once, for either transport.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any, Protocol

from suarawarga.bot.channels.ordered import Verdict
from suarawarga.bot.messages import ChannelName

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


Files = Mapping[str, tuple[str, bytes | IO[bytes], str]]  # multipart files: name -> (file name, content, type)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the Graph API (or the media host) answered: status, reason phrase and body."""

    status: int
    reason: str
    body: bytes


class Transport(Protocol):
    """How the Graph API calls reach Meta (transport.py has the httpx and the keep-alive implementations)."""

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
        """Send a request (a JSON body, a form, or a form with files) and return the answer, whatever its status.

        No answer: `GraphError(None, 0, ...)`; a body over `limit` bytes: `GraphError(None, 413, ...)`, refused
        without reading it whole.
        """
        ...

    async def aclose(self) -> None:
        """Close the connections (the transport is not used afterwards)."""
        ...


class GraphApi:
    """The few Graph API calls the channel makes, over one transport."""

    def __init__(self, base_url: str, version: str, phone_number_id: str, token: str) -> None:
        """Prepare the calls; the transport is set by the channel."""
        self.root = f"{base_url.rstrip('/')}/{version.strip('/')}"
        self.phone_number_id = phone_number_id
        self._headers = {"Authorization": f"Bearer {token}"}
        self.transport: Transport | None = None

    def _transport(self) -> Transport:
        if self.transport is None:
            raise RuntimeError("the WhatsApp channel is not started")
        return self.transport

    async def _request(self, method: str, url: str, **kwargs: Any) -> Answer:
        answer = await self._transport().call(method, url, self._headers, **kwargs)
        if answer.status >= 400:
            raise _graph_error(answer)
        return answer

    async def send(self, body: Mapping[str, Any]) -> str:
        """Send one message; return its wamid ("" if the answer did not carry one)."""
        answer = await self._request("POST", f"{self.root}/{self.phone_number_id}/messages", json=body)
        try:
            return str(json.loads(answer.body)["messages"][0]["id"])
        except (ValueError, KeyError, IndexError, TypeError):
            log.warning("WhatsApp accepted a message without returning its id")
            return ""

    async def upload(self, data: bytes, mime: str, filename: str) -> str:
        """Upload a file for sending and return its media id."""
        answer = await self._request(
            "POST",
            f"{self.root}/{self.phone_number_id}/media",
            form={"messaging_product": "whatsapp", "type": mime},
            files={"file": (filename, data, mime)},
        )
        try:
            return str(json.loads(answer.body)["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise GraphError(None, 502, "media upload answered without an id") from exc

    async def download(self, media_id: str, limit: int) -> tuple[bytes, str]:
        """Fetch a received file (media id -> URL -> bytes, both with the token); return (bytes, mime)."""
        answer = await self._request("GET", f"{self.root}/{media_id}")
        try:
            info = json.loads(answer.body)
            url, mime = str(info["url"]), str(info.get("mime_type") or "application/octet-stream")
            declared = int(info.get("file_size") or 0)
        except (ValueError, KeyError, TypeError) as exc:
            raise GraphError(None, 502, "media answer without a URL") from exc
        if declared > limit:
            raise GraphError(None, 413, f"file of {declared} bytes is over {limit}")
        data = (await self._request("GET", url, limit=limit)).body
        return data, mime.split(";")[0].strip() or mime


def _graph_error(answer: Answer) -> GraphError:
    try:
        error = json.loads(answer.body).get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    return _error_from(error, answer.status, str(error.get("message") or answer.reason or "error"))


def _error_from(error: Mapping[str, Any], status: int, text: str) -> GraphError:
    """Return Meta's error object (an API answer's, or a failed status's) as a GraphError with its details."""
    code = error.get("code") if isinstance(error.get("code"), int) else None
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    return GraphError(code, status, f"{text}: {details}" if details else text)
