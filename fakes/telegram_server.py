"""In-memory fake of the Telegram Bot API, served over real HTTP for end-to-end tests.

The server runs as asyncio tasks (uvicorn + Starlette) on the test's own event loop, so simulated
user actions (``api.user_sends_text`` ...) are plain synchronous calls that wake long-polling
``getUpdates`` requests at once.  Parameters are validated against ``botapi_spec.json``, which
``derive_botapi_spec.py`` regenerates from the public Bot API spec.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from fakes.serving import serve_app

JSON = dict[str, Any]

SPEC: JSON = json.loads(Path(__file__).with_name("botapi_spec.json").read_text(encoding="utf-8"))
DEFAULT_TOKEN = "123456789:AAFakeTokenForSuaraWargaTests_0123456"
TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
TEXT_LIMIT, CAPTION_LIMIT = 4096, 1024
PRIVATE_BURST = 5.0  # messages a private chat may get at once before the 1 msg/s rate applies
GLOBAL_PER_SECOND, GROUP_PER_MINUTE = 30, 20
CHAT_ACTIONS = frozenset(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "  # noqa: SIM905
    "choose_sticker find_location record_video_note upload_video_note".split()
)
HTML_TAGS = frozenset(
    "b strong i em u ins s strike del span tg-spoiler a tg-emoji tg-time code pre blockquote".split()  # noqa: SIM905
)
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(\s[^<>]*)?>")
_ENTITY_RE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot);")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}
_BLOCKED = "Forbidden: bot was blocked by the user"
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


def _without_none(data: JSON) -> JSON:
    return {key: value for key, value in data.items() if value is not None}


@dataclass(frozen=True)
class User:
    """A Telegram user the test acts as."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_json(self) -> JSON:
        """Return the Bot API ``User`` object."""
        return _without_none(asdict(self))


@dataclass(frozen=True)
class Chat:
    """A chat: private chats share the user's id, group chats have negative ids."""

    id: int
    type: str = "private"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None

    @classmethod
    def private(cls, user: User) -> Chat:
        """Return the private chat between ``user`` and the bot."""
        return cls(user.id, "private", username=user.username, first_name=user.first_name)

    @classmethod
    def group(cls, chat_id: int, title: str, *, supergroup: bool = False) -> Chat:
        """Return a group (or supergroup) chat; ``chat_id`` must be negative."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        return cls(chat_id, "supergroup" if supergroup else "group", title=title)

    def to_json(self) -> JSON:
        """Return the Bot API ``Chat`` object."""
        return _without_none(asdict(self))


@dataclass
class Upload:
    """A file part received in a multipart/form-data request."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class StoredFile:
    """A file the fake knows, downloadable through getFile and the file URL."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str | None = None
    file_name: str | None = None

    def to_json(self) -> JSON:
        """Return the common part of the Bot API file objects."""
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": len(self.data)}


@dataclass
class Webhook:
    """The currently configured webhook and its delivery state."""

    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class _Fault:
    method: str
    remaining: int
    error: ApiError


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        """Build the error; ``retry_after`` adds ``parameters.retry_after`` (429 answers)."""
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    def to_json(self) -> JSON:
        """Return the Telegram error body."""
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _reply_snapshot(message: JSON | None) -> JSON | None:
    """Copy a replied-to message the way Telegram embeds it (without its own reply_to_message)."""
    if message is None:
        return None
    return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


# --------------------------------------------------------------------------- validation


class _Mismatch(Exception):
    """A value does not have the spec type being tried."""


_NO_MATCH: Any = object()


def _check(value: Any, type_name: str, *, lenient: bool) -> Any:
    """Return ``value`` converted to ``type_name`` or raise ``_Mismatch``.

    ``lenient`` is for top-level parameters, which arrive as strings in query strings and forms
    (objects and arrays as JSON text); values inside JSON objects must have their exact JSON type.
    """
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "Integer":
        if lenient and isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif type_name == "Float":
        if lenient and isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d*)?([eE][-+]?\d+)?\s*", value):
            return float(value)
        if is_number:
            return float(value)
    elif type_name == "String":
        if isinstance(value, str) or (lenient and is_number):
            return str(value)
    elif type_name in ("Boolean", "True"):
        if lenient and isinstance(value, str) and value.lower() in _BOOLEANS:
            return _BOOLEANS[value.lower()]
        if isinstance(value, bool):
            return value
    elif type_name != "InputFile":
        if lenient and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise _Mismatch from exc
        if type_name.startswith("Array of ") and isinstance(value, list):
            return [_check(item, type_name.removeprefix("Array of "), lenient=False) for item in value]
        if not type_name.startswith("Array of ") and isinstance(value, dict):
            return _check_object(value, type_name)
    raise _Mismatch


def _check_object(value: JSON, type_name: str) -> JSON:
    """Validate an object of a type in the spec table; types outside the table pass as-is."""
    fields = SPEC["types"].get(type_name, {}).get("fields")
    if fields is None:
        return value
    if any(required and name not in value for name, _, required in fields):
        raise _Mismatch  # lets a union such as reply_markup try its next type
    checked = dict(value)
    for name, types, _ in fields:
        if name in value:
            checked[name] = _first_match(value[name], types, lenient=False)
            if checked[name] is _NO_MATCH:
                raise _bad(f'can\'t parse {type_name}: field "{name}" must be of type {" or ".join(types)}')
    _extra_rules(type_name, checked)
    return checked


def _first_match(value: Any, types: list[str], *, lenient: bool) -> Any:
    """Return ``value`` converted to the first type of ``types`` it fits, else ``_NO_MATCH``."""
    for type_name in types:
        with contextlib.suppress(_Mismatch):
            return _check(value, type_name, lenient=lenient)
    return _NO_MATCH


def _extra_rules(type_name: str, obj: JSON) -> None:
    """Apply the value rules the spec states in prose for the types the fake checks."""
    if type_name == "InlineKeyboardButton":
        data = obj.get("callback_data")
        if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
            raise _bad("BUTTON_DATA_INVALID")
        if not set(obj) - {"text", "icon_custom_emoji_id", "style"}:
            raise _bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    elif type_name == "BotCommand":
        if not re.fullmatch(r"[a-z0-9_]{1,32}", obj["command"]):
            raise _bad("BOT_COMMAND_INVALID")
        if not 1 <= len(obj["description"]) <= 256:
            raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")


def validate_params(method: str, raw: JSON, uploads: dict[str, Upload]) -> JSON:
    """Check ``raw`` against the spec of ``method``; return converted values, unknown keys dropped."""
    params: JSON = {}
    for name, types, required in SPEC["methods"][method]:
        value = raw.get(name)
        if value is None and "InputFile" in types:
            value = uploads.get(name)
        if isinstance(value, str) and value.startswith("attach://") and "InputFile" in types:
            value = uploads.get(value.removeprefix("attach://"))
        if value is None:
            if not required:
                continue
            if name == "text":
                raise _bad("message text is empty")
            raise _bad(f"there is no {name} in the request" if "InputFile" in types else f"{name} is empty")
        if isinstance(value, Upload):
            params[name] = value
            continue
        params[name] = _first_match(value, types, lenient=True)
        if params[name] is _NO_MATCH:
            if name == "reply_markup":
                raise _bad("can't parse reply keyboard markup JSON object")
            raise _bad(f'parameter "{name}" must be of type {" or ".join(types)}')
    return params


def html_to_text(source: str) -> str:
    """Return the visible text of Telegram-HTML ``source`` or raise 400 "can't parse entities"."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    while pos < len(source):
        offset = f"at byte offset {len(source[:pos].encode('utf-8'))}" if source[pos] in "<&" else ""
        tag = _TAG_RE.match(source, pos) if source[pos] == "<" else None
        entity = _ENTITY_RE.match(source, pos) if source[pos] == "&" else None
        if source[pos] == "<" and tag is None:
            raise _bad(f"can't parse entities: Unexpected character '<' {offset}")
        if tag is not None:
            name = tag.group(2).lower()
            if name not in HTML_TAGS:
                raise _bad(f'can\'t parse entities: Unsupported start tag "{name}" {offset}')
            if tag.group(1) != "/":
                stack.append(name)
            elif not stack or stack[-1] != name:
                expected = f'expected "</{stack[-1]}>", ' if stack else ""
                reason = f"Unmatched end tag {offset}, {expected}found </{name}>"
                raise _bad(f"can't parse entities: {reason}")
            else:
                stack.pop()
            pos = tag.end()
        elif entity is not None:
            ref = entity.group(1)
            if ref.startswith("#"):
                out.append(chr(int(ref[2:], 16) if ref.startswith("#x") else int(ref[1:])))
            else:
                out.append(_NAMED_ENTITIES[ref])
            pos = entity.end()
        else:
            out.append(source[pos])
            pos += 1
    if stack:
        raise _bad(f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\"")
    return "".join(out)


def visible_text(text: str, parse_mode: str | None, *, caption: bool = False) -> str:
    """Apply ``parse_mode`` and Telegram's length rules to a message text or caption."""
    mode = (parse_mode or "").lower()
    if mode not in ("", "html", "markdown", "markdownv2"):
        raise _bad("unsupported parse_mode")
    # Markdown is not parsed by the fake: its length is counted on the raw text.
    plain = html_to_text(text) if mode == "html" else text
    if caption and len(plain) > CAPTION_LIMIT:
        raise _bad("message caption is too long")
    if not caption and not plain.strip():
        raise _bad("message text is empty")
    if not caption and len(plain) > TEXT_LIMIT:
        raise _bad("message is too long")
    return plain.strip()


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, Upload]]:
    """Split a multipart/form-data body into text fields and file parts."""
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if boundary is None:
        raise _bad("multipart boundary is missing")
    fields: dict[str, str] = {}
    uploads: dict[str, Upload] = {}
    for part in body.split(b"--" + boundary.group(1).encode("latin-1"))[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        headers = head.decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', headers)
        filename = re.search(r'\bfilename="([^"]*)"', headers)
        ctype = re.search(r"(?im)^content-type:\s*(\S+)", headers)
        if name is not None and filename is None:
            fields[name.group(1)] = content.decode("utf-8")
        elif name is not None and filename is not None:
            uploads[name.group(1)] = Upload(filename.group(1), ctype.group(1) if ctype else None, content)
    return fields, uploads


# --------------------------------------------------------------------------- HTTP serving


# --------------------------------------------------------------------------- the fake


class FakeBotApi:
    """In-memory Telegram Bot API for tests: ``async with FakeBotApi() as api: ... api.root_url``."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "suarawarga_test_bot",
        bot_first_name: str = "SuaraWarga Test",
        enforce_limits: bool = False,
        webhook_retry_delay: float = 0.05,
    ) -> None:
        """Configure the fake; nothing listens until the async context is entered."""
        self.token = token
        bot_id = token.split(":", 1)[0]
        self.bot_user = User(int(bot_id) if bot_id.isdigit() else 1, bot_first_name, bot_username, is_bot=True)
        self.enforce_limits = enforce_limits
        self.webhook_retry_delay = webhook_retry_delay
        self.root_url = ""
        self.calls: list[tuple[str, JSON]] = []  # every request that named a known method, in order
        self.rate_limit_hits = 0  # 429 answers sent (injected or enforced)
        self.webhook: Webhook | None = None
        self.webhook_deliveries: list[JSON] = []
        self.webhook_failures = 0
        self._chats: dict[int, Chat] = {}
        self._messages: dict[int, dict[int, JSON]] = defaultdict(dict)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._sent: dict[int, list[JSON]] = defaultdict(list)
        self._reply_keyboards: dict[int, JSON | None] = {}
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(100_000_001)
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._files: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[JSON]] = {}
        self._file_numbers = itertools.count(1)
        self._callback_ids = itertools.count(4_200_000_000_000_000_001)
        self._callbacks: dict[str, JSON | None] = {}
        self._commands: dict[str, list[JSON]] = {}
        self._faults: list[_Fault] = []
        self._blocked: set[int] = set()
        self._global_sends: deque[float] = deque()
        self._private_buckets: dict[int, tuple[float, float]] = {}
        self._group_sends: dict[int, deque[float]] = defaultdict(deque)
        self._changed = asyncio.Event()
        self._closing = False
        self._stack: contextlib.AsyncExitStack | None = None
        self._method_names = {name.lower(): name for name in SPEC["methods"]}
        self.app: ASGIApp = self._asgi

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve every path with `_endpoint`, as Starlette's one catch-all route did, without its middleware stack.

        The load benchmark shares two cores with the product it measures: a router and two exception middlewares
        for one route were a fifth of its own CPU. An error in `_endpoint` still reaches uvicorn, which answers 500.
        """
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        if request.method in ("GET", "POST"):
            response = await self._endpoint(request)
        else:
            response = PlainTextResponse("Method Not Allowed", status_code=405, headers={"Allow": "GET, POST"})
        await response(scope, receive, send)

    # ---------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> FakeBotApi:
        """Start the HTTP server and the webhook deliverer on the running loop."""
        async with contextlib.AsyncExitStack() as stack:
            # A bound method: uvicorn's guess would take it for an ASGI 2 app.
            self.root_url = await stack.enter_async_context(serve_app(self.app, interface="asgi3"))
            client = await stack.enter_async_context(httpx.AsyncClient())
            worker = asyncio.create_task(self._webhook_worker(client))
            stack.push_async_callback(self._stop, worker)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Release long polls, stop the deliverer, close its client and shut the server down."""
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None

    async def _stop(self, worker: asyncio.Task[None]) -> None:
        self._closing = True
        self._notify()
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    @property
    def base_url(self) -> str:
        """Value for ``telegram.Bot(base_url=...)``."""
        return f"{self.root_url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``telegram.Bot(base_file_url=...)``."""
        return f"{self.root_url}/file/bot"

    # ---------------------------------------------------------------- waiting for changes

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, seconds: float) -> None:
        event = self._changed
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await event.wait()

    async def wait_for(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until ``predicate()`` holds (re-checked on every change); TimeoutError after ``within`` s."""
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() >= deadline:
                raise TimeoutError("condition not met in time on the fake Bot API")
            await self._wait_change(min(deadline - time.monotonic(), 0.1))

    async def wait_sent(
        self, chat_id: int, count: int = 1, *, method: str | None = None, within: float = 5.0
    ) -> list[JSON]:
        """Wait until ``sent(chat_id, method)`` has at least ``count`` records; return them all."""
        await self.wait_for(lambda: len(self.sent(chat_id, method)) >= count, within)
        return self.sent(chat_id, method)

    async def wait_updates_consumed(self, within: float = 5.0) -> None:
        """Wait until every pending update was confirmed by getUpdates or delivered to the webhook."""
        await self.wait_for(lambda: not self._updates, within)

    # ---------------------------------------------------------------- test-side inspection

    def sent(self, chat_id: int, method: str | None = None) -> list[JSON]:
        """Return what the bot did in ``chat_id`` (optionally only ``method`` calls), oldest first.

        Records are dicts with method, chat_id, message_id, text, caption, reply_markup, files
        (field, source upload/file_id/url, filename, data, file_id) and all validated params.
        """
        records = self._sent.get(chat_id, [])
        return [r for r in records if method is None or r["method"].lower() == method.lower()]

    def last_sent(self, chat_id: int) -> JSON:
        """Return the newest record of ``sent(chat_id)``."""
        if not self._sent.get(chat_id):
            raise LookupError(f"the bot sent nothing to chat {chat_id}")
        return self._sent[chat_id][-1]

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        """Return the current state of a message (``None`` once deleted)."""
        return self._messages.get(chat_id, {}).get(message_id)

    def reply_keyboard(self, chat_id: int) -> JSON | None:
        """Return the reply keyboard (ReplyKeyboardMarkup) the user currently sees in ``chat_id``."""
        return self._reply_keyboards.get(chat_id)

    def callback_answer(self, callback_query_id: str) -> JSON | None:
        """Return the bot's answerCallbackQuery parameters, or ``None`` while unanswered."""
        return self._callbacks[callback_query_id]

    def pending_updates(self) -> list[JSON]:
        """Return the updates not yet confirmed by getUpdates nor delivered to the webhook."""
        return list(self._updates)

    def file_bytes(self, file_id: str) -> bytes:
        """Return the content of a known file."""
        return self._files[file_id].data

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """Return the command list the bot set for ``scope`` and ``language_code``."""
        return self._commands.get(self._commands_key(scope, language_code), [])

    # ---------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        n: int = 1,
        *,
        error_code: int = 429,
        retry_after: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next ``n`` calls of ``method`` fail with ``error_code`` (429 carries ``retry_after``)."""
        canonical = self._method_names.get(method.lower())
        if canonical is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        defaults = {
            429: f"Too Many Requests: retry after {retry_after}",
            403: _BLOCKED,
            400: "Bad Request: injected",
        }
        text = description or defaults.get(error_code, f"Error {error_code}")
        error = ApiError(error_code, text, retry_after if error_code == 429 else None)
        self._faults.append(_Fault(canonical, n, error))

    def block_user(self, user_id: int) -> None:
        """Make every call aimed at the user's private chat answer 403 "bot was blocked by the user"."""
        self._blocked.add(user_id)

    def unblock_user(self, user_id: int) -> None:
        """Undo ``block_user``."""
        self._blocked.discard(user_id)

    # ---------------------------------------------------------------- simulated users

    def add_chat(self, chat: Chat) -> Chat:
        """Make ``chat`` known to the fake (sending to unknown chats answers "chat not found")."""
        self._chats[chat.id] = chat
        return chat

    def private_chat(self, user: User) -> Chat:
        """Register and return the private chat of ``user``."""
        return self.add_chat(Chat.private(user))

    def user_sends_text(
        self, user: User, chat: Chat | None, text: str, *, reply_to_message_id: int | None = None
    ) -> JSON:
        """Simulate ``user`` sending ``text`` in ``chat`` (None: their private chat); return the Update.

        A leading ``/command`` gets its bot_command entity, as Telegram clients produce.
        """
        content: JSON = {"text": text}
        command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if command:
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        if reply_to_message_id is not None:
            replied = self.message(self._user_chat(user, chat).id, reply_to_message_id)
            if replied is None:
                raise ValueError(f"no message {reply_to_message_id} to reply to")
            content["reply_to_message"] = _reply_snapshot(replied)
        return self._user_message(user, chat, content)

    def user_sends_command(
        self, user: User, chat: Chat | None, command: str, args: str = "", *, mention_bot: bool = False
    ) -> JSON:
        """Simulate ``user`` sending ``/command args`` (``/command@bot args`` with ``mention_bot``)."""
        text = "/" + command.lstrip("/") + (f"@{self.bot_user.username}" if mention_bot else "")
        return self.user_sends_text(user, chat, f"{text} {args}" if args else text)

    def user_presses_button(self, user: User, chat: Chat | None, message_id: int, callback_data: str) -> str:
        """Simulate pressing an inline button now on the message; return the callback query id."""
        target = self._user_chat(user, chat)
        message = self.message(target.id, message_id)
        if message is None:
            raise ValueError(f"no message {message_id} in chat {target.id}")
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        available = [button.get("callback_data") for row in rows for button in row]
        if callback_data not in available:
            raise ValueError(f"{callback_data!r} is not on message {message_id}'s keyboard: {available}")
        query_id = str(next(self._callback_ids))
        self._callbacks[query_id] = None
        query = {"id": query_id, "from": user.to_json(), "message": message, "data": callback_data}
        self._push_update("callback_query", {**query, "chat_instance": str(abs(target.id) * 7919)})
        return query_id

    def user_shares_location(self, user: User, chat: Chat | None, latitude: float, longitude: float) -> JSON:
        """Simulate ``user`` sharing a location; return the Update."""
        return self._user_message(user, chat, {"location": {"latitude": latitude, "longitude": longitude}})

    def user_shares_contact(
        self, user: User, chat: Chat | None, phone_number: str, *, user_id: int | None = None
    ) -> JSON:
        """Simulate ``user`` sharing a contact, by default their own (request_contact button)."""
        contact = {"phone_number": phone_number, "first_name": user.first_name, "user_id": user_id or user.id}
        return self._user_message(user, chat, {"contact": contact})

    def user_sends_photo(self, user: User, chat: Chat | None, data: bytes, *, caption: str | None = None) -> JSON:
        """Simulate ``user`` sending a photo (two sizes, each downloading as ``data``); return the Update."""
        content = {"photo": self._photo_sizes(data, "image/jpeg"), "caption": caption}
        return self._user_message(user, chat, _without_none(content))

    def user_sends_voice(self, user: User, chat: Chat | None, data: bytes, *, duration: int = 3) -> JSON:
        """Simulate ``user`` sending an OGG voice note; return the Update."""
        stored = self._store_file(data, "voice", ".oga", "audio/ogg")
        voice = {**stored.to_json(), "duration": duration, "mime_type": "audio/ogg"}
        return self._user_message(user, chat, {"voice": voice})

    def user_sends_document(
        self,
        user: User,
        chat: Chat | None,
        data: bytes,
        *,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
    ) -> JSON:
        """Simulate ``user`` sending a document; return the Update."""
        stored = self._store_file(data, "documents", Path(file_name).suffix, mime_type, file_name)
        content = {"document": self._document_json(stored), "caption": caption}
        return self._user_message(user, chat, _without_none(content))

    def _user_chat(self, user: User, chat: Chat | None) -> Chat:
        return self.add_chat(chat or Chat.private(user))

    def _user_message(self, user: User, chat: Chat | None, content: JSON) -> JSON:
        return self._push_update("message", self._new_message(self._user_chat(user, chat), user, content))

    def _push_update(self, kind: str, payload: JSON) -> JSON:
        # Updates are snapshots: later edits of a stored message must not change queued updates.
        update = {"update_id": next(self._update_ids), kind: copy.deepcopy(payload)}
        allowed = self.webhook.allowed_updates if self.webhook else self._allowed_updates
        if not allowed or kind in allowed:
            self._updates.append(update)
            self._notify()
        return update

    # ---------------------------------------------------------------- storage helpers

    def _new_message(self, chat: Chat, sender: User, content: JSON) -> JSON:
        message_id = next(self._message_ids[chat.id])
        message = {"message_id": message_id, "from": sender.to_json(), "chat": chat.to_json()}
        message |= {"date": int(time.time()), **content}
        self._messages[chat.id][message_id] = message
        return message

    def _store_file(
        self, data: bytes, folder: str, suffix: str, mime_type: str | None, file_name: str | None = None
    ) -> StoredFile:
        n = next(self._file_numbers)
        stored = StoredFile(f"FAKE{folder[:3].upper()}{n:08d}", f"U{n:08d}", f"{folder}/file_{n}{suffix}", data)
        stored.mime_type, stored.file_name = mime_type, file_name
        self._files[stored.file_id] = stored
        return stored

    @staticmethod
    def _document_json(stored: StoredFile) -> JSON:
        return _without_none({**stored.to_json(), "file_name": stored.file_name, "mime_type": stored.mime_type})

    def _photo_sizes(self, data: bytes, mime_type: str | None) -> list[JSON]:
        sizes = [
            {
                **self._store_file(data, "photos", ".jpg", mime_type).to_json(),
                "width": width,
                "height": height,
            }
            for width, height in ((90, 68), (1280, 960))
        ]
        for size in sizes:
            self._photo_sets[size["file_id"]] = sizes
        return sizes

    def _record(self, chat: Chat, method: str, params: JSON, **details: Any) -> None:
        record: JSON = {"method": method, "chat_id": chat.id, "message_id": params.get("message_id")}
        record |= {"text": None, "caption": None, "reply_markup": params.get("reply_markup"), "files": []}
        record |= {"params": {k: v for k, v in params.items() if not isinstance(v, Upload)}, **details}
        self._sent[chat.id].append(record)
        self._notify()

    # ---------------------------------------------------------------- HTTP endpoint

    async def _endpoint(self, request: Request) -> Response:
        if request.url.path.startswith("/file/"):
            return self._download(request.url.path)
        try:
            result = await self._call(request)
        except ApiError as error:
            if error.code == 429:
                self.rate_limit_hits += 1
            return JSONResponse(error.to_json(), status_code=error.code)
        return JSONResponse({"ok": True, "result": result})

    async def _call(self, request: Request) -> Any:
        match = re.fullmatch(r"/bot([^/]*)/([^/]*)", request.url.path)
        if match is None:
            raise ApiError(404, "Not Found")
        token, method = match.group(1), self._method_names.get(match.group(2).lower())
        if token != self.token:
            # Telegram answers 401 to well-formed but wrong tokens and 404 to malformed ones.
            raise ApiError(401, "Unauthorized") if TOKEN_RE.fullmatch(token) else ApiError(404, "Not Found")
        if method is None:
            raise ApiError(404, "Not Found")
        raw, uploads = await self._read_params(request)
        self.calls.append((method, {**raw, **{k: f"<file {v.filename}>" for k, v in uploads.items()}}))
        for fault in self._faults:
            if fault.method == method and fault.remaining > 0:
                fault.remaining -= 1
                raise fault.error
        params = validate_params(method, raw, uploads)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            raise _bad(f"method {method} is not implemented by the fake Bot API")
        return await handler(params)

    def _download(self, path: str) -> Response:
        match = re.fullmatch(r"/file/bot([^/]*)/(.+)", path)
        found = [f for f in self._files.values() if match and match.group(1) == self.token and f.file_path == match[2]]
        if not found:
            return JSONResponse(ApiError(404, "Not Found").to_json(), status_code=404)
        return Response(found[0].data, media_type=found[0].mime_type or "application/octet-stream")

    @staticmethod
    async def _read_params(request: Request) -> tuple[JSON, dict[str, Upload]]:
        raw: JSON = dict(request.query_params)
        uploads: dict[str, Upload] = {}
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        kind = content_type.split(";", 1)[0].strip().lower()
        if body and kind == "application/json":
            try:
                data = json.loads(body)
            except ValueError as exc:
                raise _bad("can't parse JSON request body") from exc
            if not isinstance(data, dict):
                raise _bad("JSON request body must be an object")
            raw.update(data)
        elif body and kind == "application/x-www-form-urlencoded":
            raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        elif body and kind == "multipart/form-data":
            fields, uploads = parse_multipart(body, content_type)
            raw.update(fields)
        return _without_none(raw), uploads

    # ---------------------------------------------------------------- chats, limits, messages

    def _chat(self, chat_id: int | str, *, check_blocked: bool = True) -> Chat:
        if isinstance(chat_id, int):
            chat = self._chats.get(chat_id)
        else:
            chat = next((c for c in self._chats.values() if f"@{c.username}" == chat_id), None)
        if chat is None:
            raise _bad("chat not found")
        if check_blocked and chat.type == "private" and chat.id in self._blocked:
            raise ApiError(403, _BLOCKED)
        return chat

    def _target(self, params: JSON) -> Chat:
        """Resolve the chat of a send* call and apply the flood limits when enforced."""
        chat = self._chat(params["chat_id"])
        if self.enforce_limits:
            self._check_flood(chat, time.monotonic())
        return chat

    def _check_flood(self, chat: Chat, now: float) -> None:
        """~30 msg/s overall, 1 msg/s per private chat after a short burst, 20 msg/min per group."""
        sends = self._global_sends
        while sends and sends[0] <= now - 1:
            sends.popleft()
        if len(sends) >= GLOBAL_PER_SECOND:
            self._too_many(sends[0] + 1 - now)
        if chat.type == "private":
            tokens, last = self._private_buckets.get(chat.id, (PRIVATE_BURST, now))
            tokens = min(PRIVATE_BURST, tokens + (now - last))
            if tokens < 1:
                self._too_many(1 - tokens)
            self._private_buckets[chat.id] = (tokens - 1, now)
        else:
            window = self._group_sends[chat.id]
            while window and window[0] <= now - 60:
                window.popleft()
            if len(window) >= GROUP_PER_MINUTE:
                self._too_many(window[0] + 60 - now)
            window.append(now)
        sends.append(now)

    @staticmethod
    def _too_many(wait: float) -> None:
        retry_after = max(1, math.ceil(wait))
        raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def _send(self, chat: Chat, method: str, params: JSON, content: JSON, **details: Any) -> JSON:
        """Store a message the bot sends (reply, caption, keyboards applied) and log it."""
        reply = params.get("reply_parameters")
        if reply:
            replied = self.message(chat.id, reply["message_id"])
            if replied is None and not reply.get("allow_sending_without_reply"):
                raise _bad("message to be replied not found")
            content["reply_to_message"] = _reply_snapshot(replied)
        if "caption" in params:
            caption = visible_text(params["caption"], params.get("parse_mode"), caption=True)
            content["caption"] = details["caption"] = caption or None
        self._apply_markup(chat, params, content)
        message = self._new_message(chat, self.bot_user, _without_none(content))
        self._record(chat, method, params, **details, message_id=message["message_id"])
        return message

    def _apply_markup(self, chat: Chat, params: JSON, content: JSON) -> None:
        """Attach an inline keyboard to the message; track reply keyboards per chat."""
        markup = params.get("reply_markup") or {}
        if markup.get("inline_keyboard"):
            content["reply_markup"] = markup
        elif "keyboard" in markup:
            self._reply_keyboards[chat.id] = markup
        elif "remove_keyboard" in markup:
            self._reply_keyboards[chat.id] = None

    def _bot_message(self, params: JSON, *, action: str = "edit") -> tuple[Chat, JSON]:
        if "chat_id" not in params or "message_id" not in params:
            raise _bad("message identifier is not specified")
        chat = self._chat(params["chat_id"])
        message = self.message(chat.id, params["message_id"])
        if message is None:
            raise _bad(f"message to {action} not found")
        if action == "edit" and message["from"]["id"] != self.bot_user.id:
            raise _bad("message can't be edited")
        return chat, message

    def _edit(self, chat: Chat, message: JSON, method: str, params: JSON, changes: JSON) -> JSON:
        """Apply an edit (dropping an inline keyboard the call does not repeat), unless it changes nothing."""
        self._apply_markup(chat, params, changes)
        same_text = changes.get("text", message.get("text")) == message.get("text")
        if same_text and changes.get("reply_markup") == message.get("reply_markup"):
            raise _bad(_NOT_MODIFIED)
        message.pop("reply_markup", None)
        message.update(changes, edit_date=int(time.time()))
        self._record(chat, method, params, text=changes.get("text"))
        return message

    def _media(self, name: str, source: Upload | str) -> tuple[StoredFile | None, JSON]:
        """Return a known file for a file_id source (None for uploads and URLs) and its log entry."""
        if isinstance(source, Upload):
            return None, {"field": name, "source": "upload", "filename": source.filename, "data": source.data}
        if re.match(r"https?://", source):
            return None, {"field": name, "source": "url", "url": source, "data": b""}
        if source not in self._files:
            raise _bad("wrong file identifier/HTTP URL specified")
        return self._files[source], {"field": name, "source": "file_id", "data": self._files[source].data}

    @staticmethod
    def _commands_key(scope: JSON | None, language_code: str) -> str:
        return json.dumps([scope or {"type": "default"}, language_code], sort_keys=True)

    # ---------------------------------------------------------------- Bot API methods

    async def _api_getMe(self, params: JSON) -> JSON:
        extra = {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        return {**self.bot_user.to_json(), **extra}

    async def _api_getUpdates(self, params: JSON) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if "allowed_updates" in params:
            self._allowed_updates = params["allowed_updates"] or None
        offset = params.get("offset")
        if offset is not None and offset < 0:  # keep only the last -offset updates
            del self._updates[: max(0, len(self._updates) + offset)]
        elif offset is not None:  # updates below the offset are confirmed
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        deadline = time.monotonic() + max(0, params.get("timeout", 0))
        while not self._updates and not self._closing and time.monotonic() < deadline:
            await self._wait_change(deadline - time.monotonic())
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
        return self._updates[: min(max(params.get("limit", 100), 1), 100)]

    async def _api_setWebhook(self, params: JSON) -> bool:
        url = params["url"]
        if not url:
            return await self._api_deleteWebhook(params)
        if not re.match(r"https?://", url):  # real Telegram wants https; tests serve plain http
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._allowed_updates = params.get("allowed_updates", self._allowed_updates) or None
        self.webhook = Webhook(url, secret, params.get("max_connections", 40), self._allowed_updates)
        self._notify()
        return True

    async def _api_deleteWebhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = None
        self._notify()
        return True

    async def _api_getWebhookInfo(self, params: JSON) -> JSON:
        info: JSON = {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}
        if self.webhook is not None:
            hook = asdict(self.webhook)
            del hook["secret_token"]
            info |= _without_none(hook)
        return info

    async def _api_sendMessage(self, params: JSON) -> JSON:
        chat = self._target(params)
        text = visible_text(params["text"], params.get("parse_mode"))
        return self._send(chat, "sendMessage", params, {"text": text}, text=text)

    async def _api_sendPhoto(self, params: JSON) -> JSON:
        chat = self._target(params)
        stored, entry = self._media("photo", params["photo"])
        if stored is None:
            mime = params["photo"].content_type if isinstance(params["photo"], Upload) else None
            sizes = self._photo_sizes(entry["data"], mime or "image/jpeg")
        else:
            sizes = self._photo_sets.get(stored.file_id) or [{**stored.to_json(), "width": 1, "height": 1}]
        entry["file_id"] = sizes[-1]["file_id"]
        return self._send(chat, "sendPhoto", params, {"photo": sizes}, files=[entry])

    async def _api_sendDocument(self, params: JSON) -> JSON:
        chat = self._target(params)
        source = params["document"]
        stored, entry = self._media("document", source)
        if stored is None:
            name = source.filename if isinstance(source, Upload) else source.rsplit("/", 1)[-1]
            mime = source.content_type if isinstance(source, Upload) else None
            stored = self._store_file(entry["data"], "documents", Path(name or "").suffix, mime, name)
        entry["file_id"] = stored.file_id
        return self._send(chat, "sendDocument", params, {"document": self._document_json(stored)}, files=[entry])

    async def _api_editMessageText(self, params: JSON) -> JSON:
        chat, message = self._bot_message(params)
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        text = visible_text(params["text"], params.get("parse_mode"))
        return self._edit(chat, message, "editMessageText", params, {"text": text})

    async def _api_editMessageReplyMarkup(self, params: JSON) -> JSON:
        chat, message = self._bot_message(params)
        return self._edit(chat, message, "editMessageReplyMarkup", params, {})

    async def _api_deleteMessage(self, params: JSON) -> bool:
        chat, message = self._bot_message(params, action="delete")
        del self._messages[chat.id][message["message_id"]]
        self._record(chat, "deleteMessage", params)
        return True

    async def _api_answerCallbackQuery(self, params: JSON) -> bool:
        query_id = params["callback_query_id"]
        if self._callbacks.get(query_id, True) is not None:  # unknown or already answered
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        if len(params.get("text", "")) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        self._callbacks[query_id] = params
        self._notify()
        return True

    async def _api_sendChatAction(self, params: JSON) -> bool:
        chat = self._chat(params["chat_id"])
        if params["action"] not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self._record(chat, "sendChatAction", params, action=params["action"])
        return True

    async def _api_getFile(self, params: JSON) -> JSON:
        stored = self._files.get(params["file_id"])
        if stored is None:
            raise _bad("invalid file_id")
        if len(stored.data) > 20 * 1024 * 1024:
            raise _bad("file is too big")
        return {**stored.to_json(), "file_path": stored.file_path}

    async def _api_setMyCommands(self, params: JSON) -> bool:
        self._commands[self._commands_key(params.get("scope"), params.get("language_code", ""))] = params["commands"]
        return True

    async def _api_getMyCommands(self, params: JSON) -> list[JSON]:
        return self.commands(params.get("scope"), params.get("language_code", ""))

    async def _api_deleteMyCommands(self, params: JSON) -> bool:
        self._commands.pop(self._commands_key(params.get("scope"), params.get("language_code", "")), None)
        return True

    async def _api_getChat(self, params: JSON) -> JSON:
        chat = self._chat(params["chat_id"], check_blocked=False)
        gifts = (
            "unlimited_gifts",
            "limited_gifts",
            "unique_gifts",
            "premium_subscription",
            "gifts_from_channels",
        )
        return {
            **chat.to_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys(gifts, False),
        }

    # ---------------------------------------------------------------- webhook delivery

    async def _webhook_worker(self, client: httpx.AsyncClient) -> None:
        """Deliver pending updates to the webhook one at a time, in order, retrying failures."""
        delay = self.webhook_retry_delay
        while not self._closing:
            hook = self.webhook
            if hook is None or not self._updates:
                await self._wait_change(1.0)
                continue
            update = self._updates[0]
            headers = {"X-Telegram-Bot-Api-Secret-Token": hook.secret_token} if hook.secret_token else {}
            try:
                response = await client.post(hook.url, json=update, headers=headers)
                error = None if response.is_success else f"Wrong response from the webhook: {response.status_code}"
            except httpx.HTTPError as exc:
                error = f"Connection failed: {exc.__class__.__name__}"
            if error is None:
                delay = self.webhook_retry_delay
                if self._updates and self._updates[0] is update:
                    self._updates.pop(0)
                self.webhook_deliveries.append(update)
                self._notify()
                continue
            hook.last_error_date, hook.last_error_message = int(time.time()), error
            self.webhook_failures += 1
            self._notify()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
