"""A loopback HTTP/1.1 server whose answers the test scripts byte for byte, for the keep-alive clients' tests."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

OK = b'{"ok":true,"result":true}'
STALL = b"stall"  # answer nothing until the client goes away
CLOSE = b"close"  # close the connection without an answer
THEN_STALL = b"\x00then-stall\x00"  # at the end of an answer: write the rest, then answer nothing more
THEN_CLOSE = b"\x00then-close\x00"  # at the end of an answer: write the rest, then close the connection
LATE = b"\x00late\x00"  # at the start of an answer: write it LATE_SECONDS after the request came
LATE_SECONDS = 0.5


def answer(body: bytes = OK, *headers: str, status: str = "200 OK") -> bytes:
    """Return a raw HTTP/1.1 answer with a Content-Length (unless a header says otherwise)."""
    lines = [f"HTTP/1.1 {status}", *headers]
    if not any(h.lower().startswith(("transfer-encoding", "content-length")) for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Server:
    """A loopback HTTP/1.1 server whose answer to each request the test scripts: script(connection, nth on it)."""

    script: Callable[[int, int], bytes]
    url: str = ""
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    def drop_idle(self) -> None:
        """Close every connection from the server's side (as its keep-alive timeout does)."""
        for writer in self.writers:
            writer.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer the requests of one connection as scripted."""
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        self.writers.append(writer)
        self.connections += 1
        number, nth = self.connections, 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                self.requests.append(head + await reader.readexactly(int(length[1]) if length else 0))
                nth += 1
                reply = self.script(number, nth)
                if reply.startswith(LATE):
                    await asyncio.sleep(LATE_SECONDS)
                    reply = reply.removeprefix(LATE)
                if reply == CLOSE:
                    break
                if reply == STALL:
                    await reader.read()
                    break
                if reply.endswith(THEN_STALL):
                    writer.write(reply.removesuffix(THEN_STALL))
                    await reader.read()
                    break
                if reply.endswith(THEN_CLOSE):
                    writer.write(reply.removesuffix(THEN_CLOSE))
                    await writer.drain()
                    break
                writer.write(reply)
                await writer.drain()
                if b"\r\nConnection: close\r\n" in reply.split(b"\r\n\r\n", 1)[0] + b"\r\n":
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def serving(script: Callable[[int, int], bytes]) -> AsyncIterator[Server]:
    """Run a scripted server on a free port."""
    server = Server(script)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    try:
        yield server
    finally:
        listener.close()
        server.drop_idle()
        await asyncio.gather(*server.tasks, return_exceptions=True)
        await listener.wait_closed()
