"""The IKM as people read it: the 25–100 scale, ROUND_HALF_UP display and the mutu letters (docs/ikm.md §3).

* Values are computed exactly (:class:`fractions.Fraction`); only displayed values are rounded, always
  ROUND_HALF_UP: NRR to 3 places, NI to 4, IKM to 2.
* The mutu letter is decided on the IKM rounded half-up to 2 places: ≥ 88,31 A, ≥ 76,61 B, ≥ 65,00 C, else D.

Pure stdlib; no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import Final

__all__ = [
    "IKM_PLACES",
    "IKM_SCALE",
    "KINERJA",
    "MUTU_MIN_IKM",
    "NI_PLACES",
    "NRR_PLACES",
    "Mutu",
    "classify_ikm",
    "format_ikm",
    "format_ni",
    "format_nrr",
    "round_half_up",
]

IKM_SCALE: Final = 25
"""NI × 25 gives the IKM konversi (NIK) on the 25–100 scale."""

NRR_PLACES: Final = 3
NI_PLACES: Final = 4
IKM_PLACES: Final = 2


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
