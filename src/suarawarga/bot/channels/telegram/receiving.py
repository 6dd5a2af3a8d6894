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
from telegram import (
    Bot,
    CallbackQuery,
    Message,
    Update,
)
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
# What reading a malformed update raises: PTB's de_json checks no types, so a wrong one fails wherever it is used.
_MALFORMED = (AttributeError, KeyError, TypeError, ValueError, OverflowError)
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
        try:
            update = Update.de_json(payload, self.bot)
        except OSError as exc:  # a date beyond what the system's clock functions accept
            raise ValueError("date out of range") from exc
        if update.callback_query is not None:
            return await self._parse_button(update, update.callback_query)
        message = update.message
        if message is None or message.chat.type == ChatType.CHANNEL:
            return None
        user = message.from_user
        if user is None or user.is_bot:  # channel posts relayed to a group, anonymous admins
            return None
        inbound = Inbound(
            key=ConversationKey(CHANNEL, _id(message.chat.id)),
            external_id=_id(update.update_id, 0),
            received_at=self.clock.now(),
            sender_id=_id(user.id),
            sender_name=_text(user.full_name),
            language=_text(user.language_code),
            group=message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP),
        )
        text = _text(message.text)
        if text is not None:
            if text.startswith("/"):
                command = parse_command(text, self._username())
                if command is None:
                    return None if inbound.group else replace(inbound, text=text)
                return replace(inbound, command=command[0], text=command[1] or None)
            return replace(inbound, text=text)
        if message.location is not None:
            return replace(inbound, location=(float(message.location.latitude), float(message.location.longitude)))
        if message.contact is not None:
            return replace(inbound, contact=_text(message.contact.phone_number))
        for kind in _UNSUPPORTED:
            if getattr(message, kind, None):
                return replace(inbound, unsupported=kind)
        found = self._attachment(message)
        if found is None:
            return None  # a service message: someone joined, the title changed, ...
        file_id, size, mime, kind, name = found
        caption = _text(message.caption)
        if size is not None and size > DOWNLOAD_LIMIT:
            return replace(inbound, unsupported="file_too_large", text=caption)
        if name and mime == "application/octet-stream":
            mime = mimetypes.guess_type(name)[0] or mime
        # Only a reference: the file is downloaded if, and when, a step accepts it (fetch).
        item = IncomingFile(kind=kind, mime=mime, source=_text(file_id) or "", size=size, name=name)
        return replace(inbound, media=(item,), text=caption)

    @staticmethod
    def _attachment(message: Message) -> tuple[str, int | None, str, MediaKind, str | None] | None:
        """Return (file_id, size, mime, kind, file name) of a message's file, if it has one."""
        if message.photo:
            largest = message.photo[-1]
            return largest.file_id, largest.file_size, "image/jpeg", MediaKind.PHOTO, None
        if message.document is not None:
            doc = message.document
            mime = doc.mime_type or mimetypes.guess_type(doc.file_name or "")[0] or "application/octet-stream"
            return doc.file_id, doc.file_size, mime, MediaKind.DOCUMENT, doc.file_name
        if message.voice is not None:
            voice = message.voice
            return voice.file_id, voice.file_size, voice.mime_type or "audio/ogg", MediaKind.VOICE, None
        if message.audio is not None:
            audio = message.audio
            return audio.file_id, audio.file_size, audio.mime_type or "audio/mpeg", MediaKind.VOICE, audio.file_name
        if message.video is not None:
            video = message.video
            return video.file_id, video.file_size, video.mime_type or "video/mp4", MediaKind.VIDEO, video.file_name
        if message.video_note is not None:
            note = message.video_note
            return note.file_id, note.file_size, "video/mp4", MediaKind.VIDEO, None
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

    async def _parse_button(self, update: Update, query: CallbackQuery) -> Inbound | None:
        """Answer a button press at once, remove an answered question's keyboard, and return the choice."""
        message = query.message
        data = _text(query.data)
        user = query.from_user
        chat_id, sender_id, update_id = _id(message.chat.id) if message else "", _id(user.id), _id(update.update_id, 0)
        if message is not None:
            _id(message.message_id, 0)
        is_question = data is not None and not data.startswith(COMMAND_CHOICE_PREFIX)
        remove_keyboard = message is not None and message.is_accessible and is_question
        if message is not None and remove_keyboard:
            self.telegram_sender.keyboard_answered(message.chat.id, message.message_id)
        # Coroutines are made only now, once nothing can fail before they are awaited.
        tidy: list[Awaitable[Any]] = [call(self.bot, "answerCallbackQuery", {"callback_query_id": query.id})]
        if message is not None and remove_keyboard:
            edit = {"chat_id": message.chat.id, "message_id": message.message_id}
            tidy.append(call(self.bot, "editMessageReplyMarkup", edit))
        for outcome in await asyncio.gather(*tidy, return_exceptions=True):
            if isinstance(outcome, Exception):  # a late answer or an already-removed keyboard changes nothing
                log.debug("tidying a button press failed: %s", outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
        if message is None or data is None or message.chat.type == ChatType.CHANNEL:
            return None
        return Inbound(
            key=ConversationKey(CHANNEL, chat_id),
            external_id=update_id,
            received_at=self.clock.now(),
            sender_id=sender_id,
            sender_name=_text(user.full_name),
            language=_text(user.language_code),
            choice=data,
            group=message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP),
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
