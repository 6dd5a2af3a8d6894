"""Serving an ASGI app on loopback inside a test's own event loop (for the fake platform servers)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Generator
from typing import Any

import uvicorn
from starlette.types import ASGIApp


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signal handlers alone and stops as soon as it is told."""

    def __init__(self, config: uvicorn.Config) -> None:
        """Create the server with its stop event."""
        super().__init__(config)
        self.stop = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Install no signal handlers: the server runs inside a test's event loop."""
        yield

    async def main_loop(self) -> None:
        """Wait for the stop event rather than polling every 100 ms (tests start and stop many servers)."""
        await self.on_tick(0)
        await self.stop.wait()


@contextlib.asynccontextmanager
async def serve_app(app: ASGIApp, **options: Any) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 with a free port as a task on the running loop; yield its base URL.

    `options` are further uvicorn.Config arguments (e.g. those of `suarawarga.httpserver.server_options`).
    """
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "lifespan": "off",
        "log_config": None,
        "log_level": "warning",
        "access_log": False,
        "timeout_graceful_shutdown": 2,
    }
    config = uvicorn.Config(app, **{**settings, **options, "timeout_graceful_shutdown": 2})
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:  # polls uvicorn's own flag: there is no event to wait on
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped during startup")
            await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        server.stop.set()
        await task
