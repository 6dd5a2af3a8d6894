"""Per-unsur tallies, the input of the IKM: validated counts of scores 1..4, built from responses or pooled.

An SQL ``GROUP BY unsur`` yields one :class:`UnsurTally` per unsur; :func:`tally_responses` builds the same from
raw answers and :func:`pool` merges several units' tallies (docs/ikm.md §3). The input errors of the IKM live
here too.

Pure stdlib; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from suarawarga.surveys.definitions import MAX_SCORE, MIN_SCORE, SCORES, UNSUR_ORDER, Unsur

__all__ = [
    "EmptyDataError",
    "IkmInputError",
    "InvalidScoreError",
    "UnsurTally",
    "as_unsur",
    "check_count",
    "pool",
    "tally_responses",
]

_UNSUR_CODES: Final = frozenset(u.value for u in Unsur)


# --------------------------------------------------------------------------------------------- errors


class IkmInputError(ValueError):
    """Input that the IKM computation cannot accept."""


class InvalidScoreError(IkmInputError):
    """A score outside 1..4 (or not an integer)."""


class EmptyDataError(IkmInputError):
    """No respondents or no answers at all."""


def check_count(name: str, value: object) -> int:
    """Return ``value`` if it is a non-negative int (not a bool); otherwise raise :class:`IkmInputError`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise IkmInputError(f"{name} must be an int, got {value!r}")
    if value < 0:
        raise IkmInputError(f"{name} must not be negative, got {value}")
    return value


def as_unsur(value: object) -> Unsur:
    """Return the :class:`Unsur` a code names; raise :class:`IkmInputError` for anything else."""
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
            object.__setattr__(self, "unsur", as_unsur(self.unsur))
        distribution = self.distribution if type(self.distribution) is tuple else tuple(self.distribution)
        # Reports build thousands of tallies per page: the common case (plain non-negative ints) is checked
        # in one pass, anything else goes through the checks that name the problem.
        plain = len(distribution) == len(SCORES) and all(
            type(value) is int and value >= 0 for value in (self.answers, self.score_sum, *distribution)
        )
        if not plain:
            check_count("answers", self.answers)
            check_count("score_sum", self.score_sum)
            if len(distribution) != len(SCORES):
                raise IkmInputError(f"distribution must have {len(SCORES)} counts (scores 1..4), got {distribution!r}")
            for score, count in zip(SCORES, distribution, strict=True):
                check_count(f"distribution count for score {score}", count)
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
        counts = tuple(check_count("distribution count", c) for c in distribution)
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
            unsur = as_unsur(key)
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
