"""The IKM aggregated in SQL equals the pure computation on the same questionnaires, per unit, OPD and city."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta

import pytest

from suarawarga.bootstrap import App
from suarawarga.bot.messages import ChannelName
from suarawarga.errors import NotFound
from suarawarga.surveys.definitions import UNSUR_ORDER, Unsur
from suarawarga.surveys.ikm import IkmResult, Weight, compute_ikm, mean_of_ikms
from suarawarga.surveys.model import NewResponse, ResponseSource
from suarawarga.surveys.periods import Period, parse_period
from suarawarga.surveys.sample_size import krejcie_morgan
from suarawarga.surveys.services import Scope, answered_today, ikm_report, record_response, unit_ikm
from suarawarga.surveys.tally import tally_responses
from tests.support.clock import JAKARTA
from tests.surveys.support import Made, random_answers, spread, store

DINKES_MEMBERS = ["DINKES", "PKM-ANDALAS", "PKM-PAUH"]
UNITS = [*DINKES_MEMBERS, "DISDUKCAPIL"]
Q4 = datetime(2026, 10, 1, tzinfo=JAKARTA)


def pure(made: Iterable[Made], period: Period, units: Iterable[str], weight: Weight = Weight.EXACT) -> IkmResult:
    """Compute the IKM in Python from the raw questionnaires of some units inside a period."""
    wanted = set(units)
    chosen = [m.answers for m in made if m.unit in wanted and period.contains(m.at)]
    return compute_ikm(tally_responses(chosen), len(chosen), weight)


def edge_cases(rnd: random.Random) -> list[Made]:
    """Return questionnaires on the edges of 2026-Q4 in Padang time (the last two fall outside)."""
    return [
        Made("PKM-ANDALAS", Q4, random_answers(rnd)),  # first instant of Q4: inside
        Made("DISDUKCAPIL", datetime(2026, 12, 31, 23, 59, 59, tzinfo=JAKARTA), random_answers(rnd)),
        Made("PKM-PAUH", Q4 - timedelta(microseconds=1), random_answers(rnd)),  # Q3
        Made("DINKES", datetime(2027, 1, 1, tzinfo=JAKARTA), random_answers(rnd)),  # next year
    ]


@pytest.mark.parametrize("seed", [1, 7])
async def test_sql_tallies_equal_the_pure_computation(app: App, seed: int) -> None:
    """Unit, OPD (pooled with sub-units) and city IKMs from SQL equal compute_ikm on the raw answers."""
    rnd = random.Random(seed)
    made = spread(rnd, UNITS, 400, Q4 - timedelta(days=30), 130) + edge_cases(rnd)
    await store(app, made)
    period = parse_period("2026-Q4", JAKARTA)
    async with app.uow() as uow:
        city = await ikm_report(uow, period)
        dinkes = await ikm_report(uow, period, unit_code="DINKES")
        n, own = await unit_ikm(uow, "PKM-ANDALAS", period)
    lines = {(line.scope, line.code): line for line in city.lines}
    assert lines[(Scope.CITY, "PDG")].result == pure(made, period, UNITS)
    assert lines[(Scope.OPD, "DINKES")].result == pure(made, period, DINKES_MEMBERS)
    for code in UNITS:
        assert lines[(Scope.UNIT, code)].result == pure(made, period, [code]), code
    assert own == pure(made, period, ["PKM-ANDALAS"])
    assert n == sum(1 for m in made if m.unit == "PKM-ANDALAS" and period.contains(m.at))
    assert lines[(Scope.CITY, "PDG")].n_respondents == sum(1 for m in made if period.contains(m.at))
    assert [(line.scope, line.code) for line in dinkes.lines] == [
        (Scope.OPD, "DINKES"),
        (Scope.UNIT, "DINKES"),
        (Scope.UNIT, "PKM-ANDALAS"),
        (Scope.UNIT, "PKM-PAUH"),
    ]
    assert dinkes.lines[0].result == lines[(Scope.OPD, "DINKES")].result


async def test_mean_of_unit_ikms_is_given_beside_the_pooled_figure(app: App) -> None:
    """A roll-up carries the mean of its members' IKMs, labelled, which differs from the pooled IKM."""
    rnd = random.Random(3)
    # Unequal sizes and levels make pooling and averaging disagree.
    made = [Made("PKM-ANDALAS", Q4 + timedelta(hours=i), dict.fromkeys(UNSUR_ORDER, 4)) for i in range(30)]
    made += [Made("PKM-PAUH", Q4 + timedelta(hours=i), dict.fromkeys(UNSUR_ORDER, 2)) for i in range(3)]
    made += spread(rnd, ["DISDUKCAPIL"], 20, Q4, 60)
    await store(app, made)
    period = parse_period("2026-Q4", JAKARTA)
    async with app.uow() as uow:
        report = await ikm_report(uow, period)
    lines = {(line.scope, line.code): line for line in report.lines}
    opd = lines[(Scope.OPD, "DINKES")]
    members = [pure(made, period, [code]) for code in ("PKM-ANDALAS", "PKM-PAUH")]
    assert opd.mean_of_units == mean_of_ikms(members)
    assert opd.mean_of_units is not None and opd.mean_of_units.n_units == 2
    assert opd.result is not None and opd.result.ikm != opd.mean_of_units.ikm
    city = lines[(Scope.CITY, "PDG")]
    assert city.mean_of_units == mean_of_ikms([pure(made, period, DINKES_MEMBERS), pure(made, period, ["DISDUKCAPIL"])])


@pytest.mark.parametrize("weight", list(Weight))
async def test_every_weight_matches_the_pure_computation(app: App, weight: Weight) -> None:
    """The legacy weights 0.111 and 0.11 give, through SQL, what compute_ikm gives with them."""
    made = spread(random.Random(5), ["PKM-ANDALAS"], 60, Q4, 80)
    await store(app, made)
    period = parse_period("2026-Q4", JAKARTA)
    async with app.uow() as uow:
        report = await ikm_report(uow, period, weight, unit_code="PKM-ANDALAS")
    assert report.weight is weight
    assert report.first().result == pure(made, period, ["PKM-ANDALAS"], weight)


async def test_unit_without_responses_and_unknown_unit(app: App) -> None:
    """A unit with no questionnaires gets n = 0 and no IKM; an unknown code is NotFound."""
    period = parse_period("2026", JAKARTA)
    async with app.uow() as uow:
        report = await ikm_report(uow, period, unit_code="DISDUKCAPIL")
        assert await unit_ikm(uow, "DISDUKCAPIL", period) == (0, None)
        with pytest.raises(NotFound):
            await ikm_report(uow, period, unit_code="NOPE")
    assert [(line.n_respondents, line.result) for line in report.lines] == [(0, None)]


async def test_population_gives_the_krejcie_morgan_check(app: App) -> None:
    """With a known population, the line carries the minimum sample and whether n reaches it."""
    await store(app, spread(random.Random(2), ["DISDUKCAPIL"], 81, Q4, 30))
    period = parse_period("2026-Q4", JAKARTA)
    async with app.uow() as uow:
        enough = await ikm_report(uow, period, unit_code="DISDUKCAPIL", population=100)
        short = await ikm_report(uow, period, unit_code="DISDUKCAPIL", population=1000)
        unknown = await ikm_report(uow, period, unit_code="DISDUKCAPIL")
    assert (enough.first().min_sample, enough.first().sample_ok) == (krejcie_morgan(100), True)
    assert (short.first().min_sample, short.first().sample_ok) == (krejcie_morgan(1000), False)
    assert (unknown.first().min_sample, unknown.first().sample_ok) == (None, None)


async def test_answered_today_counts_from_local_midnight(app: App) -> None:
    """The daily limit counts questionnaires since 00:00 Padang time, per citizen and unit."""
    now = datetime(2026, 11, 23, 6, 30, tzinfo=JAKARTA)  # 23:30 UTC the day before
    async with app.uow() as uow:
        citizen = await uow.citizens.register(ChannelName.CONSOLE, "c-1", "id", now, consent=True)
        unit = await uow.units.by_code("DISDUKCAPIL")
        other = await uow.units.by_code("PKM-PAUH")
        assert unit is not None and other is not None
        for moment, unit_id in (
            (now - timedelta(hours=7), unit.id),  # 23:30 the day before, Padang time
            (now - timedelta(hours=6), unit.id),  # 00:30 today
            (now, other.id),
        ):
            answers: dict[Unsur, int | None] = {Unsur.WAKTU: 3}
            await record_response(uow, NewResponse(unit_id, moment, answers, ResponseSource.CHAT, citizen_id=citizen))
        assert await answered_today(uow, citizen, unit.id, now, JAKARTA) == 1
        assert await answered_today(uow, citizen, other.id, now, JAKARTA) == 1
        with pytest.raises(NotFound):
            await record_response(uow, NewResponse(99999, now, {Unsur.WAKTU: 3}, ResponseSource.CHAT))


async def test_unlinking_a_citizen_keeps_the_scores_and_drops_the_saran(app: App) -> None:
    """Erasing a citizen detaches their questionnaires and their saran; the IKM stays the same."""
    now = datetime(2026, 11, 23, 9, 0, tzinfo=JAKARTA)
    period = parse_period("2026-Q4", JAKARTA)
    async with app.uow() as uow:
        citizen = await uow.citizens.register(ChannelName.CONSOLE, "c-2", "id", now, consent=True)
        unit = await uow.units.by_code("DISDUKCAPIL")
        assert unit is not None
        answers: dict[Unsur, int | None] = dict.fromkeys(UNSUR_ORDER, 4)
        for saran in ("Nama saya Budi, rumah saya di Jl. Melati 3", None):
            response = NewResponse(unit.id, now, answers, ResponseSource.CHAT, citizen_id=citizen, saran=saran)
            await record_response(uow, response)
        before = await unit_ikm(uow, "DISDUKCAPIL", period)
        assert await uow.surveys.count_for_citizen(citizen) == 2
        assert await uow.surveys.unlink_citizen(citizen) == 2
        assert await uow.surveys.count_for_citizen(citizen) == 0
        assert await unit_ikm(uow, "DISDUKCAPIL", period) == before
        assert [r.saran for r in await uow.surveys.responses(period.start, period.end)] == [None, None]
