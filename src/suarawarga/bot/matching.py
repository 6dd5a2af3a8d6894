"""Match what a person typed against the options of the last question, the way people answer in chat.

Once, here, for every flow and channel: a number ("3", " 3. "), a label written loosely (case, punctuation,
hyphens, a unit prefix such as "Kecamatan" left out), the start of a label or a run of its words ("lampu",
"padang barat"), and yes/no words for options marked as the yes or the no answer. An answer that fits more
than one option is never guessed: the caller asks again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Means(StrEnum):
    """What an option stands for when the question is a yes/no question; kept with the remembered options."""

    YES = "yes"
    NO = "no"


# Words people type for yes and no (Indonesian first, with common chat spellings, then English).
YES_WORDS = frozenset({"ya", "iya", "iyaa", "y", "yaa", "ok", "oke", "okay", "okey", "setuju", "yes", "yup", "betul"})
NO_WORDS = frozenset({"tidak", "tdk", "nggak", "ngga", "enggak", "engga", "gak", "ga", "gk", "no", "tak", "nope"})
# Words that open a unit's name and that people leave out ("padang barat" for "Kecamatan Padang Barat").
UNIT_PREFIXES = frozenset({"kecamatan", "kec", "kelurahan", "kel", "dinas", "badan", "puskesmas", "pkm", "kantor"})
PARTIAL_MIN = 3  # a partial answer needs this many letters, so that "a".."d" or "c" never pick a label by chance

_NUMBER = re.compile(r"\s*(?:no\.?|nomor|pilihan)?\s*#?(\d+)\s*[.):]?\s*", re.IGNORECASE)
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class Match:
    """The option an answer picks, or the labels of the options it fits equally well (ask again)."""

    choice: str | None = None
    ambiguous: tuple[str, ...] = ()


NO_MATCH = Match()


def fold(text: str) -> str:
    """Return text casefolded, with punctuation and hyphens as single spaces ("Laki-laki" -> "laki laki")."""
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def _without_prefix(words: list[str]) -> list[str]:
    return words[1:] if len(words) > 1 and words[0] in UNIT_PREFIXES else words


def _fits_partly(typed: list[str], label: list[str]) -> bool:
    """Tell whether the typed words are a run of the label's words, the last one possibly cut short."""
    size = len(typed)
    for start in range(len(label) - size + 1):
        window = label[start : start + size]
        if window[:-1] == typed[:-1] and window[-1].startswith(typed[-1]):
            return True
    return False


def _decide(ids: list[str], labels: list[str]) -> Match:
    if len(ids) == 1:
        return Match(choice=ids[0])
    return Match(ambiguous=tuple(labels))


def match_choice(text: str, choices: Sequence[Sequence[str]]) -> Match:
    """Map typed text onto one of the last prompt's options ([id, label] or [id, label, means])."""
    if not choices:
        return NO_MATCH
    number = _NUMBER.fullmatch(text)
    if number is not None:
        index = int(number.group(1))
        return Match(choice=choices[index - 1][0]) if 1 <= index <= len(choices) else NO_MATCH
    typed = fold(text).split()
    if not typed:
        return NO_MATCH
    folded = [fold(c[1]).split() for c in choices]
    # 1. The label itself, written loosely.
    exact = [i for i, words in enumerate(folded) if typed == words or _without_prefix(typed) == _without_prefix(words)]
    if exact:
        return _decide([choices[i][0] for i in exact], [choices[i][1] for i in exact])
    # 2. Yes or no, for options marked as such.
    means = Means.YES if set(typed) <= YES_WORDS else Means.NO if set(typed) <= NO_WORDS else None
    if means is not None:
        marked = [c for c in choices if len(c) > 2 and c[2] == means]
        if marked:
            return _decide([c[0] for c in marked], [c[1] for c in marked])
        # Unmarked options: only one that opens with the word ("tidak" -> "Tidak tahu", not "Sampah tidak ...").
        opening = [i for i, words in enumerate(folded) if words[: len(typed)] == typed]
        return _decide([choices[i][0] for i in opening], [choices[i][1] for i in opening]) if opening else NO_MATCH
    # 3. The start of a label, or a run of its words.
    if len("".join(typed)) < PARTIAL_MIN:
        return NO_MATCH
    partial = [i for i, words in enumerate(folded) if _fits_partly(typed, words)]
    if partial:
        return _decide([choices[i][0] for i in partial], [choices[i][1] for i in partial])
    return NO_MATCH
