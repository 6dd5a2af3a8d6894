"""SQL repository of IKM survey responses: storing them and aggregating them per unit and period in SQL.

The aggregation returns, per unit, the number of respondents and the count of each score 1..4 per unsur;
answers and score sums follow exactly from those counts (the CHECK constraints keep scores in 1..4).

Every questionnaire stored also adds its counts to the roll-up, in the same transaction: per unit and
city-local day (`survey_daily`) and per unit and month (`survey_monthly`). A period that runs from one local
midnight to another (every reporting period does) is then summed from its whole months' rows and its other
days' rows instead of scanning the answers, so `report ikm` and the public site stay fast at any number of
answers (benchmarks/site.py). `scan_tallies` still reads the answers themselves: the nightly roll-up check
compares the two, and a month with its days. Repositories never commit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from suarawarga.storage.orm.surveys import (
    SURVEY_DAILY,
    SURVEY_DAILY_COUNT_COLUMNS,
    SURVEY_MONTHLY,
    SURVEY_UNSUR_COLUMNS,
    SurveyResponseRow,
)
from suarawarga.surveys.definitions import SCORES, UNSUR_ORDER, ProfileField
from suarawarga.surveys.model import NewResponse, Profile, ResponseSource, StoredResponse, UnitTallies
from suarawarga.surveys.tally import UnsurTally

_TABLE = SurveyResponseRow.__table__
if not isinstance(_TABLE, Table):  # pragma: no cover - a declarative model always has a Table
    raise TypeError(SurveyResponseRow)
RESPONSES: Table = _TABLE

if tuple(u.value for u in UNSUR_ORDER) != SURVEY_UNSUR_COLUMNS:  # pragma: no cover - guards a schema edit
    raise RuntimeError("survey_responses columns must be the unsur codes in U1..U9 order")

PROFILE_COLUMNS = {
    ProfileField.GENDER: "gender",
    ProfileField.AGE: "age_band",
    ProfileField.EDUCATION: "education",
    ProfileField.OCCUPATION: "occupation",
}
"""Which column stores each profile answer."""

KEY_BATCH = 900  # stays under SQLite's limit of bound parameters per statement


def _row_values(response: NewResponse) -> dict[str, Any]:
    values: dict[str, Any] = {
        "unit_id": response.unit_id,
        "submitted_at": response.submitted_at,
        "survey_version": response.survey_version,
        "citizen_id": response.citizen_id,
        "service": response.service,
        "saran": response.saran,
        "source": response.source.value,
        "import_key": response.import_key,
    }
    for profile_field, column in PROFILE_COLUMNS.items():
        answer = response.profile.get(profile_field)
        values[column] = answer.value if answer is not None else None
    for unsur in UNSUR_ORDER:
        values[unsur.value] = response.answers.get(unsur)
    return values


def _in_period(query: Select[Any], start: datetime, end: datetime, unit_ids: Collection[int] | None) -> Any:
    query = query.where(RESPONSES.c.submitted_at >= start, RESPONSES.c.submitted_at < end)
    if unit_ids is not None:
        query = query.where(RESPONSES.c.unit_id.in_(sorted(unit_ids)))
    return query


def _distribution_columns() -> list[ColumnElement[Any]]:
    """Return COUNT(*) FILTER (WHERE unsur = s) for every unsur and score, labelled unsur_s."""
    return [
        func.count().filter(RESPONSES.c[unsur.value] == score).label(f"{unsur.value}_{score}")
        for unsur in UNSUR_ORDER
        for score in SCORES
    ]


DAILY = SURVEY_DAILY
MONTHLY = SURVEY_MONTHLY
DailyCounts = list[int]  # respondents, then the count of each score of each unsur (SURVEY_DAILY_COUNT_COLUMNS order)
ADDED = ("respondents", *SURVEY_DAILY_COUNT_COLUMNS)


def month_of(day: date) -> date:
    """Return the first day of a day's month (the key of its monthly roll-up row)."""
    return day.replace(day=1)


def next_month(month: date) -> date:
    """Return the first day of the month after a month's first day."""
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _daily_counts(responses: Iterable[NewResponse], tz: tzinfo) -> dict[tuple[int, date], DailyCounts]:
    """Add up questionnaires per unit and city-local day, as roll-up counts."""
    totals: dict[tuple[int, date], DailyCounts] = {}
    for response in responses:
        key = (response.unit_id, response.submitted_at.astimezone(tz).date())
        counts = totals.setdefault(key, [0] * (1 + len(SURVEY_DAILY_COUNT_COLUMNS)))
        counts[0] += 1
        for position, unsur in enumerate(UNSUR_ORDER):
            score = response.answers.get(unsur)
            if score is not None:
                counts[1 + position * len(SCORES) + SCORES.index(score)] += 1
    return totals


def _daily_values(unit_id: int, day: date, counts: DailyCounts) -> dict[str, Any]:
    return {"unit_id": unit_id, "day": day, **dict(zip(ADDED, counts, strict=True))}


def _monthly_values(unit_id: int, month: date, counts: DailyCounts) -> dict[str, Any]:
    return {"unit_id": unit_id, "month": month, **dict(zip(ADDED, counts, strict=True))}


def _tallies_of(unit_id: int, counts: DailyCounts) -> UnitTallies:
    """Build a unit's tallies from its respondents and score counts (SURVEY_DAILY_COUNT_COLUMNS order)."""
    per = len(SCORES)
    tallies = tuple(
        UnsurTally.from_distribution(unsur, tuple(counts[1 + i * per : 1 + (i + 1) * per]))  # type: ignore[arg-type]
        for i, unsur in enumerate(UNSUR_ORDER)
    )
    return UnitTallies(unit_id=unit_id, n_respondents=counts[0], tallies=tallies)


class SurveyRepo:
    """IKM survey responses and their daily and monthly roll-up."""

    def __init__(self, conn: AsyncConnection, tz: tzinfo) -> None:
        self.conn = conn
        self.tz = tz  # the city's: roll-up days are its calendar days

    async def add(self, response: NewResponse) -> int:
        """Store one response (and its roll-up counts) and return its id."""
        result = await self.conn.execute(insert(RESPONSES).values(**_row_values(response)).returning(RESPONSES.c.id))
        await self._roll_up([response])
        return int(result.scalar_one())

    async def add_many(self, responses: Sequence[NewResponse]) -> None:
        """Store many responses in one executemany, and their roll-up counts."""
        if responses:
            await self.conn.execute(insert(RESPONSES), [_row_values(r) for r in responses])
            await self._roll_up(responses)

    async def _roll_up(self, responses: Iterable[NewResponse]) -> None:
        """Add the responses' counts to their days' and months' roll-up rows (created when missing), atomically."""
        days = _daily_counts(responses, self.tz)
        if not days:
            return
        months: dict[tuple[int, date], DailyCounts] = {}
        for (unit, day), counts in days.items():
            total = months.setdefault((unit, month_of(day)), [0] * len(counts))
            for index, count in enumerate(counts):
                total[index] += count
        await self._upsert(DAILY, DAILY.c.day, {key: _daily_values(*key, counts) for key, counts in days.items()})
        monthly = {key: _monthly_values(*key, counts) for key, counts in months.items()}
        await self._upsert(MONTHLY, MONTHLY.c.month, monthly)

    async def _upsert(self, table: Table, when: Any, rows: dict[tuple[int, date], dict[str, Any]]) -> None:
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.unit_id, when],
            set_={name: table.c[name] + statement.excluded[name] for name in ADDED},
        )
        # One statement per row keeps the upsert's order stable (no deadlock between two imports) and cheap:
        # a chat answer touches one row, an import a few hundred at most (one per unit and day).
        for key in sorted(rows):
            await self.conn.execute(statement, rows[key])

    async def existing_import_keys(self, keys: Iterable[str]) -> set[str]:
        """Return which of the import keys are already stored."""
        wanted = sorted(set(keys))
        found: set[str] = set()
        for start in range(0, len(wanted), KEY_BATCH):
            chunk = wanted[start : start + KEY_BATCH]
            query = select(RESPONSES.c.import_key).where(RESPONSES.c.import_key.in_(chunk))
            found |= {r[0] for r in await self.conn.execute(query)}
        return found

    async def count_since(self, citizen_id: int, unit_id: int, since: datetime) -> int:
        """Return how many responses a citizen gave for a unit since a moment."""
        query = (
            select(func.count())
            .select_from(RESPONSES)
            .where(
                RESPONSES.c.citizen_id == citizen_id,
                RESPONSES.c.submitted_at >= since,
                RESPONSES.c.unit_id == unit_id,
            )
        )
        return int((await self.conn.execute(query)).scalar_one())

    def _local_day(self, moment: datetime) -> date | None:
        """Return the city-local day a moment starts, or None when it is not a local midnight."""
        local = moment.astimezone(self.tz)
        return local.date() if local.time() == time(0) else None

    async def tallies(
        self, start: datetime, end: datetime, unit_ids: Collection[int] | None = None
    ) -> list[UnitTallies]:
        """Return, per unit with responses in [start, end), its respondents and per-unsur score counts.

        Whole city-local days are summed from the daily roll-up; other bounds scan the answers.
        """
        first, after = self._local_day(start), self._local_day(end)
        if first is None or after is None:
            return await self.scan_tallies(start, end, unit_ids)
        return await self.daily_tallies(first, after, unit_ids)

    async def daily_tallies(
        self, first: date, after: date, unit_ids: Collection[int] | None = None
    ) -> list[UnitTallies]:
        """Return the roll-up's tallies per unit for the local days first <= day < after.

        Whole months come from the monthly rows, the days before and after them from the daily rows.
        """
        start = first if first.day == 1 else next_month(month_of(first))
        end = month_of(after)
        totals: dict[int, DailyCounts] = {}
        if start < end:
            await self._add_sums(totals, MONTHLY, MONTHLY.c.month, start, end, unit_ids)
            await self._add_sums(totals, DAILY, DAILY.c.day, first, start, unit_ids)
            await self._add_sums(totals, DAILY, DAILY.c.day, end, after, unit_ids)
        else:
            await self._add_sums(totals, DAILY, DAILY.c.day, first, after, unit_ids)
        return [_tallies_of(unit_id, counts) for unit_id, counts in sorted(totals.items()) if counts[0]]

    async def _add_sums(
        self,
        totals: dict[int, DailyCounts],
        table: Table,
        when: Any,
        first: date,
        after: date,
        unit_ids: Collection[int] | None,
    ) -> None:
        """Add a roll-up table's sums per unit over first <= key < after to the totals."""
        if first >= after:
            return
        query = select(table.c.unit_id, *(func.sum(table.c[name]).label(name) for name in ADDED))
        query = query.where(when >= first, when < after)
        if unit_ids is not None:
            query = query.where(table.c.unit_id.in_(sorted(unit_ids)))
        for row in await self.conn.execute(query.group_by(table.c.unit_id)):
            total = totals.setdefault(int(row.unit_id), [0] * len(ADDED))
            for index, value in enumerate(row[1:]):
                total[index] += int(value or 0)

    async def scan_tallies(
        self, start: datetime, end: datetime, unit_ids: Collection[int] | None = None
    ) -> list[UnitTallies]:
        """Return the tallies per unit computed from the answers themselves (no roll-up)."""
        query = select(RESPONSES.c.unit_id, func.count().label("n"), *_distribution_columns())
        query = _in_period(query, start, end, unit_ids).group_by(RESPONSES.c.unit_id)
        return [self._unit_tallies(row) for row in await self.conn.execute(query)]

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """Return the moments a city-local day starts and the next one starts."""
        start = datetime.combine(day, time(0), tzinfo=self.tz)
        return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.tz)

    async def replace_daily(self, day: date, tallies: Sequence[UnitTallies]) -> None:
        """Rewrite one day's roll-up rows from the given tallies, and its month's from its days (the repair)."""
        await self.conn.execute(delete(DAILY).where(DAILY.c.day == day))
        rows = []
        for tally in tallies:
            counts = [tally.n_respondents]
            for unsur_tally in tally.tallies:
                counts.extend(unsur_tally.count(score) for score in SCORES)
            rows.append(_daily_values(tally.unit_id, day, counts))
        if rows:
            await self.conn.execute(insert(DAILY), rows)
        await self.rebuild_month(month_of(day))

    async def month_differences(self, month: date) -> list[tuple[int, int, int]]:
        """Return (unit, respondents in the month's row, respondents in its days) where the month's counts differ."""
        days: dict[int, DailyCounts] = {}
        await self._add_sums(days, DAILY, DAILY.c.day, month, next_month(month), None)
        rows = await self.conn.execute(select(MONTHLY).where(MONTHLY.c.month == month))
        kept = {int(r.unit_id): [int(r._mapping[name]) for name in ADDED] for r in rows}
        summed = {unit_id: counts for unit_id, counts in days.items() if counts[0]}
        return [
            (unit_id, kept[unit_id][0] if unit_id in kept else 0, summed[unit_id][0] if unit_id in summed else 0)
            for unit_id in sorted(kept.keys() | summed.keys())
            if kept.get(unit_id) != summed.get(unit_id)
        ]

    async def rebuild_month(self, month: date) -> None:
        """Rewrite a month's rows as the sum of its days' rows."""
        days: dict[int, DailyCounts] = {}
        await self._add_sums(days, DAILY, DAILY.c.day, month, next_month(month), None)
        await self.conn.execute(delete(MONTHLY).where(MONTHLY.c.month == month))
        rows = [_monthly_values(unit_id, month, counts) for unit_id, counts in sorted(days.items()) if counts[0]]
        if rows:
            await self.conn.execute(insert(MONTHLY), rows)

    @staticmethod
    def _unit_tallies(row: Row[Any]) -> UnitTallies:
        mapping = row._mapping
        return _tallies_of(int(row.unit_id), [int(row.n), *(int(mapping[name]) for name in SURVEY_DAILY_COUNT_COLUMNS)])

    async def responses(
        self, start: datetime, end: datetime, unit_ids: Collection[int] | None = None
    ) -> list[StoredResponse]:
        """Return the responses in [start, end), oldest first (for the per-respondent sheet)."""
        query = _in_period(select(RESPONSES), start, end, unit_ids).order_by(RESPONSES.c.submitted_at, RESPONSES.c.id)
        return [self._stored(r) for r in await self.conn.execute(query)]

    @staticmethod
    def _stored(r: Row[Any]) -> StoredResponse:
        return StoredResponse(
            id=int(r.id),
            unit_id=int(r.unit_id),
            submitted_at=r.submitted_at,
            answers={unsur: r._mapping[unsur.value] for unsur in UNSUR_ORDER},
            source=ResponseSource(r.source),
            service=r.service,
            profile=Profile.from_codes({field.value: r._mapping[column] for field, column in PROFILE_COLUMNS.items()}),
            saran=r.saran,
        )

    async def profile_counts(
        self, start: datetime, end: datetime, unit_ids: Collection[int] | None = None
    ) -> dict[ProfileField, dict[str | None, int]]:
        """Return, per profile question, how many respondents gave each answer (None = not answered)."""
        counts: dict[ProfileField, dict[str | None, int]] = {}
        for profile_field, column_name in PROFILE_COLUMNS.items():
            column = RESPONSES.c[column_name]
            query = _in_period(select(column, func.count()), start, end, unit_ids).group_by(column)
            counts[profile_field] = {r[0]: int(r[1]) for r in await self.conn.execute(query)}
        return counts

    async def for_citizen(self, citizen_id: int) -> list[StoredResponse]:
        """Return a citizen's questionnaires, oldest first (what `dataku` shows)."""
        query = select(RESPONSES).where(RESPONSES.c.citizen_id == citizen_id)
        query = query.order_by(RESPONSES.c.submitted_at, RESPONSES.c.id)
        return [self._stored(r) for r in await self.conn.execute(query)]

    async def count_for_citizen(self, citizen_id: int) -> int:
        """Return how many questionnaires a citizen gave."""
        query = select(func.count()).select_from(RESPONSES).where(RESPONSES.c.citizen_id == citizen_id)
        return int((await self.conn.execute(query)).scalar_one())

    async def unlink_citizen(self, citizen_id: int) -> int:
        """Detach a citizen's questionnaires from them (scores stay for the IKM) and return how many.

        The free-text saran goes too: it is the one field that may name or describe the citizen.
        """
        result = await self.conn.execute(
            update(RESPONSES).where(RESPONSES.c.citizen_id == citizen_id).values(citizen_id=None, saran=None)
        )
        return int(result.rowcount)

    async def count(self) -> int:
        """Return how many responses are stored."""
        return int((await self.conn.execute(select(func.count()).select_from(RESPONSES))).scalar_one())
