"""The console channel: chat with the bot in a terminal, and the recording sender used by dialog tests."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import mimetypes
import os
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
from suarawarga.bot.sender import Delivery, Progress, SendReport
from suarawarga.bot.texts import Catalogue
from suarawarga.clock import Clock
from suarawarga.storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Hint:
    """A console command typed wrong: the catalogue text that says how to type it (not sent to the bot)."""

    key: str
    params: dict[str, str] = field(default_factory=dict)


def render(message: Outbound, catalogue: Catalogue) -> str:
    """Render an outbound as console text: the message, then its choices numbered from 1."""
    lines = [catalogue.render(message.text_key, message.language, message.params)]
    for number, choice in enumerate(message.choices, 1):
        lines.append(f"  {number}. {catalogue.render(choice.text_key, message.language, choice.params)}")
    for item in message.files:
        label = catalogue.render(f"console.file.{item.kind.value}", message.language, {})
        lines.append(f"  [{label}: {item.filename or item.path}]")
    return "\n".join(lines)


def parse_line(line: str, key: ConversationKey, clock: Clock) -> Inbound | Hint:
    """Turn a typed line into an Inbound, or return the hint for a malformed console command."""
    text = line.strip()
    now = clock.now()
    base = Inbound(key=key, external_id=uuid.uuid4().hex, received_at=now, sender_id=key.chat_id)
    if text.startswith("/lokasi") or text.startswith("/location"):
        _, _, rest = text.partition(" ")
        try:
            lat_text, lon_text = rest.replace(" ", "").split(",")
            return dataclasses.replace(base, location=(float(lat_text), float(lon_text)))
        except ValueError:
            return Hint("console.usage.location")
    if text.startswith("/foto") or text.startswith("/photo"):
        _, _, rest = text.partition(" ")
        if not rest.strip():
            return Hint("console.usage.photo")
        path = Path(rest.strip()).expanduser()
        if not path.is_file():
            return Hint("console.photo_missing", {"path": rest.strip()})
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


class ConsoleSender:
    """The sender of one console session: shows its own chat's messages, and leaves every other chat's messages
    pending in the outbox (reporting nothing for them), for that chat's console to show when it is opened."""

    def __init__(self, catalogue: Catalogue, chat_id: str, echo: Callable[[str], None]) -> None:
        self.catalogue = catalogue
        self.chat_id = chat_id
        self.echo = echo
        self._shown: set[str] = set()  # ids shown already: the pump and the catch-up may both hand a message over

    async def send(self, messages: Sequence[Outbound], progress: Progress | None = None) -> SendReport:
        """Show this chat's messages in order and report them sent; say nothing of the others."""
        report = SendReport()
        for message in messages:
            if message.key.chat_id != self.chat_id:
                continue  # not for this terminal: stays pending until its own console is opened
            if message.id is None or message.id not in self._shown:
                self.echo(render(message, self.catalogue))
                if message.id is not None:
                    self._shown.add(message.id)
            if message.id is not None:
                report.sent.append(message.id)
        return report


class LineReader:
    """Typed lines from a daemon thread, so that waiting for one can be cancelled at once (Ctrl-C).

    `asyncio.to_thread(input)` cannot: the event loop waits for its executor's threads when it closes, that is
    until Enter is pressed. A daemon thread is not waited for.
    """

    def __init__(self, prompt: str) -> None:
        self.prompt = prompt
        self.waiting = False  # True while a line is being asked for (messages arriving then redraw the prompt)
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._wanted = threading.Event()
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._read, name="console-input", daemon=True).start()

    def _read(self) -> None:
        try:
            piped = _PipedLines() if not sys.stdin.isatty() else None
        except (OSError, ValueError):  # no readable standard input at all: that is the end of input
            self._loop.call_soon_threadsafe(self._lines.put_nowait, None)
            return
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                if piped is None:
                    line: str | None = input(self.prompt)  # a terminal: C-level line reading, with editing
                else:
                    sys.stdout.write(self.prompt)
                    sys.stdout.flush()
                    line = piped.readline()
            except (EOFError, OSError, ValueError):
                line = None
            self._loop.call_soon_threadsafe(self._lines.put_nowait, line)
            if line is None:
                return

    async def readline(self) -> str | None:
        """Return the next typed line, or None at the end of input."""
        self.waiting = True
        self._wanted.set()
        try:
            return await self._lines.get()
        finally:
            self.waiting = False


class _PipedLines:
    """Lines of piped input read from the file descriptor itself: a daemon thread blocked in `sys.stdin` would
    hold its lock and abort the interpreter at exit ("could not acquire lock ... at interpreter shutdown")."""

    def __init__(self) -> None:
        self._fd = sys.stdin.fileno()
        self._buffer = b""

    def readline(self) -> str | None:
        """Return the next line without its line break, or None at the end of input."""
        while b"\n" not in self._buffer:
            chunk = os.read(self._fd, 4096)
            if not chunk:
                if not self._buffer:
                    return None
                rest, self._buffer = self._buffer, b""
                return rest.decode("utf-8", "replace")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8", "replace").rstrip("\r")


def console_key(chat_id: str) -> ConversationKey:
    """Return the conversation key of a console session."""
    return ConversationKey(ChannelName.CONSOLE, chat_id)


def print_bot(text: str, out: TextIO = sys.stdout) -> None:
    """Print a bot message with a prefix so it stands apart from typed lines."""
    for line in text.splitlines() or [""]:
        print(f"bot> {line}", file=out)
    print(file=out, flush=True)


async def show_waiting(uow_factory: UnitOfWorkFactory, delivery: Delivery, key: ConversationKey) -> int:
    """Deliver (to this console) the messages pending for its chat, oldest first; return how many."""
    async with uow_factory() as uow:
        waiting = await uow.outbox.pending_for(key.channel, key.chat_id)
    if waiting:
        await delivery.deliver(waiting)
    return len(waiting)


async def watch_outbox(
    uow_factory: UnitOfWorkFactory, delivery: Delivery, key: ConversationKey, interval: float = 1.0
) -> None:
    """Show, as they come, the messages other processes (another console, the worker) write to this chat."""
    while True:
        await asyncio.sleep(interval)
        try:
            await show_waiting(uow_factory, delivery, key)
        except Exception:  # e.g. the SQLite file is busy with another console's write: the next tick retries
            log.debug("could not look for waiting console messages", exc_info=True)


def print_between(text: str, reader: LineReader, out: TextIO = sys.stdout) -> None:
    """Print a bot message; one that arrives while a line is being typed goes above a fresh prompt."""
    if reader.waiting:
        print(file=out)
    print_bot(text, out)
    if reader.waiting:
        print(reader.prompt, end="", file=out, flush=True)
