"""Seed files: a city's service units and complaint categories in YAML, validated before loading."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from suarawarga.complaints.model import Area, UnitKind
from suarawarga.errors import ConfigError

UNIT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")
CATEGORY_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
NAME_MAX = 40
PLACE_MAX = 80


@dataclass(frozen=True, slots=True)
class UnitSeed:
    """A service unit as written in a seed file."""

    code: str
    name: str
    kind: UnitKind
    parent: str | None
    oversight: bool
    city_admin: bool
    population: int | None
    places: tuple[str, ...] = ()  # kelurahan names, which locate a typed address in this kecamatan


@dataclass(frozen=True, slots=True)
class CategorySeed:
    """A complaint category as written in a seed file."""

    code: str
    name_id: str
    name_en: str
    unit: str
    sensitive: bool
    hint_id: str
    hint_en: str
    accept_working_days: int
    respond_working_days: int
    resolve_days: int
    duplicate_days: int = 30  # open complaints filed this many days back are offered as "the same" (0: never)


@dataclass(frozen=True, slots=True)
class Seed:
    """A validated seed: units in parent-first order and categories in display order."""

    city_code: str
    city_name: str
    units: tuple[UnitSeed, ...]
    categories: tuple[CategorySeed, ...]
    area: Area | None = None  # the rectangle around the city; a shared location outside it is questioned


def default_seed_text() -> str:
    """Return the built-in seed for Kota Padang."""
    return (resources.files("suarawarga") / "data" / "padang.yaml").read_text(encoding="utf-8")


def read_seed(path: Path | None = None) -> Seed:
    """Read and validate a seed file (the built-in Kota Padang seed when no path is given)."""
    text = default_seed_text() if path is None else path.read_text(encoding="utf-8")
    source = str(path or "padang.yaml")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{source}: not valid YAML: {problem}{where}") from None
    return parse_seed(doc, source)


def parse_seed(doc: Any, source: str = "seed") -> Seed:
    """Validate a loaded seed document; every problem is reported with where it is."""
    problems: list[str] = []
    if not isinstance(doc, dict):
        raise ConfigError(f"{source}: expected a mapping with 'city', 'units' and 'categories'")
    city = doc.get("city") or {}
    units_in = doc.get("units") or []
    categories_in = doc.get("categories") or []
    if not isinstance(city, dict) or not isinstance(units_in, list) or not isinstance(categories_in, list):
        raise ConfigError(f"{source}: 'city' is a mapping, 'units' and 'categories' are lists")
    units: dict[str, UnitSeed] = {}
    for i, raw in enumerate(units_in, 1):
        where = f"units[{i}]"
        try:
            unit = UnitSeed(
                code=str(raw["code"]),
                name=str(raw["name"]).strip(),
                kind=UnitKind(raw.get("kind", "opd")),
                parent=raw.get("parent") or None,
                oversight=_bool(raw.get("oversight", False)),
                city_admin=_bool(raw.get("city_admin", False)),
                population=_optional_int(raw.get("population")),
                places=_places(raw.get("kelurahan")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{where}: {exc!r}")
            continue
        if unit.places and unit.kind is not UnitKind.KECAMATAN:
            problems.append(f"{where}: only a kecamatan lists kelurahan")
        if not UNIT_CODE.match(unit.code):
            problems.append(f"{where}: code {unit.code!r} must match {UNIT_CODE.pattern}")
        if unit.code in units:
            problems.append(f"{where}: duplicate unit code {unit.code}")
        if not unit.name:
            problems.append(f"{where}: empty name")
        units[unit.code] = unit
    for unit in units.values():
        if unit.parent is not None and unit.parent not in units:
            problems.append(f"unit {unit.code}: unknown parent {unit.parent}")
    oversight = [u.code for u in units.values() if u.oversight]
    if len(oversight) != 1:
        problems.append(f"exactly one unit must have oversight: true (the Inspektorat), found {oversight}")
    admins = [u.code for u in units.values() if u.city_admin]
    if len(admins) != 1:
        problems.append(f"exactly one unit must have city_admin: true, found {admins}")
    categories: dict[str, CategorySeed] = {}
    for i, raw in enumerate(categories_in, 1):
        where = f"categories[{i}]"
        try:
            category = CategorySeed(
                code=str(raw["code"]),
                name_id=str(raw["name_id"]).strip(),
                name_en=str(raw["name_en"]).strip(),
                unit=str(raw["unit"]),
                sensitive=_bool(raw.get("sensitive", False)),
                hint_id=str(raw.get("hint_id", "")).strip(),
                hint_en=str(raw.get("hint_en", "")).strip(),
                accept_working_days=_positive(raw.get("accept_working_days", 3)),
                respond_working_days=_positive(raw.get("respond_working_days", 5)),
                resolve_days=_positive(raw.get("resolve_days", 60)),
                duplicate_days=_days(raw.get("duplicate_days", 30)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{where}: {exc!r}")
            continue
        if not CATEGORY_CODE.match(category.code):
            problems.append(f"{where}: code {category.code!r} must match {CATEGORY_CODE.pattern}")
        if category.code in categories:
            problems.append(f"{where}: duplicate category code {category.code}")
        if category.unit not in units:
            problems.append(f"{where}: unknown unit {category.unit}")
        elif category.sensitive and not units[category.unit].oversight:
            problems.append(f"{where}: a sensitive category must route to the oversight unit (Inspektorat)")
        for label in (category.name_id, category.name_en):
            if not 1 <= len(label) <= NAME_MAX:
                problems.append(f"{where}: name {label!r} must be 1..{NAME_MAX} characters")
        categories[category.code] = category
    if not categories:
        problems.append("no categories")
    area: Area | None = None
    if city.get("area") is not None:
        try:
            area = _area(city["area"])
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"city.area: {exc!r}")
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    return Seed(
        city_code=str(city.get("code", "PDG")),
        city_name=str(city.get("name", "")),
        units=tuple(_parent_first(units)),
        categories=tuple(categories.values()),
        area=area,
    )


def _parent_first(units: dict[str, UnitSeed]) -> list[UnitSeed]:
    ordered: list[UnitSeed] = []
    placed: set[str] = set()
    pending = list(units.values())
    while pending:
        ready = [u for u in pending if u.parent is None or u.parent in placed]
        if not ready:
            raise ConfigError(f"units form a cycle: {sorted(u.code for u in pending)}")
        for unit in ready:
            ordered.append(unit)
            placed.add(unit.code)
        pending = [u for u in pending if u.code not in placed]
    return ordered


def _places(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and 1 <= len(v.strip()) <= PLACE_MAX for v in value):
        raise ValueError(f"kelurahan must be a list of names of 1..{PLACE_MAX} characters, got {value!r}")
    return tuple(v.strip() for v in value)


def _area(value: Any) -> Area:
    if not isinstance(value, dict):
        raise TypeError("expected a mapping with south, west, north and east (degrees)")
    south, west, north, east = (value[k] for k in ("south", "west", "north", "east"))
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (south, west, north, east)):
        raise ValueError("south, west, north and east must be numbers (degrees)")
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        raise ValueError(f"need -90 <= south < north <= 90 and -180 <= west < east <= 180, got {value!r}")
    return Area(float(south), float(west), float(north), float(east))


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} is not true/false")
    return value


def _positive(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{value!r} is not a positive whole number")
    return value


def _days(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 365:
        raise ValueError(f"duplicate_days {value!r} is not a whole number of days from 0 to 365")
    return value


def _optional_int(value: Any) -> int | None:
    return None if value is None else _positive(value)
