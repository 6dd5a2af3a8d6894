"""The Telegram channel on python-telegram-bot 22: Bot API updates -> Inbound, Outbound -> Bot API calls.

Inbound: updates arrive by webhook (POST /telegram, secret header checked in constant time before parsing; see
bot/web.py) or by long polling (`TelegramChannel.poll`); either way the raw update is stored in the inbox before
it is acknowledged. The parser turns a stored update into an `Inbound`: text, commands (`/cmd@bot args`, deep
links `/start payload`), button presses (answered at once; the keyboard of an answered question is removed so an
old button cannot be replayed), photos, documents, voice notes and videos (as references: `fetch` downloads one
only when a step accepts it), a shared location or contact, and anything else as "unsupported".

Outbound: a message is rendered from the catalogue in its language with HTML-escaped parameters; texts over 4 096
characters are split (the keyboard rides on the last part); choices become an inline keyboard whose callback data
is the choice id (at most 64 bytes, checked here); where a location is asked in a private chat, a reply keyboard
offers a "share location" button and the choices as text buttons; files go out with sendPhoto/sendDocument from
the attachment store, and the file_id Telegram returns is reused for the next send of the same file.

Pacing (docs/platforms.md §1.1): at most ~30 calls a second overall, a short burst then 1 a second per private chat, 20
a minute per group. Calls are spaced evenly (28 a second by default) and take their turn first come, first served,
so a large batch (the weekly digests) goes out at a steady rate without bursts that Telegram would answer with 429.
Different chats are sent concurrently, each chat in order. A wait longer than a few seconds
(a group's minute is full, or a 429 with a long `retry_after`) is not slept through: the message, and every later
one to that chat, goes back to the outbox with that wait, so the chat's order holds and other chats go on.
Errors: 429 -> retry after `retry_after`; 403 (blocked, kicked) and "chat not found" -> unreachable; other 400s ->
failed; network errors and timeouts -> retry with back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import mimetypes
import re
import time
import warnings
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.routing import BaseRoute
from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from suarawarga.bot.attachments import AttachmentStore, MediaRefused
from suarawarga.bot.channels.base import MEMORY, remember
from suarawarga.bot.conversation import COMMAND_CHOICE_PREFIX
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
    parse_command,
)
from suarawarga.bot.metrics import Metrics
from suarawarga.bot.sender import Progress, Sender, SendReport
from suarawarga.bot.texts import Catalogue
from suarawarga.bot.web import telegram_route
from suarawarga.clock import Clock
from suarawarga.errors import ChannelError
from suarawarga.logging import redact

if TYPE_CHECKING:
    from suarawarga.bootstrap import App

log = logging.getLogger(__name__)

CHANNEL = ChannelName.TELEGRAM
ALLOWED_UPDATES = ("message", "callback_query")  # edits, reactions and member updates are not acted on
TEXT_LIMIT = 4096  # characters (UTF-16 code units) of a message after entity parsing
CALLBACK_DATA_LIMIT = 64  # bytes
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API lets bots download files up to 20 MB
POLL_TIMEOUT = 50  # seconds a getUpdates long poll may wait for an update
STORE_RETRY = 2.0  # seconds before fetching again an update that could not be stored
LOCATION_LABEL = "input.share_location"
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_UNREACHABLE = ("chat not found", "user not found", "peer_id_invalid", "bot was blocked", "user is deactivated")
# What reading a malformed update raises: PTB's de_json checks no types, so a wrong one fails wherever it is used.
_MALFORMED = (AttributeError, KeyError, TypeError, ValueError, OverflowError)
_UNSUPPORTED = ("sticker", "animation", "poll", "dice", "game", "story", "paid_media", "invoice", "checklist")
_HOLD_GRACE = timedelta(minutes=2)  # a chat's hold lapses this long after its due time, whatever happened
_GROUP_WINDOW = 61.0  # seconds: Telegram's minute, plus a margin for the time a request takes to arrive
ID_LIMIT = 2**52  # chat and user ids "have at most 52 significant bits" (Bot API); anything else is not an id

Accept = Callable[[ChannelName, str, dict[str, Any]], Awaitable[bool]]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Limits:
    """How fast the sender may call the Bot API (defaults stay under Telegram's published limits)."""

    per_second: int = 28  # calls a second overall, evenly spaced (Telegram: about 30; 2 spare for network jitter)
    private_burst: float = 4  # calls a private chat may get at once ...
    private_per_second: float = 1.0  # ... before this rate applies (Telegram: 1 a second, short bursts allowed)
    group_per_minute: int = 20  # calls a minute to one group (Telegram: 20)
    max_wait: float = 3.0  # seconds a send may wait in line; longer waits go back to the outbox
    retries: int = 3  # 429 answers a call may get (each waited out) before it goes back to the outbox
    parallel: int = 16  # Bot API calls in flight at once


# --------------------------------------------------------------------------- text helpers


def utf16_length(text: str) -> int:
    """Return the length Telegram counts: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split a text into parts of at most `limit` UTF-16 units, at a line break or space where possible."""
    parts: list[str] = []
    rest = text
    while utf16_length(rest) > limit:
        cut, units = 0, 0
        for char in rest:
            units += 2 if ord(char) > 0xFFFF else 1
            if units > limit:
                break
            cut += 1
        window = rest[:cut]
        at = window.rfind("\n")
        if at < cut // 2:
            at = window.rfind(" ")
        if at < cut // 2:
            at = cut
        parts.append(rest[:at].rstrip())
        rest = rest[at:].lstrip("\n ")
    parts.append(rest)
    return [part for part in parts if part.strip()] or [text[:limit]]


# No link previews: a link in citizen text must not make Telegram fetch it (and show its page in an officer's
# group); the bot's own texts need none.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def escape(value: str) -> str:
    """Escape a parameter for Telegram's HTML parse mode."""
    return html.escape(value, quote=False)


def retry_seconds(error: RetryAfter) -> float:
    """Return a RetryAfter's wait in seconds (PTB gives an int or a timedelta, depending on PTB_TIMEDELTA)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB's deprecation notice about int periods
        value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# --------------------------------------------------------------------------- pacing


class Pacer:
    """Spaces Bot API calls: overall, per private chat (a burst, then a steady rate), per group (a minute's quota)."""

    def __init__(self, limits: Limits, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._now = monotonic
        self._overall: deque[float] = deque()
        self._next: float | None = None  # when the next call is due (calls are spaced evenly)
        self._private: dict[int, tuple[float, float]] = {}  # chat -> (tokens, at)
        self._groups: dict[int, deque[float]] = {}
        self._blocked: dict[int, float] = {}  # chat -> until (a 429 said so)

    def chat_wait(self, chat_id: int) -> float:
        """Return the seconds before the chat may get its next message."""
        now = self._now()
        wait = self._blocked.get(chat_id, now) - now
        if chat_id > 0:
            tokens, at = self._private.get(chat_id, (self.limits.private_burst, now))
            tokens = min(self.limits.private_burst, tokens + (now - at) * self.limits.private_per_second)
            if tokens < 1:
                wait = max(wait, (1 - tokens) / self.limits.private_per_second)
        else:
            window = self._groups.get(chat_id)
            if window:
                while window and window[0] <= now - _GROUP_WINDOW:
                    window.popleft()
                if len(window) >= self.limits.group_per_minute:
                    wait = max(wait, window[0] + _GROUP_WINDOW - now)
        return max(wait, 0.0)

    def overall_wait(self) -> float:
        """Return the seconds before the next call may go out (its turn in the spacing, within a second's quota)."""
        now = self._now()
        while self._overall and self._overall[0] <= now - 1:
            self._overall.popleft()
        wait = self._next - now if self._next is not None else 0.0
        if len(self._overall) >= self.limits.per_second:
            wait = max(wait, self._overall[0] + 1 - now)
        return max(wait, 0.0)

    def take(self, chat_id: int | None) -> None:
        """Count a call (to a chat's message quota too, when a chat is given)."""
        now = self._now()
        self._overall.append(now)
        # The next call is due one interval after this one was due, so a late wake-up does not slow the rate;
        # after an idle spell or a stall (more than half an interval late) the spacing starts again from now,
        # so lost time is never made up with a burst.
        interval = 1.0 / self.limits.per_second
        due = self._next if self._next is not None and now - self._next <= interval / 2 else now
        self._next = due + interval
        if chat_id is None:
            return
        if chat_id > 0:
            tokens, at = self._private.get(chat_id, (self.limits.private_burst, now))
            tokens = min(self.limits.private_burst, tokens + (now - at) * self.limits.private_per_second)
            self._private[chat_id] = (tokens - 1, now)
        else:
            self._groups.setdefault(chat_id, deque()).append(now)
        if len(self._private) + len(self._groups) > MEMORY:
            self._prune(now)

    def block(self, chat_id: int, seconds: float) -> None:
        """Hold a chat back for `seconds` (Telegram answered 429)."""
        self._blocked[chat_id] = max(self._blocked.get(chat_id, 0.0), self._now() + seconds)

    def _prune(self, now: float) -> None:
        full = self.limits.private_burst / self.limits.private_per_second
        self._private = {c: v for c, v in self._private.items() if now - v[1] < full}
        self._groups = {c: w for c, w in self._groups.items() if w and w[-1] > now - _GROUP_WINDOW}
        self._blocked = {c: t for c, t in self._blocked.items() if t > now}


# --------------------------------------------------------------------------- sending


class _Defer(Exception):
    """The chat must wait longer than a send may block: the message goes back to the outbox."""

    def __init__(self, seconds: float, reason: str, *, tried: bool = True) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason
        self.tried = tried  # False: our own pacing held it back, so no attempt is counted


class _Refuse(Exception):
    """A message Telegram would reject whatever we do (a flow bug): it fails without a request."""


@dataclass(slots=True)
class _Hold:
    """A chat whose messages wait for the outbox: `ids` must go out, in order, before anything newer."""

    until: datetime
    ids: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


Call = Callable[[], Awaitable[None]]


def _verdict(error: BaseException) -> tuple[str, str]:
    """Sort a failed send into ("unreachable" | "failed" | "retry", error text)."""
    text = redact(f"{type(error).__name__}: {error}")[:300]
    if isinstance(error, Forbidden):
        return "unreachable", text
    if isinstance(error, ChatMigrated):
        log.warning("a Telegram group became a supergroup (new id %s): link the new group again", error.new_chat_id)
        return "failed", text
    if isinstance(error, BadRequest):
        lowered = str(error).lower()
        return ("unreachable" if any(s in lowered for s in _UNREACHABLE) else "failed"), text
    if isinstance(error, _Refuse | OSError | ValueError):
        return "failed", text
    if isinstance(error, NetworkError | TelegramError):
        return "retry", text
    log.error("unexpected error while sending to Telegram", exc_info=error)
    return "retry", text


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
        self._turns: dict[int, _Turn] = {}
        self._holds: dict[int, _Hold] = {}
        self._progress: dict[str, int] = {}  # outbox id -> calls of it already made (resume after a retry)
        self._file_ids: dict[tuple[str, str], str] = {}  # (kind, path) -> Telegram file_id
        self._open_keyboards: dict[int, int] = {}  # chat -> message whose question keyboard is still shown
        self._reply_keyboards: set[int] = set()  # chats shown a reply keyboard (share location)

    async def send(self, messages: Sequence[Outbound], progress: Progress | None = None) -> SendReport:
        """Send the messages (chats concurrently, each chat in order) and say what happened to each."""
        by_chat: dict[str, list[Outbound]] = {}
        for message in messages:
            by_chat.setdefault(message.key.chat_id, []).append(message)
        report = SendReport()
        chats = (self._send_chat(chat, batch, progress) for chat, batch in by_chat.items())
        for part in await asyncio.gather(*chats):
            report.merge(part)
        return report

    def keyboard_answered(self, chat_id: int, message_id: int) -> None:
        """Note that the keyboard of a message was removed because its button was pressed."""
        if self._open_keyboards.get(chat_id) == message_id:
            del self._open_keyboards[chat_id]

    @contextlib.asynccontextmanager
    async def _turn(self, chat_id: int) -> AsyncIterator[None]:
        """Serialise sends to one chat across concurrent calls of `send`."""
        turn = self._turns.setdefault(chat_id, _Turn())
        turn.users += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.users -= 1
            if turn.users == 0:
                self._turns.pop(chat_id, None)

    async def _send_chat(self, chat: str, batch: list[Outbound], progress: Progress | None) -> SendReport:
        report = SendReport()
        try:
            chat_id = int(chat)
        except ValueError:
            for message in batch:
                report.failed[message.id] = f"not a Telegram chat id: {chat[:40]}"
            return report
        async with self._turn(chat_id):
            stop: tuple[str, str] | None = None  # once a chat is unreachable or failing, the rest of it waits too
            for message in batch:
                if stop is not None:
                    kind, error = stop
                    if kind == "unreachable":
                        report.unreachable[message.id] = error
                    else:  # not tried: it waits behind the earlier message, in the outbox's order
                        report.deferred[message.id] = timedelta(0)
                    continue
                wait = self._held(chat_id, message)
                if wait is not None:
                    report.deferred[message.id] = timedelta(seconds=wait)
                    continue
                try:
                    await self._send_message(chat_id, message)
                except _Defer as deferred:
                    self._hold(chat_id, message.id, deferred.seconds)
                    if deferred.tried:
                        report.retry[message.id] = (deferred.reason, timedelta(seconds=deferred.seconds))
                    else:
                        report.deferred[message.id] = timedelta(seconds=deferred.seconds)
                    continue
                except Exception as exc:
                    kind, error = _verdict(exc)
                    if kind != "retry":
                        self._release(chat_id, message.id)
                    if kind == "unreachable":
                        report.unreachable[message.id] = error
                        self._forget_chat(chat_id)
                        stop = (kind, error)
                    elif kind == "failed":
                        log.warning("Telegram refused a message (%s): %s", message.text_key, error)
                        report.failed[message.id] = error
                    else:
                        report.retry[message.id] = (error, None)
                        stop = (kind, error)
                    continue
                self._release(chat_id, message.id)
                report.sent.append(message.id)
                if progress is not None:
                    await progress(SendReport(sent=[message.id]))
        return report

    # ------------------------------------------------------------------ holds (waits longer than a send blocks)

    def _held(self, chat_id: int, message: Outbound) -> float | None:
        """Return how long a message must still wait behind the chat's held messages, or None to send it."""
        hold = self._holds.get(chat_id)
        if hold is None:
            return None
        now = self.clock.now()
        if now >= hold.until + _HOLD_GRACE:
            del self._holds[chat_id]
            return None
        remaining = (hold.until - now).total_seconds()
        if message.id in hold.ids:
            return remaining if remaining > 0 else None
        hold.ids.add(message.id)
        return max(remaining, 0.0) + 1.0  # due just after the held ones, so the outbox keeps the order

    def _hold(self, chat_id: int, message_id: str, seconds: float) -> None:
        until = self.clock.now() + timedelta(seconds=seconds)
        hold = self._holds.setdefault(chat_id, _Hold(until))
        hold.until = max(hold.until, until)
        hold.ids.add(message_id)

    def _release(self, chat_id: int, message_id: str) -> None:
        hold = self._holds.get(chat_id)
        if hold is not None:
            hold.ids.discard(message_id)
            if not hold.ids:
                del self._holds[chat_id]

    def _forget_chat(self, chat_id: int) -> None:
        self._open_keyboards.pop(chat_id, None)
        self._reply_keyboards.discard(chat_id)

    # ------------------------------------------------------------------ one message

    async def _send_message(self, chat_id: int, message: Outbound) -> None:
        """Make the calls of one message, resuming after the calls a failed earlier attempt already made."""
        calls = self._plan(chat_id, message)
        done = self._progress.get(message.id, 0) if message.id else 0
        stale = self._open_keyboards.get(chat_id)
        # A reply (not a notice) replaces the chat's current question: the old question's buttons go.
        if done == 0 and stale is not None and message.template is None:
            await self._close_keyboard(chat_id, stale)
        for index in range(done, len(calls)):
            await calls[index]()
            if message.id:
                remember(self._progress, message.id, index + 1)
        self._progress.pop(message.id, None)

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
            texts = [(escape(part), part) for part in split_text(plain)]
        calls: list[Call] = []
        for number, (text, fallback) in enumerate(texts, 1):
            last = number == len(texts)
            calls.append(self._text_call(chat_id, text, fallback, markup if last else None, question and last))
        calls += [self._file_call(chat_id, item) for item in message.files]
        return calls

    def _markup(
        self, chat_id: int, message: Outbound, private: bool
    ) -> tuple[InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None, bool]:
        """Return the keyboard of a message, and whether it asks a question (buttons that go once answered)."""
        labels = [self.catalogue.render(c.text_key, message.language, c.params) for c in message.choices]
        if message.ask_location and private:
            rows = [[KeyboardButton(self.catalogue.render(LOCATION_LABEL, message.language), request_location=True)]]
            rows += [[KeyboardButton(label)] for label in labels]
            self._reply_keyboards.add(chat_id)
            return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True), False
        if message.choices:
            buttons = []
            for choice, label in zip(message.choices, labels, strict=True):
                size = len(choice.id.encode("utf-8"))
                if not 1 <= size <= CALLBACK_DATA_LIMIT:
                    raise _Refuse(f"button {choice.id[:20]!r}… carries {size} bytes; Telegram allows 1-64")
                buttons.append(InlineKeyboardButton(label, callback_data=choice.id))
            width = 2 if len(buttons) > 3 and all(len(label) <= 20 for label in labels) else 1
            rows_ = [buttons[i : i + width] for i in range(0, len(buttons), width)]
            question = any(not c.id.startswith(COMMAND_CHOICE_PREFIX) for c in message.choices)
            return InlineKeyboardMarkup(rows_), question
        if chat_id in self._reply_keyboards:
            self._reply_keyboards.discard(chat_id)
            return ReplyKeyboardRemove(), False
        return None, False

    async def _close_keyboard(self, chat_id: int, message_id: int) -> None:
        """Remove the buttons of a question that was answered by typing."""
        self._open_keyboards.pop(chat_id, None)
        try:
            await self._api(chat_id, lambda: self.bot.edit_message_reply_markup(chat_id, message_id), paced=False)
        except (TelegramError, _Defer) as exc:  # already gone, not modified, or a busy moment: only tidying
            log.debug("could not remove an old keyboard: %s", exc)

    def _text_call(
        self,
        chat_id: int,
        text: str,
        fallback: str,
        markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None,
        question: bool,
    ) -> Call:
        async def send_text() -> None:
            try:
                sent = await self._api(
                    chat_id,
                    lambda: self.bot.send_message(
                        chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=NO_PREVIEW
                    ),
                )
            except BadRequest as exc:
                if "can't parse entities" not in str(exc).lower():
                    raise
                # A template (a city's own texts) with stray HTML: send it as plain text rather than not at all.
                log.warning("text is not valid Telegram HTML, sent as plain text: %s", exc)
                sent = await self._api(
                    chat_id,
                    lambda: self.bot.send_message(
                        chat_id, fallback, reply_markup=markup, link_preview_options=NO_PREVIEW
                    ),
                )
            if question:
                remember(self._open_keyboards, chat_id, sent.message_id)

        return send_text

    def _file_call(self, chat_id: int, item: OutboundFile) -> Call:
        async def send_file() -> None:
            key = (item.kind.value, item.path)
            cached = self._file_ids.get(key)
            if cached is not None:
                try:
                    await self._api(chat_id, lambda: self._send_file(chat_id, item.kind, cached, item.filename))
                    return
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
                    # The chat's hold (in the outbox's time) keeps its later messages back from here on.
                    raise _Defer(seconds, f"RetryAfter: {seconds:.0f} s") from exc
                self.pacer.block(chat_id, seconds)
                log.info("Telegram asked to wait %.0f s before the next message to a chat", seconds)


# --------------------------------------------------------------------------- the channel


class TelegramChannel:
    """Telegram as a channel: webhook route, parser of stored updates, sender, and long polling."""

    name = CHANNEL

    def __init__(
        self,
        bot: Bot,
        *,
        catalogue: Catalogue,
        attachments: AttachmentStore,
        clock: Clock,
        webhook_secret: str | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.bot = bot
        self.clock = clock
        self.attachments = attachments
        self.webhook_secret = webhook_secret or None
        self.telegram_sender = TelegramSender(bot, catalogue, attachments, clock, limits)
        self.sender: Sender = self.telegram_sender
        self.parser: Parser = self.parse
        # Set by telegram_channel(): messages older than this by their own date are refused at the webhook (a
        # replay of a captured request after the processed-ids log was pruned would be processed again).
        self.horizon: timedelta | None = None
        self.metrics: Metrics | None = None

    @classmethod
    def connect(
        cls,
        token: str,
        api_url: str = "https://api.telegram.org",
        *,
        catalogue: Catalogue,
        attachments: AttachmentStore,
        clock: Clock,
        webhook_secret: str | None = None,
        limits: Limits | None = None,
    ) -> TelegramChannel:
        """Build the channel on a PTB Bot for a Bot API server root (Telegram's, or a self-hosted one)."""
        root = api_url.rstrip("/")
        parallel = (limits or Limits()).parallel
        bot = Bot(
            token,
            base_url=f"{root}/bot",
            base_file_url=f"{root}/file/bot",
            request=HTTPXRequest(
                connection_pool_size=parallel + 8,  # sends, plus downloads and callback answers beside them
                pool_timeout=10.0,
                read_timeout=15.0,
                write_timeout=20.0,
                media_write_timeout=60.0,
            ),
            get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=10.0),
        )
        return cls(
            bot,
            catalogue=catalogue,
            attachments=attachments,
            clock=clock,
            webhook_secret=webhook_secret,
            limits=limits,
        )

    @property
    def username(self) -> str:
        """Return the bot's @username (known once started)."""
        return self.bot.username

    def _username(self) -> str | None:
        try:
            return self.bot.username
        except RuntimeError:  # not started: every /command@bot is taken as ours
            return None

    def routes(self, inbox: Acceptor) -> Sequence[BaseRoute]:
        """Return POST /telegram when a webhook secret is configured (no secret, no webhook)."""
        if self.webhook_secret is None:
            return []
        return [telegram_route(inbox, self.webhook_secret, self._too_old)]

    def _too_old(self, update: Any) -> bool:
        """Tell whether a webhook update's message is older than the horizon by its own date (and count it)."""
        message = update.get("message") if isinstance(update, dict) else None
        date = message.get("date") if isinstance(message, dict) else None
        if self.horizon is None or type(date) is not int or date >= (self.clock.now() - self.horizon).timestamp():
            return False
        log.warning("refused a Telegram message older than %d days (a replay?)", self.horizon.days)
        if self.metrics is not None:
            self.metrics.too_old.labels(CHANNEL.value).inc()
        return True

    async def start(self) -> None:
        """Open the HTTP clients and learn the bot's identity (getMe), which also checks the token."""
        # PTB 22 warns on every 429 unless PTB_TIMEDELTA is set; `retry_seconds` reads both forms.
        warnings.filterwarnings("ignore", message=r".*`retry_after`", category=PTBDeprecationWarning)
        try:
            await self.bot.initialize()
        except InvalidToken:
            # PTB's message repeats the token: never let it reach a log.
            raise ChannelError("the Bot API rejected SUARAWARGA_TELEGRAM_TOKEN") from None
        except TelegramError as exc:
            raise ChannelError(f"could not reach the Bot API ({type(exc).__name__}: {redact(str(exc))})") from None

    async def stop(self) -> None:
        """Close the HTTP clients."""
        await self.bot.shutdown()

    def secret_is_valid(self) -> bool:
        """Tell whether the webhook secret is one Telegram accepts (1-256 of A-Z a-z 0-9 _ -)."""
        return self.webhook_secret is not None and SECRET_TOKEN.fullmatch(self.webhook_secret) is not None

    async def set_webhook(self, url: str) -> None:
        """Register the webhook URL and secret with Telegram (for `serve`)."""
        if not self.secret_is_valid():
            raise ChannelError("the webhook secret must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        try:
            await self.bot.set_webhook(url, secret_token=self.webhook_secret, allowed_updates=ALLOWED_UPDATES)
        except TelegramError as exc:
            raise ChannelError(f"setWebhook failed: {redact(str(exc))}") from None

    async def delete_webhook(self) -> None:
        """Remove any webhook (pending updates are kept), so that long polling works."""
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
        except TelegramError as exc:
            raise ChannelError(f"deleteWebhook failed: {redact(str(exc))}") from None

    async def poll(self, accept: Accept, *, wait: int = POLL_TIMEOUT) -> None:
        """Long-poll getUpdates until cancelled; each update is stored (`accept`) before the offset passes it."""
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await self.bot.get_updates(offset=offset, timeout=wait, allowed_updates=ALLOWED_UPDATES)
            except RetryAfter as exc:
                await asyncio.sleep(retry_seconds(exc))
                continue
            except TelegramError as exc:  # network trouble, a conflicting poller, a webhook set meanwhile
                failures += 1
                log.warning("getUpdates failed (%s: %s); trying again", type(exc).__name__, redact(str(exc)))
                await asyncio.sleep(min(2.0**failures, 30.0))
                continue
            failures = 0
            for update in updates:
                try:
                    await accept(CHANNEL, str(update.update_id), update.to_dict())
                except Exception:  # the database is down: the update is fetched again, offset unchanged
                    log.exception("could not store Telegram update; fetching it again")
                    await asyncio.sleep(STORE_RETRY)
                    break
                offset = update.update_id + 1

    # ------------------------------------------------------------------ parsing stored updates

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
        tidy: list[Awaitable[Any]] = [self.bot.answer_callback_query(query.id)]
        if message is not None and remove_keyboard:
            tidy.append(self.bot.edit_message_reply_markup(message.chat.id, message.message_id))
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


def telegram_channel(app: App, *, limits: Limits | None = None) -> TelegramChannel | None:
    """Build the Telegram channel from the settings; None when no bot token is set."""
    settings = app.settings
    token = settings.telegram_token.get_secret_value() if settings.telegram_token is not None else ""
    if not token:
        return None
    secret = settings.telegram_webhook_secret
    if limits is None and settings.telegram_send_rate is not None:
        limits = Limits(per_second=settings.telegram_send_rate)
    channel = TelegramChannel.connect(
        token,
        settings.telegram_api_url,
        catalogue=app.catalogue,
        attachments=app.attachments,
        clock=app.clock,
        webhook_secret=secret.get_secret_value() if secret is not None else None,
        limits=limits,
    )
    channel.horizon, channel.metrics = timedelta(days=settings.message_log_days), app.metrics
    return channel
