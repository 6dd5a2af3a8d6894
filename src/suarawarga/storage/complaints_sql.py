"""SQL repositories of complaints (their history and attachments) and of the citizens' ratings of resolutions."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.sql import Executable

from suarawarga.complaints.model import (
    ActorKind,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    EventKind,
    IdentityMode,
    NewAttachment,
)
from suarawarga.storage.base_sql import (
    ATTACHMENTS,
    COMPLAINTS,
    EVENTS,
    RATINGS,
    SqlRepo,
    upsert,
    upsert_sql,
    upsert_text,
)
from suarawarga.storage.complaints import PAGE_SIZE, NewComplaint, Rating, UnitEvent

IN_CHUNK = 500  # ids per IN list: well under SQLite's bound-parameter limit


# Statements of filing a complaint (about one update in twelve under load): built once, so each execution
# skips building the statement and its cache key.
# Every field of a NewComplaint names its column (`upsert_text` refuses a name that is not one).
_NEW_FIELDS = (*(f.name for f in dataclasses.fields(NewComplaint)), "updated_at")
# A taken tracking code stores nothing (the unique index decides, in the same statement: no read first), and
# RETURNING gives the stored row: the filing flow announces the complaint at once, without reading it back.
_NEW = upsert_text(COMPLAINTS, _NEW_FIELDS, ["code"], returning=[c.name for c in COMPLAINTS.c])
_NEW_EVENT = insert(EVENTS)
_EVENT_FIELDS = ("at", "kind", "actor_kind", "actor_id", "from_status", "to_status", "unit_id", "note")


def _filed_with_event() -> Executable:
    """Return the complaint's insert with its first history entry in the same statement (PostgreSQL only).

    A data-modifying WITH: the entry is stored only if the complaint was (a taken code stores neither), and the
    statement returns the complaint's row as `_NEW` does. One statement instead of two for every complaint
    (docs/performance.md). The entry's parameters are prefixed `event_` (both tables have `unit_id`).
    """
    complaint = upsert_sql(COMPLAINTS, _NEW_FIELDS, ["code"], returning=[c.name for c in COMPLAINTS.c])
    columns = ", ".join(("complaint_id", *_EVENT_FIELDS))
    values = ", ".join(("id", *(f":event_{name}" for name in _EVENT_FIELDS)))
    # Column names come from the tables' own code, every value is a bound parameter.
    entry = f"INSERT INTO {EVENTS.name} ({columns}) SELECT {values} FROM filed"  # noqa: S608
    sql = f"WITH filed AS ({complaint}), entry AS ({entry}) SELECT * FROM filed"  # noqa: S608
    params = [bindparam(name, type_=COMPLAINTS.c[name].type) for name in _NEW_FIELDS]
    params += [bindparam(f"event_{name}", type_=EVENTS.c[name].type) for name in _EVENT_FIELDS]
    return text(sql).bindparams(*params).columns(*COMPLAINTS.c)


_NEW_FILED_PG = _filed_with_event()
_BY_CODE = select(COMPLAINTS).where(COMPLAINTS.c.code == bindparam("code"))
_FILES = select(ATTACHMENTS).where(ATTACHMENTS.c.complaint_id == bindparam("complaint")).order_by(ATTACHMENTS.c.id)
_FILES_BY = _FILES.where(ATTACHMENTS.c.uploaded_by == bindparam("by"))

# Read before every complaint is filed (the daily limit).
_FILED_SINCE = (
    select(func.count())
    .select_from(COMPLAINTS)
    .where(
        COMPLAINTS.c.citizen_id == bindparam("citizen"),
        COMPLAINTS.c.filed_at >= bindparam("since", type_=COMPLAINTS.c.filed_at.type),
    )
)


def _event_values(event: ComplaintEvent) -> dict[str, Any]:
    """Return a history entry's column values (but its complaint's id)."""
    return {
        "at": event.at,
        "kind": event.kind.value,
        "actor_kind": event.actor.value,
        "actor_id": event.actor_id,
        "from_status": event.from_status.value if event.from_status else None,
        "to_status": event.to_status.value if event.to_status else None,
        "unit_id": event.unit_id,
        "note": event.note,
    }


class ComplaintRepo(SqlRepo):
    """Complaints, their history and attachments."""

    @staticmethod
    def _complaint(row: Row[Any]) -> Complaint:
        return Complaint(
            id=row.id,
            code=row.code,
            status=ComplaintStatus(row.status),
            category_id=row.category_id,
            unit_id=row.unit_id,
            description=row.description,
            identity_mode=IdentityMode(row.identity_mode),
            filed_at=row.filed_at,
            citizen_id=row.citizen_id,
            channel=row.channel,
            chat_id=row.chat_id,
            location_text=row.location_text,
            latitude=row.latitude,
            longitude=row.longitude,
            kecamatan_id=row.kecamatan_id,
            reporter_name=row.reporter_name,
            reporter_contact=row.reporter_contact,
            language=row.language,
        )

    async def add(self, complaint: NewComplaint, filed: ComplaintEvent) -> Complaint | None:
        """Insert a complaint with its first history entry; return it as stored, None if its code is taken."""
        values = {
            **dataclasses.asdict(complaint),
            "status": complaint.status.value,
            "identity_mode": complaint.identity_mode.value,
            "channel": complaint.channel.value if complaint.channel is not None else None,
            "updated_at": complaint.filed_at,
        }
        if self.conn.dialect.name == "postgresql":
            event = {f"event_{name}": value for name, value in _event_values(filed).items()}
            row = (await self.conn.execute(_NEW_FILED_PG, values | event)).first()
            return self._complaint(row) if row is not None else None
        row = (await self.conn.execute(_NEW, values)).first()  # SQLite has no INSERT inside WITH: two statements
        if row is None:
            return None
        stored = self._complaint(row)
        await self.add_event(stored.id, filed)
        return stored

    async def add_event(self, complaint_id: int, event: ComplaintEvent) -> None:
        """Append an entry to a complaint's history."""
        await self.conn.execute(_NEW_EVENT, {"complaint_id": complaint_id, **_event_values(event)})

    async def add_attachments(
        self, complaint_id: int, items: Sequence[NewAttachment], uploaded_by: ActorKind, now: datetime
    ) -> None:
        """Record attachment metadata for a complaint."""
        if items:
            await self.conn.execute(
                insert(ATTACHMENTS),
                [
                    {
                        "complaint_id": complaint_id,
                        "kind": a.kind,
                        "path": a.path,
                        "mime": a.mime,
                        "size": a.size,
                        "sha256": a.sha256,
                        "uploaded_by": uploaded_by.value,
                        "created_at": now,
                    }
                    for a in items
                ],
            )

    async def update_if(
        self,
        seen: Complaint,
        now: datetime,
        *,
        status: ComplaintStatus | None = None,
        unit_id: int | None = None,
    ) -> bool:
        """Change a complaint's status or unit only if both are still those `seen`; return whether it was changed.

        The row is written even when nothing changes (its `updated_at`), so that concurrent actions queue on it.
        """
        values: dict[str, object] = {"updated_at": now}
        if status is not None:
            values["status"] = status.value
        if unit_id is not None:
            values["unit_id"] = unit_id
        result = await self.conn.execute(
            update(COMPLAINTS)
            .where(
                COMPLAINTS.c.id == seen.id,
                COMPLAINTS.c.status == seen.status.value,
                COMPLAINTS.c.unit_id == seen.unit_id,
            )
            .values(**values)
        )
        return bool(result.rowcount)

    async def by_code(self, code: str) -> Complaint | None:
        """Return a complaint by tracking code."""
        row = (await self.conn.execute(_BY_CODE, {"code": code})).first()
        return self._complaint(row) if row else None

    async def attachments(self, complaint_id: int, uploaded_by: ActorKind | None = None) -> list[NewAttachment]:
        """Return a complaint's files, oldest first (optionally only the citizen's or the staff's)."""
        if uploaded_by is None:
            rows = await self.conn.execute(_FILES, {"complaint": complaint_id})
        else:
            rows = await self.conn.execute(_FILES_BY, {"complaint": complaint_id, "by": uploaded_by.value})
        return [NewAttachment(kind=r.kind, path=r.path, mime=r.mime, size=r.size, sha256=r.sha256) for r in rows]

    async def attachment_paths(self) -> set[str]:
        """Return the path of every file an attachment row refers to (the files job keeps exactly these)."""
        return set((await self.conn.execute(select(ATTACHMENTS.c.path))).scalars())

    @staticmethod
    def _event(r: Row[Any]) -> ComplaintEvent:
        return ComplaintEvent(
            at=r.at,
            kind=EventKind(r.kind),
            actor=ActorKind(r.actor_kind),
            from_status=ComplaintStatus(r.from_status) if r.from_status else None,
            to_status=ComplaintStatus(r.to_status) if r.to_status else None,
            unit_id=r.unit_id,
            note=r.note,
            actor_id=r.actor_id,
        )

    async def history(self, complaint_id: int) -> list[ComplaintEvent]:
        """Return a complaint's events, oldest first."""
        query = select(EVENTS).where(EVENTS.c.complaint_id == complaint_id).order_by(EVENTS.c.at, EVENTS.c.id)
        return [self._event(r) for r in await self.conn.execute(query)]

    async def histories(self, complaint_ids: Collection[int]) -> dict[int, list[ComplaintEvent]]:
        """Return the events of many complaints, each oldest first, in one query per `IN_CHUNK` ids."""
        found: dict[int, list[ComplaintEvent]] = {i: [] for i in complaint_ids}
        ids = sorted(found)
        for start in range(0, len(ids), IN_CHUNK):
            query = (
                select(EVENTS)
                .where(EVENTS.c.complaint_id.in_(ids[start : start + IN_CHUNK]))
                .order_by(EVENTS.c.complaint_id, EVENTS.c.at, EVENTS.c.id)
            )
            for r in await self.conn.execute(query):
                found[r.complaint_id].append(self._event(r))
        return found

    async def unlink_citizen(self, complaint_id: int, now: datetime) -> None:
        """Cut a complaint from its reporter: no citizen, chat, name, contact, photos or words of theirs."""
        await self.conn.execute(
            update(COMPLAINTS)
            .where(COMPLAINTS.c.id == complaint_id)
            .values(
                citizen_id=None, channel=None, chat_id=None, reporter_name=None, reporter_contact=None, updated_at=now
            )
        )
        await self.conn.execute(
            update(EVENTS)
            .where(EVENTS.c.complaint_id == complaint_id, EVENTS.c.actor_kind == ActorKind.CITIZEN.value)
            .values(note=None)
        )
        await self.conn.execute(
            delete(ATTACHMENTS).where(
                ATTACHMENTS.c.complaint_id == complaint_id, ATTACHMENTS.c.uploaded_by == ActorKind.CITIZEN.value
            )
        )

    async def closed_before(self, moment: datetime, placeholder: str) -> list[int]:
        """Return the ids of closed complaints last closed before `moment` whose text is not yet `placeholder`."""
        query = (
            select(COMPLAINTS.c.id)
            .join(EVENTS, EVENTS.c.complaint_id == COMPLAINTS.c.id)
            .where(
                COMPLAINTS.c.status == ComplaintStatus.DITUTUP.value,
                COMPLAINTS.c.description != placeholder,
                EVENTS.c.kind == EventKind.CLOSED.value,
            )
            .group_by(COMPLAINTS.c.id)
            .having(func.max(EVENTS.c.at) <= moment)
            .order_by(COMPLAINTS.c.id)
        )
        return [int(r[0]) for r in await self.conn.execute(query)]

    async def erase_personal_data(self, complaint_id: int, placeholder: str, now: datetime) -> None:
        """Remove everything personal from a complaint: reporter, chat, citizen link, text, notes and files."""
        await self.conn.execute(
            update(COMPLAINTS)
            .where(COMPLAINTS.c.id == complaint_id)
            .values(
                reporter_name=None,
                reporter_contact=None,
                citizen_id=None,
                channel=None,
                chat_id=None,
                description=placeholder,
                location_text=None,
                latitude=None,
                longitude=None,
                updated_at=now,
            )
        )
        await self.conn.execute(update(EVENTS).where(EVENTS.c.complaint_id == complaint_id).values(note=None))
        await self.conn.execute(delete(ATTACHMENTS).where(ATTACHMENTS.c.complaint_id == complaint_id))

    async def attachment_count(self, complaint_id: int) -> int:
        """Return how many files a complaint has."""
        query = select(func.count()).select_from(ATTACHMENTS).where(ATTACHMENTS.c.complaint_id == complaint_id)
        return int((await self.conn.execute(query)).scalar_one())

    async def filed_between(self, start: datetime, end: datetime) -> list[Complaint]:
        """Return the complaints filed in [start, end), oldest first."""
        query = (
            select(COMPLAINTS)
            .where(COMPLAINTS.c.filed_at >= start, COMPLAINTS.c.filed_at < end)
            .order_by(COMPLAINTS.c.filed_at, COMPLAINTS.c.id)
        )
        return [self._complaint(r) for r in await self.conn.execute(query)]

    async def events_between(self, start: datetime, end: datetime, kinds: Sequence[EventKind]) -> list[UnitEvent]:
        """Return the events of some kinds in [start, end), oldest first."""
        query = (
            select(EVENTS.c.unit_id, EVENTS.c.kind, EVENTS.c.at, COMPLAINTS.c.filed_at)
            .join(COMPLAINTS, COMPLAINTS.c.id == EVENTS.c.complaint_id)
            .where(EVENTS.c.at >= start, EVENTS.c.at < end, EVENTS.c.kind.in_([k.value for k in kinds]))
            .order_by(EVENTS.c.at, EVENTS.c.id)
        )
        return [UnitEvent(int(r.unit_id), EventKind(r.kind), r.at, r.filed_at) for r in await self.conn.execute(query)]

    async def count_filed_since(self, citizen_id: int, since: datetime) -> int:
        """Return how many complaints a citizen filed since a moment."""
        params = {"citizen": citizen_id, "since": since}
        return int((await self.conn.execute(_FILED_SINCE, params)).scalar_one())

    async def for_citizen(self, citizen_id: int, limit: int | None = 10) -> list[Complaint]:
        """Return a citizen's most recent complaints (limit None: all of them)."""
        query = (
            select(COMPLAINTS)
            .where(COMPLAINTS.c.citizen_id == citizen_id)
            .order_by(COMPLAINTS.c.filed_at.desc(), COMPLAINTS.c.id.desc())
            .limit(limit)
        )
        return [self._complaint(r) for r in await self.conn.execute(query)]

    async def page(
        self, statuses: Collection[ComplaintStatus], after: Complaint | None = None, size: int = PAGE_SIZE
    ) -> list[Complaint]:
        """Return up to `size` complaints in these statuses filed after `after` (None: the first), oldest first.

        Keyset paging on (filed_at, id): a caller reads every complaint page by page, with no cap, and a complaint
        that changes status meanwhile neither repeats nor shifts the pages after it.
        """
        query = select(COMPLAINTS).where(COMPLAINTS.c.status.in_([s.value for s in statuses]))
        if after is not None:
            query = query.where(
                or_(
                    COMPLAINTS.c.filed_at > after.filed_at,
                    and_(COMPLAINTS.c.filed_at == after.filed_at, COMPLAINTS.c.id > after.id),
                )
            )
        query = query.order_by(COMPLAINTS.c.filed_at, COMPLAINTS.c.id).limit(size)
        return [self._complaint(r) for r in await self.conn.execute(query)]

    async def list(
        self,
        unit_id: int | None = None,
        status: ComplaintStatus | None = None,
        limit: int = 1000,
        statuses: Iterable[ComplaintStatus] | None = None,
    ) -> list[Complaint]:
        """Return complaints, oldest first, filtered by unit and status."""
        query = select(COMPLAINTS).order_by(COMPLAINTS.c.filed_at, COMPLAINTS.c.id).limit(limit)
        if unit_id is not None:
            query = query.where(COMPLAINTS.c.unit_id == unit_id)
        if status is not None:
            query = query.where(COMPLAINTS.c.status == status.value)
        if statuses is not None:
            query = query.where(COMPLAINTS.c.status.in_([s.value for s in statuses]))
        return [self._complaint(r) for r in await self.conn.execute(query)]

    async def count(self) -> int:
        """Return how many complaints exist."""
        return int((await self.conn.execute(select(func.count()).select_from(COMPLAINTS))).scalar_one())


class RatingRepo(SqlRepo):
    """The citizens' ratings of resolutions: whether it was solved, and a score, per resolution round."""

    async def rating(self, complaint_id: int, round_: int) -> Rating | None:
        """Return the rating given for a resolution round, if any."""
        query = select(RATINGS).where(RATINGS.c.complaint_id == complaint_id, RATINGS.c.round == round_)
        row = (await self.conn.execute(query)).first()
        return Rating(int(row.round), row.solved, row.score, row.updated_at) if row else None

    async def rate(
        self,
        complaint_id: int,
        round_: int,
        unit_id: int,
        now: datetime,
        solved: str | None = None,
        score: int | None = None,
    ) -> None:
        """Store the solved answer or the score of a resolution round."""
        values: dict[str, Any] = {"updated_at": now}
        if solved is not None:
            values["solved"] = solved
        if score is not None:
            values["score"] = score
        stmt = upsert(self.conn, RATINGS).values(
            complaint_id=complaint_id, round=round_, unit_id=unit_id, created_at=now, **values
        )
        await self.conn.execute(
            stmt.on_conflict_do_update(index_elements=[RATINGS.c.complaint_id, RATINGS.c.round], set_=values)
        )

    async def ratings(self, complaint_id: int) -> list[Rating]:
        """Return a complaint's ratings, oldest round first."""
        query = (
            select(RATINGS.c.round, RATINGS.c.solved, RATINGS.c.score, RATINGS.c.updated_at)
            .where(RATINGS.c.complaint_id == complaint_id)
            .order_by(RATINGS.c.round)
        )
        return [Rating(int(r.round), r.solved, r.score, r.updated_at) for r in await self.conn.execute(query)]

    async def scores(self, unit_id: int | None, since: datetime, until: datetime) -> list[int]:
        """Return the handling scores given in a period (for one unit, or all)."""
        query = select(RATINGS.c.score).where(
            RATINGS.c.score.is_not(None), RATINGS.c.updated_at >= since, RATINGS.c.updated_at < until
        )
        if unit_id is not None:
            query = query.where(RATINGS.c.unit_id == unit_id)
        return [int(r[0]) for r in await self.conn.execute(query)]
