"""The daily IKM roll-up equals the answers it summarises, is checked nightly, and is filled for old answers."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from suarawarga.bootstrap import App
from suarawarga.bot.messages import ChannelName
from suarawarga.complaints.privacy import erase_citizen
from suarawarga.jobs.scheduler import JobName, run_job
from suarawarga.storage.db import make_engine
from suarawarga.storage.migrate import upgrade
from suarawarga.surveys.definitions import UNSUR_ORDER
from suarawarga.surveys.model import NewResponse, ResponseSource
from suarawarga.surveys.periods import period_between
from suarawarga.surveys.services import check_rollup, ikm_report
from tests.support.clock import JAKARTA

UNITS = ("DINKES", "PKM-ANDALAS", "DISDUKCAPIL")
DAY0 = datetime(2026, 11, 30, tzinfo=JAKARTA)
# Moments around local midnights (where a UTC day and a Padang day disagree) over one week.
moments = st.integers(min_value=0, max_value=7 * 24 * 60 - 1).map(lambda minutes: DAY0 + timedelta(minutes=minutes))
scores = st.one_of(st.none(), st.integers(min_value=1, max_value=4))
questionnaire = st.tuples(st.sampled_from(UNITS), moments, st.lists(scores, min_size=9, max_size=9))


async def _unit_ids(app: App) -> dict[str, int]:
    async with app.uow() as uow:
        found = {code: await uow.units.by_code(code) for code in UNITS}
    return {code: unit.id for code, unit in found.items() if unit is not None}


async def _citizen(app: App) -> int:
    async with app.uow() as uow:
        citizen_id = await uow.citizens.register(
            ChannelName.CONSOLE, f"warga-{uuid.uuid4().hex[:8]}", "id", app.clock.now(), consent=True
        )
        await uow.commit()
    return citizen_id


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    chat=st.lists(questionnaire, max_size=12),
    imported=st.lists(questionnaire, max_size=30),
    erase=st.booleans(),
    first=st.integers(min_value=0, max_value=7),
    length=st.integers(min_value=1, max_value=8),
)
async def test_rollup_ikm_equals_the_ikm_of_the_answers(
    app: App,
    chat: list[tuple[str, datetime, list[int | None]]],
    imported: list[tuple[str, datetime, list[int | None]]],
    erase: bool,
    first: int,
    length: int,
) -> None:
    """For answers given in chat and imported, with or without an erasure, any whole-day period sums right."""
    ids = await _unit_ids(app)
    citizen = await _citizen(app)

    def response(item: tuple[str, datetime, list[int | None]], source: ResponseSource) -> NewResponse:
        code, at, given_scores = item
        answers = dict(zip(UNSUR_ORDER, given_scores, strict=True))
        if all(score is None for score in given_scores):
            answers[UNSUR_ORDER[0]] = 2
        return NewResponse(
            unit_id=ids[code],
            submitted_at=at,
            answers=answers,
            source=source,
            citizen_id=citizen if source is ResponseSource.CHAT else None,
        )

    async with app.uow() as uow:
        for item in chat:
            await uow.surveys.add(response(item, ResponseSource.CHAT))
        await uow.surveys.add_many([response(item, ResponseSource.IMPORT) for item in imported])
        await uow.commit()
    if erase:
        async with app.uow() as uow:
            await erase_citizen(uow, citizen, app.clock.now())
            await uow.commit()
    start = (DAY0 + timedelta(days=first)).date()
    period = period_between(start, start + timedelta(days=length - 1), JAKARTA)
    async with app.uow() as uow:
        rolled = sorted(await uow.surveys.tallies(period.start, period.end), key=lambda t: t.unit_id)
        scanned = sorted(await uow.surveys.scan_tallies(period.start, period.end), key=lambda t: t.unit_id)
        report = await ikm_report(uow, period)
    assert rolled == scanned
    city = report.first()
    assert city.n_respondents == sum(t.n_respondents for t in scanned)


async def test_a_period_not_on_local_midnights_scans_the_answers(app: App) -> None:
    """Bounds inside a day cannot use whole-day rows: the answers are read instead, and still counted right."""
    ids = await _unit_ids(app)
    async with app.uow() as uow:
        for hour in (1, 5, 9):
            answers = dict.fromkeys(UNSUR_ORDER, 3)
            await uow.surveys.add(
                NewResponse(ids["DINKES"], DAY0 + timedelta(hours=hour), answers, ResponseSource.CHAT)
            )
        await uow.commit()
        tallies = await uow.surveys.tallies(DAY0 + timedelta(hours=2), DAY0 + timedelta(hours=8))
    assert [t.n_respondents for t in tallies] == [1]


async def test_the_nightly_check_finds_and_repairs_a_broken_day(app: App) -> None:
    """A roll-up day that lost its rows is reported by `run-job rollup-check` and rewritten from the answers."""
    ids = await _unit_ids(app)
    yesterday = (app.clock.now().astimezone(JAKARTA) - timedelta(days=1)).replace(hour=10, minute=0)
    async with app.uow() as uow:
        for offset in range(4):
            answers = dict.fromkeys(UNSUR_ORDER, 1 + offset % 4)
            await uow.surveys.add(
                NewResponse(ids["PKM-ANDALAS"], yesterday + timedelta(minutes=offset), answers, ResponseSource.CHAT)
            )
        await uow.commit()
    day = yesterday.date()
    result = await run_job(app, JobName.ROLLUP_CHECK)
    assert result.details == [f"{day.isoformat()}: the roll-up matches the answers"]
    async with app.uow() as uow:
        await uow.surveys.replace_daily(day, [])  # as if a restore had lost the roll-up rows
        await uow.commit()
        start, end = uow.surveys.day_bounds(day)
        assert await uow.surveys.tallies(start, end) == []
    result = await run_job(app, JobName.ROLLUP_CHECK)
    assert result.details == [f"{day.isoformat()}: 1 units differed and were repaired"]
    async with app.uow() as uow:
        assert await check_rollup(uow, day, repair=False) == []
        repaired = await uow.surveys.tallies(start, end)
    assert [t.n_respondents for t in repaired] == [4]


async def test_the_migration_rolls_up_answers_stored_before_it(tmp_path: Path) -> None:
    """Upgrading a database that already holds answers fills the roll-up with them, by Padang day."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await upgrade(engine, "0017-1")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO service_units (id, code, name, kind, oversight, city_admin, active)"
                    " VALUES (1, 'DINKES', 'Dinas Kesehatan', 'opd', false, false, true)"
                )
            )
            # 16:59 and 17:00 UTC fall on two different days in Padang (UTC+7).
            for at, score in (("2026-11-30 16:59:00", 4), ("2026-11-30 17:00:00", 2), ("2026-11-30 17:30:00", 3)):
                await conn.execute(
                    text(
                        "INSERT INTO survey_responses (unit_id, submitted_at, survey_version, source, persyaratan)"
                        " VALUES (1, :at, 'v1', 'chat', :score)"
                    ),
                    {"at": at, "score": score},
                )
        await upgrade(engine, timezone="Asia/Jakarta")
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT day, respondents, persyaratan_2, persyaratan_3, persyaratan_4 FROM survey_daily"
                        " ORDER BY day"
                    )
                )
            ).all()
            months = (
                await conn.execute(
                    text(
                        "SELECT month, respondents, persyaratan_2, persyaratan_3, persyaratan_4 FROM survey_monthly"
                        " ORDER BY month"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [(str(date(2026, 11, 30)), 1, 0, 0, 1), (str(date(2026, 12, 1)), 2, 1, 1, 0)]
    # Migration 0021 sums the days into months (the first day of the month is the key).
    assert [tuple(row) for row in months] == [
        (str(date(2026, 11, 1)), 1, 0, 0, 1),
        (str(date(2026, 12, 1)), 2, 1, 1, 0),
    ]


async def test_whole_months_come_from_the_monthly_rows_and_sum_right(app: App) -> None:
    """Periods with whole months (and days around them) equal the scan; the month rows are what is read."""
    ids = await _unit_ids(app)
    rnd = random.Random(7)
    start = datetime(2026, 10, 20, tzinfo=JAKARTA)
    made = []
    for _ in range(300):
        at = start + timedelta(minutes=rnd.randrange(0, 120 * 24 * 60))
        made.append(at)
    for month_start in (datetime(2026, 11, 1, tzinfo=JAKARTA), datetime(2027, 1, 1, tzinfo=JAKARTA)):
        made += [month_start - timedelta(seconds=1), month_start]  # both sides of a local month boundary
    async with app.uow() as uow:
        await uow.surveys.add_many(
            [
                NewResponse(
                    unit_id=ids[rnd.choice(UNITS)],
                    submitted_at=at,
                    answers={u: rnd.choice([None, 1, 2, 3, 4]) or 3 for u in UNSUR_ORDER},
                    source=ResponseSource.IMPORT,
                )
                for at in made
            ]
        )
        await uow.commit()
    periods = [
        (date(2026, 11, 1), date(2026, 12, 1)),  # one whole month
        (date(2026, 11, 1), date(2027, 1, 1)),  # two
        (date(2026, 10, 25), date(2027, 1, 10)),  # days, two months, days
        (date(2026, 11, 5), date(2026, 11, 25)),  # inside a month: days only
        (date(2026, 10, 1), date(2027, 3, 1)),  # past both ends of the answers
    ]
    async with app.uow() as uow:
        for first, after in periods:
            period = period_between(first, after - timedelta(days=1), JAKARTA)
            rolled = await uow.surveys.tallies(period.start, period.end)
            assert rolled == await uow.surveys.scan_tallies(period.start, period.end), (first, after)
    # A month row changed behind the repository's back shows in a whole-month period, not in its days alone,
    # and the nightly check of any of its days reports and rebuilds it.
    async with app.db.begin() as conn:
        await conn.execute(text("UPDATE survey_monthly SET respondents = respondents + 1 WHERE month = '2026-11-01'"))
    november = period_between(date(2026, 11, 1), date(2026, 11, 30), JAKARTA)
    inside = period_between(date(2026, 11, 2), date(2026, 11, 29), JAKARTA)
    async with app.uow() as uow:
        assert await uow.surveys.tallies(inside.start, inside.end) == await uow.surveys.scan_tallies(
            inside.start, inside.end
        )
        assert await uow.surveys.tallies(november.start, november.end) != await uow.surveys.scan_tallies(
            november.start, november.end
        )
        found = await check_rollup(uow, date(2026, 11, 10))
        assert found and {d.day for d in found} == {date(2026, 11, 1)}
        assert all(d.rollup_respondents == d.answer_respondents + 1 for d in found)
        assert await uow.surveys.tallies(november.start, november.end) == await uow.surveys.scan_tallies(
            november.start, november.end
        )
        assert await check_rollup(uow, date(2026, 11, 10), repair=False) == []
