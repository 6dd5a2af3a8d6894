"""The temporary work directory a benchmark run keeps its logs in: removed afterwards unless asked to keep it."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any


def run_in_workdir(prefix: str, keep: bool, run: Callable[[Path], Coroutine[Any, Any, int]]) -> int:
    """Run `run(workdir)` in a new temporary directory; print where it is if `keep`, else remove it."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        return asyncio.run(run(workdir))
    finally:
        if keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
