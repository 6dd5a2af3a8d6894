"""Memory benchmark: the RSS of one `process` holding 10 000 conversations part-way through the complaint flow.

What runs is the load benchmark's split layout (benchmarks/load.py): a fresh PostgreSQL database, the fake Bot API
and Graph API in this process, one `serve --accept-only` and one `process` (at `--nice`). N citizens, half on
Telegram and half on WhatsApp, each send the first `--steps` updates of the complaint flow (default 4 of 12:
greeting, "complaint", consent, category), each after the replies to the one before arrived (closed mode, buttons
pressed on the messages received), and then stop: N real conversations are left mid-flow, at the description
step, their state in SQL as every conversation's is. The citizens come in `--waves` waves (default 10) of N/waves
at once, each wave after the one before had all its replies, so that the RSS can be read at known counts. The
figures:

- VmRSS of the `process` process (/proc/<pid>/status) right after it answered /healthz, before any update;
- VmRSS after each wave, and the growth per conversation from the first wave to the last (past the first
  updates' warm-up: lazy imports, connection pools, caches);
- VmRSS and VmHWM (its peak) at the end, with RssAnon and RssFile.

Conversation state lives in SQL, so what the process holds per chat is its bounded in-memory maps (Telegram
pacing, send lanes, input limits: each keeps at most 10 000 chats) and whatever the libraries cache.
`--tracemalloc` runs the `process` under tracemalloc (benchmarks/traced_process.py) and prints the top
allocation sites at the end, to say what dominates; tracing adds memory and time of its own, so take the RSS
figures from a run without it.

Checks: every citizen got exactly the replies of its steps, and the database holds N conversations at the step
the citizens stopped at. Run: `python -m benchmarks.process_memory [--conversations 10000] [--steps 4]
[--nice 10] [--tracemalloc] [--json]`; needs the test extra (the fakes) and a PostgreSQL server the benchmark may
create databases on. Not a test: it prints figures, and exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import load
from benchmarks.workdir import run_in_workdir

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/suarawarga_memory"
ROOT = Path(__file__).resolve().parent.parent  # where `benchmarks` is a package (for the traced process)
STATUS_FIELDS = ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem")
TARGET_BYTES = 150_000_000  # issue #17: RSS under 150 MB


def memory(pid: int) -> dict[str, int]:
    """Return the memory fields of /proc/<pid>/status in bytes (empty when the process is gone)."""
    found: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in STATUS_FIELDS:
                found[name] = int(value.split()[0]) * 1024  # the kernel says kB and means KiB
    return found


def mib(value: float) -> str:
    """Return a byte count as MiB, with the MB (10^6) the issue counts in."""
    return f"{value / 2**20:.1f} MiB ({value / 1e6:.1f} MB)"


@dataclass
class TracedProcess(load.ServeProcess):
    """The `process` process run under tracemalloc: SIGUSR1 makes it write its top allocation sites to `out`."""

    out: Path = Path("tracemalloc.txt")

    @property
    def argv(self) -> list[str]:
        """Return the command line: `python -m benchmarks.traced_process OUT -- process ...`."""
        argv = super().argv
        at = argv.index("suarawarga")  # the module of `python -m suarawarga`
        return [*argv[:at], "benchmarks.traced_process", str(self.out), "--", *argv[at + 1 :]]


@dataclass
class Sample:
    """The process's RSS after a wave: that many conversations were mid-flow."""

    answered: int
    rss: int


@dataclass
class Growth:
    """The process's memory after start, and its RSS after each wave."""

    start: dict[str, int] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)

    def per_conversation(self) -> float:
        """Return the RSS bytes added per conversation from the first wave to the last (nan with one wave)."""
        first, last = self.samples[0], self.samples[-1]
        return (last.rss - first.rss) / (last.answered - first.answered) if last.answered > first.answered else math.nan


class MemoryRun(load.LoadRun):
    """N citizens left part-way through the complaint flow; the `process` process's RSS measured."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        super().__init__(args, workdir)
        self.steps = load.script()[: args.steps]
        self.expected = {c: [k for s in self.steps for k in s.replies(c)] for c in ("telegram", "whatsapp")}
        self.total_updates = args.citizens * len(self.steps)
        self.answered = 0
        self.growth = Growth()

    def processor(self, index: int, count: int, port: int, env: dict[str, str]) -> load.ServeProcess:
        """Return the `process` process, under tracemalloc with --tracemalloc."""
        if not self.args.tracemalloc:
            return super().processor(index, count, port, env)
        traced_env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))}
        out = self.workdir / f"tracemalloc-{index}.txt"
        return TracedProcess(index, count, port, traced_env, self.workdir, "process", self.args.nice, out=out)

    async def citizen(self, citizen: load.Citizen, start: float, deadline: float) -> None:
        """Start after `start` seconds, follow the truncated script, then count the citizen as answered."""
        await asyncio.sleep(start)
        await self.live(citizen, deadline)
        self.answered += citizen.stuck is None

    async def tracemalloc_top(self, process: load.ServeProcess) -> str:
        """Ask the traced process for its top allocation sites (and what grew since the first ask); return them."""
        if not isinstance(process, TracedProcess) or process.process is None:
            return ""
        process.out.unlink(missing_ok=True)
        os.kill(process.process.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 180
        while not process.out.exists():
            if time.monotonic() > deadline:
                return "tracemalloc: no snapshot within 180 s"
            await asyncio.sleep(0.5)
        return process.out.read_text()

    async def run(self) -> int:
        """Start everything, leave the conversations mid-flow, measure, check; return the exit status."""
        args = self.args
        self.make_citizens()
        async with self.running():
            process = self.processors[0]
            if process.process is None:
                raise RuntimeError("the process process did not start")
            pid = process.process.pid
            self.growth.start = memory(pid)
            await self.tracemalloc_top(process)  # the snapshot after start, that the last one is compared with
            self.started = time.monotonic()
            deadline = self.started + args.max_seconds
            channels = Counter(c.channel for c in self.citizens)
            print(
                f"run: {args.citizens} citizens ({channels['telegram']} Telegram, {channels['whatsapp']} WhatsApp) "
                f"x {len(self.steps)} updates, closed mode; `process` pid {pid}, RSS after start "
                f"{mib(self.growth.start.get('VmRSS', 0))}",
                flush=True,
            )
            size = math.ceil(args.citizens / args.waves)
            for first in range(0, args.citizens, size):
                wave = self.citizens[first : first + size]
                await asyncio.gather(
                    *(self.citizen(c, args.wave_ramp * n / size, deadline) for n, c in enumerate(wave))
                )
                self.growth.samples.append(Sample(self.answered, memory(pid).get("VmRSS", 0)))
                self.stats.note(
                    self.started, f"{self.answered} conversations mid-flow: RSS {mib(self.growth.samples[-1].rss)}"
                )
            sent_done = time.monotonic()
            settled = await self.settle(deadline + args.settle)
            self.stats.note(self.started, "settled: outbox drained" if settled < deadline + args.settle else "gave up")
            end = memory(pid)
            top = await self.tracemalloc_top(process)
            return await self.memory_report(end, top, settled - sent_done)

    async def memory_report(self, end: dict[str, int], top: str, settling: float) -> int:
        """Print the figures and the checks; return the exit status."""
        args = self.args
        rows = await self.query("SELECT flow, step, count(*) FROM conversations GROUP BY flow, step")
        conversations = {f"{flow}/{step}": int(n) for flow, step, n in rows}
        at_step = max(conversations.values(), default=0)
        replies = self.check_replies()
        inbox = dict(await self.query("SELECT status, count(*) FROM inbox GROUP BY status"))
        outbox = dict(await self.query("SELECT status, count(*) FROM outbox GROUP BY status"))
        start = self.growth.start.get("VmRSS", 0)
        points = ", ".join(f"{s.answered}: {s.rss / 2**20:.1f}" for s in self.growth.samples)
        per_conversation = self.growth.per_conversation()
        ok = replies.exact == len(self.citizens) == self.answered and at_step == args.citizens
        rss = end.get("VmRSS", 0)
        print()
        print("=" * 78)
        traced = " under tracemalloc (RSS inflated by tracing)" if args.tracemalloc else ""
        print(
            f"process memory: {args.citizens} conversations mid-flow (after {len(self.steps)} of {len(load.script())} "
            f"updates each), 1 serve --accept-only + 1 process (nice {args.nice}){traced}"
        )
        print(f"conversations in SQL:  {conversations} (flow/step: count)")
        print(
            f"replies:               exactly the expected ones for {replies.exact} of {len(self.citizens)} citizens; "
            f"missing for {replies.missing}, repeated for {replies.repeated}, unexpected "
            f"{dict(replies.unexpected) or 0}; inbox {inbox}, outbox {outbox}, settled {settling:.1f} s after the "
            "last ack"
        )
        for sample_text in replies.samples:
            print(f"  e.g. {sample_text}")
        print(f"RSS after start:       {mib(start)} (before any update)")
        print(f"RSS after each wave:   MiB with that many conversations mid-flow: {points}")
        print(f"growth:                {per_conversation / 1024:.2f} KiB per conversation (first wave to last)")
        print(
            f"RSS at the end:        VmRSS {mib(rss)}, VmHWM (peak) {mib(end.get('VmHWM', 0))}; RssAnon "
            f"{end.get('RssAnon', 0) / 2**20:.1f} MiB, RssFile {end.get('RssFile', 0) / 2**20:.1f} MiB"
        )
        print(
            f"checks:                {'PASS' if ok else 'FAIL'} (every reply exactly once, every conversation stored)"
        )
        met = end.get("VmHWM", rss) < TARGET_BYTES
        print(
            f"target:                {'met' if met else 'NOT met'} (issue #17: RSS of one process with 10 000 "
            "conversations mid-flow < 150 MB; compared: VmHWM)"
        )
        if top:
            print(top.rstrip())
        print("=" * 78)
        if args.json:
            summary = {
                "conversations": args.citizens,
                "steps": len(self.steps),
                "tracemalloc": args.tracemalloc,
                "rss_after_start_bytes": start,
                "rss_bytes": rss,
                "hwm_bytes": end.get("VmHWM", 0),
                "rss_anon_bytes": end.get("RssAnon", 0),
                "growth_bytes_per_conversation": None if math.isnan(per_conversation) else round(per_conversation),
                "rss_after_wave": [[s.answered, s.rss] for s in self.growth.samples],
                "conversations_in_sql": conversations,
                "exact": replies.exact,
                "ok": ok,
            }
            print(json.dumps(summary))
        return 0 if ok else 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line; return the load benchmark's arguments with this benchmark's added."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.process_memory",
        description="RSS of one `suarawarga process` holding N conversations mid-flow (split layout, fake "
        "platforms on loopback, PostgreSQL).",
    )
    parser.add_argument("--database-url", default=DEFAULT_DB, help=f"dropped and created (default: {DEFAULT_DB})")
    parser.add_argument("--conversations", type=int, default=10_000, help="citizens left mid-flow (default: 10000)")
    parser.add_argument(
        "--steps", type=int, default=4, help="updates each citizen sends, of the flow's 12 (default: 4, 1 to 11)"
    )
    parser.add_argument("--only", choices=["telegram", "whatsapp"], help="put every citizen on one channel")
    parser.add_argument("--nice", type=int, default=10, help="niceness of the process process (default: 10)")
    parser.add_argument("--port", type=int, default=18280, help="port of the serve process (default: 18280)")
    parser.add_argument("--connections", type=int, default=128, help="HTTP requests in flight at most (default: 128)")
    parser.add_argument("--waves", type=int, default=10, help="citizens come in that many waves (default: 10)")
    parser.add_argument(
        "--ramp", type=float, default=0.5, help="seconds over which a wave's citizens start (default: 0.5)"
    )
    parser.add_argument("--max-seconds", type=float, default=600, help="bound of the sending phase (default: 600)")
    parser.add_argument("--tracemalloc", action="store_true", help="trace the process; print its top allocations")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs) afterwards")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    own = parser.parse_args(argv)
    if own.conversations < 1 or own.waves < 1 or not 1 <= own.steps < len(load.script()):
        parser.error(f"--conversations and --waves must be at least 1, --steps between 1 and {len(load.script()) - 1}")
    args = load.parse_args(
        [
            *("--database-url", own.database_url, "--citizens", str(own.conversations), "--mode", "closed"),
            *("--accept", "1", "--processes", "1", "--nice", str(own.nice), "--port", str(own.port)),
            *("--connections", str(own.connections), "--ramp", "0", "--max-seconds", str(own.max_seconds)),
            *(("--only", own.only) if own.only else ()),
        ]
    )
    args.steps, args.tracemalloc, args.keep, args.json = own.steps, own.tracemalloc, own.keep, own.json
    args.waves, args.wave_ramp = own.waves, own.ramp
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark from the command line."""
    args = parse_args(argv)
    return run_in_workdir("suarawarga-memory-", args.keep, lambda workdir: MemoryRun(args, workdir).run())


if __name__ == "__main__":
    sys.exit(main())
