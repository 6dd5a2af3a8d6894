"""The one output and error layer of the `suarawarga` command line (every command prints and fails through it).

A user error is one line on stderr, ``suarawarga COMMAND: what was wrong (what is expected)``, and exit code 2.
An unexpected error is one line naming the file where its full (redacted) trace was written, and exit code 1.
Everything printed passes :func:`clean`, so that control characters in stored citizen text (an ESC sequence in a
complaint's description) reach the admin's terminal as visible escapes, never as terminal commands.

Light on purpose: `suarawarga --help` imports this module and argparse, nothing of the database or the bot.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import NoReturn

USER_ERROR = 2
UNEXPECTED_ERROR = 1

# C0 and C1 control characters and DEL, and the bidirectional overrides/isolates that reorder what a terminal shows.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_KEEP_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class CliError(Exception):
    """A user error of a command: its message is printed as one line after the command's name, exit code 2."""


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def clean(value: object) -> str:
    """Return `value` as one line of text with every control character (new lines too) shown as an escape."""
    return _CONTROL.sub(_escape, "" if value is None else str(value))


def clean_lines(text: str) -> str:
    """Return `text` with every control character but new line and tab shown as an escape."""
    return _CONTROL_KEEP_LINES.sub(_escape, text)


def out(text: str = "") -> None:
    """Print a line (or lines) of a command's output on stdout, control characters escaped."""
    sys.stdout.write(clean_lines(text if text.endswith("\n") else text + "\n"))
    sys.stdout.flush()  # a server's "listening" line must reach a pipe or a log at once


def note(text: str) -> None:
    """Print a remark on stderr (a warning or progress that is not the command's output)."""
    sys.stderr.write(clean_lines(text if text.endswith("\n") else text + "\n"))
    sys.stderr.flush()


def fail(message: str) -> NoReturn:
    """Stop the command with a user error."""
    raise CliError(message)


def refuse(args: argparse.Namespace, message: str, code: int = USER_ERROR) -> int:
    """Print a user error of the command `args` belong to and return its exit code (for handlers that return)."""
    note(f"{command_name(args)}: {message}")
    return code


def command_name(args: argparse.Namespace) -> str:
    """Return `suarawarga WORDS` of the command that parsed `args`."""
    return str(getattr(args, "command_name", "suarawarga"))


def city_time(moment: datetime | None, tz: tzinfo) -> str:
    """Return a stored moment as a person reads it: city time, `2026-12-05 05:00`."""
    return "-" if moment is None else f"{moment.astimezone(tz):%Y-%m-%d %H:%M}"


def city_iso(moment: datetime | None, tz: tzinfo) -> str | None:
    """Return a stored moment for JSON: ISO 8601 in city time, with its offset."""
    return None if moment is None else moment.astimezone(tz).isoformat()


def parse_moment(option: str, text: str, tz: tzinfo) -> datetime:
    """Parse a date/time an admin typed (ISO; city time when it has no offset) or fail naming the option."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        fail(f"{option} {text!r}: expected a date or date and time, e.g. 2026-12-01 or 2026-12-01T08:00")
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def output_file(option: str, text: str) -> Path:
    """Return the file a command writes, its folder created (as `qr` always did), or fail naming the option."""
    path = Path(text)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"{option} {text!r}: cannot create its folder ({exc.strerror or exc})")
    if path.is_dir():
        fail(f"{option} {text!r}: is a folder, expected a file name")
    return path


def unit_code(text: str) -> str:
    """Argument type of unit codes: case-insensitive (stored upper-case)."""
    return text.strip().upper()


def unknown_unit(code: str) -> str:
    """Return the error text of a unit code that does not exist."""
    return f"unknown unit {code} (see suarawarga unit list)"


def whole_number(low: int, high: int, unit: str = "") -> Callable[[str], int]:
    """Return an argument type accepting a whole number in [low, high]."""
    suffix = f" {unit}" if unit else ""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number (expected {low}–{high}{suffix})"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}–{high}{suffix}")
        return value

    parse.__name__ = "whole number"
    return parse


class CliParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line naming the command, and that print no usage block."""

    def error(self, message: str) -> NoReturn:
        """Print `suarawarga CMD: message (see suarawarga CMD --help)` and exit 2."""
        note(f"{self.prog}: {message} (see {self.prog} --help)")
        raise SystemExit(USER_ERROR)


def commands(parser: argparse.ArgumentParser) -> Iterator[tuple[list[str], argparse.ArgumentParser]]:
    """Yield every runnable command (its words and parser), walking the subcommands."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not actions:
        yield [], parser
        return
    for action in actions:
        for word, sub in action.choices.items():
            for words, leaf in commands(sub):
                yield [word, *words], leaf


def report_unexpected(command: str, exc: BaseException, redact: Callable[[str], str]) -> int:
    """Write the full trace of an unexpected error to a file and print one line saying where it is."""
    trace = redact("".join(traceback.format_exception(exc)))
    summary = redact(clean(str(exc).splitlines()[0] if str(exc) else ""))
    name = f"suarawarga-error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    where = Path(tempfile.gettempdir()) / name
    try:
        # Only its owner may read it: a trace can hold what the command was working on.
        with os.fdopen(os.open(where, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as file:
            file.write(trace)
        location = f"full trace in {where}"
    except OSError:
        location = "the full trace could not be written"
    note(f"{command}: unexpected error {type(exc).__name__}: {summary}; {location}")
    return UNEXPECTED_ERROR
