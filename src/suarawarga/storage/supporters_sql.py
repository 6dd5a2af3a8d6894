"""Supporters of complaints, merged duplicates and the duplicate look-up's reads (repositories never commit)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, insert, or_, select, update
from sqlalchemy.engine import Row

from suarawarga.complaints.model import OPEN_STATUSES, ActorKind, Area, EventKind, IdentityMode
from suarawarga.storage.base_sql import ATTACHMENTS, COMPLAINTS, EVENTS, PLACES, UNITS, SqlRepo
from suarawarga.storage.orm.complaints import SupportRow
from suarawarga.storage.supporters import Candidate, Support


def _table(model: Any) -> Table:
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(model)
    return table


SUPPORTS = _table(SupportRow)
LOOKUP_ROWS_MAX = 2000  # addresses of one category in one kecamatan compared at most (the newest)


_CANDIDATE_COLUMNS = (
    COMPLAINTS.c.id,
    COMPLAINTS.c.code,
    COMPLAINTS.c.status,
    COMPLAINTS.c.filed_at,
    COMPLAINTS.c.kecamatan_id,
    COMPLAINTS.c.location_text,
    COMPLAINTS.c.latitude,
    COMPLAINTS.c.longitude,
    COMPLAINTS.c.citizen_id,
)


def _candidate(row: Row[Any]) -> Candidate:
    return Candidate(
        int(row.id),
        row.code,
        row.status,
        row.filed_at,
        row.kecamatan_id,
        row.location_text,
        row.latitude,
        row.longitude,
        row.citizen_id,
    )


def _support(row: Row[Any]) -> Support:
    return Support(
        id=int(row.id),
        complaint_id=int(row.complaint_id),
        citizen_id=row.citizen_id,
        channel=row.channel,
        chat_id=row.chat_id,
        identity_mode=IdentityMode(row.identity_mode),
        name=row.name,
        contact=row.contact,
        language=row.language,
        created_at=row.created_at,
        merged_from_id=row.merged_from_id,
        solved=row.solved,
        score=row.score,
        files=tuple(row.files or ()),
    )


_OPEN = sorted(s.value for s in OPEN_STATUSES)


class SupportRepo(SqlRepo):
    """Supporters, merges, and the look-up of open complaints near a new one."""

    async def kecamatan_places(self, kecamatan_code: str) -> tuple[int, list[str]] | None:
        """Return a kecamatan's id and its kelurahan names (from the seed), in one read."""
        query = (
            select(UNITS.c.id, PLACES.c.name)
            .select_from(UNITS.outerjoin(PLACES, PLACES.c.unit_id == UNITS.c.id))
            .where(UNITS.c.code == kecamatan_code)
        )
        rows = (await self.conn.execute(query)).all()
        return (int(rows[0].id), [r.name for r in rows if r.name]) if rows else None

    async def near(self, category_id: int, box: Area, since: datetime) -> list[Candidate]:
        """Return the open complaints of a category with a point inside a box, filed since a moment.

        The box is the prefilter the (category_id, latitude, longitude) index answers; the caller measures the
        exact distance.
        """
        query = select(*_CANDIDATE_COLUMNS).where(
            COMPLAINTS.c.category_id == category_id,
            COMPLAINTS.c.latitude.between(box.south, box.north),
            COMPLAINTS.c.longitude.between(box.west, box.east),
            COMPLAINTS.c.status.in_(_OPEN),
            COMPLAINTS.c.filed_at >= since,
        )
        return [_candidate(r) for r in await self.conn.execute(query)]

    def _typed(self, category_id: int, kecamatan_id: int, since: datetime) -> Any:
        return (
            COMPLAINTS.c.category_id == category_id,
            COMPLAINTS.c.kecamatan_id == kecamatan_id,
            COMPLAINTS.c.filed_at >= since,
            COMPLAINTS.c.status.in_(_OPEN),
            COMPLAINTS.c.location_text.is_not(None),
        )

    async def place_keys(self, category_id: int, kecamatan_id: int, since: datetime) -> list[str]:
        """Return the distinct street keys of the open typed-address complaints of a category in a kecamatan."""
        # Answered from the (category, kecamatan, filed_at, status, place_key) index alone: a key implies a text.
        query = (
            select(COMPLAINTS.c.place_key)
            .where(*self._typed(category_id, kecamatan_id, since)[:4], COMPLAINTS.c.place_key.is_not(None))
            .distinct()
        )
        return [str(r[0]) for r in await self.conn.execute(query)]

    async def in_kecamatan(
        self, category_id: int, kecamatan_id: int, since: datetime, keys: Sequence[str]
    ) -> list[Candidate]:
        """Return those complaints whose street key is one of `keys`, or that name no street; newest first."""
        query = (
            select(*_CANDIDATE_COLUMNS)
            .where(
                *self._typed(category_id, kecamatan_id, since),
                or_(COMPLAINTS.c.place_key.is_(None), COMPLAINTS.c.place_key.in_(list(keys))),
            )
            .order_by(COMPLAINTS.c.filed_at.desc(), COMPLAINTS.c.id.desc())
            .limit(LOOKUP_ROWS_MAX)
        )
        return [_candidate(r) for r in await self.conn.execute(query)]

    async def forget_place(self, complaint_id: int, now: datetime) -> None:
        """Drop the street key with the address it came from (retention erases the address)."""
        await self.conn.execute(
            update(COMPLAINTS).where(COMPLAINTS.c.id == complaint_id).values(place_key=None, updated_at=now)
        )

    async def counts(self, complaint_ids: Iterable[int]) -> dict[int, int]:
        """Return the number of supporters of each complaint (absent: none)."""
        ids = sorted(set(complaint_ids))
        if not ids:
            return {}
        query = (
            select(SUPPORTS.c.complaint_id, func.count())
            .where(SUPPORTS.c.complaint_id.in_(ids))
            .group_by(SUPPORTS.c.complaint_id)
        )
        return {int(r[0]): int(r[1]) for r in await self.conn.execute(query)}

    async def add(self, values: dict[str, Any]) -> int:
        """Insert a support and return its id."""
        result = await self.conn.execute(insert(SUPPORTS).values(**values).returning(SUPPORTS.c.id))
        return int(result.scalar_one())

    async def of_complaint(self, complaint_id: int) -> list[Support]:
        """Return a complaint's supporters, first first."""
        query = select(SUPPORTS).where(SUPPORTS.c.complaint_id == complaint_id).order_by(SUPPORTS.c.id)
        return [_support(r) for r in await self.conn.execute(query)]

    async def of_citizen(self, citizen_id: int) -> list[Support]:
        """Return the complaints a citizen supports, newest first."""
        query = select(SUPPORTS).where(SUPPORTS.c.citizen_id == citizen_id).order_by(SUPPORTS.c.id.desc())
        return [_support(r) for r in await self.conn.execute(query)]

    async def supported_by(self, citizen_id: int) -> set[int]:
        """Return the ids of the complaints a citizen supports."""
        query = select(SUPPORTS.c.complaint_id).where(SUPPORTS.c.citizen_id == citizen_id)
        return {int(r[0]) for r in await self.conn.execute(query)}

    async def set_files(self, support_id: int, files: Sequence[str]) -> None:
        """Record the photos a supporter added (erased with them)."""
        await self.conn.execute(update(SUPPORTS).where(SUPPORTS.c.id == support_id).values(files=list(files)))

    async def rate(self, support_id: int, now: datetime, solved: str | None = None, score: int | None = None) -> None:
        """Store a supporter's own verdict on the resolution (it never changes the complaint)."""
        values: dict[str, Any] = {"rated_at": now}
        if solved is not None:
            values["solved"] = solved
        if score is not None:
            values["score"] = score
        await self.conn.execute(update(SUPPORTS).where(SUPPORTS.c.id == support_id).values(**values))

    async def forget_citizen(self, support_id: int) -> list[str]:
        """Cut a support from its person: no citizen, chat, name, contact, words or photos; return the photos."""
        row = (await self.conn.execute(select(SUPPORTS.c.files).where(SUPPORTS.c.id == support_id))).first()
        files = list(row.files or []) if row else []
        await self.conn.execute(
            update(SUPPORTS)
            .where(SUPPORTS.c.id == support_id)
            .values(citizen_id=None, channel=None, chat_id=None, name=None, contact=None, files=None)
        )
        await self.conn.execute(
            update(EVENTS)
            .where(EVENTS.c.actor_kind == ActorKind.SUPPORTER.value, EVENTS.c.actor_id == support_id)
            .values(note=None)
        )
        if files:
            await self.conn.execute(delete(ATTACHMENTS).where(ATTACHMENTS.c.path.in_(files)))
        return files

    async def set_merged(self, complaint_id: int, into_id: int | None, now: datetime, status: str) -> None:
        """Mark a complaint merged into another (or no longer), with its new status."""
        await self.conn.execute(
            update(COMPLAINTS)
            .where(COMPLAINTS.c.id == complaint_id)
            .values(merged_into_id=into_id, status=status, updated_at=now)
        )

    async def merged_into(self, complaint_id: int) -> int | None:
        """Return the complaint this one was merged into, if any."""
        query = select(COMPLAINTS.c.merged_into_id).where(COMPLAINTS.c.id == complaint_id)
        value = (await self.conn.execute(query)).scalar_one_or_none()
        return int(value) if value is not None else None

    async def code_of(self, complaint_id: int) -> str | None:
        """Return a complaint's tracking code."""
        query = select(COMPLAINTS.c.code).where(COMPLAINTS.c.id == complaint_id)
        value = (await self.conn.execute(query)).scalar_one_or_none()
        return str(value) if value is not None else None

    async def move(self, source_id: int, target_id: int) -> int:
        """Move a merged complaint's supporters to the target, remembering where they came from."""
        await self.conn.execute(
            update(SUPPORTS)
            .where(SUPPORTS.c.complaint_id == source_id, SUPPORTS.c.merged_from_id.is_(None))
            .values(merged_from_id=source_id)
        )
        result = await self.conn.execute(
            update(SUPPORTS).where(SUPPORTS.c.complaint_id == source_id).values(complaint_id=target_id)
        )
        return int(result.rowcount)

    async def move_back(self, source_id: int, target_id: int, reporter_support_id: int | None) -> list[Support]:
        """Undo `move`: the supporters that came with `source_id` (and what was merged into it) go back to it."""
        if reporter_support_id is not None:
            await self.conn.execute(delete(SUPPORTS).where(SUPPORTS.c.id == reporter_support_id))
        merged_earlier = select(COMPLAINTS.c.id).where(COMPLAINTS.c.merged_into_id == source_id)
        came_with = (SUPPORTS.c.complaint_id == target_id) & or_(
            SUPPORTS.c.merged_from_id == source_id, SUPPORTS.c.merged_from_id.in_(merged_earlier)
        )
        moved = [_support(r) for r in await self.conn.execute(select(SUPPORTS).where(came_with))]
        await self.conn.execute(update(SUPPORTS).where(came_with).values(complaint_id=source_id))
        await self.conn.execute(
            update(SUPPORTS)
            .where(SUPPORTS.c.complaint_id == source_id, SUPPORTS.c.merged_from_id == source_id)
            .values(merged_from_id=None)
        )
        return moved

    async def reporter_support(self, source_id: int, target_id: int) -> Support | None:
        """Return the support a merge gave the merged complaint's reporter on the target."""
        query = (
            select(SUPPORTS)
            .where(SUPPORTS.c.complaint_id == target_id, SUPPORTS.c.merged_from_id == source_id)
            .where(SUPPORTS.c.via == "merge")
            .order_by(SUPPORTS.c.id.desc())
        )
        row = (await self.conn.execute(query)).first()
        return _support(row) if row else None

    async def last_merge(self, complaint_id: int) -> tuple[datetime, str | None] | None:
        """Return when a complaint was last merged and the status it had before."""
        query = (
            select(EVENTS.c.at, EVENTS.c.from_status)
            .where(EVENTS.c.complaint_id == complaint_id, EVENTS.c.kind == EventKind.MERGED.value)
            .order_by(EVENTS.c.at.desc(), EVENTS.c.id.desc())
        )
        row = (await self.conn.execute(query)).first()
        return (row.at, row.from_status) if row else None

    async def supporters_filed_between(self, start: datetime, end: datetime) -> dict[int, int]:
        """Return, per unit, the supports given in [start, end) to complaints (by the unit handling them now)."""
        query = (
            select(COMPLAINTS.c.unit_id, func.count())
            .select_from(SUPPORTS.join(COMPLAINTS, COMPLAINTS.c.id == SUPPORTS.c.complaint_id))
            .where(SUPPORTS.c.created_at >= start, SUPPORTS.c.created_at < end)
            .group_by(COMPLAINTS.c.unit_id)
        )
        return {int(r[0]): int(r[1]) for r in await self.conn.execute(query)}

    async def merged_between(self, start: datetime, end: datetime) -> dict[int, int]:
        """Return, per unit, the complaints filed in [start, end) that are now merged into another."""
        query = (
            select(COMPLAINTS.c.unit_id, func.count())
            .where(
                COMPLAINTS.c.filed_at >= start, COMPLAINTS.c.filed_at < end, COMPLAINTS.c.merged_into_id.is_not(None)
            )
            .group_by(COMPLAINTS.c.unit_id)
        )
        return {int(r[0]): int(r[1]) for r in await self.conn.execute(query)}

    async def supporters_since(self, since: datetime) -> dict[int, int]:
        """Return, per unit, the supporters of the complaints filed since a moment (not merged away)."""
        query = (
            select(COMPLAINTS.c.unit_id, func.count())
            .select_from(SUPPORTS.join(COMPLAINTS, COMPLAINTS.c.id == SUPPORTS.c.complaint_id))
            .where(COMPLAINTS.c.filed_at >= since, COMPLAINTS.c.merged_into_id.is_(None))
            .group_by(COMPLAINTS.c.unit_id)
        )
        return {int(r[0]): int(r[1]) for r in await self.conn.execute(query)}
