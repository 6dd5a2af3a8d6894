"""Run `python -m suarawarga ARGS` with tracemalloc on; on SIGUSR1 write the top allocation sites to a file.

The first SIGUSR1 also keeps its snapshot: each later one says what grew since then (by line).

Used by benchmarks/process_memory.py (`--tracemalloc`) to say what a `process` process holds:
`python -m benchmarks.traced_process OUT -- process --no-setup ...`. Tracing slows the process and adds its own
memory, so the RSS figures of the benchmark come from an untraced run.
"""

from __future__ import annotations

import os
import signal
import sys
import sysconfig
import tracemalloc
from collections import Counter
from pathlib import Path
from types import FrameType

TOP = 25
# One frame: with 16 the process needs ~30 s to start on a busy 2-core machine (1 frame: ~6 s, untraced ~1.4 s).
FRAMES = 1
STDLIB = sysconfig.get_paths()["stdlib"]


def package(filename: str) -> str:
    """Return who allocated, by the file of the allocating frame: a package, the standard library, or imports."""
    if filename.startswith("<frozen importlib"):
        return "imports (the code and constants of loaded modules)"
    if filename.startswith("<") or filename.startswith(STDLIB):
        return "standard library (classes, dataclasses, typing, enum: mostly made at import)"
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    return "suarawarga" if "/suarawarga/" in filename else Path(filename).name


def dump(out: Path, first: tracemalloc.Snapshot | None) -> tracemalloc.Snapshot:
    """Write the traced totals, the top allocations (by package, file, line) and what grew since `first` to `out`."""
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    current, peak = tracemalloc.get_traced_memory()
    lines = [f"traced now {current / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB (the process's Python heap)"]
    by_package: Counter[str] = Counter()
    for stat in snapshot.statistics("filename"):
        by_package[package(stat.traceback[0].filename)] += stat.size
    lines.append(f"top {TOP} by package (of the allocating frame):")
    lines += [f"  {size / 2**20:7.2f} MiB  {name}" for name, size in by_package.most_common(TOP)]
    modules = Counter(name.split(".")[0] for name in list(sys.modules))
    lines.append(f"modules loaded: {len(sys.modules)}; by package: {dict(modules.most_common(15))}")
    for key in ("filename", "lineno"):
        stats = snapshot.statistics(key)
        lines.append(f"top {TOP} by {key} (innermost frame; of {sum(s.size for s in stats) / 2**20:.1f} MiB):")
        lines += [f"  {s.size / 2**20:7.2f} MiB {s.count:8d} blocks  {s.traceback[0]}" for s in stats[:TOP]]
    if first is not None:
        grown = snapshot.compare_to(first, "lineno")
        total = sum(d.size_diff for d in grown)
        lines.append(f"top {TOP} grown since the first snapshot (by line; {total / 2**20:+.1f} MiB in all):")
        lines += [f"  {d.size_diff / 2**20:+7.2f} MiB {d.count_diff:+8d} blocks  {d.traceback[0]}" for d in grown[:TOP]]
    partial = out.with_suffix(".partial")
    partial.write_text("\n".join(lines) + "\n")
    os.replace(partial, out)
    return snapshot


def main(argv: list[str]) -> int:
    """Start tracing, arm SIGUSR1, run the suarawarga command line after `--`."""
    if len(argv) < 2 or argv[1] != "--":
        print("usage: python -m benchmarks.traced_process OUT -- SUARAWARGA-ARGS", file=sys.stderr)
        return 2
    out = Path(argv[0])
    first: list[tracemalloc.Snapshot] = []  # the first snapshot, that later ones are compared with

    def on_signal(signum: int, frame: FrameType | None) -> None:
        snapshot = dump(out, first[0] if first else None)
        first[:1] = first or [snapshot]

    tracemalloc.start(FRAMES)
    signal.signal(signal.SIGUSR1, on_signal)
    from suarawarga.cli.main import main as suarawarga_main  # imported traced: modules are part of what it holds

    return suarawarga_main(argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
