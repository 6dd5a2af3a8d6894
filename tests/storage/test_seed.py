"""Seed files: validation, routing rules and idempotent loading."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from suarawarga.bootstrap import App
from suarawarga.complaints.model import UnitKind
from suarawarga.complaints.seed import default_seed_text, parse_seed, read_seed
from suarawarga.complaints.services import load_seed
from suarawarga.errors import ConfigError


def _doc() -> dict[str, Any]:
    loaded = yaml.safe_load(default_seed_text())
    assert isinstance(loaded, dict)
    return loaded


def test_default_seed_covers_padang() -> None:
    """The built-in seed has Padang's 11 kecamatan, its puskesmas, ~15 categories and one Inspektorat."""
    seed = read_seed()
    kinds = [u.kind for u in seed.units]
    assert kinds.count(UnitKind.KECAMATAN) == 11
    assert kinds.count(UnitKind.PUSKESMAS) >= 20
    assert kinds.count(UnitKind.OPD) >= 30
    assert 12 <= len(seed.categories) <= 25
    assert [u.code for u in seed.units if u.oversight] == ["INSPEKTORAT"]
    assert "# Sources" in default_seed_text()


def test_sensitive_categories_route_only_to_oversight() -> None:
    """Pungli and abuse-of-office categories must route to the Inspektorat, or the seed is refused."""
    seed = read_seed()
    sensitive = [c for c in seed.categories if c.sensitive]
    assert {c.code for c in sensitive} >= {"pungli"}
    assert {c.unit for c in sensitive} == {"INSPEKTORAT"}
    doc = _doc()
    for category in doc["categories"]:
        if category.get("sensitive"):
            category["unit"] = "DPUPR"
    with pytest.raises(ConfigError, match="sensitive category must route to the oversight unit"):
        parse_seed(doc)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["units"].append(copy.deepcopy(d["units"][0])), "duplicate unit code"),
        (lambda d: d["units"][1].update(parent="NOPE"), "unknown parent"),
        (lambda d: d["categories"][0].update(unit="NOPE"), "unknown unit"),
        (lambda d: d["categories"][0].update(code="Bad Code"), "must match"),
        (lambda d: d["categories"][0].update(name_id="x" * 41), "1..40 characters"),
        (lambda d: d["units"][0].update(kind="planet"), "units\\[1\\]"),
        (lambda d: d["units"][0].update(oversight=True), "exactly one unit must have oversight"),
    ],
)
def test_invalid_seeds_are_refused_with_the_place(change: Any, message: str) -> None:
    """Each kind of mistake in a seed file is reported with where it is."""
    doc = _doc()
    change(doc)
    with pytest.raises(ConfigError, match=message):
        parse_seed(doc)


async def test_loading_twice_gives_the_same_rows(app: App) -> None:
    """Loading the seed again (the app fixture already loaded it once) changes no row count or id."""
    async with app.uow() as uow:
        before = (
            [(u.id, u.code) for u in await uow.units.list()],
            [(c.id, c.code) for c in await uow.categories.list()],
        )
        result = await load_seed(uow, read_seed())
        await uow.commit()
    async with app.uow() as uow:
        after = (
            [(u.id, u.code) for u in await uow.units.list()],
            [(c.id, c.code) for c in await uow.categories.list()],
        )
    assert before == after
    assert result.deactivated == 0


async def test_a_category_dropped_from_the_seed_is_hidden(app: App) -> None:
    """Reloading a seed without a category hides it from citizens without deleting old complaints' links."""
    doc = _doc()
    doc["categories"] = [c for c in doc["categories"] if c["code"] != "pasar"]
    async with app.uow() as uow:
        result = await load_seed(uow, parse_seed(doc))
        await uow.commit()
    async with app.uow() as uow:
        codes = {c.code for c in await uow.categories.list()}
        hidden = await uow.categories.by_code("pasar")
    assert result.deactivated == 1
    assert "pasar" not in codes
    assert hidden is None


def test_the_padang_seed_has_an_area_and_every_kelurahan() -> None:
    """The built-in seed gives a rectangle around the city and the 104 kelurahan of its 11 kecamatan."""
    seed = read_seed()
    assert seed.area is not None and seed.area.contains(-0.9471, 100.4172)
    assert not seed.area.contains(-6.2, 106.8)  # Jakarta
    kecamatan = [u for u in seed.units if u.kind is UnitKind.KECAMATAN]
    assert len(kecamatan) == 11 and all(u.places for u in kecamatan)
    assert sum(len(u.places) for u in kecamatan) == 104


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"city": {"area": {"south": 1, "north": 0, "west": 100, "east": 101}}}, "city.area"),
        ({"city": {"area": {"south": -1, "north": 0, "west": 100}}}, "city.area"),
        ({"units": [{"code": "DPUPR", "name": "Dinas", "kelurahan": ["Olo"]}]}, "only a kecamatan"),
    ],
)
def test_a_bad_area_or_kelurahan_list_is_refused(change: dict[str, object], problem: str) -> None:
    """An area whose edges are crossed or missing, or kelurahan under a unit that is no kecamatan, is refused."""
    doc = yaml.safe_load(default_seed_text())
    for key, value in change.items():
        if key == "city":
            doc["city"].update(value)
        else:
            doc["units"] = [u for u in doc["units"] if u["code"] != "DPUPR"] + value  # type: ignore[operator]
    with pytest.raises(ConfigError, match=problem):
        parse_seed(doc)
