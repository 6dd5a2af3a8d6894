"""Whether a survey has enough respondents: the Krejcie–Morgan minimum sample (docs/ikm.md §4).

Pure stdlib; no I/O.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Final

from suarawarga.surveys.tally import IkmInputError, check_count

__all__ = ["KM_CHI_SQUARE", "KM_MARGIN", "KM_PROPORTION", "krejcie_morgan", "sample_adequate"]

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
    check_count("n", n)
    return n >= krejcie_morgan(population)
