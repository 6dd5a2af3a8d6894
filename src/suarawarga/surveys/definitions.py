"""Stable codes for the IKM survey (PermenPANRB 14/2017).

Everything persisted is a lowercase code from this module, never the position of a question in a form:
sources disagree on whether U8 is *pengaduan* or *sarana* (docs/ikm.md §2).
User-facing wording lives in ``bot/catalogue/survey.yaml``; this module only builds the catalogue keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = [
    "AGE_MAX",
    "AGE_MIN",
    "MAX_SCORE",
    "MIN_SCORE",
    "PROFILE_OPTIONS",
    "SCORES",
    "SURVEY_VERSION",
    "UNSUR_ORDER",
    "JenisKelamin",
    "Pekerjaan",
    "Pendidikan",
    "ProfileField",
    "UnknownCodeError",
    "Unsur",
    "UsiaBand",
    "answer_key",
    "profile_option_key",
    "profile_question_key",
    "question_key",
    "unsur_from_label",
    "unsur_label",
    "unsur_name_key",
    "usia_band",
]

SURVEY_VERSION: Final = "permenpanrb-14-2017"
"""Identifies the questionnaire and formula; stored with every response and every report."""

MIN_SCORE: Final = 1
MAX_SCORE: Final = 4
SCORES: Final[tuple[int, ...]] = (1, 2, 3, 4)
"""Answer scores: option a = 1, b = 2, c = 3, d = 4."""


class UnknownCodeError(ValueError):
    """A label or code that does not name a known survey item."""


class Unsur(StrEnum):
    """The nine service elements, declared in regulation order U1..U9 (docs/ikm.md §2)."""

    PERSYARATAN = "persyaratan"
    PROSEDUR = "prosedur"
    WAKTU = "waktu"
    BIAYA = "biaya"
    PRODUK = "produk"
    KOMPETENSI = "kompetensi"
    PERILAKU = "perilaku"
    PENGADUAN = "pengaduan"
    SARANA = "sarana"


UNSUR_ORDER: Final[tuple[Unsur, ...]] = tuple(Unsur)
"""U1..U9 in the regulation's ruang-lingkup order: pengaduan is U8, sarana is U9."""

_LABEL_TO_UNSUR: Final[Mapping[str, Unsur]] = MappingProxyType(
    {f"U{index}": unsur for index, unsur in enumerate(UNSUR_ORDER, start=1)}
)
_UNSUR_TO_LABEL: Final[Mapping[Unsur, str]] = MappingProxyType(
    {unsur: label for label, unsur in _LABEL_TO_UNSUR.items()}
)
_LABEL_RE: Final = re.compile(r"U([1-9])", re.IGNORECASE)


def unsur_label(unsur: Unsur | str) -> str:
    """Return the report label ``"U1"``..``"U9"`` of an unsur code."""
    try:
        return _UNSUR_TO_LABEL[Unsur(unsur)]
    except ValueError:
        raise UnknownCodeError(f"unknown unsur code {unsur!r}; expected one of {list(map(str, Unsur))}") from None


def unsur_from_label(label: str) -> Unsur:
    """Return the unsur for a report label ``"U1"``..``"U9"`` (case-insensitive, spaces ignored)."""
    match = _LABEL_RE.fullmatch(label.strip())
    if match is None:
        raise UnknownCodeError(f"unknown unsur label {label!r}; expected U1..U9")
    return _LABEL_TO_UNSUR[f"U{match.group(1)}"]


class ProfileField(StrEnum):
    """Respondent profile questions of the standard questionnaire (docs/ikm.md §2)."""

    GENDER = "gender"
    AGE = "age"
    EDUCATION = "education"
    OCCUPATION = "occupation"


class JenisKelamin(StrEnum):
    """Jenis kelamin as in the template: L / P."""

    L = "l"
    P = "p"


class UsiaBand(StrEnum):
    """Age bands <25, 25-39, 40-55, >55 (docs/ikm.md §2: no official banding; common report bands)."""

    UNDER_25 = "lt25"
    FROM_25_TO_39 = "25_39"
    FROM_40_TO_55 = "40_55"
    OVER_55 = "gt55"


class Pendidikan(StrEnum):
    """Pendidikan options of the template (SD / SMP / SMA / S1 / S2 / S3) plus the diploma (D1–D4) many hold."""

    SD = "sd"
    SMP = "smp"
    SMA = "sma"
    DIPLOMA = "diploma"
    S1 = "s1"
    S2 = "s2"
    S3 = "s3"


class Pekerjaan(StrEnum):
    """Pekerjaan options of the template: PNS / TNI / POLRI / SWASTA / WIRAUSAHA / LAINNYA."""

    PNS = "pns"
    TNI = "tni"
    POLRI = "polri"
    SWASTA = "swasta"
    WIRAUSAHA = "wirausaha"
    LAINNYA = "lainnya"


PROFILE_OPTIONS: Final[Mapping[ProfileField, tuple[StrEnum, ...]]] = MappingProxyType(
    {
        ProfileField.GENDER: tuple(JenisKelamin),
        ProfileField.AGE: tuple(UsiaBand),
        ProfileField.EDUCATION: tuple(Pendidikan),
        ProfileField.OCCUPATION: tuple(Pekerjaan),
    }
)
"""The options of each profile question, in display order."""


AGE_MIN, AGE_MAX = 10, 110
"""The ages a respondent can have: a survey answered "at 150" or "at 3" is a typing slip, not a band."""


def usia_band(age: int) -> UsiaBand:
    """Return the age band of an age in whole years (AGE_MIN..AGE_MAX)."""
    if isinstance(age, bool) or not isinstance(age, int) or not AGE_MIN <= age <= AGE_MAX:
        raise UnknownCodeError(f"age must be a whole number of years between {AGE_MIN} and {AGE_MAX}, got {age!r}")
    if age < 25:
        return UsiaBand.UNDER_25
    if age <= 39:
        return UsiaBand.FROM_25_TO_39
    if age <= 55:
        return UsiaBand.FROM_40_TO_55
    return UsiaBand.OVER_55


def unsur_name_key(unsur: Unsur) -> str:
    """Return the catalogue key of an unsur's name, e.g. ``survey.unsur.persyaratan``."""
    return f"survey.unsur.{Unsur(unsur)}"


def question_key(unsur: Unsur) -> str:
    """Return the catalogue key of an unsur's question, e.g. ``survey.q.persyaratan``."""
    return f"survey.q.{Unsur(unsur)}"


def answer_key(unsur: Unsur, score: int) -> str:
    """Return the catalogue key of an answer option, e.g. ``survey.a.persyaratan.4``."""
    if isinstance(score, bool) or score not in SCORES:
        raise UnknownCodeError(f"score must be one of {SCORES}, got {score!r}")
    return f"survey.a.{Unsur(unsur)}.{score}"


def profile_question_key(field: ProfileField) -> str:
    """Return the catalogue key of a profile question, e.g. ``survey.profile.gender``."""
    return f"survey.profile.{ProfileField(field)}"


def profile_option_key(field: ProfileField, option: StrEnum) -> str:
    """Return the catalogue key of a profile option, e.g. ``survey.profile.gender.l``."""
    field = ProfileField(field)
    if option not in PROFILE_OPTIONS[field]:
        raise UnknownCodeError(f"{option!r} is not an option of profile field {field.value!r}")
    return f"survey.profile.{field}.{option}"
