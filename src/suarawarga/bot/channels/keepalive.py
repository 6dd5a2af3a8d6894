"""An HTTP/1.1 client on asyncio streams with keep-alive pools and no liveness probe per request.

httpx and httpcore check every idle connection they hand out with a readability probe (a `select` call) and build
a full request model per call; for a bot that makes thousands of small calls to one API that is most of the cost
of a call. `KeepAliveClient` does only what those calls need, directly on `asyncio.open_connection`:

- one pool per scheme, host and port, with at most `pool_size` requests in flight (the rest wait up to the pool
  timeout); idle connections are reused newest first and closed after `keepalive_expiry` seconds unused;
- no probe: the event loop already watches every open socket, so a connection the server closed shows as at EOF
  without a system call. The one race left (the server closes an idle connection just as a request is written on
  it) is caught as "no byte of an answer on a reused connection" and the request is written once more on a new
  connection: a server closing an idle connection has not read the request (one that read it and died without
  answering would get it again, as from a caller's retry after a transport error);
- timeouts for connecting, writing, reading and waiting for the pool. The read timeout covers the answer's head
  and a body of up to 64 KB together (one deadline: such a body arrives with its head); a larger body gets it
  for each read, so a long download is not cut short. A timeout raises `HttpTimeout`, any other transport
  trouble `HttpError`; statuses are the caller's;
- an optional limit on the body: a larger one is refused (`BodyTooLarge`) before it is read whole.

No proxy, no redirects, no decompression (callers ask for none), no HTTP/2. The channel adapters wrap it: the
Telegram one in python-telegram-bot's request interface, the WhatsApp one behind its Graph API calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import quote, urlsplit

Files = Mapping[str, tuple[str, bytes | IO[bytes], str]]  # multipart files: name -> (file name, content, type)
CHUNK = 65_536  # bytes read at once from a large body


class HttpError(Exception):
    """The request got no usable answer (connection refused or lost, malformed answer, closed client's pool)."""


class HttpTimeout(HttpError):
    """A connect, write, read or pool timeout ran out."""


class PoolTimeout(HttpTimeout):
    """Every connection of the host's pool stayed busy for the pool timeout: the request was not sent."""


class BodyTooLarge(HttpError):
    """The answer's body is larger than the caller's limit (it was not read whole; the connection is closed)."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds allowed to connect, write the request, read the answer (see the module docstring), wait for the pool."""

    connect: float | None = 5.0
    write: float | None = 5.0
    read: float | None = 5.0
    pool: float | None = 1.0


@dataclass(frozen=True, slots=True)
class Response:
    """An answer: status, reason phrase, headers (lower-case names, the last value of a repeated one) and body."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes


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


class KeepAliveClient:
    """HTTP/1.1 requests over long-lived connections, one pool per host (see the module docstring)."""

    __slots__ = ("_closed", "_expiry", "_pools", "_size", "_ssl", "timeouts")

    def __init__(
        self,
        pool_size: int = 256,
        timeouts: Timeouts | None = None,
        keepalive_expiry: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Set the pool size per host, the default timeouts, the idle expiry and the TLS context (default: system's)."""
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self._size = pool_size
        self.timeouts = timeouts or Timeouts()
        self._expiry = keepalive_expiry
        self._ssl = ssl_context
        self._pools: dict[tuple[str, str, int], _Pool] = {}
        self._closed = False

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """Return the TLS context in use (built on the first HTTPS connection unless one was given)."""
        return self._ssl

    @property
    def closed(self) -> bool:
        """Tell whether `aclose` was called."""
        return self._closed

    async def aclose(self) -> None:
        """Close every idle connection and refuse further requests (one in flight closes its own at the end)."""
        self._closed = True
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            for conn in pool.idle:
                conn.close()
            pool.idle.clear()

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        timeouts: Timeouts | None = None,
        limit: int | None = None,
    ) -> Response:
        """Send one request and return the answer, whatever its status; `limit`: the most body bytes accepted."""
        if self._closed:
            raise RuntimeError("this KeepAliveClient is closed")
        if method.upper() == "HEAD":  # its answer announces a body that never comes: not supported
            raise ValueError("HEAD is not supported")
        times = timeouts or self.timeouts
        parts = urlsplit(url)
        tls = parts.scheme == "https"
        if not tls and parts.scheme != "http":
            raise HttpError(f"unsupported URL scheme {parts.scheme!r}")
        host = parts.hostname or ""
        port = parts.port or (443 if tls else 80)
        pool = self._pool(parts.scheme, host, port, tls)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not (target.isascii() and target.isprintable()):
            target = quote(target, safe="/?=&%:@!$'()*+,;~")  # as httpx does: a request line is ASCII
        authority = host if parts.port is None else f"{host}:{port}"
        if ":" in host:
            authority = f"[{host}]" if parts.port is None else f"[{host}]:{port}"
        request = _encode(method, target, authority, headers, body)

        if pool.slots.locked():
            try:
                async with asyncio.timeout(times.pool):
                    await pool.slots.acquire()
            except TimeoutError:
                raise PoolTimeout(f"no free connection to {host}:{port} within the pool timeout") from None
        else:
            await pool.slots.acquire()
        try:
            return await self._exchange(pool, request, times, limit)
        finally:
            pool.slots.release()

    def _pool(self, scheme: str, host: str, port: int, tls: bool) -> _Pool:
        key = (scheme, host, port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(host, port, tls, asyncio.Semaphore(self._size))
        return pool

    async def _exchange(self, pool: _Pool, request: bytes, times: Timeouts, limit: int | None) -> Response:
        """Write the request on an idle or new connection and read the answer (once more after a stale one)."""
        while True:
            conn = self._idle(pool)
            reused = conn is not None
            if conn is None:
                conn = await self._connect(pool, times.connect)
            try:
                response, keep = await _send(conn, request, times.write, times.read, reused, limit)
            except _Stale as exc:
                conn.close()
                if reused:
                    continue  # a new connection is never stale: this loops at most once per idle connection
                raise HttpError(f"connection closed before an answer: {exc}") from None
            except TimeoutError:
                conn.close()
                raise HttpTimeout from None
            except BodyTooLarge:
                conn.close()  # the rest of the body is still on the way
                raise
            except (OSError, EOFError, ValueError, asyncio.LimitOverrunError) as exc:
                conn.close()
                raise HttpError(f"{type(exc).__name__}: {exc}") from exc
            except BaseException:
                conn.close()  # cancelled mid-exchange: the stream's state is unknown
                raise
            if keep and not self._closed:
                conn.used = time.monotonic()
                pool.idle.append(conn)
            else:
                conn.close()  # the server said so, or the client was closed while this request ran
            return response

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
            raise HttpTimeout("connect timed out") from None
        except (OSError, ssl.SSLError) as exc:
            raise HttpError(f"could not connect to {pool.host}:{pool.port}: {exc}") from exc
        if pool.tls and self._ssl is None and context is not None:
            self._ssl = context  # built once: a default context loads the system's certificates
        return _Conn(reader, writer)


def _encode(method: str, target: str, authority: str, headers: Mapping[str, str] | None, body: bytes) -> bytes:
    """Return the request's bytes: request line, Host, the caller's headers, Content-Length, body."""
    head = f"{method} {target} HTTP/1.1\r\nHost: {authority}\r\n"
    if headers:
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        if lines.count("\n") != len(headers) or lines.count("\r") != len(headers):
            raise ValueError("a header name or value holds a line break")
        head += lines
    if body or method not in ("GET", "HEAD"):
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode("latin-1") + b"\r\n" + body


def multipart(fields: Mapping[str, str], files: Files) -> tuple[str, bytes]:
    """Return (Content-Type, body) of a multipart/form-data request: the text fields, then the files."""
    boundary = secrets.token_hex(16)
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
    return f"multipart/form-data; boundary={boundary}", bytes(out)


def _quote(value: str) -> str:
    """Escape a form-data name or file name as browsers and httpx do (quote, CR and LF)."""
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


async def _send(
    conn: _Conn, request: bytes, write: float | None, read: float | None, reused: bool, limit: int | None
) -> tuple[Response, bool]:
    """Write a request and read its answer: (answer, whether the connection may be kept)."""
    reader, writer = conn.reader, conn.writer
    head: _Head | None = None
    try:
        writer.write(request)
        if writer.transport.get_write_buffer_size():
            async with asyncio.timeout(write):
                await writer.drain()
        async with asyncio.timeout(read):
            head = _head(await reader.readuntil(b"\r\n\r\n"))
            while 100 <= head.status < 200:  # an interim answer (100 Continue): the real one follows
                head = _head(await reader.readuntil(b"\r\n\r\n"))
            length = head.length
            if length is not None and length <= CHUNK and (limit is None or length <= limit):
                # A small body comes with its head or just after it: one deadline for the whole answer.
                return head.answer(await reader.readexactly(length)), head.keep
    except asyncio.IncompleteReadError as exc:
        if reused and head is None and not exc.partial:
            raise _Stale("end of stream") from None
        raise
    except (ConnectionResetError, BrokenPipeError) as exc:
        if reused and head is None:
            raise _Stale(type(exc).__name__) from None
        raise
    length, keep = head.length, head.keep
    if limit is not None and length is not None and length > limit:
        raise BodyTooLarge(f"body of {length} bytes is over {limit}")
    body = bytearray()
    most = limit if limit is not None else -1
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(read) as deadline:

        def extend() -> None:
            if read is not None:
                deadline.reschedule(loop.time() + read)
            if most >= 0 and len(body) > most:
                raise BodyTooLarge(f"body over {most} bytes")

        if head.chunked:
            while True:
                field = (await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip()
                if not field or len(field) > 16 or field.strip(b"0123456789abcdefABCDEF"):
                    raise HttpError(f"bad chunk size {field[:20]!r}")  # int() would take "-5", "0x1f", "1_0"
                size = int(field, 16)
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
    return head.answer(bytes(body)), keep


@dataclass(slots=True)
class _Head:
    status: int
    reason: str
    headers: dict[str, str]
    length: int | None
    chunked: bool
    keep: bool

    def answer(self, body: bytes) -> Response:
        return Response(self.status, self.reason, self.headers, body)


def _head(raw: bytes) -> _Head:
    """Parse a status line and headers: status, reason, headers, Content-Length, chunked, keep-alive."""
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1 answer: {lines[0][:60]!r}")
    status = int(rest[:3])
    headers: dict[str, str] = {}
    length: int | None = None
    chunked = False
    keep = version == "HTTP/1.1"
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        if not name:
            continue
        headers[name] = value
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
    return _Head(status, rest[4:].strip(), headers, length, chunked, keep)
