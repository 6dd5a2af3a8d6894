"""Logging set-up: one structured format, and no tokens, secrets or personal data in the logs at any level.

The redaction filter sits on the handler, so it sees every record from every library. It removes bot
tokens (the Bot API URL carries one), bearer tokens and signatures, phone numbers and other long digit runs
(WhatsApp ids are phone numbers), and SQL parameters in database errors. Names and complaint texts are never
passed to a logger by our code; a test runs a whole conversation at DEBUG level to check that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
from datetime import UTC, datetime

# httpx logs every request line at INFO, with the token in the URL: keep it and its friends at WARNING. At DEBUG,
# aiosqlite and SQLAlchemy log statements with their parameters and rows, and PIL a photo's EXIF (owner, camera).
_QUIET = (
    "httpx",
    "httpcore",
    "telegram.ext.ExtBot",
    "telegram.Bot",
    "apscheduler.executors.default",
    "hpack",
    "aiosqlite",
    "sqlalchemy",
    "PIL",
    "alembic.runtime.plugins",  # seven "setup plugin" lines at INFO each time alembic loads
)
_PATTERNS = (
    # A Telegram bot token, in a Bot API URL (bot123:abc...) or bare, as PTB repeats it in some errors.
    (re.compile(r"(bot)?\d{5,}:[A-Za-z0-9_-]{20,}"), r"\1<token>"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1<token>"),
    (re.compile(r"(?i)(sha256=)[0-9a-f]{16,}"), r"\1<signature>"),
    (re.compile(r"(?i)(secret[_-]?token[\"'=:\s]+)[^\s\"',]+"), r"\1<secret>"),
    (re.compile(r"(?i)(verify_token=)[^\s&\"']+"), r"\1<secret>"),  # Meta's webhook check, in the access log
    (re.compile(r"(/staf/masuk/)[A-Za-z0-9_-]+"), r"\1<token>"),  # a staff console sign-in link, in the access log
    (re.compile(r"\[parameters: .*?\](?=\s|$)", re.DOTALL), "[parameters: <redacted>]"),
    (re.compile(r"(?<![\w.])\+?\d[\d -]{8,}\d(?![\w.])"), "<number>"),
)


def redact(text: str) -> str:
    """Remove secrets and personal numbers from a text."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class SenderTags:
    """Short tags that let log lines of one sender be told apart without naming them: HMAC-SHA256 under a key.

    An unsalted hash of a phone number was reversed by trying every number (0.8 s). The key comes from the
    settings (SUARAWARGA_LOG_TAG_SECRET) or from the database, where the first setup stores a random one, so
    every process tags a sender alike; until one is set, a random per-process key still keeps tags unreversible.
    The key is never logged.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes | None = None) -> None:
        self._key = secrets.token_bytes(32)
        if key is not None:
            self.set_key(key)

    def set_key(self, key: bytes) -> None:
        """Use this key from now on."""
        if len(key) < 16:
            raise ValueError("the sender-tag key must have at least 16 bytes")
        self._key = key

    def tag(self, channel: str, sender: str) -> str:
        """Return the sender's tag: "s" and 12 hex digits, the same for the same key, channel and sender."""
        # The letter keeps the redaction of phone numbers off it: 12 hex digits are all decimal for 1 sender in 280.
        return "s" + hmac.new(self._key, f"{channel}:{sender}".encode(), hashlib.sha256).hexdigest()[:12]

    def __repr__(self) -> str:
        return "SenderTags(<key>)"


class RedactingFilter(logging.Filter):
    """Redact a record's message and traceback in place; never drop a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Render, redact and freeze the message and any exception text."""
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Configure the root logger once: the redacting filter, one format, quiet HTTP libraries."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
