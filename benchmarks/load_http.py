"""A small HTTP/1.1 client for benchmarks/load.py: keep-alive connections, per-request round robin, low overhead.

The load benchmark shares two cores with the server it measures, so its own client must cost little: this one
writes a request with one `write` and parses only the status line and Content-Length (or chunks) of the answer,
which is all a webhook acknowledgement carries. With several backends (N `serve` processes) each request goes to
the next backend in turn, as an nginx `upstream` with round robin does; a backend that refuses connections is
skipped for that request and the caller retries, as Telegram and Meta do.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field


class HttpError(Exception):
    """A request got no complete HTTP answer (refused, reset, timed out)."""


@dataclass(slots=True)
class Answer:
    """An HTTP answer: status, body and the seconds from the first byte written to the last byte read."""

    status: int
    body: bytes
    seconds: float


IDLE_LIMIT = 3.0  # seconds; uvicorn closes keep-alive connections idle for 5 s


@dataclass(slots=True)
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    used: float = 0.0

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


@dataclass
class HttpPool:
    """Keep-alive connections to one or more backends (host, port), at most `size` requests in flight."""

    backends: list[tuple[str, int]]
    size: int = 256
    timeout: float = 10.0
    _idle: list[list[_Conn]] = field(default_factory=list)
    _next: int = 0
    _slots: asyncio.Semaphore | None = None

    def __post_init__(self) -> None:
        self._idle = [[] for _ in self.backends]
        self._slots = asyncio.Semaphore(self.size)

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Answer:
        """Send one request to the next backend and return its answer; HttpError when none came."""
        if self._slots is None:
            raise RuntimeError("HttpPool was not initialised")
        async with self._slots:
            index = self._next % len(self.backends)
            self._next += 1
            host, port = self.backends[index]
            lines = [f"{method} {path} HTTP/1.1", f"host: {host}:{port}", f"content-length: {len(body)}"]
            lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
            raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
            idle = self._idle[index]
            conn = idle.pop() if idle else None
            if conn is not None and time.monotonic() - conn.used > IDLE_LIMIT:
                conn.close()  # the server may be closing it right now: do not race it
                conn = None
            try:
                async with asyncio.timeout(self.timeout):
                    if conn is None:
                        conn = await self._connect(host, port)
                    started = time.perf_counter()
                    conn.writer.write(raw)
                    status, answer, keep = await _read_answer(conn.reader)
                    seconds = time.perf_counter() - started
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                # A closed keep-alive connection, a refused connection, a killed server: the caller retries.
                if conn is not None:
                    conn.close()
                raise HttpError(f"{type(exc).__name__}: {exc}") from exc
            except BaseException:
                if conn is not None:
                    conn.close()
                raise
            if keep:
                conn.used = time.monotonic()
                idle.append(conn)
            else:
                conn.close()
            return Answer(status, answer, seconds)

    async def _connect(self, host: str, port: int) -> _Conn:
        reader, writer = await asyncio.open_connection(host, port)
        return _Conn(reader, writer)

    def close(self) -> None:
        """Close every idle connection."""
        for idle in self._idle:
            for conn in idle:
                conn.close()
            idle.clear()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Read one HTTP/1.1 answer; return (status, body, whether the connection stays open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ValueError(f"not an HTTP answer: {lines[0][:60]!r}")
    status = int(parts[1])
    length: int | None = None
    chunked, keep = False, parts[0] == "HTTP/1.1"
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection":
            keep = value != "close"
    if chunked:
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        return status, bytes(body), keep
    if length is None:
        return status, await reader.read(), False
    return status, await reader.readexactly(length), keep
