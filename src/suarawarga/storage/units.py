"""The ports of the service units and categories: what flows and services may ask of them.

No SQLAlchemy here: the SQL implementation is in `units_sql.py`; a test or a fake may implement these too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from suarawarga.complaints.model import (
    Area,
    Category,
    Unit,
    UnitKind,
)


@dataclass(frozen=True, slots=True)
class Place:
    """A place name (kelurahan) that lies in a unit (a kecamatan)."""

    name: str
    unit_code: str


@dataclass(frozen=True, slots=True)
class NewUnit:
    """A unit as a seed defines it, stored by its code (inserted, or updated if the code exists)."""

    code: str
    name: str
    kind: UnitKind
    parent_id: int | None = None
    oversight: bool = False
    city_admin: bool = False
    population: int | None = None


@dataclass(frozen=True, slots=True)
class NewCategory:
    """A category as a seed defines it, stored by its code (inserted, or updated if the code exists)."""

    code: str
    name_id: str
    name_en: str
    hint_id: str
    hint_en: str
    unit_id: int
    sensitive: bool
    accept_working_days: int  # the deadlines' defaults are the seed's (complaints/seed.py), not repeated here
    respond_working_days: int
    resolve_days: int
    duplicate_days: int
    sort_order: int


class UnitRepository(Protocol):
    """Service units (OPDs and sub-units)."""

    async def get(self, unit_id: int) -> Unit | None:
        """Return a unit by id."""
        ...

    async def by_code(self, code: str) -> Unit | None:
        """Return a unit by its code."""
        ...

    async def list(self, kind: UnitKind | None = None) -> list[Unit]:
        """Return the active units, optionally of one kind, by name."""
        ...

    async def city_admin(self) -> Unit | None:
        """Return the unit that administers the complaint system."""
        ...

    async def oversight(self) -> Unit | None:
        """Return the oversight unit (Inspektorat)."""
        ...

    async def upsert(self, unit: NewUnit) -> int:
        """Insert or update a unit by code (active again if it was not) and return its id."""
        ...

    async def set_city(self, code: str, name: str) -> None:
        """Store the seed's city (one row: a new seed replaces the previous city)."""
        ...

    async def city_name(self) -> str | None:
        """Return the name of the seeded city, e.g. "Kota Padang" (None before the first seed)."""
        ...

    async def count(self) -> int:
        """Return how many units exist."""
        ...

    async def set_places(self, unit_id: int, names: Sequence[str]) -> None:
        """Replace the place names (kelurahan) that lie in a unit (a kecamatan)."""
        ...

    async def places(self) -> Sequence[Place]:
        """Return every place name of an active unit."""
        ...

    async def set_city_area(self, area: Area | None) -> None:
        """Store the rectangle around the city (None: no check)."""
        ...

    async def city_area(self) -> Area | None:
        """Return the rectangle around the city, if the seed gave one."""
        ...


class CategoryRepository(Protocol):
    """Complaint categories and their routing."""

    async def list(self) -> list[Category]:
        """Return the active categories in their display order."""
        ...

    async def by_code(self, code: str) -> Category | None:
        """Return an active category by code."""
        ...

    async def get(self, category_id: int) -> Category | None:
        """Return a category by id."""
        ...

    async def upsert(self, category: NewCategory) -> int:
        """Insert or update a category by code (active again if it was not) and return its id."""
        ...

    async def deactivate_except(self, codes: Iterable[str]) -> int:
        """Deactivate categories whose code is not listed; return how many changed."""
        ...
