"""Exact IKM arithmetic (PermenPANRB 14/2017), computed from per-unsur tallies.

Rules (docs/ikm.md §3, §4):

* NRR of an unsur = sum of its scores ÷ number of answers *to that unsur* (a respondent may skip one).
* NI = Σ NRR × weight, with weight exactly 1/9 by default; legacy weights 0,111 and 0,11 only on request.
* IKM (NIK, 25–100 scale) = NI × 25.
* Everything is kept as :class:`fractions.Fraction`; only displayed values are rounded, always ROUND_HALF_UP:
  NRR to 3 places, NI to 4, IKM to 2.
* The mutu letter is decided on the IKM rounded half-up to 2 places: ≥ 88,31 A, ≥ 76,61 B, ≥ 65,00 C, else D.
  (Rounding and mutu: :mod:`suarawarga.surveys.mutu`; the tallies this module reads:
  :mod:`suarawarga.surveys.tally`; the sample size: :mod:`suarawarga.surveys.sample_size`.)
* An unsur nobody answered has no NRR; it is listed in :attr:`IkmResult.unanswered` and the NI is the
  weighted mean over the answered unsur ("Total unsur yang terisi", §1.1.3), i.e. the weight is scaled by
  9 ÷ (number of answered unsur). With all nine answered this is exactly Σ NRR × weight.

Pure stdlib; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import Final

from suarawarga.surveys.definitions import UNSUR_ORDER, Unsur, unsur_label
from suarawarga.surveys.mutu import (
    IKM_PLACES,
    IKM_SCALE,
    Mutu,
    classify_ikm,
    format_ikm,
    format_ni,
    format_nrr,
    round_half_up,
)
from suarawarga.surveys.tally import EmptyDataError, IkmInputError, UnsurTally, as_unsur, check_count

__all__ = [
    "IkmResult",
    "MeanOfIkms",
    "RollUpMethod",
    "UnsurResult",
    "Weight",
    "compute_ikm",
    "mean_of_ikms",
    "weight_value",
]

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


# --------------------------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class UnsurResult:
    """One unsur's line in a result: its tally, exact NRR and weighted NRR (None if nobody answered).

    The NRRs are made when asked for: a city page computes a few hundred results and shows the NRRs of none.
    """

    tally: UnsurTally
    weight: Fraction  # the weight this unsur carries in the NI (each answered unsur's share)

    @property
    def nrr(self) -> Fraction | None:
        """Return the exact NRR (score sum ÷ answers), or None when nobody answered."""
        return self.tally.nrr

    @property
    def weighted_nrr(self) -> Fraction | None:
        """Return the NRR times the unsur's weight, or None when nobody answered."""
        nrr = self.tally.nrr
        return None if nrr is None else nrr * self.weight

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


class _IkmFigure:
    """What a unit's IKM and a mean of IKMs both show: the IKM rounded and displayed, and the mutu's label."""

    __slots__ = ()
    ikm: Fraction
    mutu: Mutu

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


@dataclass(frozen=True, slots=True)
class IkmResult(_IkmFigure):
    """The IKM of one unit and period; build it with :func:`compute_ikm`."""

    weight: Weight
    n_respondents: int
    per_unsur: tuple[UnsurResult, ...]
    ni: Fraction
    ikm: Fraction
    mutu: Mutu
    weakest: tuple[Unsur, ...]

    @property
    def ni_display(self) -> str:
        """Return the NI at 4 places, ROUND_HALF_UP."""
        return format_ni(self.ni)

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
        wanted = as_unsur(unsur)
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
    check_count("n_respondents", n_respondents)
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

    per_unsur = tuple(UnsurResult(tally=t, weight=effective_weight) for t in ordered)
    # NI = weight × Σ (score_sum ÷ answers), summed over one integer denominator and reduced once: the same exact
    # value as adding nine Fractions, without reducing at every step (a city page computes a few hundred).
    numerator, denominator = 0, 1
    for t in answered:
        numerator, denominator = numerator * t.answers + t.score_sum * denominator, denominator * t.answers
    ni = Fraction(numerator, denominator) * effective_weight
    ikm = ni * IKM_SCALE
    # The lowest NRR by cross-multiplying (a/b < c/d exactly when a·d < c·b for positive b, d).
    low = answered[0]
    for t in answered[1:]:
        if t.score_sum * low.answers < low.score_sum * t.answers:
            low = t
    weakest = tuple(t.unsur for t in answered if t.score_sum * low.answers == low.score_sum * t.answers)
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
class MeanOfIkms(_IkmFigure):
    """A "mean of sub-units' IKMs" roll-up: each unit counts once, whatever its n."""

    ikm: Fraction
    mutu: Mutu
    n_units: int
    n_respondents: int
    weight: Weight
    method: RollUpMethod = RollUpMethod.MEAN_OF_UNIT_IKMS


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
