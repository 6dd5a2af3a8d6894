"""Exact IKM arithmetic (PermenPANRB 14/2017), computed from per-unsur tallies.

Rules (docs/ikm.md §3, §4):

* NRR of an unsur = sum of its scores ÷ number of answers *to that unsur* (a respondent may skip one).
* NI = Σ NRR × weight, with weight exactly 1/9 by default; legacy weights 0,111 and 0,11 only on request.
* IKM (NIK, 25–100 scale) = NI × 25.
* Everything is kept as :class:`fractions.Fraction`; only displayed values are rounded, always ROUND_HALF_UP:
  NRR to 3 places, NI to 4, IKM to 2.
* The mutu letter is decided on the IKM rounded half-up to 2 places: ≥ 88,31 A, ≥ 76,61 B, ≥ 65,00 C, else D.
* An unsur nobody answered has no NRR; it is listed in :attr:`IkmResult.unanswered` and the NI is the
  weighted mean over the answered unsur ("Total unsur yang terisi", §1.1.3), i.e. the weight is scaled by
  9 ÷ (number of answered unsur). With all nine answered this is exactly Σ NRR × weight.

Pure stdlib; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import Final

from suarawarga.surveys.definitions import MAX_SCORE, MIN_SCORE, SCORES, UNSUR_ORDER, Unsur, unsur_label

__all__ = [
    "IKM_SCALE",
    "KINERJA",
    "KM_CHI_SQUARE",
    "KM_MARGIN",
    "KM_PROPORTION",
    "MUTU_MIN_IKM",
    "EmptyDataError",
    "IkmInputError",
    "IkmResult",
    "InvalidScoreError",
    "MeanOfIkms",
    "Mutu",
    "RollUpMethod",
    "UnsurResult",
    "UnsurTally",
    "Weight",
    "classify_ikm",
    "compute_ikm",
    "format_ikm",
    "format_ni",
    "format_nrr",
    "krejcie_morgan",
    "mean_of_ikms",
    "pool",
    "round_half_up",
    "sample_adequate",
    "tally_responses",
    "weight_value",
]

IKM_SCALE: Final = 25
"""NI × 25 gives the IKM konversi (NIK) on the 25–100 scale."""

NRR_PLACES: Final = 3
NI_PLACES: Final = 4
IKM_PLACES: Final = 2

_UNSUR_CODES: Final = frozenset(u.value for u in Unsur)


# --------------------------------------------------------------------------------------------- errors


class IkmInputError(ValueError):
    """Input that the IKM computation cannot accept."""


class InvalidScoreError(IkmInputError):
    """A score outside 1..4 (or not an integer)."""


class EmptyDataError(IkmInputError):
    """No respondents or no answers at all."""


# --------------------------------------------------------------------------------------------- weights


class Weight(StrEnum):
    """Weight per unsur: exact 1/9 (default) or a legacy spreadsheet constant."""

    EXACT = "exact"
    LEGACY_0111 = "0.111"
    LEGACY_011 = "0.11"

    @property
    def catalogue_key(self) -> str:
        """Return the catalogue key naming this weight, e.g. ``ikm.weight.exact``."""
        return f"ikm.weight.{self.name.lower()}"


_WEIGHT_VALUES: Final[Mapping[Weight, Fraction]] = MappingProxyType(
    {
        Weight.EXACT: Fraction(1, 9),
        Weight.LEGACY_0111: Fraction(111, 1000),
        Weight.LEGACY_011: Fraction(11, 100),
    }
)


def weight_value(weight: Weight | str) -> Fraction:
    """Return the exact numeric value of a weight (1/9, 111/1000 or 11/100)."""
    try:
        return _WEIGHT_VALUES[Weight(weight)]
    except ValueError:
        raise IkmInputError(f"unknown weight {weight!r}; expected one of {[w.value for w in Weight]}") from None


# --------------------------------------------------------------------------------------------- mutu


class Mutu(StrEnum):
    """Mutu pelayanan letter (docs/ikm.md §3)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"

    @property
    def kinerja(self) -> str:
        """Return the official Indonesian kinerja label, e.g. ``"Sangat Baik"`` for A."""
        return KINERJA[self]

    @property
    def rank(self) -> int:
        """Return 0 for D up to 3 for A, so that better mutu has a higher rank."""
        return _MUTU_RANK[self]

    @property
    def min_ikm(self) -> Decimal:
        """Return the lowest IKM (2 places) of this band: 88.31, 76.61, 65.00 or 25.00."""
        return MUTU_MIN_IKM[self]

    @property
    def catalogue_key(self) -> str:
        """Return the catalogue key of this mutu's label, e.g. ``ikm.mutu.A``."""
        return f"ikm.mutu.{self.value}"


KINERJA: Final[Mapping[Mutu, str]] = MappingProxyType(
    {Mutu.A: "Sangat Baik", Mutu.B: "Baik", Mutu.C: "Kurang Baik", Mutu.D: "Tidak Baik"}
)
"""Kinerja unit pelayanan per mutu letter, verbatim from the regulation's interval table."""

MUTU_MIN_IKM: Final[Mapping[Mutu, Decimal]] = MappingProxyType(
    {Mutu.A: Decimal("88.31"), Mutu.B: Decimal("76.61"), Mutu.C: Decimal("65.00"), Mutu.D: Decimal("25.00")}
)
"""Lower edge of each band on the IKM scale. D is "everything below 65,00" (25,00 is only the table floor)."""

_MUTU_RANK: Final[Mapping[Mutu, int]] = MappingProxyType({Mutu.D: 0, Mutu.C: 1, Mutu.B: 2, Mutu.A: 3})


# --------------------------------------------------------------------------------------------- rounding


def round_half_up(value: Fraction | Decimal | int, places: int) -> Decimal:
    """Round exactly to ``places`` decimals, ROUND_HALF_UP (halves away from zero); floats are refused."""
    if isinstance(value, float):
        raise TypeError("pass a Fraction, Decimal or int, not a float (floats are inexact)")
    scaled = Fraction(value) * 10**places
    magnitude = math.floor(abs(scaled) + Fraction(1, 2))
    integral = -magnitude if scaled < 0 else magnitude
    return Decimal(integral).scaleb(-places)


def _fixed(value: Decimal) -> str:
    return format(value, "f")


def format_nrr(nrr: Fraction | Decimal | int) -> str:
    """Format an NRR for display: 3 places, ROUND_HALF_UP, e.g. ``"3.532"``."""
    return _fixed(round_half_up(nrr, NRR_PLACES))


def format_ni(ni: Fraction | Decimal | int) -> str:
    """Format an NI for display: 4 places, ROUND_HALF_UP, e.g. ``"3.5324"``."""
    return _fixed(round_half_up(ni, NI_PLACES))


def format_ikm(ikm: Fraction | Decimal | int) -> str:
    """Format an IKM (NIK) for display: 2 places, ROUND_HALF_UP, e.g. ``"88.31"``."""
    return _fixed(round_half_up(ikm, IKM_PLACES))


def classify_ikm(ikm: Fraction | Decimal | int) -> Mutu:
    """Return the mutu of an IKM: round half-up to 2 places, then ≥88.31 A, ≥76.61 B, ≥65.00 C, else D."""
    shown = round_half_up(ikm, IKM_PLACES)
    for mutu in (Mutu.A, Mutu.B, Mutu.C):
        if shown >= MUTU_MIN_IKM[mutu]:
            return mutu
    return Mutu.D


# --------------------------------------------------------------------------------------------- tallies


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise IkmInputError(f"{name} must be an int, got {value!r}")
    if value < 0:
        raise IkmInputError(f"{name} must not be negative, got {value}")
    return value


def _as_unsur(value: object) -> Unsur:
    if isinstance(value, str) and value in _UNSUR_CODES:
        return Unsur(value)
    raise IkmInputError(f"unknown unsur {value!r}; expected one of {sorted(_UNSUR_CODES)}")


@dataclass(frozen=True, slots=True)
class UnsurTally:
    """Aggregated answers to one unsur, as an SQL ``GROUP BY unsur`` yields them.

    ``distribution[i]`` counts answers with score ``i + 1``; ``answers`` and ``score_sum`` must agree with it.
    """

    unsur: Unsur
    answers: int
    score_sum: int
    distribution: tuple[int, int, int, int]

    def __post_init__(self) -> None:
        """Validate counts and check that answers and score_sum match the distribution."""
        if type(self.unsur) is not Unsur:
            object.__setattr__(self, "unsur", _as_unsur(self.unsur))
        distribution = self.distribution if type(self.distribution) is tuple else tuple(self.distribution)
        # Reports build thousands of tallies per page: the common case (plain non-negative ints) is checked
        # in one pass, anything else goes through the checks that name the problem.
        plain = len(distribution) == len(SCORES) and all(
            type(value) is int and value >= 0 for value in (self.answers, self.score_sum, *distribution)
        )
        if not plain:
            _check_count("answers", self.answers)
            _check_count("score_sum", self.score_sum)
            if len(distribution) != len(SCORES):
                raise IkmInputError(f"distribution must have {len(SCORES)} counts (scores 1..4), got {distribution!r}")
            for score, count in zip(SCORES, distribution, strict=True):
                _check_count(f"distribution count for score {score}", count)
        object.__setattr__(self, "distribution", distribution)
        if plain:
            one, two, three, four = distribution
            if one + two + three + four == self.answers and one + 2 * two + 3 * three + 4 * four == self.score_sum:
                return
        if sum(distribution) != self.answers:
            raise IkmInputError(
                f"{self.unsur}: answers={self.answers} but the distribution {distribution} adds up to "
                f"{sum(distribution)}"
            )
        expected_sum = sum(score * count for score, count in zip(SCORES, distribution, strict=True))
        if expected_sum != self.score_sum:
            raise IkmInputError(
                f"{self.unsur}: score_sum={self.score_sum} but the distribution {distribution} gives {expected_sum}"
            )

    @classmethod
    def from_distribution(cls, unsur: Unsur, distribution: tuple[int, int, int, int]) -> UnsurTally:
        """Build a tally from the counts of scores 1..4."""
        counts = tuple(distribution)
        if len(counts) == len(SCORES) and all(type(c) is int and c >= 0 for c in counts):
            one, two, three, four = counts
            return cls(unsur, one + two + three + four, one + 2 * two + 3 * three + 4 * four, (one, two, three, four))
        counts = tuple(_check_count("distribution count", c) for c in distribution)
        if len(counts) != len(SCORES):
            raise IkmInputError(f"distribution must have {len(SCORES)} counts (scores 1..4), got {counts!r}")
        return cls(
            unsur=unsur,
            answers=sum(counts),
            score_sum=sum(score * count for score, count in zip(SCORES, counts, strict=True)),
            distribution=distribution,
        )

    @classmethod
    def empty(cls, unsur: Unsur) -> UnsurTally:
        """Build the tally of an unsur nobody answered."""
        return cls(unsur=unsur, answers=0, score_sum=0, distribution=(0, 0, 0, 0))

    @property
    def nrr(self) -> Fraction | None:
        """Return the exact NRR (score_sum ÷ answers), or None when there are no answers."""
        return Fraction(self.score_sum, self.answers) if self.answers else None

    def count(self, score: int) -> int:
        """Return how many answers had this score (1..4)."""
        if isinstance(score, bool) or score not in SCORES:
            raise InvalidScoreError(f"score must be one of {SCORES}, got {score!r}")
        return self.distribution[score - MIN_SCORE]

    def merged(self, other: UnsurTally) -> UnsurTally:
        """Return the sum of two tallies of the same unsur."""
        if other.unsur is not self.unsur:
            raise IkmInputError(f"cannot merge tallies of {self.unsur} and {other.unsur}")
        a, b = self.distribution, other.distribution
        return UnsurTally(
            unsur=self.unsur,
            answers=self.answers + other.answers,
            score_sum=self.score_sum + other.score_sum,
            distribution=(a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]),
        )


def _check_score(unsur: Unsur, score: object) -> int:
    if isinstance(score, bool) or not isinstance(score, int) or not MIN_SCORE <= score <= MAX_SCORE:
        raise InvalidScoreError(f"{unsur}: score must be an int from {MIN_SCORE} to {MAX_SCORE}, got {score!r}")
    return score


def tally_responses(responses: Iterable[Mapping[Unsur, int | None]]) -> tuple[UnsurTally, ...]:
    """Tally raw responses (unsur → score, None or missing = skipped) into nine tallies in U1..U9 order."""
    counts = {unsur: [0, 0, 0, 0] for unsur in UNSUR_ORDER}
    for response in responses:
        for key, score in response.items():
            unsur = _as_unsur(key)
            if score is None:
                continue
            counts[unsur][_check_score(unsur, score) - MIN_SCORE] += 1
    return tuple(UnsurTally.from_distribution(unsur, (c[0], c[1], c[2], c[3])) for unsur, c in counts.items())


def pool(tallies_list: Iterable[Iterable[UnsurTally]]) -> tuple[UnsurTally, ...]:
    """Merge several units' tallies into one set (pooled roll-up), nine tallies in U1..U9 order.

    The pooled IKM is then ``compute_ikm(pool(...), sum of the units' n_respondents)``: every respondent
    counts once, so large units weigh more. Contrast :func:`mean_of_ikms`.
    """
    counts = {unsur: [0, 0, 0, 0] for unsur in UNSUR_ORDER}
    for tallies in tallies_list:
        for tally in tallies:
            if not isinstance(tally, UnsurTally):
                raise IkmInputError(f"expected UnsurTally, got {tally!r}")
            # Adding the distributions adds the answers and score sums too (each tally was checked against its own).
            total, add = counts[tally.unsur], tally.distribution
            for index in range(len(SCORES)):
                total[index] += add[index]
    return tuple(UnsurTally.from_distribution(unsur, (c[0], c[1], c[2], c[3])) for unsur, c in counts.items())


# --------------------------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class UnsurResult:
    """One unsur's line in a result: its tally, exact NRR and weighted NRR (None if nobody answered)."""

    tally: UnsurTally
    nrr: Fraction | None
    weighted_nrr: Fraction | None

    @property
    def unsur(self) -> Unsur:
        """Return the unsur code."""
        return self.tally.unsur

    @property
    def label(self) -> str:
        """Return the report label U1..U9."""
        return unsur_label(self.tally.unsur)

    @property
    def answers(self) -> int:
        """Return the number of answers to this unsur."""
        return self.tally.answers

    @property
    def distribution(self) -> tuple[int, int, int, int]:
        """Return the counts of scores 1..4."""
        return self.tally.distribution

    @property
    def answered(self) -> bool:
        """Return whether anyone answered this unsur."""
        return self.tally.answers > 0

    @property
    def ikm_scale(self) -> Fraction | None:
        """Return NRR × 25, the unsur's own value on the 25–100 scale (None if unanswered)."""
        return None if self.nrr is None else self.nrr * IKM_SCALE

    @property
    def mutu(self) -> Mutu | None:
        """Return the mutu of NRR × 25 by the same 2-place half-up rule (None if unanswered)."""
        return None if self.nrr is None else classify_ikm(self.nrr * IKM_SCALE)

    @property
    def nrr_display(self) -> str | None:
        """Return the NRR at 3 places, ROUND_HALF_UP (None if unanswered)."""
        return None if self.nrr is None else format_nrr(self.nrr)

    def share(self, score: int) -> Fraction | None:
        """Return the exact fraction of this unsur's answers that had ``score`` (None if unanswered)."""
        count = self.tally.count(score)
        return Fraction(count, self.tally.answers) if self.tally.answers else None


@dataclass(frozen=True, slots=True)
class IkmResult:
    """The IKM of one unit and period; build it with :func:`compute_ikm`."""

    weight: Weight
    n_respondents: int
    per_unsur: tuple[UnsurResult, ...]
    ni: Fraction
    ikm: Fraction
    mutu: Mutu
    weakest: tuple[Unsur, ...]

    @property
    def ikm_rounded(self) -> Decimal:
        """Return the IKM rounded half-up to 2 places (the value the mutu is decided on)."""
        return round_half_up(self.ikm, IKM_PLACES)

    @property
    def ikm_display(self) -> str:
        """Return the IKM at 2 places, ROUND_HALF_UP."""
        return format_ikm(self.ikm)

    @property
    def ni_display(self) -> str:
        """Return the NI at 4 places, ROUND_HALF_UP."""
        return format_ni(self.ni)

    @property
    def kinerja(self) -> str:
        """Return the official kinerja label of the mutu."""
        return self.mutu.kinerja

    @property
    def unanswered(self) -> tuple[Unsur, ...]:
        """Return the unsur nobody answered, in U1..U9 order (left out of the NI)."""
        return tuple(r.unsur for r in self.per_unsur if not r.answered)

    @property
    def complete(self) -> bool:
        """Return whether all nine unsur had at least one answer."""
        return not self.unanswered

    @property
    def tallies(self) -> tuple[UnsurTally, ...]:
        """Return the nine input tallies in U1..U9 order (e.g. to :func:`pool` them)."""
        return tuple(r.tally for r in self.per_unsur)

    def result_for(self, unsur: Unsur) -> UnsurResult:
        """Return the line of one unsur."""
        wanted = _as_unsur(unsur)
        return next(r for r in self.per_unsur if r.unsur is wanted)

    def nrr(self, unsur: Unsur) -> Fraction | None:
        """Return the exact NRR of one unsur (None if unanswered)."""
        return self.result_for(unsur).nrr

    def ranked(self) -> tuple[UnsurResult, ...]:
        """Return the answered unsur from lowest to highest exact NRR; ties keep U1..U9 order."""
        answered = [(r.nrr, r) for r in self.per_unsur if r.nrr is not None]
        return tuple(r for _, r in sorted(answered, key=lambda pair: pair[0]))


def compute_ikm(tallies: Iterable[UnsurTally], n_respondents: int, weight: Weight = Weight.EXACT) -> IkmResult:
    """Compute NRR per unsur, NI, IKM and mutu exactly from per-unsur tallies.

    Missing unsur count as unanswered. ``weakest`` lists *every* unsur sharing the lowest exact NRR, in
    U1..U9 order. Raises :class:`EmptyDataError` when there are no respondents or no answers, and
    :class:`IkmInputError` for duplicate tallies or more answers than respondents.
    """
    w = weight_value(weight)
    weight = Weight(weight)
    _check_count("n_respondents", n_respondents)
    if n_respondents == 0:
        raise EmptyDataError("no respondents: an IKM needs at least one questionnaire")

    by_unsur: dict[Unsur, UnsurTally] = {}
    for tally in tallies:
        if not isinstance(tally, UnsurTally):
            raise IkmInputError(f"expected UnsurTally, got {tally!r}")
        if tally.unsur in by_unsur:
            raise IkmInputError(f"two tallies for unsur {tally.unsur}; pool() them first")
        if tally.answers > n_respondents:
            raise IkmInputError(f"{tally.unsur}: {tally.answers} answers but only {n_respondents} respondents")
        by_unsur[tally.unsur] = tally
    ordered = [by_unsur[u] if u in by_unsur else UnsurTally.empty(u) for u in UNSUR_ORDER]

    answered = [t for t in ordered if t.answers]
    if not answered:
        raise EmptyDataError("no answers to any unsur")
    effective_weight = w * len(UNSUR_ORDER) / len(answered)

    nrrs = [t.nrr for t in ordered]  # each exact NRR made once: a city page computes a few hundred results
    per_unsur = tuple(
        UnsurResult(tally=t, nrr=nrr, weighted_nrr=None if nrr is None else nrr * effective_weight)
        for t, nrr in zip(ordered, nrrs, strict=True)
    )
    ni = sum((r.weighted_nrr for r in per_unsur if r.weighted_nrr is not None), Fraction(0))
    ikm = ni * IKM_SCALE
    lowest = min(nrr for nrr in nrrs if nrr is not None)
    weakest = tuple(r.unsur for r in per_unsur if r.nrr is not None and r.nrr == lowest)
    return IkmResult(
        weight=weight,
        n_respondents=n_respondents,
        per_unsur=per_unsur,
        ni=ni,
        ikm=ikm,
        mutu=classify_ikm(ikm),
        weakest=weakest,
    )


# --------------------------------------------------------------------------------------------- roll-ups


class RollUpMethod(StrEnum):
    """How an OPD- or city-level IKM was aggregated; every roll-up report states it (§3.5)."""

    MEAN_OF_UNIT_IKMS = "mean_of_unit_ikms"
    POOLED = "pooled"

    @property
    def catalogue_key(self) -> str:
        """Return the catalogue key naming this method, e.g. ``ikm.rollup.pooled``."""
        return f"ikm.rollup.{self.value}"


@dataclass(frozen=True, slots=True)
class MeanOfIkms:
    """A "mean of sub-units' IKMs" roll-up: each unit counts once, whatever its n."""

    ikm: Fraction
    mutu: Mutu
    n_units: int
    n_respondents: int
    weight: Weight
    method: RollUpMethod = RollUpMethod.MEAN_OF_UNIT_IKMS

    @property
    def ikm_rounded(self) -> Decimal:
        """Return the IKM rounded half-up to 2 places (the value the mutu is decided on)."""
        return round_half_up(self.ikm, IKM_PLACES)

    @property
    def ikm_display(self) -> str:
        """Return the IKM at 2 places, ROUND_HALF_UP."""
        return format_ikm(self.ikm)

    @property
    def kinerja(self) -> str:
        """Return the official kinerja label of the mutu."""
        return self.mutu.kinerja


def mean_of_ikms(results: Iterable[IkmResult]) -> MeanOfIkms:
    """Roll up as the mean of sub-units' IKMs (unweighted, from their exact IKMs); all must share one weight.

    This is the "mean of sub-units' IKMs" method, labelled ``RollUpMethod.MEAN_OF_UNIT_IKMS``; for the pooled
    method use :func:`pool` then :func:`compute_ikm`.
    """
    units = list(results)
    if not units:
        raise EmptyDataError("no unit results to average")
    weights = {r.weight for r in units}
    if len(weights) != 1:
        raise IkmInputError(f"cannot average IKMs computed with different weights: {sorted(weights)}")
    mean = sum((r.ikm for r in units), Fraction(0)) / len(units)
    return MeanOfIkms(
        ikm=mean,
        mutu=classify_ikm(mean),
        n_units=len(units),
        n_respondents=sum(r.n_respondents for r in units),
        weight=weights.pop(),
    )


# --------------------------------------------------------------------------------------------- sample size

KM_CHI_SQUARE: Final = Fraction("3.841")
"""χ² for 1 degree of freedom at 95 % (Krejcie & Morgan 1970)."""
KM_PROPORTION: Final = Fraction(1, 2)
"""Assumed population proportion P (maximises the sample)."""
KM_MARGIN: Final = Fraction(5, 100)
"""Degree of accuracy d."""


def krejcie_morgan(population: int) -> int:
    """Return the Krejcie–Morgan minimum sample for a population, rounded to the nearest integer (half up).

    S = χ²·N·P(1−P) / (d²·(N−1) + χ²·P(1−P)) with χ² = 3.841, P = 0.5, d = 0.05 (docs/ikm.md §4).
    """
    if isinstance(population, bool) or not isinstance(population, int) or population < 1:
        raise IkmInputError(f"population must be a positive int, got {population!r}")
    pq = KM_PROPORTION * (1 - KM_PROPORTION)
    sample = KM_CHI_SQUARE * population * pq / (KM_MARGIN**2 * (population - 1) + KM_CHI_SQUARE * pq)
    return math.floor(sample + Fraction(1, 2))


def sample_adequate(n: int, population: int) -> bool:
    """Return whether n respondents reach the Krejcie–Morgan minimum for the population."""
    _check_count("n", n)
    return n >= krejcie_morgan(population)
