"""Benchmark: `report ikm` and the public city page at scale, from the daily roll-up and from a scan, side by side.

Builds a database with the real migrations and the Kota Padang seed, then generates in SQL (PostgreSQL:
`generate_series`; SQLite: a recursive CTE in one transaction) N survey responses spread over every unit from
2025-01-01 to the benchmark's "now" (2026-12-05 12:00 WIB), and on PostgreSQL M complaints over 2023-01-01..now
with a `resolved` event for those resolved. The scores come from an integer hash of the row number, so both
databases hold the same answers. The roll-up is then built by the product's own repair path
(`surveys.services.check_rollup`, day by day, as `run-job rollup-check` does), and the complaints' stored
resolution (first resolution, days, within the deadline) by `storage.statistics_sql.backfill_resolutions`, the
function migration 0021 runs.

Measured, each with the roll-up and with the scan of the answers (`SurveyRepo.scan_tallies`) in the same run:
- `surveys.services.ikm_report` (what `suarawarga report ikm` computes) for a sub-unit, an OPD pooled with its
  sub-units and the whole city, over a quarter, a semester and a year: first call and best of 3, and the two
  results compared (they must be equal). Target: every roll-up figure under 50 ms, on both databases.
- PostgreSQL only: `GET /` through the real Starlette site, sequential requests, p50/p95. Target p95 < 100 ms.

    python -m benchmarks.site [--responses N] [--complaints M] [--skip-sqlite] [--skip-postgres]
                              [--sqlite-path FILE] [--reuse [--skip-check]] [--keep] [--requests R]
                              [--generate-only]

PostgreSQL URL: SUARAWARGA_BENCH_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/
suarawarga_bench); the database is created if missing. --reuse keeps data already generated with the same sizes
(the schema is upgraded, and the roll-up checked against the answers unless --skip-check); --keep leaves the
databases in place (default: dropped at the end); --generate-only stops before measuring.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from suarawarga.bootstrap import App, build
from suarawarga.bot.web import create_web_app
from suarawarga.complaints.seed import read_seed
from suarawarga.complaints.services import load_seed
from suarawarga.config import Settings
from suarawarga.site.web import site_routes
from suarawarga.storage.db import make_engine
from suarawarga.storage.migrate import upgrade
from suarawarga.storage.statistics_sql import backfill_resolutions
from suarawarga.storage.survey_sql import SurveyRepo
from suarawarga.storage.uow_sql import SqlUnitOfWork
from suarawarga.surveys.definitions import SURVEY_VERSION, UNSUR_ORDER
from suarawarga.surveys.periods import Period, parse_period
from suarawarga.surveys.services import IkmReport, check_rollup, ikm_report

TZ = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=TZ)
SURVEYS_FROM = datetime(2025, 1, 1, tzinfo=TZ)
COMPLAINTS_FROM = datetime(2023, 1, 1, tzinfo=TZ)
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/suarawarga_bench"
CASES = (("PKM-ANDALAS", "sub-unit"), ("DINKES", "OPD pooled"), (None, "city"))
PERIODS = ("2026-Q3", "2026-S1", "2025")
TARGET_REPORT = 0.050
TARGET_PAGE = 0.100
DAY = 86_400


class FixedClock:
    """The benchmark's 'now': the end of the generated data."""

    @property
    def tz(self) -> tzinfo:
        """Return the city's timezone."""
        return TZ

    def now(self) -> datetime:
        """Return the fixed moment."""
        return NOW


def _score(unsur: int) -> str:
    """Return SQL for a score 1..4 of unsur `unsur` from row number g: mostly 3 and 4 (weights 1:2:5:6)."""
    h = f"((g * 2654435761 + {unsur + 1} * 2246822519) % 1000003) % 14"
    score = f"CASE WHEN {h} < 1 THEN 1 WHEN {h} < 3 THEN 2 WHEN {h} < 8 THEN 3 ELSE 4 END"
    if UNSUR_ORDER[unsur].value == "pengaduan":  # the unsur respondents most often leave blank
        return f"CASE WHEN (g * 40503 % 1009) % 20 = 0 THEN NULL ELSE {score} END"
    return score


def responses_sql(dialect: str, rows: int) -> str:
    """Return the INSERT that generates `rows` responses, unit by unit in turn, evenly spread in time."""
    start, end = int(SURVEYS_FROM.timestamp()), int(NOW.timestamp())
    span = end - start
    columns = ", ".join(u.value for u in UNSUR_ORDER)
    scores = ", ".join(_score(i) for i in range(len(UNSUR_ORDER)))
    offset = f"{start} + g * {span} / {rows}"
    if dialect == "postgresql":
        moment, source = f"to_timestamp({offset})", f"generate_series(0::bigint, {rows - 1}) AS s(g)"
        prefix = ""
    else:
        moment = f"strftime('%Y-%m-%d %H:%M:%S', {offset}, 'unixepoch') || '.000000'"
        prefix = f"WITH RECURSIVE s(g) AS (SELECT 0 UNION ALL SELECT g + 1 FROM s WHERE g < {rows - 1}) "  # noqa: S608
        source = "s"
    return (
        f"{prefix}INSERT INTO survey_responses (unit_id, submitted_at, survey_version, service, source, {columns}) "  # noqa: S608
        f"SELECT b.unit_id, {moment}, '{SURVEY_VERSION}', 'KTP', 'import', {scores} "
        f"FROM {source} JOIN bench_units b ON b.idx = g % (SELECT count(*) FROM bench_units)"
    )


def complaints_sql(rows: int) -> list[str]:
    """Return PostgreSQL statements that generate `rows` complaints and the resolution events of those resolved.

    Complaints come one after another over 2023-01-01..now, in every category (routed to its unit). Those filed
    in the last 20 days are open, and one in a hundred older ones too; the rest were resolved after 1 to 80 days
    (so some missed the 60-day limit), and closed unless resolved in the last 10 days.
    """
    start, end = int(COMPLAINTS_FROM.timestamp()), int(NOW.timestamp())
    span = end - start
    filed = f"({start} + g * {span}::bigint / {rows})"
    resolve_after = "(DAY + (g * 2654435761 % 6911) * 1000)".replace("DAY", str(DAY))
    open_ = f"({filed} > {end - 20 * DAY} OR g % 100 = 7)"
    statuses = "(ARRAY['diterima','diproses','menunggu_info','perlu_disposisi'])[1 + g % 4]"
    resolved_at = f"{filed} + {resolve_after}"
    status = (
        f"CASE WHEN {open_} OR {resolved_at} > {end} THEN {statuses} "
        f"WHEN {resolved_at} > {end - 10 * DAY} THEN 'selesai' ELSE 'ditutup' END"
    )
    return [
        "CREATE TEMP TABLE bench_categories AS SELECT row_number() OVER (ORDER BY id) - 1 AS idx, id, unit_id "
        "FROM categories WHERE unit_id IS NOT NULL",
        "INSERT INTO complaints (code, status, category_id, unit_id, description, identity_mode, language, "  # noqa: S608
        "filed_at, updated_at) "
        f"SELECT 'BM' || g, {status}, c.id, c.unit_id, 'benchmark', 'anonim', 'id', to_timestamp({filed}), "
        f"to_timestamp(LEAST({resolved_at}, {end})) "
        f"FROM generate_series(0::bigint, {rows - 1}) AS s(g) "
        "JOIN bench_categories c ON c.idx = g % (SELECT count(*) FROM bench_categories)",
        "INSERT INTO complaint_events (complaint_id, at, kind, actor_kind, from_status, to_status, unit_id) "
        "SELECT id, filed_at + ((DAY + (g * 2654435761 % 6911) * 1000) * interval '1 second'), 'resolved', "
        "'staff', 'diproses', 'selesai', unit_id "
        "FROM (SELECT id, filed_at, unit_id, substr(code, 3)::bigint AS g FROM complaints "
        "WHERE code LIKE 'BM%' AND status IN ('selesai', 'ditutup')) AS r".replace("DAY", str(DAY)),
    ]


@dataclass
class Timed:
    """First call and best of the following calls, in seconds, with this process's CPU time and the last result."""

    first: float
    best: float
    best_cpu: float
    result: Any


async def timed(call: Callable[[], Awaitable[Any]], repeat: int = 3) -> Timed:
    """Time a call once cold, then `repeat` more times."""
    timings, cpu, result = [], [], None
    for _ in range(repeat + 1):
        started, used = time.perf_counter(), time.process_time()
        result = await call()
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return Timed(timings[0], min(timings[1:]), min(cpu[1:]), result)


class Scanning:
    """While active, every IKM is computed by scanning the answers instead of summing the roll-up."""

    def __enter__(self) -> None:
        self.saved = SurveyRepo.tallies
        SurveyRepo.tallies = SurveyRepo.scan_tallies  # type: ignore[method-assign]

    def __exit__(self, *exc: object) -> None:
        SurveyRepo.tallies = self.saved  # type: ignore[method-assign]


def settings(url: str) -> Settings:
    """Return settings for the benchmark's app."""
    return Settings(_env_file=None, database_url=url, attachments_dir=Path(tempfile.gettempdir()))  # type: ignore[call-arg]


async def count(engine: AsyncEngine, table: str) -> int:
    """Return how many rows a table holds."""
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())  # noqa: S608


async def prepare(engine: AsyncEngine) -> None:
    """Migrate and seed (both idempotent)."""
    await upgrade(engine)
    async with SqlUnitOfWork(engine, TZ) as uow:
        await load_seed(uow, read_seed())
        await uow.commit()


async def generate_responses(engine: AsyncEngine, rows: int) -> float:
    """Generate the responses in one statement (one transaction) and return the seconds it took."""
    started = time.perf_counter()
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM survey_daily"))
        await conn.execute(text("DELETE FROM survey_responses"))
        await conn.execute(text("DROP TABLE IF EXISTS bench_units"))
        await conn.execute(
            text(
                "CREATE TEMP TABLE bench_units AS SELECT row_number() OVER (ORDER BY id) - 1 AS idx, "
                "id AS unit_id FROM service_units"
            )
        )
        await conn.execute(text(responses_sql(engine.dialect.name, rows)))
    return time.perf_counter() - started


async def build_rollup(engine: AsyncEngine) -> tuple[float, int]:
    """Build the roll-up with the product's repair (`check_rollup`) for every day; return seconds and days fixed."""
    started, fixed = time.perf_counter(), 0
    day, last = SURVEYS_FROM.date() - timedelta(days=1), NOW.date()
    while day <= last:
        async with SqlUnitOfWork(engine, TZ) as uow:
            for _ in range(30):  # a month per transaction
                if day > last:
                    break
                fixed += bool(await check_rollup(uow, day, repair=True))
                day += timedelta(days=1)
            await uow.commit()
    return time.perf_counter() - started, fixed


async def generate_complaints(engine: AsyncEngine, rows: int) -> float:
    """Generate complaints and their resolution events in SQL; return the seconds it took."""
    started = time.perf_counter()
    async with engine.begin() as conn:
        await conn.execute(
            text("DELETE FROM complaint_events WHERE complaint_id IN (SELECT id FROM complaints WHERE code LIKE 'BM%')")
        )
        await conn.execute(text("DELETE FROM complaints WHERE code LIKE 'BM%'"))
        await conn.execute(text("DROP TABLE IF EXISTS bench_categories"))
        for statement in complaints_sql(rows):
            await conn.execute(text(statement))
    return time.perf_counter() - started


async def backfill(engine: AsyncEngine) -> tuple[float, int]:
    """Store the complaints' first resolutions as migration 0021 does; return seconds and how many."""
    started = time.perf_counter()
    async with engine.begin() as conn:
        filled = await conn.run_sync(backfill_resolutions)
    return time.perf_counter() - started, filled


async def vacuum(url: str) -> None:
    """VACUUM ANALYZE after the bulk load, as autovacuum would (index-only scans need the visibility map)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()


def same(a: IkmReport, b: IkmReport) -> bool:
    """Tell whether two reports give the same figures on every line."""
    return [(line.code, line.n_respondents, line.result) for line in a.lines] == [
        (line.code, line.n_respondents, line.result) for line in b.lines
    ]


async def bench_reports(engine: AsyncEngine, database: str) -> bool:
    """Time `ikm_report` for every case and period, roll-up and scan; print a line each; return the verdict."""
    ok = True
    city = ("PDG", "Kota Padang")
    for code, label in CASES:
        for text_period in PERIODS:
            period: Period = parse_period(text_period, TZ)

            async def report(code: str | None = code, period: Period = period) -> IkmReport:
                async with SqlUnitOfWork(engine, TZ) as uow:
                    return await ikm_report(uow, period, unit_code=code, city=city)

            rolled = await timed(report)
            with Scanning():
                scanned = await timed(report, repeat=1)
            equal = same(rolled.result, scanned.result)
            fast = rolled.first < TARGET_REPORT and rolled.best < TARGET_REPORT
            ok &= equal and fast
            line = rolled.result.first()
            print(
                f"  {database:<10} report ikm {label:<10} {code or 'PDG':<11} {text_period:<7} "
                f"n={line.n_respondents:>9,}  roll-up first={rolled.first * 1000:7.1f} ms "
                f"best={rolled.best * 1000:7.1f} ms (CPU {rolled.best_cpu * 1000:5.1f} ms)  "
                f"scan best={scanned.best * 1000:8.1f} ms  "
                f"ratio={scanned.best / rolled.best:7.1f}x  {'same figures' if equal else 'FIGURES DIFFER'}  "
                f"{'under' if fast else 'OVER'} 50 ms"
            )
    return ok


async def page_timings(app: App, requests: int) -> tuple[list[float], list[float]]:
    """GET / `requests` times in a row (after one warm-up); return each duration and this process's CPU time."""
    web = create_web_app([], None, site_routes(app))
    transport = httpx.ASGITransport(app=web, client=("203.0.113.7", 40000))
    timings, cpu = [], []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as http:
        for attempt in range(requests + 1):
            started, used = time.perf_counter(), time.process_time()
            response = await http.get("/")
            took, used = time.perf_counter() - started, time.process_time() - used
            if response.status_code != 200:
                raise SystemExit(f"GET / answered {response.status_code}")
            if attempt:
                timings.append(took)
                cpu.append(used)
    return timings, cpu


def p95(values: list[float]) -> float:
    """Return the 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


async def bench_page(url: str, requests: int) -> bool:
    """Time GET / with the roll-up and with the scan; print both and the ratio; return the verdict."""
    app = build(settings(url), clock=FixedClock())
    try:
        rolled, rolled_cpu = await page_timings(app, requests)
        with Scanning():
            scanned, scanned_cpu = await page_timings(app, max(3, requests // 20))
    finally:
        await app.aclose()
    fast = p95(rolled) < TARGET_PAGE
    for label, timings, cpu in (("roll-up", rolled, rolled_cpu), ("scan", scanned, scanned_cpu)):
        print(
            f"  PostgreSQL GET / {label:<7}: {len(timings)} requests  p50={statistics.median(timings) * 1000:.1f} ms "
            f"p95={p95(timings) * 1000:.1f} ms max={max(timings) * 1000:.1f} ms  "
            f"(app process CPU per request: median {statistics.median(cpu) * 1000:.1f} ms)"
        )
    print(
        f"  PostgreSQL GET / ratio scan/roll-up: p50 {statistics.median(scanned) / statistics.median(rolled):.1f}x, "
        f"p95 {p95(scanned) / p95(rolled):.1f}x; roll-up p95 {'under' if fast else 'OVER'} 100 ms"
    )
    return fast


async def run_database(url: str, args: argparse.Namespace) -> bool:
    """Generate (or reuse) one database's data and measure it."""
    engine = make_engine(url)
    database = "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"
    try:
        await prepare(engine)
        if not (args.reuse and await count(engine, "survey_responses") == args.responses):
            took = await generate_responses(engine, args.responses)
            print(f"  {database}: {args.responses:,} responses generated in {took:.1f} s", flush=True)
            took, days = await build_rollup(engine)
            print(f"  {database}: roll-up built by check_rollup in {took:.1f} s ({days} days written)", flush=True)
        elif not args.skip_check:
            took, days = await build_rollup(engine)
            print(f"  {database}: responses reused; check_rollup over every day: {took:.1f} s, {days} repaired")
        if database == "PostgreSQL" and args.complaints:
            if not (args.reuse and await count(engine, "complaints") == args.complaints):
                took = await generate_complaints(engine, args.complaints)
                print(f"  {database}: {args.complaints:,} complaints generated in {took:.1f} s", flush=True)
            took, filled = await backfill(engine)
            print(f"  {database}: backfill_resolutions stored {filled:,} resolutions in {took:.1f} s", flush=True)
        if database == "PostgreSQL":
            await engine.dispose()
            await vacuum(url)
        if args.generate_only:
            return True
        stored = await count(engine, "survey_responses")
        print(
            f"  {database}: {stored:,} responses, {await count(engine, 'survey_daily'):,} roll-up rows, "
            f"{await count(engine, 'complaints'):,} complaints"
        )
        ok = await bench_reports(engine, database)
        if database == "PostgreSQL":
            await engine.dispose()
            ok &= await bench_page(url, args.requests)
        return ok
    finally:
        await engine.dispose()


async def create_postgres(url: str) -> None:
    """Create the benchmark database if missing."""
    target = make_url(url)
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    try:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            exists = await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database})
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        await admin.dispose()


async def drop_postgres(url: str) -> None:
    """Drop the benchmark database."""
    target = make_url(url)
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    try:
        async with admin.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}"'))
    finally:
        await admin.dispose()


def machine() -> str:
    """Describe the machine and how busy it was."""
    load = os.getloadavg()
    cpu = platform.processor() or platform.machine()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = cpu
    disk = shutil.disk_usage(tempfile.gettempdir())
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()  # noqa: S607
    return (
        f"machine: {os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; free disk {disk.free / 1e9:.0f} GB; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (shared with other work) [{uptime}]"
    )


def remove_sqlite(path: Path, folder: str | None) -> None:
    """Delete the SQLite file (and its journal files, and the temporary folder)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


async def run(args: argparse.Namespace) -> int:
    """Benchmark each database."""
    print(machine())
    print(
        f"{args.responses:,} responses over every unit {SURVEYS_FROM.date()}..{NOW.date()}, "
        f"{args.complaints:,} complaints {COMPLAINTS_FROM.date()}..{NOW.date()} (PostgreSQL); now = {NOW.isoformat()}"
    )
    ok = True
    if not args.skip_sqlite:
        folder = None if args.sqlite_path else tempfile.mkdtemp(prefix="sw-bench-")
        path = Path(args.sqlite_path) if args.sqlite_path else Path(folder or ".") / "bench.db"
        try:
            ok &= await run_database(f"sqlite+aiosqlite:///{path}", args)
        finally:
            if not args.keep:
                remove_sqlite(path, folder)
    if not args.skip_postgres:
        url = os.environ.get("SUARAWARGA_BENCH_DATABASE_URL", DEFAULT_PG)
        await create_postgres(url)
        try:
            ok &= await run_database(url, args)
        finally:
            if not args.keep:
                await drop_postgres(url)
    print(machine())
    print("all targets met" if ok else "SOME TARGET MISSED (see OVER / DIFFER above)")
    return 0 if ok else 1


def main() -> int:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--responses", type=int, default=10_000_000, help="survey responses (default 10 000 000)")
    parser.add_argument("--complaints", type=int, default=1_000_000, help="complaints, PostgreSQL (default 1 000 000)")
    parser.add_argument("--requests", type=int, default=200, help="GET / requests timed with the roll-up")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--sqlite-path", help="SQLite file to use (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="keep data already generated with the same sizes")
    parser.add_argument("--skip-check", action="store_true", help="with --reuse: do not re-check the roll-up")
    parser.add_argument("--generate-only", action="store_true", help="generate the data, measure nothing")
    parser.add_argument("--keep", action="store_true", help="leave the databases in place")
    args = parser.parse_args()
    if args.responses < 1:
        parser.error("--responses must be at least 1")
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
