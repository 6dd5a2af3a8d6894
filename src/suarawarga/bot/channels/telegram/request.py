"""A python-telegram-bot request object on asyncio streams: keep-alive HTTP/1.1 pools, no liveness probe per request.

PTB's `HTTPXRequest` goes through httpx and httpcore, whose pool checks every idle connection it hands out with
a readability probe (a `select` call) and which build a full request model per call (in a profile of `serve`
under load, the pool's checks alone took about a fifth of its CPU). `KeepAliveRequest` implements PTB's
documented extension point (`BaseRequest`: `initialize`, `shutdown`, `do_request`) directly on
`asyncio.open_connection`:

- one pool per scheme, host and port, with at most `connection_pool_size` requests in flight (the rest wait up
  to the pool timeout, as with httpx); idle connections are reused newest first and closed after
  `keepalive_expiry` seconds unused;
- no probe: the event loop already watches every open socket, so a connection the server closed shows as at
  EOF without a system call. The one race left (the server closes an idle connection just as a request is
  written on it) is caught as "no byte of an answer on a reused connection" and the request is written once more
  on a new connection: a server closing an idle connection has not read the request (one that read it and died
  without answering would get it again, as from the outbox's retry after a NetworkError);
- PTB's timeout semantics: connect, write (`media_write_timeout` for uploads when the caller gave none), read
  (for each read, so a long download is not cut short) and pool; a timeout raises `TimedOut`, any other
  transport trouble `NetworkError`, and the status and body go back to PTB, which maps 4xx/5xx (429 included)
  to its exceptions exactly as for httpx.

Parameters are sent as httpx sends them: a form (`application/x-www-form-urlencoded`) or, with files, multipart.
No proxy support: a deployment behind a proxy keeps `SUARAWARGA_TELEGRAM_REQUEST=httpx`.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import ssl
import time
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import quote, urlencode, urlsplit

from telegram._utils.defaultvalue import DefaultValue  # what HTTPXRequest tests for too: "not given"
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

Files = dict[str, tuple[str, bytes | IO[bytes], str]]  # PTB's multipart data: name -> (file name, content, type)
CHUNK = 65_536  # bytes read at once from a large body
POOL_TIMEOUT = (
    "Pool timeout: All connections in the connection pool are occupied. Request was *not* sent to Telegram. "
    "Consider adjusting the connection pool size or the pool timeout."
)


class _Stale(Exception):
    """A reused connection ended before any byte of an answer arrived (the server had closed it)."""


@dataclass(slots=True)
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    used: float = 0.0

    def alive(self, now: float, expiry: float) -> bool:
        """Tell whether the connection can carry another request (open, nothing unread, not idle too long)."""
        return now - self.used < expiry and not self.reader.at_eof() and not self.writer.transport.is_closing()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


@dataclass(slots=True)
class _Pool:
    host: str
    port: int
    tls: bool
    slots: asyncio.Semaphore
    idle: list[_Conn] = field(default_factory=list)


class KeepAliveRequest(BaseRequest):
    """PTB's `BaseRequest` on asyncio streams with long-lived HTTP/1.1 connections (see the module docstring)."""

    __slots__ = (
        "_closed",
        "_connect_timeout",
        "_expiry",
        "_media_write_timeout",
        "_pool_timeout",
        "_pools",
        "_read_timeout",
        "_size",
        "_ssl",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        keepalive_expiry: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._expiry = keepalive_expiry
        self._ssl = ssl_context
        self._pools: dict[tuple[str, str, int], _Pool] = {}
        self._closed = True

    @property
    def read_timeout(self) -> float | None:
        """Return the default read timeout in seconds."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Allow requests (connections are opened on first use)."""
        self._closed = False

    async def shutdown(self) -> None:
        """Close every idle connection and refuse further requests until initialised again."""
        self._closed = True
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            for conn in pool.idle:
                conn.close()
            pool.idle.clear()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request and return the status and body of the answer (see `BaseRequest.do_request`)."""
        if self._closed:
            raise RuntimeError("This KeepAliveRequest is not initialized!")
        files = request_data.multipart_data if request_data is not None else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        wait = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout
        else:
            write = write_timeout

        parts = urlsplit(url)
        tls = parts.scheme == "https"
        if not tls and parts.scheme != "http":
            raise NetworkError(f"unsupported URL scheme {parts.scheme!r}")
        host = parts.hostname or ""
        port = parts.port or (443 if tls else 80)
        pool = self._pool(parts.scheme, host, port, tls)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not (target.isascii() and target.isprintable()):
            target = quote(target, safe="/?=&%:@!$'()*+,;~")  # as httpx does: a request line is ASCII
        authority = host if parts.port is None else f"{host}:{port}"
        if ":" in host:
            authority = f"[{host}]" if parts.port is None else f"[{host}]:{port}"
        request = self._encode(method, target, authority, request_data, files)

        if pool.slots.locked():
            try:
                async with asyncio.timeout(wait):
                    await pool.slots.acquire()
            except TimeoutError:
                raise TimedOut(POOL_TIMEOUT) from None
        else:
            await pool.slots.acquire()
        try:
            return await self._exchange(pool, request, connect, write, read)
        finally:
            pool.slots.release()

    def _pool(self, scheme: str, host: str, port: int, tls: bool) -> _Pool:
        key = (scheme, host, port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(host, port, tls, asyncio.Semaphore(self._size))
        return pool

    def _encode(self, method: str, target: str, authority: str, data: RequestData | None, files: Files | None) -> bytes:
        """Return the request's bytes: head and body (form or multipart, as httpx builds them)."""
        head = f"{method} {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {self.USER_AGENT}\r\nAccept: */*\r\n"
        fields = data.json_parameters if data is not None else {}
        if files:
            boundary = secrets.token_hex(16)
            body = _multipart(boundary, fields, files)
            head += f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        elif fields:
            body = urlencode(fields).encode("ascii")
            head += "Content-Type: application/x-www-form-urlencoded\r\n"
        else:
            body = b""
        if body or method not in ("GET", "HEAD"):
            head += f"Content-Length: {len(body)}\r\n"
        return head.encode("latin-1") + b"\r\n" + body

    async def _exchange(
        self, pool: _Pool, request: bytes, connect: float | None, write: float | None, read: float | None
    ) -> tuple[int, bytes]:
        """Write the request on an idle or new connection and read the answer (once more after a stale one)."""
        while True:
            conn = self._idle(pool)
            reused = conn is not None
            if conn is None:
                conn = await self._connect(pool, connect)
            try:
                status, body, keep = await _send(conn, request, write, read, reused)
            except _Stale as exc:
                conn.close()
                if reused:
                    continue  # a new connection is never stale: this loops at most once per idle connection
                raise NetworkError(f"connection closed before an answer: {exc}") from None
            except TimeoutError:
                conn.close()
                raise TimedOut from None
            except (OSError, EOFError, ValueError, asyncio.LimitOverrunError) as exc:
                conn.close()
                raise NetworkError(f"{type(exc).__name__}: {exc}") from exc
            except BaseException:
                conn.close()  # cancelled mid-exchange: the stream's state is unknown
                raise
            if keep and not self._closed:
                conn.used = time.monotonic()
                pool.idle.append(conn)
            else:
                conn.close()  # the server said so, or the client was shut down while this request ran
            return status, body

    def _idle(self, pool: _Pool) -> _Conn | None:
        """Return the newest usable idle connection of the pool, closing the ones that are not."""
        now = time.monotonic()
        while pool.idle:
            conn = pool.idle.pop()
            if conn.alive(now, self._expiry):
                return conn
            conn.close()
        return None

    async def _connect(self, pool: _Pool, seconds: float | None) -> _Conn:
        context = (self._ssl or ssl.create_default_context()) if pool.tls else None
        try:
            async with asyncio.timeout(seconds):
                reader, writer = await asyncio.open_connection(
                    pool.host, pool.port, ssl=context, server_hostname=pool.host if context else None
                )
        except TimeoutError:
            raise TimedOut("connect timed out") from None
        except (OSError, ssl.SSLError) as exc:
            raise NetworkError(f"could not connect to {pool.host}:{pool.port}: {exc}") from exc
        if pool.tls and self._ssl is None and context is not None:
            self._ssl = context  # built once: a default context loads the system's certificates
        return _Conn(reader, writer)


def _multipart(boundary: str, fields: dict[str, str], files: Files) -> bytes:
    """Return a multipart/form-data body: the text fields, then the files."""
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for name, (filename, content, mime) in files.items():
        data = content if isinstance(content, bytes) else content.read()
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"; filename="{_quote(filename)}"'
            f"\r\nContent-Type: {mime}\r\n\r\n"
        ).encode()
        out += bytes(data) + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def _quote(value: str) -> str:
    """Escape a form-data name or file name as browsers and httpx do (quote, CR and LF)."""
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


async def _send(
    conn: _Conn, request: bytes, write: float | None, read: float | None, reused: bool
) -> tuple[int, bytes, bool]:
    """Write a request and read its answer: (status, body, whether the connection may be kept)."""
    reader, writer = conn.reader, conn.writer
    try:
        writer.write(request)
        if writer.transport.get_write_buffer_size():
            async with asyncio.timeout(write):
                await writer.drain()
        async with asyncio.timeout(read):
            head = await reader.readuntil(b"\r\n\r\n")
            status, length, chunked, keep = _head(head)
            while 100 <= status < 200:  # an interim answer (100 Continue): the real one follows
                status, length, chunked, keep = _head(await reader.readuntil(b"\r\n\r\n"))
    except asyncio.IncompleteReadError as exc:
        if reused and not exc.partial:
            raise _Stale("end of stream") from None
        raise
    except (ConnectionResetError, BrokenPipeError) as exc:
        if reused:
            raise _Stale(type(exc).__name__) from None
        raise
    if length is not None and length <= CHUNK:
        async with asyncio.timeout(read):
            return status, await reader.readexactly(length), keep
    body = bytearray()
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(read) as deadline:

        def extend() -> None:
            if read is not None:
                deadline.reschedule(loop.time() + read)

        if chunked:
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, if any
                        pass
                    break
                while size:
                    piece = await reader.read(min(size, CHUNK))
                    if not piece:
                        raise asyncio.IncompleteReadError(bytes(body), None)
                    body += piece
                    size -= len(piece)
                    extend()
                await reader.readexactly(2)
        elif length is not None:
            while len(body) < length:
                piece = await reader.read(min(length - len(body), CHUNK))
                if not piece:
                    raise asyncio.IncompleteReadError(bytes(body), length)
                body += piece
                extend()
        else:  # neither length nor chunks: the body ends with the connection
            while piece := await reader.read(CHUNK):
                body += piece
                extend()
            keep = False
    return status, bytes(body), keep


def _head(raw: bytes) -> tuple[int, int | None, bool, bool]:
    """Parse a status line and headers: (status, Content-Length, chunked, keep-alive)."""
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1 answer: {lines[0][:60]!r}")
    status = int(rest[:3])
    length: int | None = None
    chunked = False
    keep = version == "HTTP/1.1"
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding":
            chunked = "chunked" in value.lower()
        elif name == "connection":
            keep = "close" not in value.lower() and (keep or "keep-alive" in value.lower())
    if chunked:
        length = None
    if status in (204, 304) or 100 <= status < 200:
        length = 0
    return status, length, chunked, keep
