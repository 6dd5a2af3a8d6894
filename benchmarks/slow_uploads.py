"""What slow or abandoned clients can hold in the real `suarawarga serve`: memory, connections, log noise.

Starts `python -m suarawarga serve` (SQLite, WhatsApp configured; no platform is contacted), then:
1. opens N connections to POST /whatsapp that each declare a 1 MB body, send all of it but the last byte
   (with a signature that cannot be checked until the body is complete) and hold: the server's RSS is read
   from /proc before and while they are held; then they are dropped, and the ERROR lines the server logged
   for the aborted uploads are counted;
2. opens N connections that send half a request line and nothing more, and counts how many the server still
   holds open after `--hold` seconds.

Usage: python -m benchmarks.slow_uploads [--connections 150] [--hold 12]
Not a test: figures depend on the machine. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

BODY = 1_000_000


def rss_mb(pid: int) -> float:
    """Return a process's resident memory in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def free_port() -> int:
    """Return a port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_ready(port: int, within: float = 60.0) -> None:
    """Wait until the server answers /healthz."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            await writer.drain()
            if b"200" in await reader.readline():
                writer.close()
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("serve did not start")


async def upload(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Start a 1 MB POST /whatsapp and send all but its last byte."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /whatsapp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256="
        + b"0" * 64
        + f"\r\nContent-Length: {BODY}\r\n\r\n".encode()
    )
    chunk = b" " * 65536
    sent = 0
    while sent < BODY - 1:
        part = chunk[: min(len(chunk), BODY - 1 - sent)]
        writer.write(part)
        sent += len(part)
        try:
            async with asyncio.timeout(2):
                await writer.drain()
        except TimeoutError:  # the server stopped reading (flow control): it holds what it has
            break
    return reader, writer


async def half_request(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open a connection and send half a request line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /whatsapp HT")
    await writer.drain()
    return reader, writer


async def still_open(conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]) -> int:
    """Count the connections the server has not closed."""
    open_ = 0
    for reader, _ in conns:
        try:
            async with asyncio.timeout(0.05):
                data = await reader.read(65536)
            if data and not reader.at_eof():
                open_ += 1
        except TimeoutError:
            open_ += 1
        except OSError:
            pass
    return open_


async def main(args: argparse.Namespace) -> None:
    """Run both measurements and print them."""
    work = Path(tempfile.mkdtemp(prefix="slow-uploads-"))
    port = free_port()
    env = {
        **os.environ,
        "SUARAWARGA_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'sw.db'}",
        "SUARAWARGA_ATTACHMENTS_DIR": str(work / "files"),
        "SUARAWARGA_WHATSAPP_TOKEN": "token",
        "SUARAWARGA_WHATSAPP_PHONE_NUMBER_ID": "1234",
        "SUARAWARGA_WHATSAPP_APP_SECRET": "app-secret",
        "SUARAWARGA_WHATSAPP_API_URL": "http://127.0.0.1:9",
    }
    log = (work / "serve.log").open("w")
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "suarawarga", "serve", "--port", str(port), env=env, stdout=log, stderr=log
    )
    try:
        await wait_ready(port)
        await asyncio.sleep(1)
        idle = rss_mb(server.pid)
        conns = await asyncio.gather(*(upload(port) for _ in range(args.connections)))
        await asyncio.sleep(3)
        held = rss_mb(server.pid)
        answered = args.connections - await still_open(list(conns))
        for _, writer in conns:
            writer.transport.abort()
        await asyncio.sleep(2)
        errors = sum(1 for line in (work / "serve.log").read_text().splitlines() if " ERROR " in line)
        print(
            f"{args.connections} held 1 MB uploads: RSS {idle:.0f} MB idle -> {held:.0f} MB held "
            f"(+{held - idle:.0f} MB); {answered} answered/closed by the server before the body ended; "
            f"{errors} ERROR lines logged after they were dropped"
        )
        halves = await asyncio.gather(*(half_request(port) for _ in range(args.connections)))
        await asyncio.sleep(args.hold)
        print(
            f"{args.connections} connections with half a request line: {await still_open(list(halves))} "
            f"still open after {args.hold:.0f} s"
        )
        for _, writer in halves:
            writer.transport.abort()
    finally:
        server.terminate()
        await server.wait()
        log.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=150)
    parser.add_argument("--hold", type=float, default=12.0, help="seconds before counting held half requests")
    asyncio.run(main(parser.parse_args()))
