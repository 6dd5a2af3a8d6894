"""In-memory fake of the WhatsApp Cloud API (Graph API), served over real HTTP for end-to-end tests.

The server runs as an asyncio task (uvicorn + Starlette) on the test's own event loop. It takes the requests
the product makes (``POST /{version}/{phone-number-id}/messages`` and ``/media``, ``GET /{version}/{media-id}``
and the media URL it hands out), checks each one against the shapes and limits documented in docs/platforms.md §2
section 4, and answers like Meta: an error JSON with Meta's code for what breaks a rule, including 131047
when a free-form message is sent outside the 24-hour window of the recipient's last message. It keeps a log
of what each recipient got, can be told to fail the next sends with a given error code, and lets a test act
as a citizen (text, button, list row, image, location, any other type) or as Meta's status callbacks by
POSTing **signed** webhook deliveries to the product's ``/whatsapp``. Status callbacks echo the
``biz_opaque_callback_data`` a message was sent with; with ``statuses=True`` the fake posts each accepted send's
``sent`` status itself, as Meta does.

The fake's rules are written from the documentation, independently of the product's own limit checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fakes.serving import serve_app

JSON = dict[str, Any]

TOKEN = "EAAG-fake-system-user-token"
PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "fake-app-secret"
VERIFY_TOKEN = "fake-verify-token"
VERSION = "v21.0"
WABA_ID = "102290129340398"
DISPLAY_NUMBER = "6281100000000"
WINDOW = timedelta(hours=24)
IMAGE_MIMES = frozenset({"image/jpeg", "image/png"})
DOCUMENT_MIMES = frozenset(
    {
        "application/pdf",
        "text/plain",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
)
UPLOAD_LIMITS = {"image": 5 * 1024 * 1024, "document": 100 * 1024 * 1024}
BSUID = re.compile(r"^[A-Z]{2}\.[0-9A-Za-z]+$")


@dataclass(frozen=True)
class WaUser:
    """A WhatsApp user the test acts as: a wa_id (phone), or only a business-scoped user id."""

    wa_id: str | None
    name: str
    user_id: str | None = None

    @property
    def address(self) -> str:
        """Return the id the business sends to (and the product keys the chat on)."""
        return self.wa_id or self.user_id or ""


@dataclass(frozen=True)
class Template:
    """An approved message template: name, language, body parameter count and quick-reply buttons."""

    name: str
    language: str = "id"
    params: int = 0
    buttons: int = 0


# The templates the README tells an operator to create (see default_whatsapp_templates()).
DEFAULT_TEMPLATES = (
    Template("sw_pembaruan_pengaduan", params=2),
    Template("sw_permintaan_info", params=2, buttons=1),
    Template("sw_pengaduan_baru", params=5, buttons=5),
    Template("sw_kabar_petugas", params=2),
    Template("sw_undangan_survei", params=1, buttons=1),
    Template("sw_ringkasan_mingguan", params=1),
)


@dataclass
class Sent:
    """A message the business sent, as the fake accepted it."""

    wamid: str
    to: str
    body: JSON
    at: datetime

    @property
    def type(self) -> str:
        """Return the message type: text, interactive, image, document, template."""
        return str(self.body["type"])

    @property
    def kind(self) -> str:
        """Return the type, with the interactive sub-type: text, button, list, template, image, ..."""
        if self.type == "interactive":
            return str(self.body["interactive"]["type"])
        return self.type

    @property
    def text(self) -> str:
        """Return the visible text: text body, interactive body, caption, or the template's parameters."""
        body = self.body
        if self.type == "text":
            return str(body["text"]["body"])
        if self.type == "interactive":
            return str(body["interactive"]["body"]["text"])
        if self.type in ("image", "document"):
            return str(body[self.type].get("caption", ""))
        if self.type == "template":
            params = [
                p.get("text", "")
                for c in body["template"].get("components", [])
                if c.get("type") == "body"
                for p in c.get("parameters", [])
            ]
            return " | ".join(params)
        return ""

    @property
    def choices(self) -> list[tuple[str, str]]:
        """Return the (id, title) of the buttons or list rows, or the template's quick-reply payloads."""
        if self.type == "template":
            return [
                (str(c["parameters"][0]["payload"]), "")
                for c in self.body["template"].get("components", [])
                if c.get("type") == "button"
            ]
        if self.type != "interactive":
            return []
        action = self.body["interactive"].get("action", {})
        if self.kind == "button":
            return [(b["reply"]["id"], b["reply"]["title"]) for b in action["buttons"]]
        if self.kind == "list":
            return [(r["id"], r["title"]) for s in action["sections"] for r in s["rows"]]
        return []


@dataclass
class Delivery:
    """A webhook delivery the fake posted: its exact bytes, the product's answer and the message's wamid."""

    body: bytes
    status: int
    wamid: str = ""


@dataclass
class _Fault:
    code: int
    remaining: int
    recipient: str | None
    http_status: int
    skip: int = 0


@dataclass
class _Media:
    data: bytes
    mime: str
    filename: str | None = None


class MetaError(Exception):
    """An error answer of the Graph API, in Meta's JSON shape."""

    TITLES = {  # noqa: RUF012
        100: "Invalid parameter",
        131008: "Required parameter is missing",
        131009: "Parameter value is not valid",
        131026: "Message undeliverable",
        131047: "Re-engagement message",
        131048: "Spam rate limit hit",
        131053: "Media upload error",
        131056: "(Business Account, Consumer Account) pair rate limit hit",
        130429: "Rate limit hit",
        131000: "Something went wrong",
        132000: "Number of parameters does not match the expected number of params",
        132001: "Template name does not exist in the translation",
        132018: "There was an issue with the parameters in your template.",
        190: "Invalid OAuth access token",
    }

    def __init__(self, code: int, details: str = "", http_status: int = 400) -> None:
        """Build the error with Meta's title for the code."""
        super().__init__(f"{code} {details}")
        self.code, self.details, self.http_status = code, details, http_status

    def to_json(self) -> JSON:
        """Return Meta's error body."""
        title = self.TITLES.get(self.code, "Error")
        return {
            "error": {
                "message": f"(#{self.code}) {title}",
                "type": "OAuthException",
                "code": self.code,
                "error_data": {"messaging_product": "whatsapp", "details": self.details or title},
                "fbtrace_id": "AbCdEfGhIjKlMnOpQrStUv",
            }
        }


def _text(value: Any, limit: int, what: str, *, required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value.strip()):
        raise MetaError(131008, f"{what} is required")
    if len(value) > limit:
        raise MetaError(131009, f"{what} is longer than {limit} characters")


def check_message(body: JSON, templates: dict[str, Template]) -> str:
    """Check a send request against the documented shapes and limits; return the recipient or raise MetaError."""
    if body.get("messaging_product") != "whatsapp":
        raise MetaError(100, "The parameter messaging_product is required")
    if body.get("recipient_type", "individual") != "individual":
        raise MetaError(100, "recipient_type must be individual")
    to, bsuid = body.get("to"), body.get("recipient")
    if (to is None) == (bsuid is None):
        raise MetaError(100, "exactly one of to and recipient is required")
    if to is not None and not (isinstance(to, str) and re.fullmatch(r"\+?[0-9]{6,20}", to)):
        raise MetaError(100, "to is not a phone number")
    if bsuid is not None and not (isinstance(bsuid, str) and BSUID.match(bsuid)):
        raise MetaError(100, "recipient is not a business-scoped user id")
    callback = body.get("biz_opaque_callback_data")
    if callback is not None and not (isinstance(callback, str) and len(callback) <= 512):
        raise MetaError(100, "biz_opaque_callback_data must be a string of at most 512 characters")
    kind = body.get("type")
    if kind == "text":
        text = body.get("text")
        if not isinstance(text, dict):
            raise MetaError(131008, "text is required")
        _text(text.get("body"), 4096, "text.body")
        if not isinstance(text.get("preview_url", False), bool):
            raise MetaError(131009, "preview_url must be a boolean")
    elif kind in ("image", "document"):
        media = body.get(kind)
        if not isinstance(media, dict) or (("id" in media) == ("link" in media)):
            raise MetaError(131008, f"{kind} needs exactly one of id and link")
        _text(media.get("caption"), 1024, f"{kind}.caption", required=False)
        if kind == "document":
            _text(media.get("filename"), 240, "document.filename", required=False)
    elif kind == "interactive":
        _check_interactive(body.get("interactive"))
    elif kind == "template":
        _check_template(body.get("template"), templates)
    else:
        raise MetaError(100, f"message type {kind!r} is not supported here")
    return str(to or bsuid)


def _check_interactive(interactive: Any) -> None:
    if not isinstance(interactive, dict):
        raise MetaError(131008, "interactive is required")
    body = interactive.get("body")
    _text(body.get("text") if isinstance(body, dict) else None, 1024, "interactive.body.text")
    for part in ("header", "footer"):
        if part in interactive:
            item = interactive[part]
            if part == "header" and (not isinstance(item, dict) or item.get("type") != "text"):
                raise MetaError(131009, "a list or button header must be text")
            _text(item.get("text") if isinstance(item, dict) else None, 60, f"{part}.text")
    action = interactive.get("action")
    if not isinstance(action, dict):
        raise MetaError(131008, "interactive.action is required")
    kind = interactive.get("type")
    if kind == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise MetaError(131009, "buttons must have 1 to 3 items")
        titles, ids = [], []
        for button in buttons:
            reply = button.get("reply") if isinstance(button, dict) else None
            if button.get("type") != "reply" or not isinstance(reply, dict):
                raise MetaError(131009, "a button must be a reply button")
            _text(reply.get("title"), 20, "button title")
            _text(reply.get("id"), 256, "button id")
            titles.append(reply["title"])
            ids.append(reply["id"])
        if len(set(titles)) != len(titles) or len(set(ids)) != len(ids):
            raise MetaError(131009, "button titles and ids must be unique")
    elif kind == "list":
        _text(action.get("button"), 20, "action.button")
        sections = action.get("sections")
        if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
            raise MetaError(131009, "sections must have 1 to 10 items")
        row_ids: list[str] = []
        for section in sections:
            _text(section.get("title"), 24, "section title", required=len(sections) > 1)
            rows = section.get("rows")
            if not isinstance(rows, list) or not rows:
                raise MetaError(131009, "a section needs rows")
            for row in rows:
                _text(row.get("id"), 200, "row id")
                _text(row.get("title"), 24, "row title")
                _text(row.get("description"), 72, "row description", required=False)
                row_ids.append(row["id"])
        if not 1 <= len(row_ids) <= 10:
            raise MetaError(131009, "a list has at most 10 rows in total")
        if len(set(row_ids)) != len(row_ids):
            raise MetaError(131009, "row ids must be unique")
    elif kind == "location_request_message":
        if action.get("name") != "send_location":
            raise MetaError(131009, "action.name must be send_location")
    else:
        raise MetaError(131009, f"interactive type {kind!r} is not supported")


def _check_template(template: Any, templates: dict[str, Template]) -> None:
    if not isinstance(template, dict):
        raise MetaError(131008, "template is required")
    known = templates.get(str(template.get("name")))
    language = template.get("language")
    if known is None or not isinstance(language, dict) or language.get("code") != known.language:
        raise MetaError(132001, f"template {template.get('name')!r} in {language!r} does not exist or is not approved")
    components = template.get("components", [])
    body = [c for c in components if c.get("type") in ("body", "BODY")]
    parameters = body[0].get("parameters", []) if body else []
    if len(parameters) != known.params:
        raise MetaError(132000, f"expected {known.params} body parameters, got {len(parameters)}")
    for parameter in parameters:
        text = parameter.get("text")
        if parameter.get("type") != "text" or not isinstance(text, str) or not text.strip():
            raise MetaError(132018, "a body parameter must be non-empty text")
        if "\n" in text or "\t" in text or "     " in text:
            raise MetaError(132018, "Param text cannot have new-line/tab characters or more than 4 consecutive spaces")
    total = sum(len(p["text"]) for p in parameters)
    if total > 1024:
        raise MetaError(132018, "the body would be longer than 1024 characters")
    indexes = set()
    for component in components:
        if component.get("type") not in ("button", "BUTTON"):
            continue
        index = component.get("index")
        if component.get("sub_type") != "quick_reply" or not str(index).isdigit() or int(index) >= known.buttons:
            raise MetaError(131009, f"template {known.name} has no quick-reply button {index!r}")
        payload = component.get("parameters", [{}])[0]
        if payload.get("type") != "payload" or not isinstance(payload.get("payload"), str):
            raise MetaError(131009, "a quick-reply button parameter is a payload")
        indexes.add(index)
    if len(indexes) != len([c for c in components if c.get("type") in ("button", "BUTTON")]):
        raise MetaError(131009, "a button index is repeated")


def _multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, _Media]]:
    """Parse a multipart/form-data body into (fields, files)."""
    match = re.search(r"boundary=(?:\"([^\"]+)\"|([^;]+))", content_type)
    if match is None:
        raise MetaError(100, "multipart/form-data body expected")
    boundary = ("--" + (match.group(1) or match.group(2)).strip()).encode()
    fields: dict[str, str] = {}
    files: dict[str, _Media] = {}
    for chunk in body.split(boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.strip(b"\r\n").partition(b"\r\n\r\n")
        headers = head.decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', headers)
        filename = re.search(r'\bfilename="([^"]*)"', headers)
        ctype = re.search(r"(?im)^content-type:\s*([^\r\n;]+)", headers)
        if name is None:
            continue
        if filename is None:
            fields[name.group(1)] = content.decode("utf-8")
        else:
            files[name.group(1)] = _Media(content, ctype.group(1).strip() if ctype else "", filename.group(1))
    return fields, files


class FakeGraphApi:
    """The WhatsApp Cloud API for tests: ``async with FakeGraphApi(clock=...) as api: ... api.root_url``."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        token: str = TOKEN,
        phone_number_id: str = PHONE_NUMBER_ID,
        app_secret: str = APP_SECRET,
        version: str = VERSION,
        templates: Iterable[Template] = DEFAULT_TEMPLATES,
        enforce_window: bool = True,
        statuses: bool = False,
    ) -> None:
        """Configure the fake; nothing listens until the async context is entered.

        `statuses`: after each accepted send, POST Meta's `sent` status webhook for it (echoing the send's
        `biz_opaque_callback_data`) to `webhook_url`, as Meta does.
        """
        self.clock = clock
        self.token, self.phone_number_id, self.app_secret, self.version = token, phone_number_id, app_secret, version
        self.templates = {t.name: t for t in templates}
        self.enforce_window = enforce_window
        self.statuses = statuses
        self.root_url = ""
        self.webhook_url: str | None = None
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self.refused: list[MetaError] = []  # every error answered, injected or earned
        self.sent: dict[str, list[Sent]] = defaultdict(list)  # per recipient, in order
        self.media: dict[str, _Media] = {}  # incoming media and uploads, by media id
        self.uploads: list[str] = []  # ids of media the business uploaded
        self.last_inbound: dict[str, datetime] = {}  # the fake's own view of each user's 24-hour window
        self._faults: list[_Fault] = []
        self._lost_answers = 0  # accepted sends whose answer is lost on the way back (a 500 instead)
        self.callbacks: dict[str, str] = {}  # wamid -> the biz_opaque_callback_data it was sent with
        self._webhooks: set[asyncio.Task[Any]] = set()  # status webhooks being posted
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._stack = contextlib.AsyncExitStack()
        self._http: httpx.AsyncClient | None = None

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeGraphApi:
        """Start serving."""
        app = Starlette(
            routes=[
                Route("/download/{media_id}", self._download, methods=["GET"]),
                Route("/{version}/{number}/messages", self._messages, methods=["POST"]),
                Route("/{version}/{number}/media", self._upload, methods=["POST"]),
                Route("/{version}/{media_id}", self._media_info, methods=["GET"]),
            ]
        )
        self.root_url = await self._stack.enter_async_context(serve_app(app))
        self._http = await self._stack.enter_async_context(httpx.AsyncClient(timeout=10))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop serving."""
        for task in list(self._webhooks):
            task.cancel()
        await asyncio.gather(*self._webhooks, return_exceptions=True)
        await self._stack.aclose()

    # ------------------------------------------------------------------ the API

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {self.token}"

    def _refuse(self, error: MetaError) -> Response:
        self.refused.append(error)
        return JSONResponse(error.to_json(), status_code=error.http_status)

    def _guard(self, request: Request) -> MetaError | None:
        self.requests.append((request.method, request.url.path))
        if not self._authorised(request):
            return MetaError(190, "Malformed access token", http_status=401)
        if request.path_params.get("version") != self.version:
            return MetaError(100, f"unknown version {request.path_params.get('version')}")
        number = request.path_params.get("number")
        if number is not None and number != self.phone_number_id:
            return MetaError(100, f"Object with ID '{number}' does not exist")
        return None

    async def _messages(self, request: Request) -> Response:
        error = self._guard(request)
        if error is not None:
            return self._refuse(error)
        try:
            body = json.loads(await request.body())
            if not isinstance(body, dict):
                raise ValueError(body)
        except ValueError:
            return self._refuse(MetaError(100, "the body is not a JSON object"))
        try:
            to = check_message(body, self.templates)
            fault = self._fault_for(to)
            if fault is not None:
                raise fault
            for kind in ("image", "document"):
                media_id = body.get(kind, {}).get("id") if body.get("type") == kind else None
                if media_id is not None and media_id not in self.media:
                    raise MetaError(131053, f"media {media_id} was not uploaded")
            if self.enforce_window and body["type"] != "template" and not self.window_open(to):
                raise MetaError(131047, "more than 24 hours have passed since the customer last replied")
        except MetaError as exc:
            return self._refuse(exc)
        wamid = f"wamid.HBgM{next(self._ids):012d}"
        async with self._changed:
            self.sent[to].append(Sent(wamid, to, body, self.clock()))
            self._changed.notify_all()
        if isinstance(body.get("biz_opaque_callback_data"), str):
            self.callbacks[wamid] = body["biz_opaque_callback_data"]
        if self.statuses and self.webhook_url is not None:
            task = asyncio.create_task(self._post_sent_status(wamid, to))
            self._webhooks.add(task)
            task.add_done_callback(self._webhooks.discard)
        if self._lost_answers > 0:
            self._lost_answers -= 1
            return JSONResponse(MetaError(131000, "answer lost after the send was accepted").to_json(), 500)
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid}],
            }
        )

    def _fault_for(self, recipient: str) -> MetaError | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.recipient in (None, recipient):
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.remaining -= 1
                return MetaError(fault.code, "injected by the test", fault.http_status)
        return None

    async def _upload(self, request: Request) -> Response:
        error = self._guard(request)
        if error is not None:
            return self._refuse(error)
        try:
            fields, files = _multipart(await request.body(), request.headers.get("content-type", ""))
            if fields.get("messaging_product") != "whatsapp":
                raise MetaError(100, "messaging_product is required")
            item = files.get("file")
            if item is None:
                raise MetaError(131008, "file is required")
            mime = fields.get("type") or item.mime
            family = "image" if mime in IMAGE_MIMES else "document" if mime in DOCUMENT_MIMES else None
            if family is None:
                raise MetaError(131053, f"unsupported media type {mime}")
            if len(item.data) > UPLOAD_LIMITS[family]:
                raise MetaError(131053, f"{family} over {UPLOAD_LIMITS[family]} bytes")
        except MetaError as exc:
            return self._refuse(exc)
        media_id = f"{next(self._ids) + 900_000_000}"
        self.media[media_id] = _Media(item.data, mime, item.filename)
        self.uploads.append(media_id)
        return JSONResponse({"id": media_id})

    async def _media_info(self, request: Request) -> Response:
        error = self._guard(request)
        if error is not None:
            return self._refuse(error)
        media_id = request.path_params["media_id"]
        item = self.media.get(media_id)
        if item is None:
            return self._refuse(MetaError(100, f"Unsupported get request. Object with ID '{media_id}' does not exist"))
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.root_url}/download/{media_id}?ext=1&hash=x",
                "mime_type": item.mime,
                "sha256": hashlib.sha256(item.data).hexdigest(),
                "file_size": len(item.data),
                "id": media_id,
            }
        )

    async def _download(self, request: Request) -> Response:
        self.requests.append((request.method, request.url.path))
        if not self._authorised(request):
            return Response(status_code=401)  # the media host answers without a JSON body
        item = self.media.get(request.path_params["media_id"])
        if item is None:
            return Response(status_code=404)
        return Response(item.data, media_type=item.mime)

    # ------------------------------------------------------------------ test controls

    def window_open(self, recipient: str) -> bool:
        """Tell whether the recipient wrote within the last 24 hours (by the test clock)."""
        last = self.last_inbound.get(recipient)
        return last is not None and self.clock() < last + WINDOW

    def lose_next_answers(self, times: int = 1) -> None:
        """Accept the next `times` sends, but answer each with a 500 (as when the answer is lost on the way back)."""
        self._lost_answers += times

    async def statuses_posted(self) -> None:
        """Wait until the status webhooks of the sends so far were posted (and answered)."""
        await asyncio.gather(*self._webhooks)

    async def _post_sent_status(self, wamid: str, to: str) -> None:
        with contextlib.suppress(httpx.HTTPError):  # the product is down: Meta would retry, this fake does not
            await self.post_status(wamid, "sent", to)

    def fail_next(
        self, code: int, *, times: int = 1, recipient: str | None = None, http_status: int = 400, skip: int = 0
    ) -> None:
        """Answer the next `times` sends (to `recipient`, or to anyone; after `skip` good ones) with error `code`."""
        self._faults.append(_Fault(code, times, recipient, http_status, skip))

    def add_media(self, data: bytes, mime: str) -> str:
        """Make a file downloadable as incoming media and return its media id."""
        media_id = f"{next(self._ids) + 800_000_000}"
        self.media[media_id] = _Media(data, mime)
        return media_id

    def to(self, user: WaUser) -> list[Sent]:
        """Return what a user received, in order."""
        return list(self.sent.get(user.address, []))

    async def wait_for(self, user: WaUser, count: int, within: float = 5.0) -> list[Sent]:
        """Wait until a user received at least `count` messages in all (at most `within` seconds); return them."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(self.sent.get(user.address, [])) >= count)
        return self.to(user)

    # ------------------------------------------------------------------ webhook deliveries

    def sign(self, body: bytes, secret: str | None = None) -> str:
        """Return the X-Hub-Signature-256 header Meta would send for these bytes."""
        key = (secret if secret is not None else self.app_secret).encode()
        return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    def envelope(self, value: JSON) -> JSON:
        """Wrap a change value in Meta's webhook envelope."""
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": self.phone_number_id},
            **value,
        }
        return {
            "object": "whatsapp_business_account",
            "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": value}]}],
        }

    async def post(self, body: bytes, signature: str | None = "sign") -> httpx.Response:
        """POST raw bytes to the product's webhook, signed correctly unless told otherwise."""
        if self._http is None or self.webhook_url is None:
            raise RuntimeError("set api.webhook_url and enter the fake first")
        headers = {"content-type": "application/json"}
        if signature == "sign":
            headers["x-hub-signature-256"] = self.sign(body)
        elif signature is not None:
            headers["x-hub-signature-256"] = signature
        return await self._http.post(self.webhook_url, content=body, headers=headers)

    async def replay(self, delivery: Delivery) -> Delivery:
        """Deliver the same bytes again, as Meta does when it did not see a 200 in time."""
        response = await self.post(delivery.body)
        return Delivery(delivery.body, response.status_code, delivery.wamid)

    async def user_sends(self, user: WaUser, kind: str, content: JSON, *, context: str | None = None) -> Delivery:
        """Deliver a message of any type from a user (the content goes under the type's key)."""
        now = self.clock()
        wamid = f"wamid.IN{next(self._ids):012d}"
        message: JSON = {"id": wamid, "timestamp": str(int(now.timestamp())), "type": kind, kind: content}
        contact: JSON = {"profile": {"name": user.name}}
        if user.wa_id is not None:
            message["from"] = user.wa_id
            contact["wa_id"] = user.wa_id
        if user.user_id is not None:
            message["from_user_id"] = user.user_id
            contact["user_id"] = user.user_id
        if context is not None:
            message["context"] = {"from": DISPLAY_NUMBER, "id": context}
        if kind != "reaction":
            self.last_inbound[user.address] = now
        body = json.dumps(self.envelope({"contacts": [contact], "messages": [message]})).encode()
        response = await self.post(body)
        return Delivery(body, response.status_code, wamid)

    async def user_sends_text(self, user: WaUser, text: str) -> Delivery:
        """Deliver a text message from a user."""
        return await self.user_sends(user, "text", {"body": text})

    async def user_taps_button(self, user: WaUser, sent: Sent, title: str) -> Delivery:
        """Tap the reply button titled `title` of a message the user got."""
        ids = [i for i, t in sent.choices if t == title]
        if sent.kind != "button" or not ids:
            raise AssertionError(f"no button {title!r} in {sent.choices}")
        content = {"type": "button_reply", "button_reply": {"id": ids[0], "title": title}}
        return await self.user_sends(user, "interactive", content, context=sent.wamid)

    async def user_picks_row(self, user: WaUser, sent: Sent, title: str) -> Delivery:
        """Pick the list row titled `title` of a list message the user got."""
        ids = [i for i, t in sent.choices if t == title]
        if sent.kind != "list" or not ids:
            raise AssertionError(f"no row {title!r} in {sent.choices}")
        content = {"type": "list_reply", "list_reply": {"id": ids[0], "title": title}}
        return await self.user_sends(user, "interactive", content, context=sent.wamid)

    async def user_taps_template_button(self, user: WaUser, sent: Sent, index: int, text: str) -> Delivery:
        """Tap quick-reply button `index` of a template the user got (Meta sends type "button")."""
        payload = sent.choices[index][0]
        return await self.user_sends(user, "button", {"payload": payload, "text": text}, context=sent.wamid)

    async def user_sends_image(
        self, user: WaUser, data: bytes, mime: str = "image/jpeg", caption: str | None = None
    ) -> Delivery:
        """Deliver a photo from a user (downloadable from the fake through the media endpoint)."""
        media_id = self.add_media(data, mime)
        content: JSON = {"id": media_id, "mime_type": mime, "sha256": hashlib.sha256(data).hexdigest()}
        if caption is not None:
            content["caption"] = caption
        return await self.user_sends(user, "image", content)

    async def user_sends_location(
        self, user: WaUser, latitude: float, longitude: float, name: str | None = None
    ) -> Delivery:
        """Deliver a shared location (a picked place when `name` is given)."""
        content: JSON = {"latitude": latitude, "longitude": longitude}
        if name is not None:
            content.update(name=name, address=f"{name}, Padang")
        return await self.user_sends(user, "location", content)

    async def post_status(
        self,
        wamid: str,
        status: str,
        recipient: WaUser | str,
        *,
        error_code: int | None = None,
        callback: Any = None,
    ) -> httpx.Response:
        """Deliver Meta's status callback (sent, delivered, read, failed with an error code) for a message.

        It echoes the `biz_opaque_callback_data` the message was sent with, as Meta does; `callback` puts another
        value there instead (any JSON value, for tests of garbled data).
        """
        to = recipient.address if isinstance(recipient, WaUser) else recipient
        item: JSON = {
            "id": wamid,
            "status": status,
            "timestamp": str(int(self.clock().timestamp())),
            "recipient_id": to,
        }
        echo = callback if callback is not None else self.callbacks.get(wamid)
        if echo is not None:
            item["biz_opaque_callback_data"] = echo
        if status != "failed":
            item["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"}
        if error_code is not None:
            title = MetaError.TITLES.get(error_code, "Error")
            item["errors"] = [{"code": error_code, "title": title, "message": title, "error_data": {"details": title}}]
        body = json.dumps(self.envelope({"statuses": [item], "contacts": [{"wa_id": to}]})).encode()
        return await self.post(body)


@dataclass
class Inspect:
    """Small helpers over what users received, for readable assertions."""

    api: FakeGraphApi
    seen: dict[str, int] = field(default_factory=dict)

    def new(self, user: WaUser) -> list[Sent]:
        """Return the messages a user got since the last call for that user."""
        got = self.api.to(user)
        start = self.seen.get(user.address, 0)
        self.seen[user.address] = len(got)
        return got[start:]
