"""How `serve` and `process` run uvicorn: timeouts and limits that keep idle or slow clients from holding it.

uvicorn closes an idle keep-alive connection after `timeout_keep_alive`, but waits for a request's headers
for ever: a client that connects and sends nothing, or a header line a byte at a time, held its connection
(and a slot) indefinitely. `HeaderTimeoutProtocol` closes a connection whose request headers are not complete
within `HEADER_TIMEOUT` seconds of the connection (or of the request's first byte, on a kept-alive
connection). Bodies have their own deadline in `bot.web.BodyReader`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = 10.0  # seconds for a request line and headers (a webhook sends them at once)
KEEP_ALIVE = 5  # seconds an idle kept-alive connection stays open (uvicorn's default, made explicit)
MAX_CONCURRENCY = 1000  # connections and requests at once; beyond it uvicorn answers 503 at once
GRACEFUL_SHUTDOWN = 30  # seconds open requests may take to finish when the process is told to stop


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for each request's headers."""

    header_timeout = HEADER_TIMEOUT
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request's headers."""
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        """Start the clock for a later request's headers on a kept-alive connection."""
        super().on_message_begin()
        if self._header_timer is None:
            self._arm()

    def on_headers_complete(self) -> None:
        """The headers are in: stop the clock."""
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock with the connection."""
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def server_options(header_timeout: float = HEADER_TIMEOUT) -> dict[str, Any]:
    """Return the uvicorn.Config keyword arguments that bound what a client can hold."""
    protocol = type("Protocol", (HeaderTimeoutProtocol,), {"header_timeout": header_timeout})
    return {
        "http": protocol,
        "timeout_keep_alive": KEEP_ALIVE,
        "limit_concurrency": MAX_CONCURRENCY,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN,
        "access_log": False,  # the app writes its own (bot/web.py, AccessLog)
    }
