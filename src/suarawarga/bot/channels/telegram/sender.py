"""Sending to Telegram: an Outbound rendered as Bot API calls, paced, each chat in order, resumed after a retry."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from telegram import Bot, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from suarawarga.bot.attachments import AttachmentStore
from suarawarga.bot.channels.base import remember
from suarawarga.bot.channels.ordered import (
    ChatLanes,
    Deferred,
    Failure,
    Outcome,
    Resume,
    Sent,
    Verdict,
    by_chat,
    send_in_order,
)
from suarawarga.bot.channels.telegram.pacing import Limits, Pacer, retry_seconds
from suarawarga.bot.channels.telegram.pauses import ChatPauses
from suarawarga.bot.channels.telegram.request import KeepAliveRequest
from suarawarga.bot.channels.text import split_utf16, utf16_length
from suarawarga.bot.conversation import COMMAND_CHOICE_PREFIX
from suarawarga.bot.messages import (
    Attachment,
    Outbound,
    OutboundFile,
)
from suarawarga.bot.sender import Progress, SendReport
from suarawarga.bot.texts import Catalogue
from suarawarga.clock import Clock
from suarawarga.logging import redact

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096  # characters (UTF-16 code units) of a message after entity parsing
CALLBACK_DATA_LIMIT = 64  # bytes
LOCATION_LABEL = "input.share_location"
_UNREACHABLE = ("chat not found", "user not found", "peer_id_invalid", "bot was blocked", "user is deactivated")
T = TypeVar("T")

# No link previews: a link in citizen text must not make Telegram fetch it (and show its page in an officer's
# group); the bot's own texts need none.
NO_PREVIEW = {"is_disabled": True}
Markup = dict[str, Any]  # a reply_markup of the Bot API (InlineKeyboardMarkup, ReplyKeyboardMarkup, ...) as JSON


# PTB's typed methods (`send_message`, ...) turn every answer into a `Message` (chat, sender, keyboard): 499 us of CPU
# per sendMessage against 77 us for the same call as plain JSON (docs/architecture.md §6, "Text calls build no PTB
# objects"). The bot needs only a sent message's id, so its text calls use PTB's request path (its `BaseRequest`,
# timeouts and error classes: RetryAfter, BadRequest, Forbidden, ...) without the objects: on the tuned client
# `KeepAliveRequest.post_json` (PTB's `BaseRequest.post` with the parameters as one JSON object), on PTB's own
# httpx client `Bot._post`. python-telegram-bot is pinned to 22.x in pyproject.toml.
async def call(bot: Bot, method: str, params: dict[str, Any]) -> Any:
    """Make one Bot API call through python-telegram-bot and return its JSON result; `params`: JSON values, no None."""
    request = bot.request
    if isinstance(request, KeepAliveRequest):
        return await request.post_json(f"{bot.base_url}/{method}", params)
    return await bot._post(method, params)


def message_id_of(result: Any) -> int | None:
    """Return the message_id of a sent message's JSON (None if the answer does not carry one)."""
    value = result.get("message_id") if isinstance(result, dict) else None
    return value if type(value) is int else None


def escape(value: str) -> str:
    """Escape a parameter for Telegram's HTML parse mode."""
    return html.escape(value, quote=False)


class _Defer(Exception):
    """The chat must wait longer than a send may block: the message goes back to the outbox."""

    def __init__(self, seconds: float, reason: str, *, tried: bool = True) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason
        self.tried = tried  # False: our own pacing held it back, so no attempt is counted


class _Refuse(Exception):
    """A message Telegram would reject whatever we do (a flow bug): it fails without a request."""


Call = Callable[[], Awaitable[str | None]]


def _verdict(error: BaseException) -> tuple[Verdict, str]:
    """Sort a failed send into a verdict (unreachable, failed or retry) and the error text."""
    text = redact(f"{type(error).__name__}: {error}")[:300]
    if isinstance(error, Forbidden):
        return Verdict.UNREACHABLE, text
    if isinstance(error, ChatMigrated):
        log.warning("a Telegram group became a supergroup (new id %s): link the new group again", error.new_chat_id)
        return Verdict.FAILED, text
    if isinstance(error, BadRequest):
        lowered = str(error).lower()
        return (Verdict.UNREACHABLE if any(s in lowered for s in _UNREACHABLE) else Verdict.FAILED), text
    if isinstance(error, _Refuse | OSError | ValueError):
        return Verdict.FAILED, text
    if isinstance(error, NetworkError | TelegramError):
        return Verdict.RETRY, text
    log.error("unexpected error while sending to Telegram", exc_info=error)
    return Verdict.RETRY, text


class TelegramSender:
    """Sends outbox messages through the Bot API, paced, each chat in order, and reports what happened."""

    def __init__(
        self,
        bot: Bot,
        catalogue: Catalogue,
        attachments: AttachmentStore,
        clock: Clock,
        limits: Limits | None = None,
    ) -> None:
        self.bot = bot
        self.catalogue = catalogue
        self.attachments = attachments
        self.clock = clock
        self.pacer = Pacer(limits or Limits())
        self._parallel = asyncio.Semaphore(max(self.pacer.limits.parallel, 1))
        self._line = asyncio.Lock()  # calls take their overall turn one by one, first come first served
        self._lanes = ChatLanes()  # sends to one chat across concurrent calls of `send` go one after the other
        self._pauses = ChatPauses(clock)  # chats whose messages wait in the outbox behind a long wait
        self._resume = Resume()  # outbox id -> calls of it already made (resume after a retry)
        self._file_ids: dict[tuple[str, str], str] = {}  # (kind, path) -> Telegram file_id
        self._open_keyboards: dict[int, int] = {}  # chat -> message whose question keyboard is still shown
        self._reply_keyboards: set[int] = set()  # chats shown a reply keyboard (share location)

    async def send(self, messages: Sequence[Outbound], progress: Progress | None = None) -> SendReport:
        """Send the messages (chats concurrently, each chat in order) and say what happened to each."""
        report = SendReport()
        chats = (self._send_chat(chat, batch, progress) for chat, batch in by_chat(messages).items())
        for part in await asyncio.gather(*chats):
            report.merge(part)
        return report

    def keyboard_answered(self, chat_id: int, message_id: int) -> None:
        """Note that the keyboard of a message was removed because its button was pressed."""
        if self._open_keyboards.get(chat_id) == message_id:
            del self._open_keyboards[chat_id]

    async def _send_chat(self, chat: str, batch: list[Outbound], progress: Progress | None) -> SendReport:
        report = SendReport()
        try:
            chat_id = int(chat)
        except ValueError:
            for message in batch:
                report.failed[message.id] = f"not a Telegram chat id: {chat[:40]}"
            return report
        async with self._lanes.lane(chat_id):
            return await send_in_order(
                [((message.id,), message) for message in batch],
                lambda message: self._attempt(chat_id, message),
                progress,
            )

    async def _attempt(self, chat_id: int, message: Outbound) -> Outcome:
        """Send one message unless the chat is paused; return what came of it."""
        wait = self._pauses.wait(chat_id, message.id)
        if wait is not None:
            return Deferred(timedelta(seconds=wait))
        try:
            await self._send_message(chat_id, message)
        except _Defer as deferred:
            # The pause (in the outbox's time) keeps the chat's later messages back, so the loop need not.
            self._pauses.pause(chat_id, message.id, deferred.seconds)
            if not deferred.tried:
                return Deferred(timedelta(seconds=deferred.seconds))
            return Failure(Verdict.RETRY, deferred.reason, timedelta(seconds=deferred.seconds), halts=False)
        except Exception as exc:
            verdict, error = _verdict(exc)
            if verdict is not Verdict.RETRY:
                self._pauses.release(chat_id, message.id)
            if verdict is Verdict.UNREACHABLE:
                self._forget_chat(chat_id)
            elif verdict is Verdict.FAILED:
                log.warning("Telegram refused a message (%s): %s", message.text_key, error)
            return Failure(verdict, error)
        self._pauses.release(chat_id, message.id)
        return Sent()

    def _forget_chat(self, chat_id: int) -> None:
        self._open_keyboards.pop(chat_id, None)
        self._reply_keyboards.discard(chat_id)

    # ------------------------------------------------------------------ one message

    async def _send_message(self, chat_id: int, message: Outbound) -> None:
        """Make the calls of one message, resuming after the calls a failed earlier attempt already made."""
        calls = self._plan(chat_id, message)
        done = self._resume.done(message.id) if message.id else 0
        stale = self._open_keyboards.get(chat_id)
        # A reply (not a notice) replaces the chat's current question: the old question's buttons go.
        if done == 0 and stale is not None and message.notice is None:
            await self._close_keyboard(chat_id, stale)
        await self._resume.run(message.id, calls)

    def _plan(self, chat_id: int, message: Outbound) -> list[Call]:
        """Return the Bot API calls that deliver a message: tidy up, the text part(s), then the files."""
        private = chat_id > 0
        language = message.language
        try:
            plain = self.catalogue.render(message.text_key, language, message.params)
            rendered = self.catalogue.render(message.text_key, language, message.params, escape)
            markup, question = self._markup(chat_id, message, private)
        except (KeyError, ValueError, IndexError) as exc:  # a missing text or parameter: no retry will fix it
            raise _Refuse(f"cannot render {message.text_key}: {exc}") from exc
        if not plain.strip():
            plain = rendered = "…"
        if utf16_length(plain) <= TEXT_LIMIT:
            texts = [(rendered, plain)]
        else:
            texts = [(escape(part), part) for part in split_utf16(plain, TEXT_LIMIT)]
        calls: list[Call] = []
        for number, (text, fallback) in enumerate(texts, 1):
            last = number == len(texts)
            calls.append(self._text_call(chat_id, text, fallback, markup if last else None, question and last))
        calls += [self._file_call(chat_id, item) for item in message.files]
        return calls

    def _markup(self, chat_id: int, message: Outbound, private: bool) -> tuple[Markup | None, bool]:
        """Return the keyboard of a message (Bot API JSON), and whether it asks a question (buttons that go)."""
        labels = [self.catalogue.render(c.text_key, message.language, c.params) for c in message.choices]
        if message.ask_location and private:
            share = self.catalogue.render(LOCATION_LABEL, message.language)
            rows: list[list[dict[str, Any]]] = [[{"text": share, "request_location": True}]]
            rows += [[{"text": label}] for label in labels]
            self._reply_keyboards.add(chat_id)
            return {"keyboard": rows, "resize_keyboard": True, "one_time_keyboard": True}, False
        if message.choices:
            buttons = []
            for choice, label in zip(message.choices, labels, strict=True):
                size = len(choice.id.encode("utf-8"))
                if not 1 <= size <= CALLBACK_DATA_LIMIT:
                    raise _Refuse(f"button {choice.id[:20]!r}… carries {size} bytes; Telegram allows 1-64")
                buttons.append({"text": label, "callback_data": choice.id})
            width = 2 if len(buttons) > 3 and all(len(label) <= 20 for label in labels) else 1
            rows = [buttons[i : i + width] for i in range(0, len(buttons), width)]
            question = any(not c.id.startswith(COMMAND_CHOICE_PREFIX) for c in message.choices)
            return {"inline_keyboard": rows}, question
        if chat_id in self._reply_keyboards:
            self._reply_keyboards.discard(chat_id)
            return {"remove_keyboard": True}, False
        return None, False

    async def _close_keyboard(self, chat_id: int, message_id: int) -> None:
        """Remove the buttons of a question that was answered by typing."""
        self._open_keyboards.pop(chat_id, None)
        edit = {"chat_id": chat_id, "message_id": message_id}
        try:
            await self._api(chat_id, lambda: call(self.bot, "editMessageReplyMarkup", edit), paced=False)
        except (TelegramError, _Defer) as exc:  # already gone, not modified, or a busy moment: only tidying
            log.debug("could not remove an old keyboard: %s", exc)

    def _text_call(
        self,
        chat_id: int,
        text: str,
        fallback: str,
        markup: Markup | None,
        question: bool,
    ) -> Call:
        params: dict[str, Any] = {"chat_id": chat_id, "text": text, "link_preview_options": NO_PREVIEW}
        if markup is not None:
            params["reply_markup"] = markup

        async def send_text() -> str:
            try:
                sent = await self._api(chat_id, lambda: call(self.bot, "sendMessage", params | {"parse_mode": "HTML"}))
            except BadRequest as exc:
                if "can't parse entities" not in str(exc).lower():
                    raise
                # A template (a city's own texts) with stray HTML: send it as plain text rather than not at all.
                log.warning("text is not valid Telegram HTML, sent as plain text: %s", exc)
                sent = await self._api(chat_id, lambda: call(self.bot, "sendMessage", params | {"text": fallback}))
            sent_id = message_id_of(sent)
            if question and sent_id is not None:  # the message went out either way; only its tidying needs the id
                remember(self._open_keyboards, chat_id, sent_id)
            return ""

        return send_text

    def _file_call(self, chat_id: int, item: OutboundFile) -> Call:
        async def send_file() -> str:
            key = (item.kind.value, item.path)
            cached = self._file_ids.get(key)
            if cached is not None:
                try:
                    await self._api(chat_id, lambda: self._send_file(chat_id, item.kind, cached, item.filename))
                    return ""
                except BadRequest as exc:  # the file_id is no longer accepted: upload the file again
                    log.info("cached Telegram file_id refused (%s); uploading again", exc)
                    self._file_ids.pop(key, None)
            path = self.attachments.path_of(item.path)
            if not path.is_file():
                raise FileNotFoundError(f"attachment {item.path} is missing")
            name = item.filename or path.name
            try:
                sent = await self._api(chat_id, lambda: self._send_file(chat_id, item.kind, path, name))
            except BadRequest as exc:
                if item.kind is not Attachment.PHOTO or "chat not found" in str(exc).lower():
                    raise
                # Telegram could not process it as a photo (size, ratio, format): send it as a file instead.
                log.info("photo refused (%s); sending it as a document", exc)
                sent = await self._api(chat_id, lambda: self._send_file(chat_id, Attachment.DOCUMENT, path, name))
            file_id = sent.photo[-1].file_id if sent.photo else sent.document.file_id if sent.document else None
            if file_id:
                remember(self._file_ids, key, file_id)
            return ""

        return send_file

    async def _send_file(self, chat_id: int, kind: Attachment, source: str | Path, filename: str) -> Message:
        if kind is Attachment.PHOTO:
            return await self.bot.send_photo(chat_id, source, filename=filename or None)
        return await self.bot.send_document(chat_id, source, filename=filename or None)

    async def _api(self, chat_id: int, make: Callable[[], Awaitable[T]], *, paced: bool = True) -> T:
        """Make one Bot API call when the pacing allows; wait out short 429s; defer long waits.

        The chat's own limit is waited for first; then the call takes a free connection and its overall turn (one
        caller at a time waits for the next slot, in arrival order), and is counted just before it is made.
        """
        limits = self.pacer.limits
        refusals = 0
        while True:
            wait = self.pacer.chat_wait(chat_id) if paced else 0.0
            if wait > limits.max_wait:
                raise _Defer(wait, f"paced: the chat may get its next message in {wait:.0f} s", tried=False)
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            try:
                async with self._parallel:
                    async with self._line:
                        wait = self.pacer.overall_wait()
                        while wait > 0:
                            await asyncio.sleep(wait)
                            wait = self.pacer.overall_wait()
                        self.pacer.take(chat_id if paced else None)
                    return await make()
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                refusals += 1
                if seconds > limits.max_wait or refusals > limits.retries:
                    # The chat's pause (in the outbox's time) keeps its later messages back from here on.
                    raise _Defer(seconds, f"RetryAfter: {seconds:.0f} s") from exc
                self.pacer.block(chat_id, seconds)
                log.info("Telegram asked to wait %.0f s before the next message to a chat", seconds)
