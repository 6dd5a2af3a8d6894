"""Platform-neutral message types: what comes in from a chat and what goes out to it."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

log = logging.getLogger(__name__)


class ChannelName(StrEnum):
    """A messaging platform; persisted by name."""

    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    CONSOLE = "console"


class OutboxStatus(StrEnum):
    """Delivery state of an outbox message; persisted by name."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry, or an error no retry fixes
    UNREACHABLE = "unreachable"  # the recipient blocked the bot or does not exist
    STALE = "stale"  # not sent: it waited minutes for a retry and the conversation went on without it


class NoticeKind(StrEnum):
    """The kind of a notice (a message that may reach a chat gone quiet); persisted by name in the outbox.

    Each adapter renders a kind as it needs: WhatsApp sends the template configured for it past its 24-hour window.
    """

    COMPLAINT_NEW = "complaint_new"
    COMPLAINT_UPDATE = "complaint_update"
    INFO_REQUEST = "info_request"
    STAFF_UPDATE = "staff_update"
    SURVEY_INVITATION = "survey_invitation"
    DIGEST = "digest"


class InboxStatus(StrEnum):
    """Processing state of a raw platform update; persisted by name."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # could not be parsed or processed after retries


class MediaKind(StrEnum):
    """What kind of file a citizen or officer sent."""

    PHOTO = "photo"
    DOCUMENT = "document"
    VOICE = "voice"
    VIDEO = "video"


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """One chat on one channel: the unit of ordering and of conversation state."""

    channel: ChannelName
    chat_id: str


@dataclass(frozen=True, slots=True)
class MediaRef:
    """A file in the attachment store (re-encoded if it is an image)."""

    kind: MediaKind
    path: str  # relative to the attachment directory
    mime: str
    size: int
    sha256: str


# Control characters (C0 but tab and line feed, DEL, C1) and lone surrogates, which no citizen means to send: the
# database refuses NUL and surrogates (the complaint was lost at "Kirim"), and terminals act on escape sequences.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\t\n\r]+")
_ONE_LINE = ("command", "choice", "contact", "language", "unsupported", "sender_name")


def clean_text(value: str) -> str:
    """Return free text without control characters or lone surrogates; new lines (CR LF -> LF) and tabs stay."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", value)


def clean_line(value: str) -> str:
    """Return a one-line value (a name, a choice id) with line breaks as spaces and no other control character."""
    return _CONTROLS.sub("", _LINE_BREAKS.sub(" ", value))


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """A file a chat sent, still at the platform: fetched only if a step accepts it (see bot/attachments.py)."""

    kind: MediaKind
    mime: str  # as the platform declared it (the bytes decide what is stored)
    source: str  # the channel's handle: a Telegram file_id, a WhatsApp media id, a console file path
    size: int | None = None  # bytes, as the platform declared it
    name: str | None = None  # the file name a document was sent with


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message or button press from a chat, normalised by an adapter.

    Whatever an adapter puts in its text fields is cleaned here, the one place every channel's input passes:
    free text keeps its new lines and tabs, one-line fields keep no control character at all.
    """

    key: ConversationKey
    external_id: str  # Telegram update_id / WhatsApp message id: unique per channel, used to drop duplicates
    received_at: datetime
    sender_id: str = ""  # the person (differs from chat_id in groups)
    text: str | None = None
    command: str | None = None  # normalised: "start", "batal", ... (arguments stay in `text`)
    choice: str | None = None  # id of a pressed button / list row
    location: tuple[float, float] | None = None
    media: tuple[IncomingFile, ...] = ()  # files not downloaded yet
    contact: str | None = None  # a shared phone number
    language: str | None = None  # the platform's language hint, if any
    unsupported: str | None = None  # "sticker", "reaction", ...: a message type no step can use
    sender_name: str | None = None
    group: bool = False  # from a group chat: only commands and buttons are acted on there
    # The chat wrote to us (WhatsApp's 24-hour window opens at `received_at`): stored with the turn's commit.
    opens_window: bool = False

    def __post_init__(self) -> None:
        if self.text is not None:
            object.__setattr__(self, "text", clean_text(self.text))
        for name in _ONE_LINE:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, clean_line(value))

    @property
    def is_empty(self) -> bool:
        """Tell whether the inbound carries nothing a step could use."""
        return not (self.text and self.text.strip()) and not (
            self.command or self.choice or self.location or self.media or self.contact
        )


@dataclass(frozen=True, slots=True)
class Choice:
    """A button the user can press: `id` comes back in Inbound.choice, the label is a catalogue text."""

    id: str
    text_key: str
    params: Mapping[str, str] = field(default_factory=dict)
    means: str | None = None  # "yes"/"no" (bot.matching.Means) when typed yes/no words should pick this button


class Attachment(StrEnum):
    """How a file rides along an outbound message."""

    PHOTO = "photo"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class OutboundFile:
    """A file to send with a message, by its path in the attachment store."""

    kind: Attachment
    path: str
    filename: str = ""


@dataclass(frozen=True, slots=True)
class Outbound:
    """A message to a chat: a catalogue key with parameters, rendered by the channel in `language`."""

    key: ConversationKey
    text_key: str
    params: Mapping[str, str] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    language: str = "id"
    ask_location: bool = False  # the adapter may offer a "share location" button
    files: tuple[OutboundFile, ...] = ()
    # A notice (not a reply): it may go out after the chat went quiet, e.g. past WhatsApp's 24-hour window; each
    # adapter decides how to render its kind (WhatsApp: the template for the kind).
    notice: NoticeKind | None = None
    id: str = ""  # outbox id, set when written to the outbox

    def to_payload(self) -> dict[str, Any]:
        """Serialise to a JSON-safe dict for the outbox (without the key and id)."""
        return {
            "text_key": self.text_key,
            "params": dict(self.params),
            "choices": [[c.id, c.text_key, dict(c.params)] for c in self.choices],
            "language": self.language,
            "ask_location": self.ask_location,
            "files": [[f.kind.value, f.path, f.filename] for f in self.files],
            "notice": self.notice.value if self.notice is not None else None,
        }

    @classmethod
    def from_payload(cls, key: ConversationKey, payload: Mapping[str, Any], id: str = "") -> Outbound:
        """Rebuild an outbound from its outbox payload."""
        return cls(
            key=key,
            text_key=payload["text_key"],
            params=dict(payload.get("params", {})),
            choices=tuple(Choice(c[0], c[1], dict(c[2])) for c in payload.get("choices", [])),
            language=payload.get("language", "id"),
            ask_location=bool(payload.get("ask_location", False)),
            files=tuple(OutboundFile(Attachment(f[0]), f[1], f[2]) for f in payload.get("files", [])),
            notice=notice_kind(payload),
            id=id,
        )


def notice_kind(payload: Mapping[str, Any]) -> NoticeKind | None:
    """Return the notice kind of an outbox payload (older rows stored it as "template"), or None for a reply."""
    kind = payload.get("notice", payload.get("template"))
    if not kind:
        return None
    try:
        return NoticeKind(kind)
    except ValueError:  # a kind this version does not know (a row of a newer one): sent as a reply, not a crash
        log.warning("outbox message with an unknown notice kind %r is sent as a reply", str(kind)[:40])
        return None


# `/command[@bot] args`: Telegram's command syntax, which the other channels accept as typed too.
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]+))?(?:\s+(.*))?\Z", re.DOTALL)


def parse_command(text: str, bot_username: str | None) -> tuple[str, str] | None:
    """Return (command, arguments) of a `/command[@bot] args` text, or None if it is not one for this bot."""
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    mention = match.group(2)
    if mention and bot_username and mention.lower() != bot_username.lower():
        return None
    return match.group(1).lower(), (match.group(3) or "").strip()
