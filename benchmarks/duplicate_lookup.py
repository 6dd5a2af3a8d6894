"""Benchmark: the duplicate look-up with 100 000 open complaints, on SQLite and on PostgreSQL.

Creates the schema with the real migrations, loads the Kota Padang seed and bulk-loads N open complaints filed
over the last 30 days in the nine place-bound categories (lights, roads, drains, rubbish, ...), spread over
the city's area and its 11 kecamatan: half with a shared point, half with a typed address on one of Padang's
streets. Then times the real use case `complaints.supporting.find_duplicates` for 50 shared points and 50
typed addresses drawn like the data (first run, median, 95th percentile, worst). Target: under 20 ms.

    python -m benchmarks.duplicate_lookup [--rows N] [--skip-postgres]

PostgreSQL URL: SUARAWARGA_BENCH_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/
suarawarga_bench); its tables are dropped and rebuilt.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from suarawarga.complaints.duplicates import place_key
from suarawarga.complaints.seed import read_seed
from suarawarga.complaints.services import load_seed
from suarawarga.complaints.supporting import find_duplicates
from suarawarga.storage.db import make_engine
from suarawarga.storage.migrate import upgrade
from suarawarga.storage.orm import Base
from suarawarga.storage.uow_sql import SqlUnitOfWork

TZ = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=TZ)
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/suarawarga_bench"
CATEGORIES = (
    "jalan_rusak",
    "sampah",
    "drainase_banjir",
    "lampu_jalan",
    "air_bersih",
    "ketertiban_umum",
    "pasar",
    "transportasi_parkir",
    "bencana",
)
STREETS = (
    "Jl. Jend. Sudirman",
    "Jl. Khatib Sulaiman",
    "Jl. Veteran",
    "Jl. Prof. Dr. Hamka",
    "Jl. Bagindo Aziz Chan",
    "Jl. Permindo",
    "Jl. Diponegoro",
    "Jl. Samudera",
    "Jl. S. Parman",
    "Jl. Ahmad Yani",
    "Jl. Perintis Kemerdekaan",
    "Jl. Raya By Pass",
    "Jl. Adinegoro",
    "Jl. Dr. Sutomo",
    "Jl. Andalas",
    "Jl. Rasuna Said",
    "Jl. Thamrin",
    "Jl. Olo Ladang",
    "Jl. Gunung Pangilun",
    "Jl. Belanti Raya",
    "Jl. Raya Kuranji",
    "Jl. Siteba",
    "Jl. Raya Unand",
    "Jl. Teluk Bayur",
)
SOUTH, NORTH, WEST, EAST = -1.05, -0.78, 100.33, 100.48  # the built-up part of Padang
COLUMNS = (
    "code",
    "status",
    "category_id",
    "unit_id",
    "kecamatan_id",
    "description",
    "identity_mode",
    "location_text",
    "place_key",
    "latitude",
    "longitude",
    "language",
    "filed_at",
    "updated_at",
)
LOOKUPS = 50


@dataclass(frozen=True, slots=True)
class World:
    """Ids from the seed, and what the look-ups ask for."""

    categories: dict[str, tuple[int, int]]  # code -> (id, unit id)
    kecamatan: list[tuple[int, str]]  # (id, code)


def rows(count: int, world: World, rnd: random.Random) -> list[tuple[object, ...]]:
    """Return the complaints to load: open, filed in the last 30 days, half by point and half by address."""
    out: list[tuple[object, ...]] = []
    statuses = ("diterima", "diproses", "menunggu_info", "perlu_disposisi")
    keys: dict[str, str | None] = {}  # as file_complaint stores it
    for index in range(count):
        category = rnd.choice(CATEGORIES)
        category_id, unit_id = world.categories[category]
        kecamatan_id, _ = rnd.choice(world.kecamatan)
        filed = (NOW - timedelta(seconds=rnd.randrange(30 * 86400))).astimezone(UTC)
        if index % 2:
            place: tuple[object, ...] = (None, None, rnd.uniform(SOUTH, NORTH), rnd.uniform(WEST, EAST))
        else:
            address = f"{rnd.choice(STREETS)} No. {rnd.randrange(1, 200)}"
            place = (address, keys.setdefault(address, place_key(address)), None, None)
        out.append(
            (
                f"PDG-B{index:07d}",
                rnd.choice(statuses),
                category_id,
                unit_id,
                kecamatan_id,
                "Keluhan warga untuk pengujian kecepatan",
                "anonim",
                *place,
                "id",
                filed,
                filed,
            )
        )
    return out


async def prepare(engine: AsyncEngine) -> World:
    """Migrate, seed, and return the ids the load needs."""
    await upgrade(engine)
    async with SqlUnitOfWork(engine, TZ) as uow:
        await load_seed(uow, read_seed())
        await uow.commit()
        categories = {}
        for code in CATEGORIES:
            category = await uow.categories.by_code(code)
            if category is None:
                raise SystemExit(f"category {code} missing from the seed")
            categories[code] = (category.id, category.unit_id)
        kecamatan = [(u.id, u.code) for u in await uow.units.list() if u.kind.value == "kecamatan"]
    return World(categories, kecamatan)


async def measure(engine: AsyncEngine, world: World, seed: int) -> tuple[list[float], list[float], int]:
    """Time the look-up for LOOKUPS points and LOOKUPS addresses; return both timings and matches found."""
    rnd = random.Random(seed)
    by_point: list[float] = []
    by_address: list[float] = []
    found = 0
    async with SqlUnitOfWork(engine, TZ) as uow:
        for _ in range(LOOKUPS):
            category = rnd.choice(CATEGORIES)
            lat, lon = rnd.uniform(SOUTH, NORTH), rnd.uniform(WEST, EAST)
            started = time.perf_counter()
            found += len(await find_duplicates(uow, category, NOW, latitude=lat, longitude=lon))
            by_point.append(time.perf_counter() - started)
        for _ in range(LOOKUPS):
            category = rnd.choice(CATEGORIES)
            _, kecamatan = rnd.choice(world.kecamatan)
            address = f"{rnd.choice(STREETS)} no {rnd.randrange(1, 200)}"
            started = time.perf_counter()
            found += len(await find_duplicates(uow, category, NOW, address=address, kecamatan_code=kecamatan))
            by_address.append(time.perf_counter() - started)
    return by_point, by_address, found


def load_sqlite(path: Path, data: list[tuple[object, ...]]) -> None:
    """Insert with the driver's executemany, times in AwareDateTime's SQLite format (naive UTC)."""
    connection = sqlite3.connect(path)
    try:
        marks = ", ".join("?" for _ in COLUMNS)
        fixed = [
            (*row[:12], *(t.strftime("%Y-%m-%d %H:%M:%S.%f") for t in row[12:] if isinstance(t, datetime)))
            for row in data
        ]
        connection.executemany(f"INSERT INTO complaints ({', '.join(COLUMNS)}) VALUES ({marks})", fixed)  # noqa: S608
        connection.execute("ANALYZE")
        connection.commit()
    finally:
        connection.close()


def load_postgres(url: str, data: list[tuple[object, ...]]) -> None:
    """COPY the rows in, then VACUUM ANALYZE as autovacuum would after a bulk load."""
    with psycopg.connect(url, autocommit=True) as connection:
        with connection.cursor() as cursor, cursor.copy(f"COPY complaints ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)
        connection.execute("VACUUM ANALYZE complaints")


def report(database: str, count: int, by_point: list[float], by_address: list[float], found: int) -> bool:
    """Print one database's timings; return whether every look-up stayed under 20 ms."""
    ok = True
    for label, timings in (("shared point", by_point), ("typed address", by_address)):
        ms = sorted(t * 1000 for t in timings)
        p95 = ms[int(len(ms) * 0.95) - 1]
        under = ms[-1] < 20
        ok = ok and under
        print(
            f"{database:<10} {count:,} open  {label:<13}  first={timings[0] * 1000:6.2f} ms  "
            f"median={statistics.median(ms):6.2f} ms  p95={p95:6.2f} ms  worst={ms[-1]:6.2f} ms  "
            f"{'under' if under else 'OVER'} 20 ms"
        )
    print(f"{database:<10} matches offered in the {2 * LOOKUPS} look-ups: {found}")
    return ok


async def run(count: int, postgres_url: str | None) -> int:
    """Load and measure each database."""
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        try:
            world = await prepare(engine)
            await engine.dispose()
            data = rows(count, world, random.Random(2026))
            await asyncio.to_thread(load_sqlite, path, data)
            ok = report("SQLite", count, *await measure(engine, world, 15)) and ok
        finally:
            await engine.dispose()
    if postgres_url:
        engine = make_engine(postgres_url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.drop_all)
                await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            world = await prepare(engine)
            data = rows(count, world, random.Random(2026))
            plain = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
            await asyncio.to_thread(load_postgres, plain, data)
            ok = report("PostgreSQL", count, *await measure(engine, world, 15)) and ok
        finally:
            await engine.dispose()
    return 0 if ok else 1


def main() -> int:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000, help="open complaints to load (default: 100 000)")
    parser.add_argument("--skip-postgres", action="store_true", help="measure SQLite only")
    args = parser.parse_args()
    url = None if args.skip_postgres else os.environ.get("SUARAWARGA_BENCH_DATABASE_URL", DEFAULT_PG)
    return asyncio.run(run(args.rows, url))


if __name__ == "__main__":
    raise SystemExit(main())
