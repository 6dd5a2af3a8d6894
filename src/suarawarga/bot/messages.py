"""Platform-neutral message types: what comes in from a chat and what goes out to it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


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
    """A file already copied into the attachment store by the adapter."""

    kind: MediaKind
    path: str  # relative to the attachment directory
    mime: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message or button press from a chat, normalised by an adapter."""

    key: ConversationKey
    external_id: str  # Telegram update_id / WhatsApp message id: unique per channel, used to drop duplicates
    received_at: datetime
    sender_id: str = ""  # the person (differs from chat_id in groups)
    text: str | None = None
    command: str | None = None  # normalised: "start", "batal", ... (arguments stay in `text`)
    choice: str | None = None  # id of a pressed button / list row
    location: tuple[float, float] | None = None
    media: tuple[MediaRef, ...] = ()
    contact: str | None = None  # a shared phone number
    language: str | None = None  # the platform's language hint, if any
    unsupported: str | None = None  # "sticker", "reaction", ...: a message type no step can use
    sender_name: str | None = None
    group: bool = False  # from a group chat: only commands and buttons are acted on there

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
    template: str | None = None  # message kind for a template send outside WhatsApp's 24-hour window
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
            "template": self.template,
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
            template=payload.get("template"),
            id=id,
        )


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
