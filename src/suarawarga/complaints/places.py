"""Find the kecamatan a typed address names, from the seed's kecamatan and kelurahan names."""

from __future__ import annotations

import re
from collections.abc import Iterable

_NOT_WORD = re.compile(r"[\W_]+")
_NAN_XX = re.compile(r"\bnan (?:20|xx)\b")  # Lubuk Begalung's kelurahan are written "Nan XX" or "Nan 20"
KECAMATAN_PREFIX = "kecamatan "


def kecamatan_label(name: str) -> str:
    """Return a kecamatan's name as shown after a "Kecamatan:" label ("Padang Barat", not "Kecamatan Padang Barat")."""
    return name.removeprefix("Kecamatan ") or name


def _words(text: str) -> list[str]:
    folded = " ".join(_NOT_WORD.sub(" ", text.casefold()).split())
    return _NAN_XX.sub("nan xx", folded).split()


def _spans(words: list[str], name: list[str]) -> Iterable[tuple[int, int]]:
    size = len(name)
    for start in range(len(words) - size + 1):
        if words[start : start + size] == name:
            yield start, start + size


def kecamatan_named_in(address: str, names: Iterable[tuple[str, str]]) -> str | None:
    """Return the code of the one kecamatan an address names (itself or by a kelurahan), else None.

    `names` holds (place name, kecamatan code) pairs: the kecamatan's own names and its kelurahan. A name inside
    a longer one that also matched ("Gurun Laweh" in "Gurun Laweh Nan XX") does not count; names of two
    different kecamatan give None, so the citizen is asked.
    """
    words = _words(address)
    found: list[tuple[int, int, str]] = []
    for name, code in names:
        folded = _words(name.removeprefix("Kecamatan ").removeprefix("kecamatan "))
        if folded:
            found += [(start, end, code) for start, end in _spans(words, folded)]
    kept = {
        code
        for start, end, code in found
        if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in found)
    }
    return kept.pop() if len(kept) == 1 else None
