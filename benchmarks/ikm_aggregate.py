"""Benchmark: the IKM of one unit-quarter with 1 000 000 questionnaires, on SQLite and on PostgreSQL.

Creates the schema with the real migrations, bulk-loads one million responses for one unit spread over
2026-Q4 (SQLite: executemany on the driver; PostgreSQL: COPY through psycopg), then times the real service
function `surveys.services.unit_ikm` (first run and best of 3) and checks its figures against tallies kept
while generating the data. Prints rows, seconds and the IKM. Target: under 1 second on both databases.

    python benchmarks/ikm_aggregate.py [--rows N] [--skip-postgres]

PostgreSQL URL: SUARAWARGA_BENCH_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/
suarawarga_bench); the database is created if missing and its tables are dropped and rebuilt.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from suarawarga.complaints.seed import read_seed
from suarawarga.complaints.services import load_seed
from suarawarga.storage.db import make_engine
from suarawarga.storage.migrate import upgrade
from suarawarga.storage.orm import Base
from suarawarga.storage.uow_sql import SqlUnitOfWork
from suarawarga.surveys.definitions import SURVEY_VERSION, UNSUR_ORDER
from suarawarga.surveys.ikm import IkmResult, compute_ikm
from suarawarga.surveys.periods import Period, parse_period
from suarawarga.surveys.services import unit_ikm
from suarawarga.surveys.tally import UnsurTally

UNIT = "PKM-ANDALAS"
PERIOD = "2026-Q4"
TZ = ZoneInfo("Asia/Jakarta")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/suarawarga_bench"
COLUMNS = ("unit_id", "submitted_at", "survey_version", "service", "source", *(u.value for u in UNSUR_ORDER))
PATTERNS = 4096  # distinct answer rows drawn from; cycling them keeps generation cheap


@dataclass(frozen=True, slots=True)
class Timing:
    """What one database measured."""

    database: str
    rows: int
    load_seconds: float
    first_seconds: float
    best_seconds: float
    result: IkmResult


def answer_patterns(rnd: random.Random) -> list[tuple[int | None, ...]]:
    """Return realistic answer rows: mostly 3 and 4, some 1 and 2, pengaduan skipped now and then."""
    weights = (1, 2, 5, 6)
    patterns = []
    for _ in range(PATTERNS):
        row: list[int | None] = list(rnd.choices((1, 2, 3, 4), weights, k=len(UNSUR_ORDER)))
        if rnd.random() < 0.05:
            row[7] = None  # U8, pengaduan: the unsur respondents most often leave blank
        patterns.append(tuple(row))
    return patterns


def generate(rows: int, seed: int = 2026) -> tuple[list[int], list[tuple[int | None, ...]]]:
    """Return (pattern index per row, patterns); row i is the i-th moment of the period."""
    rnd = random.Random(seed)
    patterns = answer_patterns(rnd)
    return [rnd.randrange(PATTERNS) for _ in range(rows)], patterns


def moments(rows: int, period: Period) -> Iterator[datetime]:
    """Yield `rows` moments in [start, end) of the period, evenly spaced, in UTC."""
    span = (period.end - period.start) / rows
    start = period.start.astimezone(UTC)
    for index in range(rows):
        yield start + span * index


def expected(choice: list[int], patterns: list[tuple[int | None, ...]]) -> IkmResult:
    """Compute the IKM in Python from the generated rows (by pattern counts, to stay quick)."""
    counts = [0] * len(patterns)
    for index in choice:
        counts[index] += 1
    distribution = {u: [0, 0, 0, 0] for u in UNSUR_ORDER}
    for pattern, count in zip(patterns, counts, strict=True):
        for unsur, score in zip(UNSUR_ORDER, pattern, strict=True):
            if score is not None:
                distribution[unsur][score - 1] += count
    tallies = [UnsurTally.from_distribution(u, (d[0], d[1], d[2], d[3])) for u, d in distribution.items()]
    return compute_ikm(tallies, len(choice))


async def prepare(engine: AsyncEngine) -> int:
    """Migrate, seed the units and return the benchmarked unit's id."""
    await upgrade(engine)
    async with SqlUnitOfWork(engine, TZ) as uow:
        await load_seed(uow, read_seed())
        await uow.commit()
        unit = await uow.units.by_code(UNIT)
    if unit is None:
        raise SystemExit(f"unit {UNIT} missing from the seed")
    return unit.id


async def measure(engine: AsyncEngine, period: Period) -> tuple[float, float, IkmResult, int]:
    """Time unit_ikm: first run, then best of 3; return (first, best, result, n)."""
    timings = []
    result: IkmResult | None = None
    n = 0
    for _ in range(4):
        async with SqlUnitOfWork(engine, TZ) as uow:
            started = time.perf_counter()
            n, result = await unit_ikm(uow, UNIT, period)
            timings.append(time.perf_counter() - started)
    if result is None:
        raise SystemExit("no responses found: the load did not land in the period")
    return timings[0], min(timings[1:]), result, n


def load_sqlite(
    path: Path, unit_id: int, choice: list[int], patterns: list[tuple[int | None, ...]], period: Period
) -> None:
    """Insert the rows with the driver's executemany, in the storage format of AwareDateTime (naive UTC)."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        placeholders = ", ".join("?" for _ in COLUMNS)
        rows = (
            (unit_id, moment.strftime("%Y-%m-%d %H:%M:%S.%f"), SURVEY_VERSION, "KTP", "import", *patterns[index])
            for moment, index in zip(moments(len(choice), period), choice, strict=True)
        )
        connection.executemany(
            f"INSERT INTO survey_responses ({', '.join(COLUMNS)}) VALUES ({placeholders})",  # noqa: S608 - fixed names
            rows,
        )
        connection.commit()
    finally:
        connection.close()


def load_postgres(
    url: str, unit_id: int, choice: list[int], patterns: list[tuple[int | None, ...]], period: Period
) -> None:
    """COPY the rows in, then VACUUM ANALYZE as autovacuum would after a bulk load (index-only scans need it)."""
    with psycopg.connect(url, autocommit=True) as connection:
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY survey_responses ({', '.join(COLUMNS)}) FROM STDIN") as copy,
        ):
            for moment, index in zip(moments(len(choice), period), choice, strict=True):
                copy.write_row((unit_id, moment, SURVEY_VERSION, "KTP", "import", *patterns[index]))
        connection.execute("VACUUM ANALYZE survey_responses")


async def bench_sqlite(rows: int, period: Period, choice: list[int], patterns: list[tuple[int | None, ...]]) -> Timing:
    """Run the benchmark on a temporary SQLite file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        try:
            unit_id = await prepare(engine)
            await engine.dispose()  # the bulk load uses its own connection
            started = time.perf_counter()
            await asyncio.to_thread(load_sqlite, path, unit_id, choice, patterns, period)
            load = time.perf_counter() - started
            first, best, result, n = await measure(engine, period)
        finally:
            await engine.dispose()
    return Timing("SQLite", n, load, first, best, result)


async def reset_postgres(url: str) -> None:
    """Create the benchmark database if missing and drop every table in it."""
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
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    finally:
        await engine.dispose()


async def bench_postgres(url: str, period: Period, choice: list[int], patterns: list[tuple[int | None, ...]]) -> Timing:
    """Run the benchmark on PostgreSQL."""
    await reset_postgres(url)
    engine = make_engine(url)
    try:
        unit_id = await prepare(engine)
        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        started = time.perf_counter()
        await asyncio.to_thread(load_postgres, plain, unit_id, choice, patterns, period)
        load = time.perf_counter() - started
        first, best, result, n = await measure(engine, period)
    finally:
        await engine.dispose()
    return Timing("PostgreSQL", n, load, first, best, result)


def report(timing: Timing, truth: IkmResult) -> bool:
    """Print one database's figures; return whether they match the Python computation and the target."""
    same = timing.result == truth
    fast = timing.best_seconds < 1.0 and timing.first_seconds < 1.0
    print(
        f"{timing.database:<10} rows={timing.rows:>9,}  load={timing.load_seconds:6.1f}s  "
        f"IKM query: first={timing.first_seconds:.3f}s best-of-3={timing.best_seconds:.3f}s  "
        f"IKM={timing.result.ikm_display} {timing.result.mutu.value} NI={timing.result.ni_display}  "
        f"{'matches' if same else 'DIFFERS FROM'} the Python tally; {'under' if fast else 'OVER'} 1 s"
    )
    return same and fast


async def run(rows: int, postgres_url: str | None) -> int:
    """Generate the data once and benchmark each database."""
    period = parse_period(PERIOD, TZ)
    print(f"{rows:,} responses for {UNIT} in {PERIOD} ({period.start.isoformat()} .. {period.end.isoformat()})")
    started = time.perf_counter()
    choice, patterns = generate(rows)
    truth = expected(choice, patterns)
    print(f"generated in {time.perf_counter() - started:.1f}s; Python IKM = {truth.ikm_display} {truth.mutu.value}")
    timings = [await bench_sqlite(rows, period, choice, patterns)]
    if postgres_url:
        timings.append(await bench_postgres(postgres_url, period, choice, patterns))
    ok = [report(t, truth) for t in timings]
    return 0 if all(ok) and all(t.rows == rows for t in timings) else 1


def main() -> int:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="responses to load (default: 1 000 000)")
    parser.add_argument("--skip-postgres", action="store_true", help="measure SQLite only")
    args = parser.parse_args()
    url = None if args.skip_postgres else os.environ.get("SUARAWARGA_BENCH_DATABASE_URL", DEFAULT_PG)
    return asyncio.run(run(args.rows, url))


if __name__ == "__main__":
    raise SystemExit(main())
