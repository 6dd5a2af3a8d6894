"""The console channel: chat with the bot in a terminal, and the recording sender used by dialog tests."""

from __future__ import annotations

import dataclasses
import mimetypes
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from suarawarga.bot.attachments import MediaRefused
from suarawarga.bot.messages import (
    ChannelName,
    ConversationKey,
    Inbound,
    IncomingFile,
    MediaKind,
    Outbound,
    parse_command,
)
from suarawarga.bot.sender import Progress, SendReport
from suarawarga.bot.texts import Catalogue
from suarawarga.clock import Clock


def render(message: Outbound, catalogue: Catalogue) -> str:
    """Render an outbound as console text: the message, then its choices numbered from 1."""
    lines = [catalogue.render(message.text_key, message.language, message.params)]
    for number, choice in enumerate(message.choices, 1):
        lines.append(f"  {number}. {catalogue.render(choice.text_key, message.language, choice.params)}")
    for item in message.files:
        lines.append(f"  [{item.kind}: {item.filename or item.path}]")
    return "\n".join(lines)


def parse_line(line: str, key: ConversationKey, clock: Clock) -> Inbound | str:
    """Turn a typed line into an Inbound, or return an error text for a malformed console command."""
    text = line.strip()
    now = clock.now()
    base = Inbound(key=key, external_id=uuid.uuid4().hex, received_at=now, sender_id=key.chat_id)
    if text.startswith("/lokasi") or text.startswith("/location"):
        _, _, rest = text.partition(" ")
        try:
            lat_text, lon_text = rest.replace(" ", "").split(",")
            return dataclasses.replace(base, location=(float(lat_text), float(lon_text)))
        except ValueError:
            return "usage: /lokasi LAT,LON   e.g. /lokasi -0.95,100.35"
    if text.startswith("/foto") or text.startswith("/photo"):
        _, _, rest = text.partition(" ")
        path = Path(rest.strip()).expanduser()
        if not path.is_file():
            return "usage: /foto PATH-TO-AN-IMAGE-FILE"
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        kind = MediaKind.PHOTO if mime.startswith("image/") else MediaKind.DOCUMENT
        # Like the other channels: a reference, read only if a step accepts the file (read_local_file).
        item = IncomingFile(kind, mime, str(path.resolve()), size=path.stat().st_size, name=path.name)
        return dataclasses.replace(base, media=(item,))
    if text.startswith("/stiker") or text.startswith("/sticker"):
        return dataclasses.replace(base, unsupported="sticker")
    command = parse_command(text, None)
    if command is not None:
        return dataclasses.replace(base, command=command[0], text=command[1] or None)
    return dataclasses.replace(base, text=line)


async def read_local_file(item: IncomingFile, limit: int) -> bytes:
    """Read a file the console user named with /foto, once a step accepts it (at most `limit` bytes)."""
    try:
        with open(item.source, "rb") as handle:  # noqa: ASYNC230 - one small local file typed by the user
            data = handle.read(limit + 1)
    except OSError:
        raise MediaRefused("media.unavailable") from None
    if len(data) > limit:
        raise MediaRefused("media.too_large", max=str(limit // (1024 * 1024)))
    return data


class RecordingSender:
    """A sender that keeps a transcript of rendered messages per chat (for tests and the console)."""

    def __init__(self, catalogue: Catalogue, echo: Callable[[str], None] | None = None) -> None:
        self.catalogue = catalogue
        self.echo = echo
        self.sent: list[Outbound] = []

    async def send(self, messages: Sequence[Outbound], progress: Progress | None = None) -> SendReport:
        """Record (and optionally print) each message (nothing leaves the process: no progress to tell)."""
        report = SendReport()
        for message in messages:
            self.sent.append(message)
            if self.echo is not None:
                self.echo(render(message, self.catalogue))
            report.sent.append(message.id)
        return report

    def transcript(self, chat_id: str | None = None) -> list[str]:
        """Return the rendered messages sent (to one chat, if given)."""
        return [render(m, self.catalogue) for m in self.sent if chat_id is None or m.key.chat_id == chat_id]


def console_key(chat_id: str) -> ConversationKey:
    """Return the conversation key of a console session."""
    return ConversationKey(ChannelName.CONSOLE, chat_id)


def print_bot(text: str, out: TextIO = sys.stdout) -> None:
    """Print a bot message with a prefix so it stands apart from typed lines."""
    for line in text.splitlines() or [""]:
        print(f"bot> {line}", file=out)
    print(file=out, flush=True)
