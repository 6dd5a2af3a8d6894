"""Run `python -m suarawarga ARGS` with tracemalloc on; on SIGUSR1 write the top allocation sites to a file.

Used by benchmarks/process_memory.py (`--tracemalloc`) to say what a `process` process holds:
`python -m benchmarks.traced_process OUT -- process --no-setup ...`. Tracing slows the process and adds its own
memory, so the RSS figures of the benchmark come from an untraced run.
"""

from __future__ import annotations

import os
import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType

from suarawarga.cli.main import main as suarawarga_main

TOP = 25


def dump(out: Path) -> None:
    """Write the traced totals and the top allocation sites, by file and by line, to `out` (atomically)."""
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap*")]
    )
    current, peak = tracemalloc.get_traced_memory()
    lines = [f"traced now {current / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB"]
    for key in ("filename", "lineno"):
        stats = snapshot.statistics(key)
        lines.append(f"top {TOP} by {key} (of {sum(s.size for s in stats) / 2**20:.1f} MiB):")
        lines += [f"  {s.size / 2**20:7.2f} MiB {s.count:8d} blocks  {s.traceback[0]}" for s in stats[:TOP]]
    partial = out.with_suffix(".partial")
    partial.write_text("\n".join(lines) + "\n")
    os.replace(partial, out)


def main(argv: list[str]) -> int:
    """Start tracing, arm SIGUSR1, run the suarawarga command line after `--`."""
    if len(argv) < 2 or argv[1] != "--":
        print("usage: python -m benchmarks.traced_process OUT -- SUARAWARGA-ARGS", file=sys.stderr)
        return 2
    out = Path(argv[0])

    def on_signal(signum: int, frame: FrameType | None) -> None:
        dump(out)

    tracemalloc.start(1)
    signal.signal(signal.SIGUSR1, on_signal)
    return suarawarga_main(argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
