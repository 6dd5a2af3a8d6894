"""Complaint statistics per OPD: SQL aggregates equal the domain's rules applied complaint by complaint.

Runs on SQLite and, with SUARAWARGA_TEST_DATABASE_URL set, on PostgreSQL: both must give the same figures.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from sqlalchemy import text

from suarawarga.bootstrap import App
from suarawarga.complaints import handling
from suarawarga.complaints.model import OPEN_STATUSES, Complaint, EventKind, StaffRole
from suarawarga.complaints.statistics import (
    complaint_statistics,
    is_overdue,
    top_unit_of,
    within_deadline,
)
from suarawarga.storage.statistics_sql import backfill_resolutions
from tests.jobs.support import file, officer

CATEGORIES = ("jalan_rusak", "sampah", "drainase_banjir", "kesehatan", "adminduk", "bencana")
Figures = tuple[int, int, int, Decimal | None, int, int]


async def _random_city(app: App, seed: int) -> list[Complaint]:
    """File complaints over 150 days and handle them at random: accepted, resolved (late or not), reopened."""
    rnd = random.Random(seed)
    now = app.clock.now()
    admin = await officer(app, "BAG-ORGANISASI", "admin-1", StaffRole.ADMIN)
    filed = []
    for number in range(40):
        at = now - timedelta(days=rnd.uniform(0, 150))
        at = at.replace(microsecond=0)
        filed.append(await file(app, at, rnd.choice(CATEGORIES), chat=f"warga-{number}"))
    async with app.uow() as uow:
        puskesmas = await uow.units.by_code("PKM-ANDALAS")
    assert puskesmas is not None
    for complaint in filed:
        async with app.uow() as uow:
            current = await uow.complaints.by_code(complaint.code)
            assert current is not None
            age = now - current.filed_at
            moment = current.filed_at + age * rnd.randrange(1, 30) / 100
            roll = rnd.random()
            if roll < 0.15:
                pass  # never taken up
            elif roll < 0.25:
                current = (await handling.transfer(uow, admin, current, puskesmas, "puskesmas", moment)).complaint
            else:
                current = (await handling.accept(uow, admin, current, moment)).complaint
                if roll > 0.4:
                    moment += (now - moment) * rnd.randrange(1, 90) / 100
                    current = (await handling.resolve(uow, admin, current, "beres", (), moment)).complaint
                    if roll > 0.85:  # reopened and resolved again: only the first resolution counts
                        moment += (now - moment) / 3
                        current = (await handling.reopen(uow, current, "belum", moment)).complaint
                        moment += (now - moment) / 2
                        await handling.resolve(uow, admin, current, "beres lagi", (), moment)
            await uow.commit()
    return filed


async def _expected(app: App, days: int) -> dict[str, Figures]:
    """Apply the domain's rules complaint by complaint, from each complaint's history."""
    now = app.clock.now()
    since = now - timedelta(days=days)
    async with app.uow() as uow:
        units = {u.id: u for u in await uow.units.list()}
        categories = {c.id: c for c in await uow.statistics.categories()}
        async with app.db.connect() as conn:
            rows = (await conn.execute(text("SELECT code FROM complaints"))).all()
        complaints = [await uow.complaints.by_code(r[0]) for r in rows]
        histories = {c.id: await uow.complaints.history(c.id) for c in complaints if c is not None}
    tops = top_unit_of(units)
    figures: dict[str, list[object]] = {}
    durations: dict[str, list[Fraction]] = {}
    for complaint in complaints:
        assert complaint is not None
        top = tops[complaint.unit_id].code
        entry = figures.setdefault(top, [0, 0, 0, None, 0, 0])
        category = categories[complaint.category_id]
        if complaint.filed_at >= since:
            entry[0] += 1  # type: ignore[operator]
            resolutions = [e.at for e in histories[complaint.id] if e.kind is EventKind.RESOLVED]
            if resolutions:
                entry[1] += 1  # type: ignore[operator]
                entry[2] += within_deadline(complaint.filed_at, resolutions[0], category)  # type: ignore[operator]
                seconds = int((resolutions[0] - complaint.filed_at).total_seconds())
                durations.setdefault(top, []).append(Fraction(seconds, 86_400))
        if complaint.status in OPEN_STATUSES:
            entry[4] += 1  # type: ignore[operator]
            entry[5] += is_overdue(complaint.status, complaint.filed_at, category, app.calendar, now)  # type: ignore[operator]
    for top, values in durations.items():
        ordered, middle = sorted(values), len(values) // 2
        median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
        exact = Decimal(median.numerator) / Decimal(median.denominator)
        figures[top][3] = exact.quantize(Decimal("0.1"), ROUND_HALF_UP)
    return {top: tuple(values) for top, values in figures.items()}  # type: ignore[misc]


async def _computed(app: App, days: int) -> dict[str, Figures]:
    async with app.uow() as uow:
        stats = await complaint_statistics(uow, app.calendar, app.clock.now(), days)
    return {
        s.unit.code: (s.received, s.resolved, s.resolved_on_time, s.median_days, s.open_now, s.overdue_now)
        for s in stats
    }


async def test_the_aggregates_equal_the_rules_applied_one_by_one(app: App) -> None:
    """Received, resolved, in time, median days, open and overdue per OPD: SQL equals the rule one by one."""
    await _random_city(app, seed=13)
    for days in (30, 90, 365):
        expected = await _expected(app, days)
        assert await _computed(app, days) == {k: v for k, v in expected.items() if any(x for x in v)}, days
    figures = await _computed(app, 90)
    assert "DINKES" in figures  # the transfers to a puskesmas count for its OPD
    assert any(v[2] < v[1] for v in figures.values()) or any(v[5] for v in figures.values())


async def test_the_backfill_stores_what_resolving_stores(app: App) -> None:
    """Migration 0021's backfill, run on complaints resolved before it existed, stores what `resolve` stores."""
    await _random_city(app, seed=21)
    columns = "code, first_resolved_at, resolve_seconds, resolved_in_time"
    async with app.db.connect() as conn:
        stored = (await conn.execute(text(f"SELECT {columns} FROM complaints ORDER BY code"))).all()  # noqa: S608
    assert any(row[1] is not None for row in stored) and any(row[1] is None for row in stored)
    async with app.db.begin() as conn:
        await conn.execute(
            text("UPDATE complaints SET first_resolved_at = NULL, resolve_seconds = NULL, resolved_in_time = NULL")
        )
        filled = await conn.run_sync(backfill_resolutions)
    async with app.db.connect() as conn:
        again = (await conn.execute(text(f"SELECT {columns} FROM complaints ORDER BY code"))).all()  # noqa: S608
    assert filled == sum(1 for row in stored if row[1] is not None)
    assert again == stored
    async with app.db.begin() as conn:
        assert await conn.run_sync(backfill_resolutions) == 0  # nothing left to fill: running it again is a no-op
