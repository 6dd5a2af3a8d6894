"""WhatsApp Cloud API channel: the verified webhook, the parser of stored messages, and the sender.

Inbound: Meta POSTs to /whatsapp. The X-Hub-Signature-256 HMAC of the raw body is checked before anything is
parsed; each message is stored in the inbox under its wamid (a repeated delivery stops there), and delivery
statuses update the outbox row that was sent as that wamid. The parser keeps media as references that `fetch`
downloads only when a step accepts the file (a fresh URL is asked for then: Meta's expire within minutes), and
records when the chat last wrote: free-form messages may only be sent within 24 hours of that.

Outbound: choices become reply buttons (at most 3, titles of at most 20 characters), a list (at most 10
rows) or a numbered text menu the citizen answers by typing the number; text is split at 4 096 characters;
files are uploaded and sent as image or document messages. Every limit is enforced here, before Meta sees
the request. Outside the 24-hour window a message goes out as the approved template configured for its kind
(`Outbound.template`). Meta's error codes decide between a retry, a switch to the template, unreachable and
failed (docs/platforms.md §2).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import logging
import mimetypes
import re
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from suarawarga.bot.attachments import AttachmentStore, MediaRefused
from suarawarga.bot.batching import GroupCommit
from suarawarga.bot.channels.base import remember
from suarawarga.bot.inbox import Acceptor, Parser
from suarawarga.bot.messages import (
    Attachment,
    ChannelName,
    ConversationKey,
    Inbound,
    IncomingFile,
    MediaKind,
    Outbound,
    OutboundFile,
    OutboxStatus,
    parse_command,
)
from suarawarga.bot.metrics import Metrics
from suarawarga.bot.sender import MAX_ATTEMPTS, Progress, Sender, SendReport, backoff
from suarawarga.bot.texts import Catalogue
from suarawarga.bot.web import BodyReader, load_json
from suarawarga.clock import Clock
from suarawarga.config import WhatsAppTemplate
from suarawarga.storage.uow import UnitOfWorkFactory

if TYPE_CHECKING:
    from suarawarga.bootstrap import App

log = logging.getLogger(__name__)

CHANNEL = ChannelName.WHATSAPP

# Limits of the Cloud API (docs/platforms.md §2.6, §2.7); every request is checked against them before it is sent.
TEXT_MAX = 4096
BODY_MAX = 1024  # interactive body
CAPTION_MAX = 1024
HEADER_MAX = FOOTER_MAX = 60
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_ROWS_MAX = 10
LIST_SECTIONS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
LIST_BUTTON_MAX = 20
SECTION_TITLE_MAX = 24
TEMPLATE_PARAMS_BUDGET = 900  # characters shared by a template's parameters (its whole body is at most 1 024)
TEMPLATE_BUTTONS_MAX = 10
IMAGE_MAX = 5 * 1024 * 1024
DOCUMENT_MAX = 100 * 1024 * 1024
MEDIA_MAX = {"image": IMAGE_MAX, "audio": 16 * 1024 * 1024, "video": 16 * 1024 * 1024, "document": DOCUMENT_MAX}
IMAGE_MIMES = frozenset({"image/jpeg", "image/png"})
MEDIA_KINDS = {
    "image": MediaKind.PHOTO,
    "document": MediaKind.DOCUMENT,
    "audio": MediaKind.VOICE,
    "video": MediaKind.VIDEO,
}
MEDIA_ID_TTL = timedelta(days=25)  # uploaded media live 30 days at Meta

WINDOW = timedelta(hours=24)  # the customer-service window after a chat's last message
WINDOW_MARGIN = timedelta(minutes=5)  # a send takes a moment: do not start one at the window's last second

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
STATUS_RANK = {"sent": "sent", "delivered": "delivered", "read": "read", "played": "read"}
ID_MAX, CHAT_ID_MAX = 128, 64  # the longest message id and chat id the database holds (a wamid is ~60 characters)
BSUID = re.compile(r"^[A-Z]{2}\.[0-9A-Za-z]+$")  # business-scoped user id, e.g. US.13491208655302741918
WA_ID = re.compile(r"[0-9]{1,20}")  # a wa_id is the phone number's digits (E.164: at most 15)
_SPACES = re.compile(r"\s+")


class Verdict(StrEnum):
    """What to do with a message the Cloud API refused."""

    RETRY = "retry"
    WINDOW = "window"  # the 24-hour window is closed: send the template instead
    UNREACHABLE = "unreachable"
    FAILED = "failed"


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


def signature_ok(secret: bytes, body: bytes, header: str) -> bool:
    """Check an X-Hub-Signature-256 header ("sha256=" + hex HMAC of the raw body) in constant time."""
    if not header.startswith("sha256="):
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
    return hmac.compare_digest(header[7:].encode("latin-1", "replace"), expected)


def clip(text: str, limit: int) -> str:
    """Shorten text to at most `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int = TEXT_MAX) -> list[str]:
    """Split text into pieces of at most `limit` characters, at a line break or space where possible."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    pieces.append(rest)
    return [p for p in pieces if p]


def template_text(value: str) -> str:
    """Make a template parameter acceptable to Meta: one line, no tabs or runs of spaces, never empty."""
    return _SPACES.sub(" ", value).strip() or "-"


def fit_params(values: Sequence[str], budget: int = TEMPLATE_PARAMS_BUDGET) -> list[str]:
    """Clip template parameters so together they fit the budget; short ones keep their full text."""
    result = list(values)
    remaining, left = budget, len(values)
    for index in sorted(range(len(values)), key=lambda i: len(values[i])):
        share = max(remaining // left, 1)
        result[index] = clip(values[index], share)
        remaining -= len(result[index])
        left -= 1
    return result


def limit_problems(body: Mapping[str, Any]) -> list[str]:
    """Return every documented limit a message body breaks (an empty list when it may be sent)."""
    problems: list[str] = []

    def check(value: Any, limit: int, what: str, *, required: bool = True) -> None:
        """Note a missing or over-long text field."""
        if value is None and not required:
            return
        if not isinstance(value, str) or (required and not value.strip()):
            problems.append(f"{what} missing")
        elif len(value) > limit:
            problems.append(f"{what} longer than {limit}")

    kind = body.get("type")
    if kind == "text":
        check(body.get("text", {}).get("body"), TEXT_MAX, "text body")
    elif kind in ("image", "document"):
        media = body.get(kind, {})
        if bool(media.get("id")) == bool(media.get("link")):
            problems.append(f"{kind} needs exactly one of id and link")
        check(media.get("caption"), CAPTION_MAX, "caption", required=False)
    elif kind == "interactive":
        interactive = body.get("interactive", {})
        check(interactive.get("body", {}).get("text"), BODY_MAX, "interactive body")
        if "header" in interactive:
            check(interactive["header"].get("text"), HEADER_MAX, "header")
        if "footer" in interactive:
            check(interactive["footer"].get("text"), FOOTER_MAX, "footer")
        action = interactive.get("action", {})
        if interactive.get("type") == "button":
            buttons = action.get("buttons", [])
            if not 1 <= len(buttons) <= BUTTONS_MAX:
                problems.append(f"{len(buttons)} buttons")
            for button in buttons:
                check(button.get("reply", {}).get("title"), BUTTON_TITLE_MAX, "button title")
                check(button.get("reply", {}).get("id"), BUTTON_ID_MAX, "button id")
            titles = [b.get("reply", {}).get("title") for b in buttons]
            if len(set(titles)) != len(titles):
                problems.append("button titles not unique")
        elif interactive.get("type") == "list":
            check(action.get("button"), LIST_BUTTON_MAX, "list button")
            sections = action.get("sections", [])
            rows = [row for section in sections for row in section.get("rows", [])]
            if not 1 <= len(sections) <= LIST_SECTIONS_MAX or not 1 <= len(rows) <= LIST_ROWS_MAX:
                problems.append(f"{len(sections)} sections with {len(rows)} rows")
            for section in sections:
                check(section.get("title"), SECTION_TITLE_MAX, "section title", required=len(sections) > 1)
            for row in rows:
                check(row.get("title"), ROW_TITLE_MAX, "row title")
                check(row.get("id"), ROW_ID_MAX, "row id")
                check(row.get("description"), ROW_DESCRIPTION_MAX, "row description", required=False)
            ids = [row.get("id") for row in rows]
            if len(set(ids)) != len(ids):
                problems.append("row ids not unique")
        elif interactive.get("type") != "location_request_message":
            problems.append(f"interactive type {interactive.get('type')!r}")
    elif kind == "template":
        template = body.get("template", {})
        check(template.get("name"), 512, "template name")
        for component in template.get("components", []):
            for parameter in component.get("parameters", []):
                text = parameter.get("text")
                if text is not None and (not text.strip() or "\n" in text or "\t" in text or "     " in text):
                    problems.append("template parameter empty or with new lines, tabs or 5 spaces")
        buttons = [c for c in template.get("components", []) if c.get("type") == "button"]
        if len(buttons) > TEMPLATE_BUTTONS_MAX:
            problems.append("too many template buttons")
    else:
        problems.append(f"message type {kind!r}")
    return problems


@dataclass(frozen=True, slots=True)
class Part:
    """One Cloud API message of a rendered outbound; `file` is uploaded first and its media id filled in."""

    body: dict[str, Any]
    file: OutboundFile | None = None


def render_parts(
    text: str,
    labels: Sequence[tuple[str, str]],
    files: Sequence[OutboundFile],
    catalogue: Catalogue,
    language: str,
    *,
    ask_location: bool = False,
) -> list[Part]:
    """Turn a message (text, (choice id, label) pairs, files) into Cloud API messages within every limit."""
    parts: list[Part] = []
    caption = len(files) == 1 and not labels and not ask_location and 0 < len(text) <= CAPTION_MAX
    for item in files:
        kind = "image" if item.kind is Attachment.PHOTO else "document"
        media: dict[str, Any] = {}
        if caption:
            media["caption"] = text
        if kind == "document":
            media["filename"] = clip(item.filename or PurePosixPath(item.path).name, 240)
        parts.append(Part({"type": kind, kind: media}, item))
    if caption:
        return parts
    if not labels:
        if ask_location and text.strip() and len(text) <= BODY_MAX:
            request = {
                "type": "location_request_message",
                "body": {"text": text},
                "action": {"name": "send_location"},
            }
            return [*parts, Part({"type": "interactive", "interactive": request})]
        return parts + [
            Part({"type": "text", "text": {"body": piece, "preview_url": False}}) for piece in split_text(text)
        ]
    ids = [choice_id for choice_id, _ in labels]
    titles = [label for _, label in labels]
    unique = len(set(ids)) == len(ids)
    as_buttons = (
        unique
        and len(labels) <= BUTTONS_MAX
        and all(0 < len(t) <= BUTTON_TITLE_MAX for t in titles)
        and len(set(titles)) == len(titles)
        and all(len(i) <= BUTTON_ID_MAX for i in ids)
    )
    as_list = (
        not as_buttons
        and unique
        and len(labels) <= LIST_ROWS_MAX
        and all(0 < len(t) <= ROW_DESCRIPTION_MAX for t in titles)
        and all(len(i) <= ROW_ID_MAX for i in ids)
    )
    if not (as_buttons or as_list):
        hint = catalogue.render("channel.whatsapp.menu_hint", language)
        menu = "\n".join(f"{number}. {label}" for number, label in enumerate(titles, 1))
        full = f"{text}\n\n{menu}\n\n{hint}" if text else f"{menu}\n\n{hint}"
        return parts + [
            Part({"type": "text", "text": {"body": piece, "preview_url": False}}) for piece in split_text(full)
        ]
    if text.strip() and len(text) <= BODY_MAX:
        body = text
    else:  # too long for an interactive body, or blank (Meta requires a visible body)
        parts += [Part({"type": "text", "text": {"body": piece, "preview_url": False}}) for piece in split_text(text)]
        body = catalogue.render("channel.whatsapp.choose", language)
    interactive: dict[str, Any]
    if as_buttons:
        buttons = [{"type": "reply", "reply": {"id": i, "title": t}} for i, t in labels]
        interactive = {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}}
    else:
        rows = []
        for choice_id, label in labels:
            row = {"id": choice_id, "title": clip(label, ROW_TITLE_MAX)}
            if len(label) > ROW_TITLE_MAX:
                row["description"] = label  # the full label, at most 72 characters (checked above)
            rows.append(row)
        button = clip(catalogue.render("channel.whatsapp.list_button", language), LIST_BUTTON_MAX)
        interactive = {
            "type": "list",
            "body": {"text": body},
            "action": {"button": button, "sections": [{"rows": rows}]},
        }
    return [*parts, Part({"type": "interactive", "interactive": interactive})]


def render_template(spec: WhatsAppTemplate, message: Outbound, text: str) -> dict[str, Any]:
    """Return the template message for an outbound: body parameters from its params, buttons from its choices."""
    values = [template_text(text if name == "@text" else str(message.params.get(name, ""))) for name in spec.params]
    components: list[dict[str, Any]] = []
    if values:
        parameters = [{"type": "text", "text": value} for value in fit_params(values)]
        components.append({"type": "body", "parameters": parameters})
    for index, choice in enumerate(message.choices[: min(spec.buttons, TEMPLATE_BUTTONS_MAX)]):
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": choice.id}],
            }
        )
    template: dict[str, Any] = {"name": spec.name, "language": {"code": spec.language}}
    if components:
        template["components"] = components
    return {"type": "template", "template": template}


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


@dataclass(slots=True)
class _Parcel:
    """Messages to one chat sent together: plain texts merged into the message after them."""

    ids: list[str]
    message: Outbound
    text: str


@dataclass(frozen=True, slots=True)
class _Failure:
    """Why a parcel was not sent, and what to do about it."""

    verdict: Verdict
    error: str
    wait: timedelta | None = None
    code: int | None = None


@dataclass(slots=True)
class _BatchState:
    throttled: _Failure | None = None  # the number hit its throughput limit: nothing more in this batch
    report: SendReport = field(default_factory=SendReport)


class WhatsAppChannel:
    """The WhatsApp Cloud API as a channel: webhook routes, parser and sender on one httpx client."""

    name: ChannelName = CHANNEL
    sender: Sender
    parser: Parser

    def __init__(
        self,
        *,
        api: GraphApi,
        app_secret: str,
        verify_token: str | None,
        templates: Mapping[str, WhatsAppTemplate],
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        catalogue: Catalogue,
        attachments: AttachmentStore,
        client: httpx.AsyncClient | None = None,
        concurrency: int = 8,
        horizon: timedelta | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        """Wire the channel; `client` is injected by tests, otherwise opened in start().

        `horizon`: messages whose own timestamp is older are refused (acknowledged, not stored): the processed
        ids that stop a replayed delivery are pruned after the message-log period, so a replay after it would
        be processed again.
        """
        self.api = api
        self._secret = app_secret.encode()
        self._verify_token = verify_token
        self.templates = dict(templates)
        self.uow_factory = uow_factory
        self.clock = clock
        self.catalogue = catalogue
        self.attachments = attachments
        self._own_client = client is None
        api.client = client
        self.parallel = asyncio.Semaphore(max(concurrency, 1))  # chats sent to at the same time
        self.bodies = BodyReader()  # webhook bodies read at once, before their signature can be checked
        self.horizon = horizon
        self.metrics = metrics
        self._uploading = asyncio.Lock()
        self._progress: dict[str, tuple[str, int, str]] = {}  # parcel -> (rendering, parts sent, last wamid)
        self._media: dict[str, tuple[str, datetime]] = {}  # attachment path -> (media id, uploaded at)
        # The 24-hour window's bookkeeping: rows parsed side by side share one transaction.
        self._contacts: GroupCommit[tuple[str, datetime], None] = GroupCommit(self._note_contacts)
        # When chats last wrote, for sends side by side (each chat's delivery is its own): one query for all.
        self._windows: GroupCommit[list[str], dict[str, datetime]] = GroupCommit(self._last_contacts)
        self.sender = self
        self.parser = self.parse

    async def start(self) -> None:
        """Open the HTTP client unless one was injected."""
        if self.api.client is None:
            self.api.client = httpx.AsyncClient(timeout=httpx.Timeout(20.0, connect=5.0))
            self._own_client = True

    async def stop(self) -> None:
        """Close the HTTP client if the channel opened it."""
        if self._own_client and self.api.client is not None:
            await self.api.client.aclose()
            self.api.client = None

    # ------------------------------------------------------------------ webhook

    def routes(self, inbox: Acceptor) -> Sequence[BaseRoute]:
        """Return GET /whatsapp (Meta's verification) and POST /whatsapp (signed deliveries)."""

        async def endpoint(request: Request) -> Response:
            """Dispatch GET (verification) and POST (deliveries)."""
            if request.method == "POST":
                return await self._receive(request, inbox)
            return self._verify(request)

        return [Route("/whatsapp", endpoint, methods=["GET", "POST"])]

    def _verify(self, request: Request) -> Response:
        params = request.query_params
        token = params.get("hub.verify_token", "")
        if (
            self._verify_token
            and params.get("hub.mode") == "subscribe"
            and hmac.compare_digest(token.encode(), self._verify_token.encode())
        ):
            return PlainTextResponse(params.get("hub.challenge", ""))
        return PlainTextResponse("forbidden", status_code=403)

    async def _receive(self, request: Request, inbox: Acceptor) -> Response:
        header = request.headers.get("x-hub-signature-256", "")
        if not header.startswith("sha256="):
            return PlainTextResponse("missing signature", status_code=401)
        body = await self.bodies.read(request)
        if isinstance(body, Response):
            return body
        if not signature_ok(self._secret, body, header):
            return PlainTextResponse("bad signature", status_code=401)
        try:
            delivery = load_json(body)
        except ValueError:
            return PlainTextResponse("bad json", status_code=400)
        if not isinstance(delivery, dict) or not isinstance(delivery.get("entry", []), list):
            return PlainTextResponse("bad delivery", status_code=400)
        statuses: list[dict[str, Any]] = []
        accepted: list[Awaitable[bool]] = []
        now = self.clock.now()
        for value in _values(delivery):
            metadata = _dict(value.get("metadata"))
            number = metadata.get("phone_number_id")
            if number is not None and str(number) != self.api.phone_number_id:
                continue  # another number of the same app
            contacts = _items(value.get("contacts"))
            for message in _items(value.get("messages")):
                wamid = _id(message.get("id"), ID_MAX)
                if wamid is not None and self._too_old(message, now):
                    continue  # a 200 all the same: Meta must not retry it
                if wamid is not None:
                    stored = {"message": message, "contacts": contacts, "metadata": metadata}
                    accepted.append(inbox.accept(CHANNEL, wamid, stored))
            statuses += _items(value.get("statuses"))
        await asyncio.gather(*accepted)  # in order, in one group commit rather than one commit each
        if statuses:
            await self.apply_statuses(statuses)
        return PlainTextResponse("ok")

    def _too_old(self, message: Mapping[str, Any], now: datetime) -> bool:
        """Tell whether a message is older than the horizon by its own timestamp (and count it if so)."""
        if self.horizon is None or _timestamp(message.get("timestamp"), now) >= now - self.horizon:
            return False
        log.warning("refused a WhatsApp message older than %d days (a replay?)", self.horizon.days)
        if self.metrics is not None:
            self.metrics.too_old.labels(CHANNEL.value).inc()
        return True

    async def apply_statuses(self, statuses: Sequence[Mapping[str, Any]]) -> None:
        """Record delivery statuses on the outbox rows sent as those wamids; statuses of others are ignored."""
        now = self.clock.now()
        async with self.uow_factory() as uow:
            for status in statuses:
                wamid, state = _id(status.get("id"), ID_MAX), status.get("status")
                if wamid is None or not isinstance(state, str):
                    continue
                entries = await uow.outbox.by_platform_id(CHANNEL, wamid)
                if not entries:
                    continue
                ids = [e.id for e in entries]
                if state in STATUS_RANK:
                    await uow.outbox.set_platform_status(ids, STATUS_RANK[state])
                    continue
                if state != "failed":
                    continue
                errors = _items(status.get("errors"))
                first = errors[0] if errors else {}
                error = _error_from(first, 400, str(first.get("title") or first.get("message") or "delivery failed"))
                verdict, wait = classify(error)
                attempts = max(e.attempts for e in entries)
                if verdict is Verdict.WINDOW:
                    await uow.contacts.forget_contact(CHANNEL, entries[0].recipient)
                if verdict in (Verdict.RETRY, Verdict.WINDOW) and attempts < MAX_ATTEMPTS:
                    await uow.outbox.reopen(ids, error.describe(), now + (wait or backoff(attempts)))
                else:
                    final = OutboxStatus.UNREACHABLE if verdict is Verdict.UNREACHABLE else OutboxStatus.FAILED
                    await uow.outbox.fail_delivery(ids, final, error.describe())
                    log.warning("WhatsApp could not deliver outbox message(s) %s: %s", ids, error.describe())
            await uow.commit()

    # ------------------------------------------------------------------ parser

    async def parse(self, payload: dict[str, Any]) -> Inbound | None:
        """Turn a stored delivery into an Inbound (media as references), or None for what is not a message."""
        message = payload.get("message")
        if not isinstance(message, dict):
            return None
        wamid = _id(message.get("id"), ID_MAX)
        contacts = _items(payload.get("contacts"))
        wa_id = message.get("from")
        contact = next((c for c in contacts if wa_id and c.get("wa_id") == wa_id), contacts[0] if contacts else {})
        chat_id = _user_id(wa_id or message.get("from_user_id") or contact.get("user_id"))
        kind = message.get("type")
        if wamid is None or chat_id is None or kind == "system":
            return None
        now = self.clock.now()
        at = min(_timestamp(message.get("timestamp"), now), now)
        if kind != "reaction":  # to be safe, only a real message counts as opening the 24-hour window
            await self._contacts.add((chat_id, at))
        profile = _dict(contact.get("profile"))
        inbound = Inbound(
            key=ConversationKey(CHANNEL, chat_id),
            external_id=wamid,
            received_at=at,
            sender_id=chat_id,
            sender_name=str(profile.get("name") or "")[:100] or None,
        )
        return await self._content(inbound, message, str(kind))

    async def _note_contacts(self, contacts: list[tuple[str, datetime]]) -> list[None]:
        """Record when chats last wrote, many in one transaction."""
        latest: dict[str, datetime] = {}
        for chat_id, at in contacts:  # one row per chat: a statement may not change a row twice
            latest[chat_id] = max(at, latest.get(chat_id, at))
        async with self.uow_factory() as uow:
            await uow.contacts.note_contacts(CHANNEL, latest)
            await uow.commit()
        return [None] * len(contacts)

    async def _last_contacts(self, chat_lists: list[list[str]]) -> list[dict[str, datetime]]:
        """Return when the chats of many sends last wrote, in one query."""
        async with self.uow_factory() as uow:
            last = await uow.contacts.last_contacts(CHANNEL, {chat for chats in chat_lists for chat in chats})
        return [{chat: last[chat] for chat in chats if chat in last} for chats in chat_lists]

    async def _content(self, inbound: Inbound, message: Mapping[str, Any], kind: str) -> Inbound:
        body = _dict(message.get(kind))
        if kind == "text":
            text = str(body.get("body") or "")
            command = parse_command(text, None)
            if command is not None:
                return _with(inbound, command=command[0], text=command[1] or None)
            return _with(inbound, text=text)
        if kind == "interactive":
            reply = body.get(str(body.get("type")))
            if body.get("type") in ("button_reply", "list_reply") and isinstance(reply, dict) and reply.get("id"):
                return _with(inbound, choice=str(reply["id"]))
            return _with(inbound, unsupported="interactive")
        if kind == "button":  # a quick-reply button of a template
            if body.get("payload"):
                return _with(inbound, choice=str(body["payload"]))
            return _with(inbound, text=str(body.get("text") or ""))
        if kind == "location":
            try:
                point = (float(body["latitude"]), float(body["longitude"]))
            except (KeyError, TypeError, ValueError):
                return _with(inbound, unsupported="location")
            return _with(inbound, location=point)
        if kind in MEDIA_KINDS and body.get("id"):
            media_id = _id(body.get("id"), ID_MAX)
            if media_id is None:
                return _with(inbound, unsupported=f"{kind}_unavailable")
            # Only a reference: the file is downloaded if, and when, a step accepts it (fetch).
            mime = str(body.get("mime_type") or "application/octet-stream").split(";")[0].strip()
            name = body.get("filename")
            item = IncomingFile(MEDIA_KINDS[kind], mime, media_id, name=str(name)[:240] if name else None)
            caption = body.get("caption")
            return _with(inbound, media=(item,), text=str(caption) if caption else None)
        return _with(inbound, unsupported=kind or "unknown")

    async def fetch(self, item: IncomingFile, limit: int) -> bytes:
        """Download a file a step accepted (at most `limit` bytes); MediaRefused if Meta cannot give it."""
        try:
            data, _ = await self.api.download(item.source, limit)
        except GraphError as exc:
            log.warning("WhatsApp media could not be fetched: %s", exc.describe())
            if exc.status == 413:
                raise MediaRefused("media.too_large", max=str(limit // (1024 * 1024))) from None
            raise MediaRefused("media.unavailable") from None
        return data

    # ------------------------------------------------------------------ sender

    async def send(self, messages: Sequence[Outbound], progress: Progress | None = None) -> SendReport:
        """Send messages (each chat's in order, chats side by side) and say what happened to each."""
        state = _BatchState()
        by_chat: dict[str, list[Outbound]] = {}
        for message in messages:
            by_chat.setdefault(message.key.chat_id, []).append(message)
        last = await self._windows.add(list(by_chat))
        now = self.clock.now()
        await asyncio.gather(
            *(
                self._send_chat(chat_id, batch, _open(last.get(chat_id), now), state, progress)
                for chat_id, batch in by_chat.items()
            )
        )
        return state.report

    async def _send_chat(
        self, chat_id: str, messages: list[Outbound], window: bool, state: _BatchState, progress: Progress | None
    ) -> None:
        report = state.report
        blocked: _Failure | None = None
        async with self.parallel:
            for parcel in self._parcels(messages, window):
                if blocked is not None and blocked.verdict is Verdict.RETRY:
                    # Not tried: it waits behind the earlier message in the outbox, which keeps the chat's order.
                    report.deferred.update(dict.fromkeys(parcel.ids, timedelta(0)))
                    continue
                blocked = blocked or state.throttled
                if blocked is not None:  # keep the chat's order: nothing overtakes a message that must wait
                    _record(report, parcel.ids, blocked)
                    continue
                outcome, window = await self._deliver(chat_id, parcel, window)
                if isinstance(outcome, str):
                    sent = SendReport(sent=list(parcel.ids))
                    if outcome:
                        sent.platform_ids.update(dict.fromkeys(parcel.ids, outcome))
                    report.merge(sent)
                    if progress is not None:
                        await progress(sent)
                    continue
                _record(report, parcel.ids, outcome)
                if outcome.verdict in (Verdict.RETRY, Verdict.UNREACHABLE):
                    blocked = outcome
                if outcome.code == THROUGHPUT:
                    state.throttled = outcome

    def _parcels(self, messages: list[Outbound], window: bool) -> list[_Parcel]:
        """Render texts; inside the window, merge a plain text into the next message when it fits."""
        parcels: list[_Parcel] = []
        for message in messages:
            text = self.catalogue.render(message.text_key, message.language, message.params)
            previous = parcels[-1] if parcels else None
            if window and previous is not None and _plain(previous.message):
                limit = BODY_MAX if message.choices or message.ask_location else TEXT_MAX
                merged = f"{previous.text}\n\n{text}"
                if len(merged) <= limit and not message.files:
                    parcels[-1] = _Parcel([*previous.ids, message.id], message, merged)
                    continue
            parcels.append(_Parcel([message.id], message, text))
        return parcels

    async def _deliver(self, chat_id: str, parcel: _Parcel, window: bool) -> tuple[str | _Failure, bool]:
        """Send one parcel; return (wamid or (verdict, error, wait), whether the window is still open)."""
        use_template = not window
        while True:
            if use_template:
                spec = self.templates.get(parcel.message.template or "")
                if spec is None:
                    kind = parcel.message.template or "-"
                    return _Failure(Verdict.FAILED, f"outside the 24-hour window; no template for kind {kind}"), False
                parts = [Part(render_template(spec, parcel.message, parcel.text))]
                rendering = f"template:{spec.name}"
            else:
                labels = [
                    (c.id, self.catalogue.render(c.text_key, parcel.message.language, c.params))
                    for c in parcel.message.choices
                ]
                parts = render_parts(
                    parcel.text,
                    labels,
                    parcel.message.files,
                    self.catalogue,
                    parcel.message.language,
                    ask_location=parcel.message.ask_location,
                )
                rendering = f"free:{len(parts)}"
            try:
                return await self._send_parts(chat_id, "|".join(parcel.ids), parts, rendering), not use_template
            except GraphError as exc:
                verdict, wait = classify(exc)
                if verdict is Verdict.WINDOW and not use_template:
                    log.info("WhatsApp window closed for a chat: sending the template instead")
                    async with self.uow_factory() as uow:
                        await uow.contacts.forget_contact(CHANNEL, chat_id)
                        await uow.commit()
                    use_template = True
                    continue
                if verdict is Verdict.WINDOW:
                    verdict = Verdict.FAILED
                return _Failure(verdict, exc.describe(), wait, exc.code), not use_template

    async def _send_parts(self, chat_id: str, tag: str, parts: list[Part], rendering: str) -> str:
        """Send the parts in order, resuming after those a previous attempt already delivered."""
        done_rendering, done, wamid = self._progress.get(tag, ("", 0, ""))
        start = done if done_rendering == rendering else 0
        for index in range(start, len(parts)):
            part = parts[index]
            body = dict(part.body)
            if part.file is not None:
                kind = body["type"]
                media_id = await self._media_id(part.file)
                if media_id is not None:
                    body[kind] = {**body[kind], "id": media_id}
                elif body[kind].get("caption"):  # the file is gone from the store: keep at least its text
                    body = {"type": "text", "text": {"body": body[kind]["caption"], "preview_url": False}}
                else:
                    continue
            problems = limit_problems(body)
            if problems:  # never leave it to Meta to reject: this is a bug in the rendering
                self._progress.pop(tag, None)
                raise GraphError(None, 400, "over a WhatsApp limit: " + "; ".join(problems))
            recipient = {"recipient": chat_id} if BSUID.match(chat_id) else {"to": chat_id}
            wamid = await self.api.send(
                {"messaging_product": "whatsapp", "recipient_type": "individual", **recipient, **body}
            )
            remember(self._progress, tag, (rendering, index + 1, wamid))
        self._progress.pop(tag, None)
        return wamid

    async def _media_id(self, item: OutboundFile) -> str | None:
        """Upload a stored file (once per 25 days) and return its media id; None if the file is missing."""
        async with self._uploading:  # chats sent to side by side often share a photo: upload it once
            return await self._upload(item)

    async def _upload(self, item: OutboundFile) -> str | None:
        cached = self._media.get(item.path)
        now = self.clock.now()
        if cached is not None and now - cached[1] < MEDIA_ID_TTL:
            return cached[0]
        try:
            path = self.attachments.path_of(item.path)
            data = await asyncio.to_thread(path.read_bytes)
        except (OSError, ValueError):
            log.warning("attachment to send is missing from the store")
            return None
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if item.kind is Attachment.PHOTO and (mime not in IMAGE_MIMES or len(data) > IMAGE_MAX):
            raise GraphError(None, 400, f"photo {mime} of {len(data)} bytes cannot be sent as a WhatsApp image")
        if len(data) > DOCUMENT_MAX:
            raise GraphError(None, 400, f"file of {len(data)} bytes is over the WhatsApp limit")
        media_id = await self.api.upload(data, mime, item.filename or path.name)
        remember(self._media, item.path, (media_id, now))
        return media_id


def whatsapp_channel(app: App, client: httpx.AsyncClient | None = None) -> WhatsAppChannel | None:
    """Build the WhatsApp channel from the settings; None unless the token, number id and app secret are set."""
    settings = app.settings
    token, number, secret = settings.whatsapp_token, settings.whatsapp_phone_number_id, settings.whatsapp_app_secret
    if token is None or not number or secret is None:
        return None
    verify = settings.whatsapp_verify_token
    return WhatsAppChannel(
        api=GraphApi(settings.whatsapp_api_url, settings.whatsapp_api_version, number, token.get_secret_value()),
        app_secret=secret.get_secret_value(),
        verify_token=verify.get_secret_value() if verify is not None else None,
        templates=settings.whatsapp_templates,
        uow_factory=app.uow,
        clock=app.clock,
        catalogue=app.catalogue,
        attachments=app.attachments,
        client=client,
        horizon=timedelta(days=settings.message_log_days),
        metrics=app.metrics,
    )


def _record(report: SendReport, ids: list[str], failure: _Failure) -> None:
    for message_id in ids:
        if failure.verdict is Verdict.RETRY:
            report.retry[message_id] = (failure.error, failure.wait)
        elif failure.verdict is Verdict.UNREACHABLE:
            report.unreachable[message_id] = failure.error
        else:
            report.failed[message_id] = failure.error


def _plain(message: Outbound) -> bool:
    return not (message.choices or message.files or message.ask_location)


def _open(last_inbound: datetime | None, now: datetime) -> bool:
    return last_inbound is not None and now < last_inbound + WINDOW - WINDOW_MARGIN


def _timestamp(value: Any, default: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return default


def _id(value: Any, limit: int) -> str | None:
    """Return an id from a delivery if it is one: printable ASCII the database can hold; None otherwise."""
    ok = isinstance(value, str) and 0 < len(value) <= limit and value.isascii() and value.isprintable()
    return value if ok else None


def _user_id(value: Any) -> str | None:
    """Return a sender id if it is one: a wa_id (digits) or a business-scoped user id, of bounded length."""
    if not isinstance(value, str) or len(value) > CHAT_ID_MAX:
        return None
    return value if WA_ID.fullmatch(value) or BSUID.fullmatch(value) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _values(delivery: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the `value` of every `messages` change in a delivery (one POST may batch several)."""
    values = []
    for entry in _items(delivery.get("entry")):
        for change in _items(entry.get("changes")):
            if change.get("field") == "messages" and isinstance(change.get("value"), dict):
                values.append(change["value"])
    return values


def _with(inbound: Inbound, **changes: Any) -> Inbound:
    return dataclasses.replace(inbound, **changes)
