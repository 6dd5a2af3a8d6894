"""IKM survey use cases; they run inside a unit of work owned by the caller, who commits once.

The database aggregates (per unit: respondents and the count of each score per unsur); everything after that
(NRR, NI, IKM, mutu, roll-ups) is the exact arithmetic of :mod:`suarawarga.surveys.ikm` on those tallies.
Roll-ups are *pooled* (an OPD = its own respondents plus all its sub-units'; the city = everyone), and the
mean of the member units' IKMs is given beside them, labelled as such.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from enum import StrEnum

from suarawarga.clock import day_start
from suarawarga.complaints.model import Unit
from suarawarga.errors import NotFound
from suarawarga.storage.uow import UnitOfWork
from suarawarga.surveys.definitions import ProfileField
from suarawarga.surveys.ikm import IkmResult, MeanOfIkms, Weight, compute_ikm, mean_of_ikms
from suarawarga.surveys.importing import ParsedFile
from suarawarga.surveys.model import NewResponse, StoredResponse, UnitTallies
from suarawarga.surveys.periods import Period
from suarawarga.surveys.sample_size import krejcie_morgan
from suarawarga.surveys.tally import pool

__all__ = [
    "IkmLine",
    "IkmReport",
    "ImportOutcome",
    "RollupDifference",
    "Scope",
    "answered_today",
    "check_rollup",
    "day_start",
    "descendants",
    "ikm_report",
    "import_responses",
    "profile_counts",
    "record_response",
    "responses_in",
    "unit_ikm",
]


async def answered_today(uow: UnitOfWork, citizen_id: int, unit_id: int, now: datetime, tz: tzinfo) -> int:
    """Return how many questionnaires the citizen gave for the unit since local midnight."""
    return await uow.surveys.count_since(citizen_id, unit_id, day_start(now, tz))


async def record_response(uow: UnitOfWork, response: NewResponse) -> int:
    """Store one questionnaire and return its id; the caller commits."""
    if await uow.units.get(response.unit_id) is None:
        raise NotFound(f"unit {response.unit_id}")
    return await uow.surveys.add(response)


async def unit_ikm(
    uow: UnitOfWork, unit_code: str, period: Period, weight: Weight = Weight.EXACT
) -> tuple[int, IkmResult | None]:
    """Return (respondents, IKM) of one unit's own responses in a period; the IKM is None without any."""
    unit = await uow.units.by_code(unit_code)
    if unit is None:
        raise NotFound(f"unit {unit_code}")
    rows = await uow.surveys.tallies(period.start, period.end, [unit.id])
    if not rows:
        return 0, None
    return rows[0].n_respondents, compute_ikm(rows[0].tallies, rows[0].n_respondents, weight)


# --------------------------------------------------------------------------------------------- reports


class Scope(StrEnum):
    """What a report line covers; persisted in exports by name."""

    UNIT = "unit"  # one unit's own respondents
    OPD = "opd"  # an OPD pooled with all its sub-units
    CITY = "city"  # every respondent of the city


@dataclass(frozen=True, slots=True)
class IkmLine:
    """One line of an IKM report: a unit, an OPD roll-up or the city, with its n and sample check."""

    scope: Scope
    code: str
    name: str
    n_respondents: int
    result: IkmResult | None
    population: int | None = None
    mean_of_units: MeanOfIkms | None = None
    members: tuple[str, ...] = ()  # unit codes pooled into this line
    unit_ids: tuple[int, ...] = ()

    @property
    def min_sample(self) -> int | None:
        """Return the Krejcie–Morgan minimum sample when the population is known."""
        return krejcie_morgan(self.population) if self.population else None

    @property
    def sample_ok(self) -> bool | None:
        """Return whether n reaches the minimum sample (None when the population is unknown)."""
        minimum = self.min_sample
        return None if minimum is None else self.n_respondents >= minimum


@dataclass(frozen=True, slots=True)
class IkmReport:
    """The IKM lines of one period, all computed with one weight."""

    period: Period
    weight: Weight
    lines: tuple[IkmLine, ...]
    units: Mapping[int, Unit] = field(default_factory=dict)

    def first(self) -> IkmLine:
        """Return the main line (the requested unit, OPD or the city)."""
        return self.lines[0]


def descendants(unit: Unit, children: Mapping[int | None, Sequence[Unit]]) -> list[Unit]:
    """Return every unit below a unit, depth first, in name order."""
    found: list[Unit] = []
    for child in children.get(unit.id, ()):
        found.append(child)
        found.extend(descendants(child, children))
    return found


def _children(units: Iterable[Unit]) -> dict[int | None, list[Unit]]:
    tree: dict[int | None, list[Unit]] = {}
    for unit in sorted(units, key=lambda u: u.name):
        tree.setdefault(unit.parent_id, []).append(unit)
    return tree


def _ikm(tallies: Sequence[UnitTallies], weight: Weight) -> tuple[int, IkmResult | None]:
    n = sum(t.n_respondents for t in tallies)
    if n == 0:
        return 0, None
    # One unit's tallies are already one per unsur: pooling them alone would only copy them.
    pooled = tallies[0].tallies if len(tallies) == 1 else pool(t.tallies for t in tallies)
    return n, compute_ikm(pooled, n, weight)


def _unit_line(unit: Unit, tallies: UnitTallies | None, weight: Weight) -> IkmLine:
    n, result = _ikm([tallies] if tallies else [], weight)
    return IkmLine(Scope.UNIT, unit.code, unit.name, n, result, unit.population, None, (unit.code,), (unit.id,))


def _rollup_line(
    scope: Scope,
    code: str,
    name: str,
    members: Sequence[Unit],
    parts: Sequence[IkmLine],
    by_unit: Mapping[int, UnitTallies],
    weight: Weight,
    population: int | None,
) -> IkmLine:
    """Pool the members' tallies; beside it, the mean of the parts' IKMs (parts with respondents only)."""
    n, result = _ikm([by_unit[u.id] for u in members if u.id in by_unit], weight)
    scored = [p.result for p in parts if p.result is not None]
    return IkmLine(
        scope,
        code,
        name,
        n,
        result,
        population,
        mean_of_ikms(scored) if scored else None,
        tuple(u.code for u in members),
        tuple(u.id for u in members),
    )


async def ikm_report(
    uow: UnitOfWork,
    period: Period,
    weight: Weight = Weight.EXACT,
    unit_code: str | None = None,
    city: tuple[str, str] = ("PDG", "Kota"),
    population: int | None = None,
) -> IkmReport:
    """Compute the IKM of a unit (with its sub-units pooled, if any) or of the city and every unit.

    With a unit code: the unit's line (an OPD roll-up when it has sub-units, followed by each member with
    respondents). Without: the city line, then each top-level unit's roll-up and its members with
    respondents. `population` overrides the main line's population (for the Krejcie–Morgan check).
    """
    units = {u.id: u for u in await uow.units.list()}
    wanted: Unit | None = None
    if unit_code is not None:
        wanted = await uow.units.by_code(unit_code)
        if wanted is None:
            raise NotFound(f"unit {unit_code}")
        units.setdefault(wanted.id, wanted)
    children = _children(units.values())
    root_ids = None if wanted is None else [wanted.id, *(u.id for u in descendants(wanted, children))]
    by_unit = {t.unit_id: t for t in await uow.surveys.tallies(period.start, period.end, root_ids)}
    for unit_id in by_unit.keys() - units.keys():  # responses of a unit no longer active
        old = await uow.units.get(unit_id)
        if old is not None:
            units[unit_id] = old
    children = _children(units.values())

    def subtree(top: Unit) -> list[IkmLine]:
        """Return a top unit's roll-up (if it has sub-units) and its members' lines."""
        members = [top, *descendants(top, children)]
        unit_lines = [_unit_line(u, by_unit.get(u.id), weight) for u in members]
        if len(members) == 1:
            return unit_lines
        rollup = _rollup_line(
            Scope.OPD,
            top.code,
            top.name,
            members,
            unit_lines,
            by_unit,
            weight,
            top.population,
        )
        return [rollup, *(line for line in unit_lines if line.n_respondents)]

    if wanted is not None:
        lines = subtree(wanted)
    else:
        # A unit whose parent is gone from the list is shown as a top unit rather than lost.
        tops = sorted((u for u in units.values() if u.parent_id not in units), key=lambda u: u.name)
        per_top = [subtree(top) for top in tops]
        heads = [lines_[0] for lines_ in per_top if lines_[0].n_respondents]
        known = [h.population for h in heads]
        city_line = _rollup_line(
            Scope.CITY,
            city[0],
            city[1],
            list(units.values()),
            heads,
            by_unit,
            weight,
            sum(p for p in known if p) if known and all(known) else None,
        )
        lines = [city_line, *(line for lines_ in per_top for line in lines_ if line.n_respondents)]
    if population is not None and lines:
        lines[0] = dataclasses.replace(lines[0], population=population)
    return IkmReport(period, Weight(weight), tuple(lines), units)


async def responses_in(uow: UnitOfWork, period: Period, line: IkmLine) -> list[StoredResponse]:
    """Return the responses pooled into a report line, oldest first."""
    ids = None if line.scope is Scope.CITY else line.unit_ids
    return await uow.surveys.responses(period.start, period.end, ids)


async def profile_counts(uow: UnitOfWork, period: Period, line: IkmLine) -> dict[ProfileField, dict[str | None, int]]:
    """Return how many respondents of a report line gave each profile answer."""
    ids = None if line.scope is Scope.CITY else line.unit_ids
    return await uow.surveys.profile_counts(period.start, period.end, ids)


# --------------------------------------------------------------------------------------------- import


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """What an import did."""

    rows: int  # good rows in the file
    inserted: int
    already: int  # rows stored by an earlier import of the same data
    bad: int


Progress = Callable[[int, int], None]


async def import_responses(
    uow: UnitOfWork,
    parsed: ParsedFile,
    *,
    skip_bad: bool = False,
    batch: int = 5000,
    progress: Progress | None = None,
) -> ImportOutcome:
    """Store the good rows of a parsed file, skipping those already imported; nothing if any row is bad.

    With `skip_bad`, the good rows are stored and the bad ones left out. The caller commits.
    """
    if parsed.problems and not skip_bad:
        return ImportOutcome(len(parsed.rows), 0, 0, len(parsed.problems))
    codes = {row.unit_code for row in parsed.rows}
    ids: dict[str, int] = {}
    for code in codes:
        unit = await uow.units.by_code(code)
        if unit is None:  # the parser checked the codes; a unit deleted meanwhile
            raise NotFound(f"unit {code}")
        ids[code] = unit.id
    inserted = already = 0
    total = len(parsed.rows)
    for start in range(0, total, batch):
        chunk = [row.to_response(ids[row.unit_code]) for row in parsed.rows[start : start + batch]]
        present = await uow.surveys.existing_import_keys(r.import_key for r in chunk if r.import_key)
        fresh = [r for r in chunk if r.import_key not in present]
        await uow.surveys.add_many(fresh)
        inserted += len(fresh)
        already += len(chunk) - len(fresh)
        if progress is not None:
            progress(min(start + batch, total), total)
    return ImportOutcome(total, inserted, already, len(parsed.problems))


# --------------------------------------------------------------------------------------------- roll-up


@dataclass(frozen=True, slots=True)
class RollupDifference:
    """A unit whose roll-up of one day differed from its answers: respondents in each, and whether counts did."""

    unit_id: int
    day: date
    rollup_respondents: int
    answer_respondents: int


async def check_rollup(uow: UnitOfWork, day: date, repair: bool = True) -> list[RollupDifference]:
    """Recompute one city-local day's roll-up from the answers; report (and by default repair) differences.

    The day's month row is checked against the month's day rows too (a difference there is reported on the
    month's first day). The caller commits. The roll-up is written with every answer, so a difference means a
    write that bypassed the repository (a manual SQL fix, a restore) or a change of the city's timezone.
    """
    start, end = uow.surveys.day_bounds(day)
    scanned = {t.unit_id: t for t in await uow.surveys.scan_tallies(start, end)}
    rolled = {t.unit_id: t for t in await uow.surveys.daily_tallies(day, date.fromordinal(day.toordinal() + 1))}
    differences = [
        RollupDifference(
            unit_id,
            day,
            rolled[unit_id].n_respondents if unit_id in rolled else 0,
            scanned[unit_id].n_respondents if unit_id in scanned else 0,
        )
        for unit_id in sorted(scanned.keys() | rolled.keys())
        if scanned.get(unit_id) != rolled.get(unit_id)
    ]
    if differences and repair:
        await uow.surveys.replace_daily(day, list(scanned.values()))  # rebuilds the day's month too
    month = day.replace(day=1)
    drifted = [
        RollupDifference(u, month, kept, summed) for u, kept, summed in await uow.surveys.month_differences(month)
    ]
    if drifted and repair:
        await uow.surveys.rebuild_month(month)
    return differences + drifted
