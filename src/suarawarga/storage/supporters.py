"""The port of complaints' supporters ("saya juga mengalami"), merges, and the duplicate look-up's reads.

No SQLAlchemy here: the SQL implementation is in `supporters_sql.py` (docs/complaints.md §7).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from suarawarga.complaints.model import Area, IdentityMode


@dataclass(frozen=True, slots=True)
class Candidate:
    """An open complaint that may be the same as a new one: only what the look-up and the list need."""

    id: int
    code: str
    status: str
    filed_at: datetime
    kecamatan_id: int | None
    location_text: str | None
    latitude: float | None
    longitude: float | None
    citizen_id: int | None


@dataclass(frozen=True, slots=True)
class Support:
    """A citizen following a complaint."""

    id: int
    complaint_id: int
    citizen_id: int | None
    channel: str | None
    chat_id: str | None
    identity_mode: IdentityMode
    name: str | None
    contact: str | None
    language: str
    created_at: datetime
    merged_from_id: int | None
    solved: str | None = None
    score: int | None = None
    files: tuple[str, ...] = ()


class SupportRepository(Protocol):
    """Supporters, merges, and the look-up of open complaints near a new one."""

    async def kecamatan_places(self, kecamatan_code: str) -> tuple[int, list[str]] | None:
        """Return a kecamatan's id and its kelurahan names (from the seed), in one read."""
        ...

    async def near(self, category_id: int, box: Area, since: datetime) -> list[Candidate]:
        """Return the open complaints of a category with a point inside a box, filed since a moment."""
        ...

    async def in_kecamatan(
        self, category_id: int, kecamatan_id: int, since: datetime, keys: Sequence[str]
    ) -> list[Candidate]:
        """Return the open typed-address complaints of a category in a kecamatan keyed one of `keys` or unkeyed."""
        ...

    async def place_keys(self, category_id: int, kecamatan_id: int, since: datetime) -> list[str]:
        """Return the distinct street keys of the open typed-address complaints of a category in a kecamatan."""
        ...

    async def forget_place(self, complaint_id: int, now: datetime) -> None:
        """Drop the street key with the address it came from (retention erases the address)."""
        ...

    async def counts(self, complaint_ids: Iterable[int]) -> dict[int, int]:
        """Return the number of supporters of each complaint (absent: none)."""
        ...

    async def add(self, values: dict[str, Any]) -> int:
        """Insert a support and return its id."""
        ...

    async def of_complaint(self, complaint_id: int) -> list[Support]:
        """Return a complaint's supporters, first first."""
        ...

    async def of_citizen(self, citizen_id: int) -> list[Support]:
        """Return the complaints a citizen supports, newest first."""
        ...

    async def supported_by(self, citizen_id: int) -> set[int]:
        """Return the ids of the complaints a citizen supports."""
        ...

    async def set_files(self, support_id: int, files: Sequence[str]) -> None:
        """Record the photos a supporter added (erased with them)."""
        ...

    async def rate(self, support_id: int, now: datetime, solved: str | None = None, score: int | None = None) -> None:
        """Store a supporter's own verdict on the resolution (it never changes the complaint)."""
        ...

    async def forget_citizen(self, support_id: int) -> list[str]:
        """Cut a support from its person: no citizen, chat, name, contact, words or photos; return the photos."""
        ...

    async def set_merged(self, complaint_id: int, into_id: int | None, now: datetime, status: str) -> None:
        """Mark a complaint merged into another (or no longer), with its new status."""
        ...

    async def merged_into(self, complaint_id: int) -> int | None:
        """Return the complaint this one was merged into, if any."""
        ...

    async def code_of(self, complaint_id: int) -> str | None:
        """Return a complaint's tracking code."""
        ...

    async def move(self, source_id: int, target_id: int) -> int:
        """Move a merged complaint's supporters to the target, remembering where they came from."""
        ...

    async def move_back(self, source_id: int, target_id: int, reporter_support_id: int | None) -> list[Support]:
        """Undo `move`: the supporters that came with `source_id` (and what was merged into it) go back to it."""
        ...

    async def reporter_support(self, source_id: int, target_id: int) -> Support | None:
        """Return the support a merge gave the merged complaint's reporter on the target."""
        ...

    async def last_merge(self, complaint_id: int) -> tuple[datetime, str | None] | None:
        """Return when a complaint was last merged and the status it had before."""
        ...

    async def supporters_filed_between(self, start: datetime, end: datetime) -> dict[int, int]:
        """Return, per unit, the supports given in [start, end) to complaints (by the unit handling them now)."""
        ...

    async def merged_between(self, start: datetime, end: datetime) -> dict[int, int]:
        """Return, per unit, the complaints filed in [start, end) that are now merged into another."""
        ...

    async def supporters_since(self, since: datetime) -> dict[int, int]:
        """Return, per unit, the supporters of the complaints filed since a moment (not merged away)."""
        ...
