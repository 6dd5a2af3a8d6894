"""Survey records as the domain sees them: a new or stored IKM response, and the per-unit tallies of a period.

Every value that is persisted is a code (StrEnum value), never a position or a display text. Pure; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from suarawarga.surveys.definitions import (
    SURVEY_VERSION,
    UNSUR_ORDER,
    JenisKelamin,
    Pekerjaan,
    Pendidikan,
    ProfileField,
    Unsur,
    UsiaBand,
)
from suarawarga.surveys.tally import UnsurTally

__all__ = ["NewResponse", "Profile", "ResponseSource", "StoredResponse", "UnitTallies"]

E = TypeVar("E", bound=StrEnum)


class ResponseSource(StrEnum):
    """Where a response came from; persisted by name."""

    CHAT = "chat"
    IMPORT = "import"


@dataclass(frozen=True, slots=True)
class Profile:
    """The optional respondent profile; each field may be left out."""

    gender: JenisKelamin | None = None
    age_band: UsiaBand | None = None
    education: Pendidikan | None = None
    occupation: Pekerjaan | None = None

    def get(self, profile_field: ProfileField) -> StrEnum | None:
        """Return the answer to one profile question (None if skipped)."""
        return {
            ProfileField.GENDER: self.gender,
            ProfileField.AGE: self.age_band,
            ProfileField.EDUCATION: self.education,
            ProfileField.OCCUPATION: self.occupation,
        }[ProfileField(profile_field)]

    @classmethod
    def from_codes(cls, codes: Mapping[str, str | None]) -> Profile:
        """Build a profile from stored codes keyed by ProfileField value (unknown or empty codes are None)."""

        return cls(
            gender=_pick(JenisKelamin, codes.get(ProfileField.GENDER.value)),
            age_band=_pick(UsiaBand, codes.get(ProfileField.AGE.value)),
            education=_pick(Pendidikan, codes.get(ProfileField.EDUCATION.value)),
            occupation=_pick(Pekerjaan, codes.get(ProfileField.OCCUPATION.value)),
        )


def _pick(kind: type[E], value: str | None) -> E | None:
    return kind(value) if value in {member.value for member in kind} else None


def _frozen_answers(answers: Mapping[Unsur, int | None]) -> Mapping[Unsur, int | None]:
    return MappingProxyType({unsur: answers.get(unsur) for unsur in UNSUR_ORDER})


@dataclass(frozen=True, slots=True)
class NewResponse:
    """A questionnaire to store: scores 1..4 by unsur code (None = the respondent skipped that unsur)."""

    unit_id: int
    submitted_at: datetime
    answers: Mapping[Unsur, int | None]
    source: ResponseSource
    survey_version: str = SURVEY_VERSION
    citizen_id: int | None = None
    service: str | None = None
    profile: Profile = field(default_factory=Profile)
    saran: str | None = None
    import_key: str | None = None

    def __post_init__(self) -> None:
        """Refuse naive times and scores outside 1..4; keep the answers in U1..U9 order."""
        if self.submitted_at.tzinfo is None:
            raise ValueError("submitted_at must be timezone-aware")
        object.__setattr__(self, "answers", _frozen_answers(self.answers))
        for unsur, score in self.answers.items():
            if score is not None and (isinstance(score, bool) or score not in (1, 2, 3, 4)):
                raise ValueError(f"{unsur}: score must be 1..4, got {score!r}")
        if all(score is None for score in self.answers.values()):
            raise ValueError("a response needs at least one answered unsur")


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A stored questionnaire, as the per-respondent report sheet shows it."""

    id: int
    unit_id: int
    submitted_at: datetime
    answers: Mapping[Unsur, int | None]
    source: ResponseSource
    service: str | None
    profile: Profile
    saran: str | None


@dataclass(frozen=True, slots=True)
class UnitTallies:
    """One unit's answers in a period, aggregated by the database: respondents and the nine tallies."""

    unit_id: int
    n_respondents: int
    tallies: tuple[UnsurTally, ...]
