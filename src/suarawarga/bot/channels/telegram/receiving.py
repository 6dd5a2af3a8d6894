"""Receiving from Telegram: the webhook route, the chat of a stored update, and the parser of stored updates."""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import Bot
from telegram.constants import ChatType
from telegram.error import (
    TelegramError,
)

from suarawarga.bot.attachments import MediaRefused
from suarawarga.bot.channels.telegram.sender import TelegramSender, call
from suarawarga.bot.conversation import COMMAND_CHOICE_PREFIX
from suarawarga.bot.inbox import Acceptor
from suarawarga.bot.messages import (
    ChannelName,
    ConversationKey,
    Inbound,
    IncomingFile,
    MediaKind,
    parse_command,
)
from suarawarga.bot.web import BodyReader, load_json
from suarawarga.clock import Clock

log = logging.getLogger(__name__)

CHANNEL = ChannelName.TELEGRAM
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API lets bots download files up to 20 MB
# What reading a malformed update raises: a missing field (KeyError) or one of the wrong type (TypeError, ValueError).
_MALFORMED = (AttributeError, KeyError, TypeError, ValueError, OverflowError)
# The kinds of file a message can carry after its photos: (key, kind, MIME type when the update gives none).
_FILES = (
    ("document", MediaKind.DOCUMENT, "application/octet-stream"),
    ("voice", MediaKind.VOICE, "audio/ogg"),
    ("audio", MediaKind.VOICE, "audio/mpeg"),
    ("video", MediaKind.VIDEO, "video/mp4"),
    ("video_note", MediaKind.VIDEO, "video/mp4"),
)
_UNSUPPORTED = ("sticker", "animation", "poll", "dice", "game", "story", "paid_media", "invoice", "checklist")
ID_LIMIT = 2**52  # chat and user ids "have at most 52 significant bits" (Bot API); anything else is not an id

MAX_UPDATE_ID = 2**52  # update ids are far smaller (Bot API ids have at most 52 significant bits)


def chat_of(payload: dict[str, Any]) -> str | None:
    """Return the chat a stored update belongs to (tolerant: None when the shape is unknown)."""

    def pick(value: Any, *path: str) -> Any:
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    for kind in ("message", "edited_message", "channel_post", "my_chat_member", "chat_member"):
        found = pick(payload, kind, "chat", "id")
        if found is not None:
            return str(found)
    return (
        str(
            pick(payload, "callback_query", "message", "chat", "id")
            or pick(payload, "callback_query", "from", "id")
            or ""
        )
        or None
    )


def telegram_route(inbox: Acceptor, secret: str, too_old: Callable[[Any], bool] | None = None) -> Route:
    """Return POST /telegram: secret header checked in constant time before the body is parsed.

    `too_old(update)` tells of an update that is acknowledged but not stored (a replay past the message log).
    """
    expected = secret.encode()
    reader = BodyReader()

    async def receive(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "").encode()
        if not secrets.compare_digest(given, expected):
            return PlainTextResponse("forbidden", status_code=403)
        body = await reader.read(request)
        if isinstance(body, Response):
            return body
        try:
            update = load_json(body)
            update_id = update["update_id"]
        except (ValueError, KeyError, TypeError):
            return PlainTextResponse("bad update", status_code=400)
        # Strictly an integer: "42", 43.9 and true are not update ids (int() took them, and true became 1).
        if type(update_id) is not int or not 0 <= update_id < MAX_UPDATE_ID:
            return PlainTextResponse("bad update", status_code=400)
        if too_old is not None and too_old(update):
            return PlainTextResponse("ok")  # a 200 all the same: nothing to deliver again
        await inbox.accept(CHANNEL, str(update_id), update)
        return PlainTextResponse("ok")

    return Route("/telegram", receive, methods=["POST"])


class TelegramReceiver:
    """Turns stored updates into Inbound messages, and downloads the files a step accepts."""

    def __init__(self, bot: Bot, clock: Clock, sender: TelegramSender, username: Callable[[], str | None]) -> None:
        self.bot = bot
        self.clock = clock
        self.telegram_sender = sender
        self._username = username

    async def parse(self, payload: dict[str, Any]) -> Inbound | None:
        """Turn a stored update into an Inbound (files as references), or None when there is nothing to act on.

        An update that is not a well-formed Bot API Update (a field missing, or of the wrong type) is logged and
        ignored; only a failed Bot API call (answering a button) raises, as TelegramError, and
        the inbox tries the update again.
        """
        try:
            return await self._parse(payload)
        except _MALFORMED as exc:
            log.warning("ignored a malformed Telegram update (%s)", type(exc).__name__)
            return None

    async def _parse(self, payload: dict[str, Any]) -> Inbound | None:
        # The update is read as JSON, not through PTB's Update.de_json: building its objects was the largest single
        # cost of a processing process in the load benchmark (docs/architecture.md §6). Every field used is
        # checked for its type here (`_obj`, `_text`, `_id`), as PTB never did.
        update = _obj(payload)
        query = update.get("callback_query")
        if query is not None:
            return await self._parse_button(update, _obj(query))
        message = update.get("message")
        if message is None:
            return None
        message = _obj(message)
        chat = _chat(message)
        if chat["type"] == ChatType.CHANNEL:
            return None
        user = message.get("from")
        if user is None or _flag(_obj(user)["is_bot"]):  # channel posts relayed to a group, anonymous admins
            return None
        inbound = Inbound(
            key=ConversationKey(CHANNEL, _id(chat["id"])),
            external_id=_id(update["update_id"], 0),
            received_at=self.clock.now(),
            sender_id=_id(user["id"]),
            sender_name=_full_name(user),
            language=_text(user.get("language_code")),
            group=chat["type"] in (ChatType.GROUP, ChatType.SUPERGROUP),
        )
        text = _text(message.get("text"))
        if text is not None:
            if text.startswith("/"):
                command = parse_command(text, self._username())
                if command is None:
                    return None if inbound.group else replace(inbound, text=text)
                return replace(inbound, command=command[0], text=command[1] or None)
            return replace(inbound, text=text)
        location = message.get("location")
        if location is not None:
            location = _obj(location)
            return replace(inbound, location=(_number(location["latitude"]), _number(location["longitude"])))
        contact = message.get("contact")
        if contact is not None:
            return replace(inbound, contact=_text(_obj(contact)["phone_number"]))
        for kind in _UNSUPPORTED:
            if message.get(kind):
                return replace(inbound, unsupported=kind)
        found = self._attachment(message)
        if found is None:
            return None  # a service message: someone joined, the title changed, ...
        file_id, size, mime, kind, name = found
        caption = _text(message.get("caption"))
        if size is not None and size > DOWNLOAD_LIMIT:
            return replace(inbound, unsupported="file_too_large", text=caption)
        if name and mime == "application/octet-stream":
            mime = mimetypes.guess_type(name)[0] or mime
        # Only a reference: the file is downloaded if, and when, a step accepts it (fetch).
        item = IncomingFile(kind=kind, mime=mime, source=file_id, size=size, name=name)
        return replace(inbound, media=(item,), text=caption)

    @staticmethod
    def _attachment(message: dict[str, Any]) -> tuple[str, int | None, str, MediaKind, str | None] | None:
        """Return (file_id, size, mime, kind, file name) of a message's file, if it has one."""
        photos = message.get("photo")
        if photos:
            if not isinstance(photos, list):
                raise TypeError("photo is not a list")
            largest = _obj(photos[-1])
            return _file_id(largest), _size(largest), "image/jpeg", MediaKind.PHOTO, None
        for key, kind, default in _FILES:
            value = message.get(key)
            if value is None:
                continue
            item = _obj(value)
            name = _text(item.get("file_name")) if key != "voice" and key != "video_note" else None
            mime = None if key == "video_note" else _text(item.get("mime_type"))
            if key == "document":
                mime = mime or mimetypes.guess_type(name or "")[0]
            return _file_id(item), _size(item), mime or default, kind, name
        return None

    async def fetch(self, item: IncomingFile, limit: int) -> bytes:
        """Download a file a step accepted (at most `limit` bytes); MediaRefused if Telegram cannot give it."""
        try:
            remote = await self.bot.get_file(item.source)
            if remote.file_size is not None and remote.file_size > min(limit, DOWNLOAD_LIMIT):
                raise MediaRefused("media.too_large", max=str(min(limit, DOWNLOAD_LIMIT) // (1024 * 1024)))
            data = bytes(await remote.download_as_bytearray())
        except TelegramError as exc:
            log.warning("a Telegram file could not be fetched (%s)", type(exc).__name__)
            raise MediaRefused("media.unavailable") from None
        if len(data) > limit:
            raise MediaRefused("media.too_large", max=str(limit // (1024 * 1024)))
        return data

    async def _parse_button(self, update: dict[str, Any], query: dict[str, Any]) -> Inbound | None:
        """Answer a button press at once, remove an answered question's keyboard, and return the choice."""
        message = query.get("message")
        data = _text(query.get("data"))
        user = _obj(query["from"])
        query_id = _text(query["id"])
        chat: dict[str, Any] = {}
        if message is not None:
            message = _obj(message)
            chat = _chat(message)
        chat_id, sender_id, update_id = (
            _id(chat["id"]) if message is not None else "",
            _id(user["id"]),
            _id(update["update_id"], 0),
        )
        message_id = _id(message["message_id"], 0) if message is not None else ""
        name, language = _full_name(user), _text(user.get("language_code"))
        is_question = data is not None and not data.startswith(COMMAND_CHOICE_PREFIX)
        # A message too old for the bot to see comes as an InaccessibleMessage: its date is 0 (Bot API).
        remove_keyboard = message is not None and _id(message["date"], 0) != "0" and is_question
        if remove_keyboard:
            self.telegram_sender.keyboard_answered(int(chat_id), int(message_id))
        # Coroutines are made only now, once nothing can fail before they are awaited.
        tidy: list[Awaitable[Any]] = [call(self.bot, "answerCallbackQuery", {"callback_query_id": query_id})]
        if remove_keyboard:
            tidy.append(
                call(self.bot, "editMessageReplyMarkup", {"chat_id": int(chat_id), "message_id": int(message_id)})
            )
        for outcome in await asyncio.gather(*tidy, return_exceptions=True):
            if isinstance(outcome, Exception):  # a late answer or an already-removed keyboard changes nothing
                log.debug("tidying a button press failed: %s", outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
        if message is None or data is None or chat["type"] == ChatType.CHANNEL:
            return None
        return Inbound(
            key=ConversationKey(CHANNEL, chat_id),
            external_id=update_id,
            received_at=self.clock.now(),
            sender_id=sender_id,
            sender_name=name,
            language=language,
            choice=data,
            group=chat["type"] in (ChatType.GROUP, ChatType.SUPERGROUP),
        )


def _text(value: object) -> str | None:
    """Return a field of an update that must be text; any other type makes the update malformed."""
    if value is None or isinstance(value, str):
        return value
    raise TypeError("a text field of the update is not text")


def _id(value: object, low: int = -ID_LIMIT) -> str:
    """Return a chat, user, message or update id as text; anything but an integer in range makes the update malformed.

    PTB checks no types: a chat id of 70 digits, a string holding NUL or a lone surrogate reached the database,
    failed there and was retried for ever. `low` is 0 for ids that are never negative.
    """
    if type(value) is not int or not low <= value < ID_LIMIT:
        raise ValueError("an id of the update is not an id")
    return str(value)


def _obj(value: object) -> dict[str, Any]:
    """Return a part of an update that must be a JSON object; anything else makes the update malformed."""
    if not isinstance(value, dict):
        raise TypeError("a part of the update is not an object")
    return value


def _chat(message: dict[str, Any]) -> dict[str, Any]:
    """Return the chat of a message, whose type must be text ("private", "group", "supergroup", "channel")."""
    chat = _obj(message["chat"])
    if not isinstance(chat["type"], str):
        raise TypeError("a chat type of the update is not text")
    return chat


def _flag(value: object) -> bool:
    """Return a field of an update that must be true or false; any other type makes the update malformed."""
    if type(value) is not bool:
        raise TypeError("a flag of the update is not true or false")
    return value


def _full_name(user: dict[str, Any]) -> str | None:
    """Return "first last" of a Telegram user, or None without a first name (as python-telegram-bot's full_name)."""
    first, last = _text(user["first_name"]), _text(user.get("last_name"))
    if not first:
        return None
    return f"{first} {last}" if last else first


def _number(value: object) -> float:
    """Return a coordinate; only a JSON number is one (PTB's float() took "1.5" and true)."""
    if type(value) not in (int, float):
        raise TypeError("a coordinate of the update is not a number")
    return float(value)  # type: ignore[arg-type]


def _file_id(item: dict[str, Any]) -> str:
    """Return the file_id of a file of an update, which must be text."""
    return _text(item["file_id"]) or ""


def _size(item: dict[str, Any]) -> int | None:
    """Return the file_size of a file of an update (optional), which must be an integer."""
    value = item.get("file_size")
    if value is not None and type(value) is not int:
        raise TypeError("a file size of the update is not an integer")
    return value
