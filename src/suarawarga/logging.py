"""Logging set-up: one format, and no tokens or personal data in the logs."""

from __future__ import annotations

import logging
import re

# The Bot API URL carries the token (/bot123:ABC/...), so httpx's request lines must never be logged.
_QUIET = ("httpx", "httpcore", "telegram.ext.ExtBot", "apscheduler.executors.default")
_TOKEN = re.compile(r"bot\d+:[A-Za-z0-9_-]{20,}")


class RedactingFilter(logging.Filter):
    """Replace anything shaped like a Telegram bot token in a log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the rendered message in place; never drop the record."""
        message = record.getMessage()
        redacted = _TOKEN.sub("bot<redacted>", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str = "INFO") -> None:
    """Configure the root logger once, with the redacting filter and quiet HTTP libraries."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
