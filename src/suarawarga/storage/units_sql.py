"""SQL repositories of the service units (OPDs, sub-units, places, the city) and the complaint categories."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from suarawarga.complaints.model import (
    Area,
    Category,
    Unit,
    UnitKind,
)
from suarawarga.storage.base_sql import (
    CATEGORIES,
    CITY,
    CITY_AREA,
    PLACES,
    UNITS,
    SqlRepo,
    upsert,
)
from suarawarga.storage.reference import ReferenceCache, Slot, Snapshot
from suarawarga.storage.units import NewCategory, NewUnit, Place

T = TypeVar("T")

# Every row of each table in display order: the reads below answer from one snapshot (storage/reference.py).
_ALL_UNITS = select(UNITS).order_by(UNITS.c.name, UNITS.c.id)
_ALL_CATEGORIES = select(CATEGORIES).order_by(CATEGORIES.c.sort_order, CATEGORIES.c.id)


class _Cached(SqlRepo, Generic[T]):
    """A repository whose reads come from this process's snapshot of its table (every row, in display order)."""

    _everything: ClassVar[Select[Any]]  # the statement that reads every row of the table in display order

    def __init__(self, conn: AsyncConnection, cache: ReferenceCache | None = None) -> None:
        """Work on `conn`; read through `cache` (a cache of this repository alone when none is given)."""
        super().__init__(conn)
        self.cache = cache if cache is not None else ReferenceCache()
        # After a write, this transaction reads its own rows: nothing it reads is kept until it commits.
        self.wrote = False

    def _slot(self) -> Slot[T]:
        raise NotImplementedError

    def _item(self, row: Row[Any]) -> T:
        raise NotImplementedError

    def written(self) -> None:
        """Note a write: drop every snapshot now (the unit of work drops them again at its commit)."""
        self.wrote = True
        self.cache.invalidate()

    def _kept(self) -> Snapshot[T] | None:
        """Return the kept snapshot while it is fresh and this transaction wrote nothing."""
        return None if self.wrote else self.cache.fresh(self._slot())

    async def _snapshot(self) -> Snapshot[T]:
        """Return every row with its active flag, from the cache while it is fresh."""
        kept = self._kept()
        return kept if kept is not None else await self._read()

    async def _read(self) -> Snapshot[T]:
        """Read every row, and keep them unless this transaction wrote some."""
        generation = self.cache.generation
        rows = tuple((self._item(r), bool(r.active)) for r in await self.conn.execute(self._everything))
        return Snapshot(rows, 0.0) if self.wrote else self.cache.keep(self._slot(), rows, generation)

    async def _first(self, test: Callable[[T, bool], bool]) -> T | None:
        """Return the first row (and its active flag) that passes `test`."""
        kept = self._kept()
        if kept is not None and (found := next((r for r, a in kept.rows if test(r, a)), None)) is not None:
            return found
        # Not in the kept snapshot: the row may be newer than it (a category read later may route to a unit the
        # unit snapshot predates; a complaint filed elsewhere may name a new category), so read again.
        return next((r for r, a in (await self._read()).rows if test(r, a)), None)


class UnitRepo(_Cached[Unit]):
    """Service units (OPDs and sub-units)."""

    @staticmethod
    def _unit(row: Row[Any]) -> Unit:
        return Unit(
            id=row.id,
            code=row.code,
            name=row.name,
            kind=UnitKind(row.kind),
            parent_id=row.parent_id,
            oversight=row.oversight,
            city_admin=row.city_admin,
            population=row.population,
        )

    _everything = _ALL_UNITS

    def _slot(self) -> Slot[Unit]:
        return self.cache.units

    def _item(self, row: Row[Any]) -> Unit:
        return self._unit(row)

    async def get(self, unit_id: int) -> Unit | None:
        """Return a unit by id."""
        return await self._first(lambda unit, _: unit.id == unit_id)

    async def by_code(self, code: str) -> Unit | None:
        """Return a unit by its code."""
        return await self._first(lambda unit, _: unit.code == code)

    async def list(self, kind: UnitKind | None = None) -> list[Unit]:
        """Return the active units, optionally of one kind, by name."""
        active = (await self._snapshot()).active()
        return active if kind is None else [unit for unit in active if unit.kind == kind]

    async def city_admin(self) -> Unit | None:
        """Return the unit that administers the complaint system."""
        return await self._first(lambda unit, _: unit.city_admin)

    async def oversight(self) -> Unit | None:
        """Return the oversight unit (Inspektorat)."""
        return await self._first(lambda unit, _: unit.oversight)

    async def upsert(self, unit: NewUnit) -> int:
        """Insert or update a unit by code (active again if it was not) and return its id."""
        values = {**dataclasses.asdict(unit), "kind": unit.kind.value, "active": True}
        stmt = upsert(self.conn, UNITS).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[UNITS.c.code], set_={k: stmt.excluded[k] for k in values if k != "code"}
        ).returning(UNITS.c.id)
        unit_id = int((await self.conn.execute(stmt)).scalar_one())
        self.written()
        return unit_id

    async def set_city(self, code: str, name: str) -> None:
        """Store the seed's city (one row: a new seed replaces the previous city)."""
        await self.conn.execute(delete(CITY))
        await self.conn.execute(insert(CITY).values(code=code, name=name))

    async def city_name(self) -> str | None:
        """Return the name of the seeded city, e.g. "Kota Padang" (None before the first seed)."""
        return (await self.conn.execute(select(CITY.c.name))).scalar()

    async def count(self) -> int:
        """Return how many units exist."""
        return int((await self.conn.execute(select(func.count()).select_from(UNITS))).scalar_one())

    async def set_places(self, unit_id: int, names: Sequence[str]) -> None:
        """Replace the place names (kelurahan) that lie in a unit (a kecamatan)."""
        await self.conn.execute(delete(PLACES).where(PLACES.c.unit_id == unit_id))
        if names:
            await self.conn.execute(insert(PLACES), [{"unit_id": unit_id, "name": name} for name in names])

    async def places(self) -> Sequence[Place]:
        """Return every place name of an active unit."""
        query = (
            select(PLACES.c.name, UNITS.c.code)
            .join(UNITS, UNITS.c.id == PLACES.c.unit_id)
            .where(UNITS.c.active.is_(True))
            .order_by(PLACES.c.id)
        )
        return [Place(row.name, row.code) for row in await self.conn.execute(query)]

    async def set_city_area(self, area: Area | None) -> None:
        """Store the rectangle around the city (None: no check)."""
        await self.conn.execute(delete(CITY_AREA))
        if area is not None:
            await self.conn.execute(insert(CITY_AREA).values(id=1, **dataclasses.asdict(area)))

    async def city_area(self) -> Area | None:
        """Return the rectangle around the city, if the seed gave one."""
        row = (await self.conn.execute(select(CITY_AREA).where(CITY_AREA.c.id == 1))).first()
        return Area(row.south, row.west, row.north, row.east) if row else None


class CategoryRepo(_Cached[Category]):
    """Complaint categories and their routing."""

    @staticmethod
    def _category(row: Row[Any]) -> Category:
        return Category(
            id=row.id,
            code=row.code,
            name_id=row.name_id,
            name_en=row.name_en,
            unit_id=row.unit_id,
            sensitive=row.sensitive,
            hint_id=row.hint_id,
            hint_en=row.hint_en,
            accept_working_days=row.accept_working_days,
            respond_working_days=row.respond_working_days,
            resolve_days=row.resolve_days,
            duplicate_days=row.duplicate_days,
        )

    _everything = _ALL_CATEGORIES

    def _slot(self) -> Slot[Category]:
        return self.cache.categories

    def _item(self, row: Row[Any]) -> Category:
        return self._category(row)

    async def list(self) -> list[Category]:
        """Return the active categories in their display order."""
        return (await self._snapshot()).active()

    async def by_code(self, code: str) -> Category | None:
        """Return an active category by code."""
        return await self._first(lambda category, active: active and category.code == code)

    async def get(self, category_id: int) -> Category | None:
        """Return a category by id."""
        return await self._first(lambda category, _: category.id == category_id)

    async def upsert(self, category: NewCategory) -> int:
        """Insert or update a category by code (active again if it was not) and return its id."""
        values = {**dataclasses.asdict(category), "active": True}
        stmt = upsert(self.conn, CATEGORIES).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[CATEGORIES.c.code], set_={k: stmt.excluded[k] for k in values if k != "code"}
        ).returning(CATEGORIES.c.id)
        category_id = int((await self.conn.execute(stmt)).scalar_one())
        self.written()
        return category_id

    async def deactivate_except(self, codes: Iterable[str]) -> int:
        """Deactivate categories whose code is not listed; return how many changed."""
        result = await self.conn.execute(
            update(CATEGORIES)
            .where(CATEGORIES.c.code.not_in(list(codes)), CATEGORIES.c.active.is_(True))
            .values(active=False)
        )
        self.written()
        return int(result.rowcount)
