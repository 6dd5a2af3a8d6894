"""The temporary work directory a benchmark run keeps its logs in: removed afterwards unless asked to keep it."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """Return uvloop's loop where installed: the benchmark shares the cores with what it measures, so it costs less."""
    try:
        import uvloop
    except ImportError:  # not on this platform (Windows): the standard loop, a little more CPU per request
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run_in_workdir(prefix: str, keep: bool, run: Callable[[Path], Coroutine[Any, Any, int]]) -> int:
    """Run `run(workdir)` in a new temporary directory; print where it is if `keep`, else remove it."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            return runner.run(run(workdir))
    finally:
        if keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
