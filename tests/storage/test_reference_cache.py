"""Units and categories are read once per few seconds per process, and a write is never hidden from its writer."""

from __future__ import annotations

import logging

import pytest

from suarawarga.bootstrap import App
from suarawarga.complaints.model import Category, UnitKind
from suarawarga.storage.reference import ReferenceCache
from suarawarga.storage.units import NewCategory, NewUnit
from suarawarga.storage.uow_sql import SqlUnitOfWork


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks(app: App) -> Ticks:
    ticks = Ticks()
    app.reference.clock = ticks
    app.reference.invalidate()
    return ticks


def _new(code: str, unit_id: int, name: str = "Kategori uji") -> NewCategory:
    return NewCategory(code, name, "Test category", "", "", unit_id, False, 3, 5, 14, 7, 99)


async def _list(app: App) -> list[Category]:
    async with app.uow() as uow:
        return await uow.categories.list()


async def _other_process_writes(app: App, category: NewCategory) -> None:
    """Write as another process would: its own unit of work with its own cache."""
    async with SqlUnitOfWork(app.db, app.settings.tz, reference=ReferenceCache()) as uow:
        await uow.categories.upsert(category)
        await uow.commit()


async def _statements(app: App, caplog: pytest.LogCaptureFixture) -> list[str]:
    """Run the complaint flow's reference reads once more and return the statements they ran."""
    engine_log = logging.getLogger("sqlalchemy.engine.Engine")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine.Engine"):
        engine_log.setLevel(logging.INFO)
        try:
            async with app.uow() as uow:
                categories = await uow.categories.list()
                assert await uow.categories.by_code(categories[0].code) == categories[0]
                assert await uow.categories.get(categories[0].id) == categories[0]
                kecamatan = await uow.units.list(UnitKind.KECAMATAN)
                assert await uow.units.get(kecamatan[0].id) == kecamatan[0]
                assert await uow.units.by_code(kecamatan[0].code) == kecamatan[0]
                assert (await uow.units.oversight()) is not None
        finally:
            engine_log.setLevel(logging.WARNING)
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("SELECT")]


async def test_reads_within_the_ttl_run_no_statement(app: App, ticks: Ticks, caplog: pytest.LogCaptureFixture) -> None:
    """The first unit of work reads each table once; the next, within the TTL, reads nothing; after it, again."""
    first = await _statements(app, caplog)
    assert len(first) == 2, first
    assert await _statements(app, caplog) == []
    ticks.now += app.reference.ttl
    assert len(await _statements(app, caplog)) == 2


async def test_a_write_in_this_process_is_seen_at_once(app: App, ticks: Ticks) -> None:
    """An import through this process's repositories drops the snapshots: the next read has the new category."""
    before = await _list(app)
    async with app.uow() as uow:
        new_id = await uow.categories.upsert(_new("uji_baru", before[0].unit_id))
        assert "uji_baru" in [c.code for c in await uow.categories.list()]  # its own transaction sees it
        await uow.commit()
    assert "uji_baru" in [c.code for c in await _list(app)]
    async with app.uow() as uow:
        assert await uow.categories.deactivate_except(c.code for c in before) == 1
        await uow.commit()
    after = await _list(app)
    assert after == before
    async with app.uow() as uow:
        assert await uow.categories.by_code("uji_baru") is None  # inactive: not offered ...
        gone = await uow.categories.get(new_id)  # ... but old complaints still name it
        assert gone is not None and gone.code == "uji_baru"


async def test_a_rolled_back_write_leaves_nothing_cached(app: App, ticks: Ticks) -> None:
    """What a transaction read after its own write is kept for no one: others see the committed rows only."""
    before = await _list(app)
    async with app.uow() as uow:
        await uow.categories.upsert(_new("uji_batal", before[0].unit_id))
        assert "uji_batal" in [c.code for c in await uow.categories.list()]
        if app.db.dialect.name == "postgresql":  # SQLite's one writer holds the database: no second reader here
            assert await _list(app) == before  # while it is open
    assert await _list(app) == before  # after its rollback


async def test_a_unit_newer_than_the_kept_snapshot_is_found(app: App, ticks: Ticks) -> None:
    """A category read after another process's seed may route to a unit this process's snapshot predates."""
    async with app.uow() as uow:
        await uow.units.list()  # units kept now
    async with SqlUnitOfWork(app.db, app.settings.tz, reference=ReferenceCache()) as uow:
        unit_id = await uow.units.upsert(NewUnit("UJI-BARU", "Dinas Uji Baru", UnitKind.OPD))
        await uow.categories.upsert(_new("uji_rute", unit_id))
        await uow.commit()
    async with app.uow() as uow:
        category = await uow.categories.by_code("uji_rute")  # not in a snapshot: read from the database
        assert category is not None
        unit = await uow.units.get(category.unit_id)
        assert unit is not None and unit.code == "UJI-BARU"
        assert await uow.units.by_code("TIDAK-ADA") is None


async def test_another_process_write_is_seen_after_the_ttl(app: App, ticks: Ticks) -> None:
    """A write this process did not make (the CLI, another worker) shows once the snapshot is older than the TTL."""
    first = (await _list(app))[0]

    async def name() -> str:
        async with app.uow() as uow:
            category = await uow.categories.by_code(first.code)
        assert category is not None
        return category.name_id

    await _other_process_writes(app, _new(first.code, first.unit_id, "Nama baru"))
    assert await name() == first.name_id  # still the snapshot
    ticks.now += app.reference.ttl - 0.001
    assert await name() == first.name_id
    ticks.now += 0.001
    assert await name() == "Nama baru"


def test_a_read_overtaken_by_a_write_is_not_kept() -> None:
    """A reader that queried before a write stores nothing: its rows may predate the write."""
    cache = ReferenceCache(clock=lambda: 5.0)
    generation = cache.generation
    cache.invalidate()
    snapshot = cache.keep(cache.categories, (), generation)
    assert snapshot.rows == ()
    assert cache.fresh(cache.categories) is None
    cache.keep(cache.categories, (), cache.generation)
    assert cache.fresh(cache.categories) is not None
