"""SQLAlchemy implementation of the unit of work and its repositories (Core statements, no lazy loading)."""

from __future__ import annotations

import dataclasses
import itertools
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Table, and_, bindparam, case, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from suarawarga.bot.conversation import ConversationState
from suarawarga.bot.messages import ChannelName, ConversationKey, InboxStatus, Outbound, OutboxStatus
from suarawarga.complaints.model import (
    ActorKind,
    Area,
    Category,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    Consent,
    ConsentPurpose,
    EventKind,
    IdentityMode,
    NewAttachment,
    Staff,
    StaffRole,
    Unit,
    UnitKind,
)
from suarawarga.complaints.staffing import LinkedGroup, Member, StaffEvent, StaffEventKind, Via
from suarawarga.storage.orm import (
    AppSecretRow,
    AttachmentRow,
    Base,
    CategoryRow,
    ChannelIdentity,
    ChatActivityRow,
    CitizenRow,
    CityAreaRow,
    CityRow,
    ComplaintEventRow,
    ComplaintRow,
    ConsentRow,
    ConversationRow,
    IdentityViewRow,
    InboxRow,
    JobMarkRow,
    LookupFailureRow,
    OutboxRow,
    PlaceNameRow,
    ProcessedInbound,
    RatingRow,
    ServiceUnit,
    StaffEventRow,
    StaffInviteRow,
    StaffMemberRow,
    UnitChatRow,
)
from suarawarga.storage.survey_sql import SurveyRepo

if TYPE_CHECKING:
    from suarawarga.storage.queue import QueueRepository
    from suarawarga.storage.staffweb import StaffSessionRepository
    from suarawarga.storage.statistics_sql import StatisticsRepo


def _table(model: type[Base]) -> Table:
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(model)
    return table


UNITS = _table(ServiceUnit)
CITY = _table(CityRow)
CATEGORIES = _table(CategoryRow)
CITIZENS = _table(CitizenRow)
IDENTITIES = _table(ChannelIdentity)
CONVERSATIONS = _table(ConversationRow)
PROCESSED = _table(ProcessedInbound)
COMPLAINTS = _table(ComplaintRow)
EVENTS = _table(ComplaintEventRow)
ATTACHMENTS = _table(AttachmentRow)
OUTBOX = _table(OutboxRow)
ACTIVITY = _table(ChatActivityRow)
INBOX = _table(InboxRow)
STAFF = _table(StaffMemberRow)
INVITES = _table(StaffInviteRow)
UNIT_CHATS = _table(UnitChatRow)
JOB_MARKS = _table(JobMarkRow)
IDENTITY_VIEWS = _table(IdentityViewRow)
RATINGS = _table(RatingRow)
PLACES = _table(PlaceNameRow)
CITY_AREA = _table(CityAreaRow)
CONSENTS = _table(ConsentRow)
STAFF_EVENTS = _table(StaffEventRow)
LOOKUP_FAILURES = _table(LookupFailureRow)
APP_SECRETS = _table(AppSecretRow)


def _upsert(conn: AsyncConnection, table: Any) -> Any:
    """Return an INSERT that can take ON CONFLICT clauses for this connection's dialect."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


class _Repo:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn


class UnitRepo(_Repo):
    """Service units (OPDs and sub-units)."""

    @staticmethod
    def _unit(row: Row[Any]) -> Unit:
        return Unit(
            id=row.id,
            code=row.code,
            name=row.name,
            kind=UnitKind(row.kind),
            parent_id=row.parent_id,
            oversight=row.oversight,
            city_admin=row.city_admin,
            population=row.population,
        )

    async def get(self, unit_id: int) -> Unit | None:
        """Return a unit by id."""
        row = (await self.conn.execute(select(UNITS).where(UNITS.c.id == unit_id))).first()
        return self._unit(row) if row else None

    async def by_code(self, code: str) -> Unit | None:
        """Return a unit by its code."""
        row = (await self.conn.execute(select(UNITS).where(UNITS.c.code == code))).first()
        return self._unit(row) if row else None

    async def list(self, kind: UnitKind | None = None) -> list[Unit]:
        """Return the active units, optionally of one kind, by name."""
        query = select(UNITS).where(UNITS.c.active.is_(True)).order_by(UNITS.c.name)
        if kind is not None:
            query = query.where(UNITS.c.kind == kind.value)
        return [self._unit(r) for r in await self.conn.execute(query)]

    async def city_admin(self) -> Unit | None:
        """Return the unit that administers the complaint system."""
        row = (await self.conn.execute(select(UNITS).where(UNITS.c.city_admin.is_(True)))).first()
        return self._unit(row) if row else None

    async def oversight(self) -> Unit | None:
        """Return the oversight unit (Inspektorat)."""
        row = (await self.conn.execute(select(UNITS).where(UNITS.c.oversight.is_(True)))).first()
        return self._unit(row) if row else None

    async def upsert(self, values: dict[str, Any]) -> int:
        """Insert or update a unit by code and return its id."""
        stmt = _upsert(self.conn, UNITS).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[UNITS.c.code], set_={k: stmt.excluded[k] for k in values if k != "code"}
        ).returning(UNITS.c.id)
        return int((await self.conn.execute(stmt)).scalar_one())

    async def set_city(self, code: str, name: str) -> None:
        """Store the seed's city (one row: a new seed replaces the previous city)."""
        await self.conn.execute(delete(CITY))
        await self.conn.execute(insert(CITY).values(code=code, name=name))

    async def city_name(self) -> str | None:
        """Return the name of the seeded city, e.g. "Kota Padang" (None before the first seed)."""
        return (await self.conn.execute(select(CITY.c.name))).scalar()

    async def count(self) -> int:
        """Return how many units exist."""
        return int((await self.conn.execute(select(func.count()).select_from(UNITS))).scalar_one())

    async def set_places(self, unit_id: int, names: Sequence[str]) -> None:
        """Replace the place names (kelurahan) that lie in a unit (a kecamatan)."""
        await self.conn.execute(delete(PLACES).where(PLACES.c.unit_id == unit_id))
        if names:
            await self.conn.execute(insert(PLACES), [{"unit_id": unit_id, "name": name} for name in names])

    async def places(self) -> Sequence[tuple[str, str]]:
        """Return (place name, unit code) for every place name of an active unit."""
        query = (
            select(PLACES.c.name, UNITS.c.code)
            .join(UNITS, UNITS.c.id == PLACES.c.unit_id)
            .where(UNITS.c.active.is_(True))
            .order_by(PLACES.c.id)
        )
        return [(row.name, row.code) for row in await self.conn.execute(query)]

    async def set_city_area(self, area: Area | None) -> None:
        """Store the rectangle around the city (None: no check)."""
        await self.conn.execute(delete(CITY_AREA))
        if area is not None:
            await self.conn.execute(insert(CITY_AREA).values(id=1, **dataclasses.asdict(area)))

    async def city_area(self) -> Area | None:
        """Return the rectangle around the city, if the seed gave one."""
        row = (await self.conn.execute(select(CITY_AREA).where(CITY_AREA.c.id == 1))).first()
        return Area(row.south, row.west, row.north, row.east) if row else None


class CategoryRepo(_Repo):
    """Complaint categories and their routing."""

    @staticmethod
    def _category(row: Row[Any]) -> Category:
        return Category(
            id=row.id,
            code=row.code,
            name_id=row.name_id,
            name_en=row.name_en,
            unit_id=row.unit_id,
            sensitive=row.sensitive,
            hint_id=row.hint_id,
            hint_en=row.hint_en,
            accept_working_days=row.accept_working_days,
            respond_working_days=row.respond_working_days,
            resolve_days=row.resolve_days,
        )

    async def list(self) -> list[Category]:
        """Return the active categories in their display order."""
        query = (
            select(CATEGORIES).where(CATEGORIES.c.active.is_(True)).order_by(CATEGORIES.c.sort_order, CATEGORIES.c.id)
        )
        return [self._category(r) for r in await self.conn.execute(query)]

    async def by_code(self, code: str) -> Category | None:
        """Return an active category by code."""
        query = select(CATEGORIES).where(CATEGORIES.c.code == code, CATEGORIES.c.active.is_(True))
        row = (await self.conn.execute(query)).first()
        return self._category(row) if row else None

    async def get(self, category_id: int) -> Category | None:
        """Return a category by id."""
        row = (await self.conn.execute(select(CATEGORIES).where(CATEGORIES.c.id == category_id))).first()
        return self._category(row) if row else None

    async def upsert(self, values: dict[str, Any]) -> int:
        """Insert or update a category by code and return its id."""
        stmt = _upsert(self.conn, CATEGORIES).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[CATEGORIES.c.code], set_={k: stmt.excluded[k] for k in values if k != "code"}
        ).returning(CATEGORIES.c.id)
        return int((await self.conn.execute(stmt)).scalar_one())

    async def deactivate_except(self, codes: Iterable[str]) -> int:
        """Deactivate categories whose code is not listed; return how many changed."""
        result = await self.conn.execute(
            update(CATEGORIES)
            .where(CATEGORIES.c.code.not_in(list(codes)), CATEGORIES.c.active.is_(True))
            .values(active=False)
        )
        return int(result.rowcount)


class CitizenRepo(_Repo):
    """Citizens and their identities on each channel."""

    async def find(self, channel: ChannelName, external_id: str) -> tuple[int, datetime | None] | None:
        """Return (citizen id, consent time) for a channel identity, if known."""
        found = await self.get_by_identity(channel, external_id)
        return found[:2] if found else None

    async def register(
        self, channel: ChannelName, external_id: str, language: str, now: datetime, consent: bool
    ) -> int:
        """Create a citizen with one channel identity and return the citizen's id."""
        citizen_id = (
            await self.conn.execute(
                insert(CITIZENS)
                .values(created_at=now, consent_at=now if consent else None, language=language)
                .returning(CITIZENS.c.id)
            )
        ).scalar_one()
        await self.conn.execute(
            insert(IDENTITIES).values(
                citizen_id=citizen_id,
                channel=channel.value,
                external_id=external_id,
                language=language,
                created_at=now,
                last_inbound_at=now,
            )
        )
        return int(citizen_id)

    async def get_by_identity(self, channel: ChannelName, external_id: str) -> tuple[int, datetime | None, str] | None:
        """Return (citizen id, consent time, language) for a channel identity."""
        query = (
            select(CITIZENS.c.id, CITIZENS.c.consent_at, CITIZENS.c.language)
            .join(IDENTITIES, IDENTITIES.c.citizen_id == CITIZENS.c.id)
            .where(IDENTITIES.c.channel == channel.value, IDENTITIES.c.external_id == external_id)
        )
        row = (await self.conn.execute(query)).first()
        return (int(row.id), row.consent_at, row.language) if row else None

    async def identities(self, citizen_id: int) -> list[tuple[str, str, datetime]]:
        """Return a citizen's channel identities as (channel, external id, since)."""
        query = (
            select(IDENTITIES.c.channel, IDENTITIES.c.external_id, IDENTITIES.c.created_at)
            .where(IDENTITIES.c.citizen_id == citizen_id)
            .order_by(IDENTITIES.c.id)
        )
        return [(r[0], r[1], r[2]) for r in await self.conn.execute(query)]

    async def delete(self, citizen_id: int) -> None:
        """Delete a citizen, their consents and their channel identities."""
        await self.conn.execute(delete(CONSENTS).where(CONSENTS.c.citizen_id == citizen_id))
        await self.conn.execute(delete(IDENTITIES).where(IDENTITIES.c.citizen_id == citizen_id))
        await self.conn.execute(delete(CITIZENS).where(CITIZENS.c.id == citizen_id))

    async def set_consent(self, citizen_id: int, at: datetime | None) -> None:
        """Record (or withdraw, with None) a citizen's consent."""
        await self.conn.execute(update(CITIZENS).where(CITIZENS.c.id == citizen_id).values(consent_at=at))

    async def consents(self, citizen_id: int) -> list[Consent]:
        """Return the purposes a citizen consented to, oldest first."""
        query = select(CONSENTS).where(CONSENTS.c.citizen_id == citizen_id).order_by(CONSENTS.c.given_at, CONSENTS.c.id)
        return [Consent(ConsentPurpose(r.purpose), r.given_at, r.text_version) for r in await self.conn.execute(query)]

    async def give_consent(self, citizen_id: int, purpose: ConsentPurpose, at: datetime, text_version: str) -> None:
        """Record a citizen's consent to a purpose (a renewed consent replaces the time and text version)."""
        values = {"given_at": at, "text_version": text_version}
        stmt = _upsert(self.conn, CONSENTS).values(citizen_id=citizen_id, purpose=purpose.value, **values)
        await self.conn.execute(
            stmt.on_conflict_do_update(index_elements=[CONSENTS.c.citizen_id, CONSENTS.c.purpose], set_=values)
        )

    async def set_language(self, citizen_id: int, channel: ChannelName, external_id: str, language: str) -> None:
        """Store a citizen's language: on them, on this chat account, and on their complaints' updates."""
        await self.conn.execute(update(CITIZENS).where(CITIZENS.c.id == citizen_id).values(language=language))
        await self.conn.execute(
            update(IDENTITIES)
            .where(IDENTITIES.c.channel == channel.value, IDENTITIES.c.external_id == external_id)
            .values(language=language)
        )
        # complaints.language is the language the reporter is written to in (jobs and officers' actions).
        await self.conn.execute(
            update(COMPLAINTS).where(COMPLAINTS.c.citizen_id == citizen_id).values(language=language)
        )


class ComplaintRepo(_Repo):
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

    async def code_taken(self, code: str) -> bool:
        """Tell whether a tracking code is already used."""
        query = select(COMPLAINTS.c.id).where(COMPLAINTS.c.code == code)
        return (await self.conn.execute(query)).first() is not None

    async def add(self, values: dict[str, Any]) -> int:
        """Insert a complaint and return its id."""
        result = await self.conn.execute(insert(COMPLAINTS).values(**values).returning(COMPLAINTS.c.id))
        return int(result.scalar_one())

    async def add_event(self, complaint_id: int, event: ComplaintEvent) -> None:
        """Append an entry to a complaint's history."""
        await self.conn.execute(
            insert(EVENTS).values(
                complaint_id=complaint_id,
                at=event.at,
                kind=event.kind.value,
                actor_kind=event.actor.value,
                actor_id=event.actor_id,
                from_status=event.from_status.value if event.from_status else None,
                to_status=event.to_status.value if event.to_status else None,
                unit_id=event.unit_id,
                note=event.note,
            )
        )

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

    async def update(self, complaint_id: int, now: datetime, **values: Any) -> None:
        """Change a complaint's status, unit or other columns."""
        await self.conn.execute(
            update(COMPLAINTS).where(COMPLAINTS.c.id == complaint_id).values(updated_at=now, **values)
        )

    async def update_if(self, complaint_id: int, seen: tuple[str, int], now: datetime, **values: Any) -> bool:
        """Change a complaint only if its (status, unit) are still those seen; return whether it was changed."""
        result = await self.conn.execute(
            update(COMPLAINTS)
            .where(COMPLAINTS.c.id == complaint_id, COMPLAINTS.c.status == seen[0], COMPLAINTS.c.unit_id == seen[1])
            .values(updated_at=now, **values)
        )
        return bool(result.rowcount)

    async def by_code(self, code: str) -> Complaint | None:
        """Return a complaint by tracking code."""
        row = (await self.conn.execute(select(COMPLAINTS).where(COMPLAINTS.c.code == code))).first()
        return self._complaint(row) if row else None

    async def attachments(self, complaint_id: int, uploaded_by: ActorKind | None = None) -> list[NewAttachment]:
        """Return a complaint's files, oldest first (optionally only the citizen's or the staff's)."""
        query = select(ATTACHMENTS).where(ATTACHMENTS.c.complaint_id == complaint_id).order_by(ATTACHMENTS.c.id)
        if uploaded_by is not None:
            query = query.where(ATTACHMENTS.c.uploaded_by == uploaded_by.value)
        return [
            NewAttachment(kind=r.kind, path=r.path, mime=r.mime, size=r.size, sha256=r.sha256)
            for r in await self.conn.execute(query)
        ]

    async def attachment_paths(self) -> set[str]:
        """Return the path of every file an attachment row refers to (the files job keeps exactly these)."""
        return set((await self.conn.execute(select(ATTACHMENTS.c.path))).scalars())

    async def history(self, complaint_id: int) -> list[ComplaintEvent]:
        """Return a complaint's events, oldest first."""
        query = select(EVENTS).where(EVENTS.c.complaint_id == complaint_id).order_by(EVENTS.c.at, EVENTS.c.id)
        return [
            ComplaintEvent(
                at=r.at,
                kind=EventKind(r.kind),
                actor=ActorKind(r.actor_kind),
                from_status=ComplaintStatus(r.from_status) if r.from_status else None,
                to_status=ComplaintStatus(r.to_status) if r.to_status else None,
                unit_id=r.unit_id,
                note=r.note,
                actor_id=r.actor_id,
            )
            for r in await self.conn.execute(query)
        ]

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

    async def events_between(
        self, start: datetime, end: datetime, kinds: Sequence[EventKind]
    ) -> list[tuple[int, EventKind, datetime, datetime]]:
        """Return (unit id, kind, time, complaint filed at) of the events of some kinds in [start, end)."""
        query = (
            select(EVENTS.c.unit_id, EVENTS.c.kind, EVENTS.c.at, COMPLAINTS.c.filed_at)
            .join(COMPLAINTS, COMPLAINTS.c.id == EVENTS.c.complaint_id)
            .where(EVENTS.c.at >= start, EVENTS.c.at < end, EVENTS.c.kind.in_([k.value for k in kinds]))
            .order_by(EVENTS.c.at, EVENTS.c.id)
        )
        return [(int(r[0]), EventKind(r[1]), r[2], r[3]) for r in await self.conn.execute(query)]

    async def count_filed_since(self, citizen_id: int, since: datetime) -> int:
        """Return how many complaints a citizen filed since a moment."""
        query = (
            select(func.count())
            .select_from(COMPLAINTS)
            .where(COMPLAINTS.c.citizen_id == citizen_id, COMPLAINTS.c.filed_at >= since)
        )
        return int((await self.conn.execute(query)).scalar_one())

    async def for_citizen(self, citizen_id: int, limit: int = 10) -> list[Complaint]:
        """Return a citizen's most recent complaints."""
        query = (
            select(COMPLAINTS)
            .where(COMPLAINTS.c.citizen_id == citizen_id)
            .order_by(COMPLAINTS.c.filed_at.desc(), COMPLAINTS.c.id.desc())
            .limit(limit)
        )
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


class ConversationRepo(_Repo):
    """Conversation state per chat; loaded and saved for a whole batch in one statement each."""

    async def load_many(self, keys: Iterable[ConversationKey]) -> dict[ConversationKey, ConversationState]:
        """Return the stored states of the given chats (absent chats are missing from the result)."""
        pairs = {(k.channel.value, k.chat_id) for k in keys}
        if not pairs:
            return {}
        query = select(CONVERSATIONS).where(tuple_(CONVERSATIONS.c.channel, CONVERSATIONS.c.chat_id).in_(list(pairs)))
        return {
            ConversationKey(ChannelName(r.channel), r.chat_id): ConversationState(
                flow=r.flow,
                step=r.step,
                data=dict(r.data or {}),
                language=r.language,
                choices=list(r.choices.get("c", [])) if r.choices else [],
                parked=dict(r.parked) if r.parked else None,
                parked_at=r.parked_at,
            )
            for r in await self.conn.execute(query)
        }

    async def save_many(self, states: dict[ConversationKey, ConversationState], now: datetime) -> None:
        """Insert or update the states of the given chats (and delete those marked to be forgotten)."""
        forget = [k for k, s in states.items() if s.forget]
        for key in forget:
            await self.conn.execute(
                delete(CONVERSATIONS).where(
                    CONVERSATIONS.c.channel == key.channel.value, CONVERSATIONS.c.chat_id == key.chat_id
                )
            )
        states = {k: s for k, s in states.items() if not s.forget}
        if not states:
            return
        rows = [
            {
                "channel": k.channel.value,
                "chat_id": k.chat_id,
                "flow": s.flow,
                "step": s.step,
                "data": s.data,
                "choices": {"c": s.choices},
                "language": s.language,
                "updated_at": now,
                "parked": s.parked,
                "parked_at": s.parked_at if s.parked else None,
            }
            for k, s in states.items()
        ]
        stmt = _upsert(self.conn, CONVERSATIONS)
        columns = ("flow", "step", "data", "choices", "language", "updated_at", "parked", "parked_at")
        stmt = stmt.on_conflict_do_update(
            index_elements=[CONVERSATIONS.c.channel, CONVERSATIONS.c.chat_id],
            set_={c: stmt.excluded[c] for c in columns},
        )
        await self.conn.execute(stmt, rows)

    async def drop_parked(self, before: datetime) -> list[dict[str, Any]]:
        """Forget the drafts kept since before a moment; return them (their files are the caller's to delete)."""
        expired = CONVERSATIONS.c.parked_at < before
        drafts = [dict(r[0]) for r in await self.conn.execute(select(CONVERSATIONS.c.parked).where(expired)) if r[0]]
        await self.conn.execute(update(CONVERSATIONS).where(expired).values(parked=None, parked_at=None))
        return drafts

    async def drafts(self) -> list[tuple[ConversationKey, dict[str, Any], datetime]]:
        """Return (chat, flow data, last change) of every chat in a flow or keeping a draft for `lanjut`.

        Those are the only states that hold draft files; a kept draft's data is under the key "parked".
        """
        query = select(
            CONVERSATIONS.c.channel,
            CONVERSATIONS.c.chat_id,
            CONVERSATIONS.c.data,
            CONVERSATIONS.c.parked,
            CONVERSATIONS.c.updated_at,
        )
        busy = or_(CONVERSATIONS.c.flow.is_not(None), CONVERSATIONS.c.parked.is_not(None))
        return [
            (
                ConversationKey(ChannelName(r.channel), r.chat_id),
                {**dict(r.data or {}), "parked": r.parked} if r.parked else dict(r.data or {}),
                r.updated_at,
            )
            for r in await self.conn.execute(query.where(busy))
        ]

    async def expire(self, key: ConversationKey, idle_since: datetime, now: datetime) -> bool:
        """Leave the flow of a chat untouched since `idle_since` (its draft expires); False if it changed since."""
        result = await self.conn.execute(
            update(CONVERSATIONS)
            .where(
                CONVERSATIONS.c.channel == key.channel.value,
                CONVERSATIONS.c.chat_id == key.chat_id,
                CONVERSATIONS.c.updated_at <= idle_since,
            )
            .values(flow=None, step=None, data={}, choices={"c": []}, updated_at=now)
        )
        return bool(result.rowcount)


PLATFORM_STATUS_ORDER = ["sent", "delivered", "read", "failed"]  # a platform status only moves right


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One outbox row as admins and delivery receipts see it."""

    id: str
    channel: str
    recipient: str
    text_key: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    platform_id: str | None
    platform_status: str | None


class InboundRepo(_Repo):
    """Ids of inbound messages already processed, to drop repeated deliveries."""

    async def seen(self, channel: ChannelName, external_ids: Iterable[str]) -> set[str]:
        """Return which of the ids were processed before."""
        ids = list(set(external_ids))
        if not ids:
            return set()
        query = select(PROCESSED.c.external_id).where(
            PROCESSED.c.channel == channel.value, PROCESSED.c.external_id.in_(ids)
        )
        return {r[0] for r in await self.conn.execute(query)}

    async def mark(self, items: Iterable[tuple[ChannelName, str]], now: datetime) -> None:
        """Record ids as processed (a concurrent duplicate makes the commit fail, not pass twice)."""
        rows = [{"channel": c.value, "external_id": e, "processed_at": now} for c, e in items]
        if rows:
            await self.conn.execute(insert(PROCESSED), rows)

    async def prune(self, before: datetime) -> int:
        """Forget ids processed before a moment; return how many."""
        result = await self.conn.execute(delete(PROCESSED).where(PROCESSED.c.processed_at < before))
        return int(result.rowcount)

    async def note_contact(self, channel: ChannelName, chat_id: str, at: datetime) -> None:
        """Record that a chat wrote at `at` (kept monotonic), also on the citizen's channel identity."""
        await self.note_contacts(channel, {chat_id: at})

    async def note_contacts(self, channel: ChannelName, contacts: Mapping[str, datetime]) -> None:
        """Record when each chat last wrote (kept monotonic), also on the citizens' channel identities."""
        if not contacts:
            return
        stmt = _upsert(self.conn, ACTIVITY)
        stmt = stmt.on_conflict_do_update(
            index_elements=[ACTIVITY.c.channel, ACTIVITY.c.chat_id],
            set_={
                "last_inbound_at": case(
                    (stmt.excluded.last_inbound_at > ACTIVITY.c.last_inbound_at, stmt.excluded.last_inbound_at),
                    else_=ACTIVITY.c.last_inbound_at,
                )
            },
        )
        rows = [{"channel": channel.value, "chat_id": c, "last_inbound_at": at} for c, at in contacts.items()]
        await self.conn.execute(stmt, rows)
        await self.conn.execute(
            update(IDENTITIES)
            .where(
                IDENTITIES.c.channel == channel.value,
                IDENTITIES.c.external_id == bindparam("chat"),
                or_(IDENTITIES.c.last_inbound_at.is_(None), IDENTITIES.c.last_inbound_at < bindparam("at")),
            )
            .values(last_inbound_at=bindparam("at")),
            [{"chat": c, "at": at} for c, at in contacts.items()],
        )

    async def last_contacts(self, channel: ChannelName, chat_ids: Iterable[str]) -> dict[str, datetime]:
        """Return when each of the chats last wrote to us (chats never seen are missing)."""
        ids = list(set(chat_ids))
        if not ids:
            return {}
        query = select(ACTIVITY.c.chat_id, ACTIVITY.c.last_inbound_at).where(
            ACTIVITY.c.channel == channel.value, ACTIVITY.c.chat_id.in_(ids)
        )
        return {r.chat_id: r.last_inbound_at for r in await self.conn.execute(query)}

    async def forget_contact(self, channel: ChannelName, chat_id: str) -> None:
        """Forget a chat's last message time (the platform said its window is closed)."""
        await self.conn.execute(
            delete(ACTIVITY).where(ACTIVITY.c.channel == channel.value, ACTIVITY.c.chat_id == chat_id)
        )


class OutboxRepo(_Repo):
    """Messages to send, with their delivery state."""

    async def add_many(
        self,
        messages: Sequence[Outbound],
        now: datetime,
        hold: timedelta = timedelta(0),
        holder: str | None = None,
    ) -> list[Outbound]:
        """Store messages as pending and return them with their outbox ids.

        `hold` leaves them to this process's own sender for that long before the retry loop may take them;
        `holder` names that process (its shard), so that it can release them when it starts again.
        """
        stored = [_with_id(m) for m in messages]
        if stored:
            await self.conn.execute(
                insert(OUTBOX),
                [
                    {
                        "id": m.id,
                        "channel": m.key.channel.value,
                        "recipient": m.key.chat_id,
                        "payload": m.to_payload(),
                        "status": OutboxStatus.PENDING.value,
                        "attempts": 0,
                        "next_attempt_at": now + hold,
                        "created_at": now,
                        "held_by": holder if hold else None,
                    }
                    for m in stored
                ],
            )
        return stored

    async def mark_sent(self, ids: Sequence[str], now: datetime) -> None:
        """Mark messages as sent."""
        if ids:
            await self.conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(list(ids)))
                .values(status=OutboxStatus.SENT.value, sent_at=now, attempts=OUTBOX.c.attempts + 1)
            )

    async def mark_retry(self, message_id: str, error: str, next_at: datetime) -> None:
        """Count a failed attempt and schedule the next one."""
        await self.conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == message_id)
            .values(attempts=OUTBOX.c.attempts + 1, last_error=error[:300], next_attempt_at=next_at, held_by=None)
        )

    async def release_held(self, holder: str, now: datetime) -> int:
        """Make the fresh messages a (restarted) process held due now; return how many."""
        result = await self.conn.execute(
            update(OUTBOX)
            .where(
                OUTBOX.c.held_by == holder,
                OUTBOX.c.status == OutboxStatus.PENDING.value,
                OUTBOX.c.next_attempt_at > now,
            )
            .values(next_attempt_at=now, held_by=None)
        )
        return int(result.rowcount or 0)

    async def mark_final(self, message_id: str, status: OutboxStatus, error: str) -> None:
        """Stop retrying a message (failed for good, or its recipient is unreachable)."""
        await self.conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == message_id)
            .values(status=status.value, attempts=OUTBOX.c.attempts + 1, last_error=error[:300])
        )

    async def due(
        self,
        now: datetime,
        limit: int = 100,
        channel: ChannelName | None = None,
        min_age: timedelta | None = None,
    ) -> list[tuple[Outbound, int]]:
        """Return pending messages whose next attempt is due, oldest first, with their attempt counts."""
        query = (
            select(OUTBOX)
            .where(OUTBOX.c.status == OutboxStatus.PENDING.value, OUTBOX.c.next_attempt_at <= now)
            .order_by(OUTBOX.c.created_at, OUTBOX.c.id)
            .limit(limit)
        )
        if channel is not None:
            query = query.where(OUTBOX.c.channel == channel.value)
        if min_age is not None:
            query = query.where(OUTBOX.c.created_at <= now - min_age)
        return [
            (
                Outbound.from_payload(ConversationKey(ChannelName(r.channel), r.recipient), r.payload, r.id),
                r.attempts,
            )
            for r in await self.conn.execute(query)
        ]

    async def claim_due(
        self, now: datetime, lease: timedelta, limit: int = 100, per_chat: int | None = None
    ) -> list[tuple[Outbound, int]]:
        """Take pending messages whose next attempt is due, pushing it `lease` ahead so no one else sends them.

        A chat's messages are taken in the order they were written: none while an earlier one to the same chat is
        pending and not due (waiting for its retry, held by a pump, or claimed by another sender), and at most
        `per_chat` of a chat at once, so that one chat's backlog cannot fill a pass (nor outlast the lease).
        """
        earlier = OUTBOX.alias("earlier")
        waits_behind = (
            select(earlier.c.id)
            .where(
                earlier.c.channel == OUTBOX.c.channel,
                earlier.c.recipient == OUTBOX.c.recipient,
                earlier.c.status == OutboxStatus.PENDING.value,
                earlier.c.next_attempt_at > now,
                _before(earlier, OUTBOX),
            )
            .exists()
        )
        query = (
            select(OUTBOX)
            .where(OUTBOX.c.status == OutboxStatus.PENDING.value, OUTBOX.c.next_attempt_at <= now, ~waits_behind)
            .order_by(OUTBOX.c.created_at, OUTBOX.c.id)
            .limit(limit)
        )
        if self.conn.dialect.name == "postgresql":
            # Claimers take turns: one that skipped rows another had locked could take a later message of a chat
            # whose earlier one that other is about to send.
            await self.conn.execute(select(func.pg_advisory_xact_lock(_CLAIM_LOCK)))
            query = query.with_for_update(skip_locked=True)
        claimed: list[tuple[Outbound, int]] = []
        taken: dict[tuple[str, str], int] = {}
        for r in await self.conn.execute(query):
            chat = (r.channel, r.recipient)
            if per_chat is not None and taken.get(chat, 0) >= per_chat:
                continue
            taken[chat] = taken.get(chat, 0) + 1
            claimed.append(
                (
                    Outbound.from_payload(ConversationKey(ChannelName(r.channel), r.recipient), r.payload, r.id),
                    int(r.attempts),
                )
            )
        if claimed:  # the lease changes nothing the caller reads: the rows were read once, locked
            await self.conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_([m.id for m, _ in claimed]))
                .values(next_attempt_at=now + lease, held_by=None)
            )
        return claimed

    async def waiting_chats(self, messages: Sequence[Outbound]) -> set[ConversationKey]:
        """Return the chats of these messages that have an earlier message still pending (not among them)."""
        firsts: dict[ConversationKey, str] = {}
        for message in messages:
            firsts.setdefault(message.key, message.id)
        if not firsts:
            return set()
        first = OUTBOX.alias("first")
        query = (
            select(OUTBOX.c.channel, OUTBOX.c.recipient)
            .join(first, and_(first.c.channel == OUTBOX.c.channel, first.c.recipient == OUTBOX.c.recipient))
            .where(
                first.c.id.in_(list(firsts.values())),
                OUTBOX.c.status == OutboxStatus.PENDING.value,
                OUTBOX.c.id.not_in([m.id for m in messages]),
                _before(OUTBOX, first),
            )
            .distinct()
        )
        return {ConversationKey(ChannelName(r.channel), r.recipient) for r in await self.conn.execute(query)}

    async def defer(self, ids: Sequence[str], next_at: datetime) -> None:
        """Put messages back for later without counting an attempt (they waited their turn; nothing was tried)."""
        if ids:
            await self.conn.execute(
                update(OUTBOX).where(OUTBOX.c.id.in_(list(ids))).values(next_attempt_at=next_at, held_by=None)
            )

    async def drop_overtaken(self, now: datetime, older_than: timedelta, reason: str) -> list[tuple[str, str]]:
        """Mark STALE the due replies written before `now - older_than` that a later reply to their chat follows.

        Sent that late, a reply would answer a question the conversation has left (the citizen would answer an old
        menu where a later question was asked). Notices (`template` set) are never dropped. Returns their
        (channel, id).
        """
        old = await self.conn.execute(
            select(OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.recipient, OUTBOX.c.created_at, OUTBOX.c.payload).where(
                OUTBOX.c.status == OutboxStatus.PENDING.value,
                OUTBOX.c.next_attempt_at <= now,
                OUTBOX.c.created_at < now - older_than,
            )
        )
        candidates = [r for r in old if not r.payload.get("template")]
        if not candidates:
            return []
        chats = {(r.channel, r.recipient) for r in candidates}
        replies = await self.conn.execute(
            select(OUTBOX.c.id, OUTBOX.c.channel, OUTBOX.c.recipient, OUTBOX.c.created_at, OUTBOX.c.payload).where(
                tuple_(OUTBOX.c.channel, OUTBOX.c.recipient).in_(list(chats))
            )
        )
        latest: dict[tuple[str, str], tuple[datetime, str]] = {}
        for r in replies:
            if not r.payload.get("template"):
                chat = (r.channel, r.recipient)
                latest[chat] = max(latest.get(chat, (r.created_at, r.id)), (r.created_at, r.id))
        stale = [(r.channel, r.id) for r in candidates if latest[(r.channel, r.recipient)] > (r.created_at, r.id)]
        if stale:
            await self.conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_([i for _, i in stale]), OUTBOX.c.status == OutboxStatus.PENDING.value)
                .values(status=OutboxStatus.STALE.value, last_error=reason[:300], held_by=None)
            )
        return stale

    async def prune(self, before: datetime) -> int:
        """Delete finished messages (sent, failed, unreachable) created before a moment."""
        result = await self.conn.execute(
            delete(OUTBOX).where(OUTBOX.c.status != OutboxStatus.PENDING.value, OUTBOX.c.created_at < before)
        )
        return int(result.rowcount)

    async def oldest_pending(self) -> datetime | None:
        """Return when the oldest pending message was created."""
        query = select(func.min(OUTBOX.c.created_at)).where(OUTBOX.c.status == OutboxStatus.PENDING.value)
        moment: datetime | None = (await self.conn.execute(query)).scalar_one_or_none()  # typed as the column
        return moment

    async def cancel_for(self, channel: ChannelName, recipient: str, reason: str) -> int:
        """Stop every pending message to a chat; return how many."""
        result = await self.conn.execute(
            update(OUTBOX)
            .where(
                OUTBOX.c.channel == channel.value,
                OUTBOX.c.recipient == recipient,
                OUTBOX.c.status == OutboxStatus.PENDING.value,
            )
            .values(status=OutboxStatus.FAILED.value, last_error=reason)
        )
        return int(result.rowcount)

    async def pending_for(self, channel: ChannelName, recipient: str, limit: int = 100) -> list[Outbound]:
        """Return the pending messages to one chat, oldest first, whatever their next attempt (a console's own)."""
        query = (
            select(OUTBOX)
            .where(
                OUTBOX.c.channel == channel.value,
                OUTBOX.c.recipient == recipient,
                OUTBOX.c.status == OutboxStatus.PENDING.value,
            )
            .order_by(OUTBOX.c.created_at, OUTBOX.c.id)
            .limit(limit)
        )
        return [
            Outbound.from_payload(ConversationKey(channel, recipient), r.payload, r.id)
            for r in await self.conn.execute(query)
        ]

    async def counts(self) -> dict[str, int]:
        """Return how many messages are in each delivery state."""
        query = select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status)
        return {r[0]: int(r[1]) for r in await self.conn.execute(query)}

    async def for_recipient(self, channel: ChannelName, recipient: str) -> list[tuple[Outbound, str]]:
        """Return every message to one chat with its status, oldest first."""
        query = (
            select(OUTBOX)
            .where(and_(OUTBOX.c.channel == channel.value, OUTBOX.c.recipient == recipient))
            .order_by(OUTBOX.c.created_at, OUTBOX.c.id)
        )
        return [
            (Outbound.from_payload(ConversationKey(channel, recipient), r.payload, r.id), r.status)
            for r in await self.conn.execute(query)
        ]

    @staticmethod
    def _entry(row: Row[Any]) -> OutboxEntry:
        return OutboxEntry(
            id=row.id,
            channel=row.channel,
            recipient=row.recipient,
            text_key=str(row.payload.get("text_key", "")),
            status=row.status,
            attempts=int(row.attempts),
            created_at=row.created_at,
            sent_at=row.sent_at,
            last_error=row.last_error,
            platform_id=row.platform_id,
            platform_status=row.platform_status,
        )

    async def set_platform_ids(self, platform_ids: Mapping[str, str]) -> None:
        """Store the platform's message id of sent messages (outbox id -> platform id); statuses start afresh."""
        if platform_ids:
            await self.conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id == bindparam("b_id"))
                .values(platform_id=bindparam("b_platform"), platform_status=None),
                [{"b_id": k, "b_platform": v} for k, v in platform_ids.items()],
            )

    async def by_platform_id(self, channel: ChannelName, platform_id: str) -> list[OutboxEntry]:
        """Return the messages sent as the platform message `platform_id` (merged messages share one)."""
        query = select(OUTBOX).where(OUTBOX.c.channel == channel.value, OUTBOX.c.platform_id == platform_id)
        return [self._entry(r) for r in await self.conn.execute(query.order_by(OUTBOX.c.created_at, OUTBOX.c.id))]

    async def set_platform_status(self, ids: Sequence[str], status: str) -> None:
        """Record a delivery status; it only moves forward (sent < delivered < read) and never past failed."""
        lower = PLATFORM_STATUS_ORDER[: PLATFORM_STATUS_ORDER.index(status)] if status in PLATFORM_STATUS_ORDER else []
        if ids:
            await self.conn.execute(
                update(OUTBOX)
                .where(
                    OUTBOX.c.id.in_(list(ids)),
                    or_(OUTBOX.c.platform_status.is_(None), OUTBOX.c.platform_status.in_(lower)),
                )
                .values(platform_status=status)
            )

    async def reopen(self, ids: Sequence[str], error: str, next_at: datetime) -> None:
        """Put sent messages whose delivery failed back in the queue, to be sent again from `next_at`."""
        if ids:
            await self.conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(list(ids)))
                .values(
                    status=OutboxStatus.PENDING.value,
                    platform_status="failed",
                    platform_id=None,
                    last_error=error[:300],
                    next_attempt_at=next_at,
                )
            )

    async def fail_delivery(self, ids: Sequence[str], status: OutboxStatus, error: str) -> None:
        """Mark sent messages that the platform could not deliver as failed or unreachable, with the error."""
        if ids:
            await self.conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(list(ids)))
                .values(status=status.value, platform_status="failed", last_error=error[:300])
            )

    async def listing(
        self, status: OutboxStatus | None = None, channel: ChannelName | None = None, limit: int = 100
    ) -> list[OutboxEntry]:
        """Return the newest messages, optionally in one state and on one channel (for admins)."""
        query = select(OUTBOX).order_by(OUTBOX.c.created_at.desc(), OUTBOX.c.id).limit(limit)
        if status is not None:
            query = query.where(OUTBOX.c.status == status.value)
        if channel is not None:
            query = query.where(OUTBOX.c.channel == channel.value)
        return [self._entry(r) for r in await self.conn.execute(query)]


class StaffRepo(_Repo):
    """Officers, their invites, and the group chats linked to units."""

    @staticmethod
    def _staff(row: Row[Any]) -> Staff:
        return Staff(
            id=row.id,
            unit_id=row.unit_id,
            role=StaffRole(row.role),
            channel=row.channel,
            external_id=row.external_id,
            chat_id=row.chat_id,
            name=row.name,
            language=row.language,
        )

    async def set_language(self, channel: ChannelName, external_id: str, language: str) -> int:
        """Store the language an officer chose, on all their memberships; return how many."""
        result = await self.conn.execute(
            update(STAFF)
            .where(STAFF.c.channel == channel.value, STAFF.c.external_id == external_id)
            .values(language=language)
        )
        return int(result.rowcount)

    async def memberships(self, channel: ChannelName, external_id: str) -> list[Staff]:
        """Return the active unit memberships of a person on a channel."""
        query = (
            select(STAFF)
            .where(STAFF.c.channel == channel.value, STAFF.c.external_id == external_id, STAFF.c.active.is_(True))
            .order_by(STAFF.c.id)
        )
        return [self._staff(r) for r in await self.conn.execute(query)]

    async def for_unit(self, unit_id: int, roles: Sequence[StaffRole] | None = None) -> list[Staff]:
        """Return the active officers of a unit (optionally of some roles)."""
        query = select(STAFF).where(STAFF.c.unit_id == unit_id, STAFF.c.active.is_(True)).order_by(STAFF.c.id)
        if roles:
            query = query.where(STAFF.c.role.in_([r.value for r in roles]))
        return [self._staff(r) for r in await self.conn.execute(query)]

    async def join(
        self,
        unit_id: int,
        role: StaffRole,
        channel: ChannelName,
        external_id: str,
        chat_id: str,
        name: str,
        now: datetime,
    ) -> int:
        """Make a person an officer of a unit (or update their role there); return the membership id."""
        stmt = _upsert(self.conn, STAFF).values(
            unit_id=unit_id,
            role=role.value,
            channel=channel.value,
            external_id=external_id,
            chat_id=chat_id,
            name=name,
            active=True,
            created_at=now,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[STAFF.c.channel, STAFF.c.external_id, STAFF.c.unit_id],
            set_={
                "role": stmt.excluded.role,
                "chat_id": stmt.excluded.chat_id,
                "name": stmt.excluded.name,
                "active": True,
            },
        ).returning(STAFF.c.id)
        return int((await self.conn.execute(stmt)).scalar_one())

    async def add_invite(
        self, code_hash: str, unit_id: int, role: StaffRole, now: datetime, expires_at: datetime
    ) -> None:
        """Store a new invite (only the hash of its code)."""
        await self.conn.execute(
            insert(INVITES).values(
                code_hash=code_hash, unit_id=unit_id, role=role.value, created_at=now, expires_at=expires_at
            )
        )

    async def claim_invite(self, code_hash: str, now: datetime, used_by: str) -> tuple[int, StaffRole] | None:
        """Use up an unexpired, unused invite and return its (unit id, role); None if there is no such invite."""
        result = await self.conn.execute(
            update(INVITES)
            .where(INVITES.c.code_hash == code_hash, INVITES.c.used_at.is_(None), INVITES.c.expires_at > now)
            .values(used_at=now, used_by=used_by)
            .returning(INVITES.c.unit_id, INVITES.c.role)
        )
        row = result.first()
        return (int(row.unit_id), StaffRole(row.role)) if row else None

    async def link_chat(self, unit_id: int, channel: ChannelName, chat_id: str, now: datetime) -> None:
        """Link a group chat to a unit (idempotent)."""
        stmt = _upsert(self.conn, UNIT_CHATS).values(
            unit_id=unit_id, channel=channel.value, chat_id=chat_id, created_at=now
        )
        await self.conn.execute(
            stmt.on_conflict_do_nothing(
                index_elements=[UNIT_CHATS.c.channel, UNIT_CHATS.c.chat_id, UNIT_CHATS.c.unit_id]
            )
        )

    async def chats_of_unit(self, unit_id: int) -> list[ConversationKey]:
        """Return the group chats linked to a unit."""
        query = select(UNIT_CHATS).where(UNIT_CHATS.c.unit_id == unit_id).order_by(UNIT_CHATS.c.id)
        return [ConversationKey(ChannelName(r.channel), r.chat_id) for r in await self.conn.execute(query)]

    async def units_of_chat(self, channel: ChannelName, chat_id: str) -> list[int]:
        """Return the units a group chat is linked to."""
        query = select(UNIT_CHATS.c.unit_id).where(
            UNIT_CHATS.c.channel == channel.value, UNIT_CHATS.c.chat_id == chat_id
        )
        return [int(r[0]) for r in await self.conn.execute(query)]

    async def get(self, staff_id: int) -> Staff | None:
        """Return an active membership by its id."""
        query = select(STAFF).where(STAFF.c.id == staff_id, STAFF.c.active.is_(True))
        row = (await self.conn.execute(query)).first()
        return self._staff(row) if row else None

    async def deactivate(self, staff_id: int) -> None:
        """End a membership (kept for the records that name it; `join` with a new invite restores it)."""
        await self.conn.execute(update(STAFF).where(STAFF.c.id == staff_id).values(active=False))

    async def active_members(self, unit_id: int | None = None) -> list[Member]:
        """Return the active memberships (of one unit, or all) with their unit codes, by unit code then id."""
        query = (
            select(STAFF, UNITS.c.code.label("unit_code"))
            .join(UNITS, UNITS.c.id == STAFF.c.unit_id)
            .where(STAFF.c.active.is_(True))
            .order_by(UNITS.c.code, STAFF.c.id)
        )
        if unit_id is not None:
            query = query.where(STAFF.c.unit_id == unit_id)
        return [Member(self._staff(r), r.unit_code, r.created_at) for r in await self.conn.execute(query)]

    async def linked_groups(
        self, unit_id: int | None = None, channel: ChannelName | None = None, chat_id: str | None = None
    ) -> list[LinkedGroup]:
        """Return the group links (of one unit, or of one chat, or all), by unit code then id."""
        query = (
            select(UNIT_CHATS, UNITS.c.code.label("unit_code"))
            .join(UNITS, UNITS.c.id == UNIT_CHATS.c.unit_id)
            .order_by(UNITS.c.code, UNIT_CHATS.c.id)
        )
        if unit_id is not None:
            query = query.where(UNIT_CHATS.c.unit_id == unit_id)
        if channel is not None and chat_id is not None:
            query = query.where(UNIT_CHATS.c.channel == channel.value, UNIT_CHATS.c.chat_id == chat_id)
        return [
            LinkedGroup(r.id, r.unit_id, r.unit_code, r.channel, r.chat_id, r.created_at)
            for r in await self.conn.execute(query)
        ]

    async def linked_group(self, group_id: int) -> LinkedGroup | None:
        """Return one group link by its id."""
        query = (
            select(UNIT_CHATS, UNITS.c.code.label("unit_code"))
            .join(UNITS, UNITS.c.id == UNIT_CHATS.c.unit_id)
            .where(UNIT_CHATS.c.id == group_id)
        )
        r = (await self.conn.execute(query)).first()
        return LinkedGroup(r.id, r.unit_id, r.unit_code, r.channel, r.chat_id, r.created_at) if r else None

    async def unlink(self, group_id: int) -> None:
        """Remove a group link."""
        await self.conn.execute(delete(UNIT_CHATS).where(UNIT_CHATS.c.id == group_id))

    async def record_event(
        self,
        at: datetime,
        kind: StaffEventKind,
        unit_id: int,
        channel: str,
        *,
        staff_id: int | None = None,
        chat_id: str | None = None,
        by_staff_id: int | None = None,
        via: Via = Via.CLI,
        reason: str | None = None,
    ) -> None:
        """Record a change to a unit's staff or groups."""
        await self.conn.execute(
            insert(STAFF_EVENTS).values(
                at=at,
                kind=kind.value,
                unit_id=unit_id,
                channel=channel,
                staff_id=staff_id,
                chat_id=chat_id,
                by_staff_id=by_staff_id,
                via=via.value,
                reason=reason,
            )
        )

    async def events(self, unit_id: int | None = None, limit: int = 200) -> list[StaffEvent]:
        """Return the recorded staff changes, newest first."""
        subject, actor = STAFF.alias("subject"), STAFF.alias("actor")
        query = (
            select(
                STAFF_EVENTS,
                UNITS.c.code.label("unit_code"),
                subject.c.name.label("staff_name"),
                actor.c.name.label("by_name"),
            )
            .join(UNITS, UNITS.c.id == STAFF_EVENTS.c.unit_id)
            .outerjoin(subject, subject.c.id == STAFF_EVENTS.c.staff_id)
            .outerjoin(actor, actor.c.id == STAFF_EVENTS.c.by_staff_id)
            .order_by(STAFF_EVENTS.c.at.desc(), STAFF_EVENTS.c.id.desc())
            .limit(limit)
        )
        if unit_id is not None:
            query = query.where(STAFF_EVENTS.c.unit_id == unit_id)
        return [
            StaffEvent(
                at=r.at,
                kind=StaffEventKind(r.kind),
                unit_code=r.unit_code,
                channel=r.channel,
                staff_id=r.staff_id,
                staff_name=r.staff_name,
                chat_id=r.chat_id,
                by_name=r.by_name,
                via=Via(r.via),
                reason=r.reason,
            )
            for r in await self.conn.execute(query)
        ]


class LookupRepo(_Repo):
    """Failed status look-ups per chat (by a hash of the chat), kept only as long as the limit looks back."""

    async def failures_since(self, chat_hash: str, since: datetime) -> int:
        """Return how many look-ups of a chat failed since a moment."""
        query = select(func.count()).where(LOOKUP_FAILURES.c.chat_hash == chat_hash, LOOKUP_FAILURES.c.at >= since)
        return int((await self.conn.execute(query)).scalar_one())

    async def add_failure(self, chat_hash: str, at: datetime, forget_before: datetime) -> None:
        """Record a failed look-up, and forget every chat's failures older than `forget_before`."""
        await self.conn.execute(delete(LOOKUP_FAILURES).where(LOOKUP_FAILURES.c.at < forget_before))
        await self.conn.execute(insert(LOOKUP_FAILURES).values(chat_hash=chat_hash, at=at))


class AuditRepo(_Repo):
    """The log of officers viewing confidential reporters' identities."""

    async def identity_viewed(self, staff_id: int, complaint_id: int, at: datetime, via: str = "chat") -> None:
        """Record that an officer saw a confidential complaint's reporter (in chat, or on the web console)."""
        await self.conn.execute(
            insert(IDENTITY_VIEWS).values(staff_id=staff_id, complaint_id=complaint_id, at=at, via=via)
        )

    async def identity_views(self, since: datetime | None = None) -> list[tuple[datetime, str, str, str, str]]:
        """Return (time, officer name, unit code, channel or "web", complaint code), newest first."""
        where = case((IDENTITY_VIEWS.c.via == "web", "web"), else_=STAFF.c.channel)
        query = (
            select(IDENTITY_VIEWS.c.at, STAFF.c.name, UNITS.c.code, where, COMPLAINTS.c.code)
            .join(STAFF, STAFF.c.id == IDENTITY_VIEWS.c.staff_id)
            .join(UNITS, UNITS.c.id == STAFF.c.unit_id)
            .join(COMPLAINTS, COMPLAINTS.c.id == IDENTITY_VIEWS.c.complaint_id)
            .order_by(IDENTITY_VIEWS.c.at.desc(), IDENTITY_VIEWS.c.id.desc())
        )
        if since is not None:
            query = query.where(IDENTITY_VIEWS.c.at >= since)
        return [(r[0], r[1], r[2], r[3], r[4]) for r in await self.conn.execute(query)]


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """One stored update as admins see it (no payload: it holds names and texts)."""

    id: int
    channel: str
    external_id: str
    status: str
    attempts: int
    received_at: datetime
    last_error: str | None


class InboxRepo(_Repo):
    """Raw platform updates, stored before they are acknowledged and drained by the processor."""

    async def add(
        self, channel: ChannelName, external_id: str, payload: dict[str, Any], now: datetime, chat_hash: int = 0
    ) -> bool:
        """Store an update unless it was stored before; return whether it is new."""
        stmt = _upsert(self.conn, INBOX).values(
            channel=channel.value,
            external_id=external_id,
            payload=payload,
            status=InboxStatus.PENDING.value,
            attempts=0,
            received_at=now,
            chat_hash=chat_hash,
        )
        stmt = stmt.on_conflict_do_nothing(index_elements=[INBOX.c.channel, INBOX.c.external_id])
        result = await self.conn.execute(stmt.returning(INBOX.c.id))
        return result.first() is not None

    async def add_many(
        self, updates: Sequence[tuple[ChannelName, str, dict[str, Any], int]], now: datetime
    ) -> set[tuple[str, str]]:
        """Store (channel, external id, payload, chat hash) updates at once; return the keys not stored before."""
        if not updates:
            return set()
        rows = [
            {
                "channel": channel.value,
                "external_id": external_id,
                "payload": payload,
                "status": InboxStatus.PENDING.value,
                "attempts": 0,
                "received_at": now,
                "chat_hash": chat_hash,
            }
            for channel, external_id, payload, chat_hash in updates
        ]
        # One statement shape whatever the batch size (executemany with RETURNING): SQLAlchemy compiles it once
        # and batches the rows itself, where `.values(rows)` compiled a new statement for every batch size.
        stmt = _upsert(self.conn, INBOX).on_conflict_do_nothing(index_elements=[INBOX.c.channel, INBOX.c.external_id])
        result = await self.conn.execute(stmt.returning(INBOX.c.channel, INBOX.c.external_id), rows)
        return {(str(r.channel), str(r.external_id)) for r in result}

    async def pending(
        self, limit: int = 200, channel: ChannelName | None = None, shard: tuple[int, int] = (0, 1)
    ) -> list[tuple[int, str, dict[str, Any], int]]:
        """Return pending updates of one shard (index, count) in arrival order as (id, channel, payload, attempts)."""
        query = (
            select(INBOX.c.id, INBOX.c.channel, INBOX.c.payload, INBOX.c.attempts)
            .where(INBOX.c.status == InboxStatus.PENDING.value)
            .order_by(INBOX.c.id)
            .limit(limit)
        )
        index, count = shard
        if count > 1:
            query = query.where(INBOX.c.chat_hash % count == index)
        if channel is not None:
            query = query.where(INBOX.c.channel == channel.value)
        return [(int(r.id), r.channel, dict(r.payload), int(r.attempts)) for r in await self.conn.execute(query)]

    async def finish(self, ids: Sequence[int], now: datetime) -> None:
        """Mark updates as processed."""
        if ids:
            await self.conn.execute(
                update(INBOX).where(INBOX.c.id.in_(list(ids))).values(status=InboxStatus.DONE.value, processed_at=now)
            )

    async def fail(self, inbox_id: int, error: str, final: bool) -> None:
        """Count a failed attempt; a final failure stops retries."""
        values: dict[str, Any] = {"attempts": INBOX.c.attempts + 1, "last_error": error[:300]}
        if final:
            values["status"] = InboxStatus.FAILED.value
        await self.conn.execute(update(INBOX).where(INBOX.c.id == inbox_id).values(**values))

    async def prune(self, before: datetime) -> int:
        """Delete processed or failed raw updates received before a moment (they hold names and ids)."""
        result = await self.conn.execute(
            delete(INBOX).where(INBOX.c.status != InboxStatus.PENDING.value, INBOX.c.received_at < before)
        )
        return int(result.rowcount)

    async def counts(self) -> dict[str, int]:
        """Return how many updates are in each state."""
        query = select(INBOX.c.status, func.count()).group_by(INBOX.c.status)
        return {r[0]: int(r[1]) for r in await self.conn.execute(query)}

    async def listing(
        self, status: str | None = None, channel: ChannelName | None = None, limit: int = 100
    ) -> list[InboxEntry]:
        """Return the newest stored updates, optionally in one state and on one channel (for admins)."""
        query = (
            select(
                INBOX.c.id,
                INBOX.c.channel,
                INBOX.c.external_id,
                INBOX.c.status,
                INBOX.c.attempts,
                INBOX.c.received_at,
                INBOX.c.last_error,
            )
            .order_by(INBOX.c.id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(INBOX.c.status == status)
        if channel is not None:
            query = query.where(INBOX.c.channel == channel.value)
        return [
            InboxEntry(
                id=int(r.id),
                channel=r.channel,
                external_id=r.external_id,
                status=r.status,
                attempts=int(r.attempts),
                received_at=r.received_at,
                last_error=r.last_error,
            )
            for r in await self.conn.execute(query)
        ]


class SecretRepo(_Repo):
    """Secrets the application makes for itself, one per name, shared by every process on the database."""

    async def get_or_add(self, name: str, candidate: str, now: datetime) -> str:
        """Return the secret stored under `name`, storing `candidate` first if there is none (the first one wins)."""
        stmt = _upsert(self.conn, APP_SECRETS).values(name=name, value=candidate, created_at=now)
        await self.conn.execute(stmt.on_conflict_do_nothing(index_elements=[APP_SECRETS.c.name]))
        found = await self.conn.execute(select(APP_SECRETS.c.value).where(APP_SECRETS.c.name == name))
        return str(found.scalar_one())


class JobRepo(_Repo):
    """Idempotency marks for scheduled work, and the citizens' ratings of resolutions."""

    async def mark(self, key: str, now: datetime) -> bool:
        """Record that `key` was done; return False if it was recorded before (then do nothing)."""
        stmt = _upsert(self.conn, JOB_MARKS).values(key=key, created_at=now)
        result = await self.conn.execute(
            stmt.on_conflict_do_nothing(index_elements=[JOB_MARKS.c.key]).returning(JOB_MARKS.c.key)
        )
        return result.first() is not None

    async def rating(self, complaint_id: int, round_: int) -> tuple[str | None, int | None] | None:
        """Return (solved, score) given for a resolution round, if any."""
        row = (
            await self.conn.execute(
                select(RATINGS.c.solved, RATINGS.c.score).where(
                    RATINGS.c.complaint_id == complaint_id, RATINGS.c.round == round_
                )
            )
        ).first()
        return (row.solved, row.score) if row else None

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
        stmt = _upsert(self.conn, RATINGS).values(
            complaint_id=complaint_id, round=round_, unit_id=unit_id, created_at=now, **values
        )
        await self.conn.execute(
            stmt.on_conflict_do_update(index_elements=[RATINGS.c.complaint_id, RATINGS.c.round], set_=values)
        )

    async def ratings(self, complaint_id: int) -> list[tuple[int, str | None, int | None, datetime]]:
        """Return a complaint's ratings as (round, solved, score, last changed), oldest round first."""
        query = (
            select(RATINGS.c.round, RATINGS.c.solved, RATINGS.c.score, RATINGS.c.updated_at)
            .where(RATINGS.c.complaint_id == complaint_id)
            .order_by(RATINGS.c.round)
        )
        return [(int(r[0]), r[1], r[2], r[3]) for r in await self.conn.execute(query)]

    async def scores(self, unit_id: int | None, since: datetime, until: datetime) -> list[int]:
        """Return the handling scores given in a period (for one unit, or all)."""
        query = select(RATINGS.c.score).where(
            RATINGS.c.score.is_not(None), RATINGS.c.updated_at >= since, RATINGS.c.updated_at < until
        )
        if unit_id is not None:
            query = query.where(RATINGS.c.unit_id == unit_id)
        return [int(r[0]) for r in await self.conn.execute(query)]


_OUTBOX_SEQUENCE = itertools.count()
_CLAIM_LOCK = 0x5357_0B0C  # PostgreSQL advisory lock key: outbox claimers take turns


def _before(a: Any, b: Any) -> Any:
    """Return the condition "outbox row `a` was written before row `b`" (the outbox's (created_at, id) order)."""
    return or_(a.c.created_at < b.c.created_at, and_(a.c.created_at == b.c.created_at, a.c.id < b.c.id))


def _outbox_id() -> str:
    """Return a unique outbox id that sorts after the ids made before it.

    The rows of one commit share `created_at`, and the outbox is read in (created_at, id) order: a random id would
    let a chat's later message of the same turn overtake an earlier one when both are retried.
    """
    return f"{time.time_ns():016x}-{next(_OUTBOX_SEQUENCE) % 0x1000000:06x}-{uuid.uuid4().hex[:12]}"


def _with_id(message: Outbound) -> Outbound:
    if message.id:
        return message
    return dataclasses.replace(message, id=_outbox_id())


class SqlUnitOfWork:
    """A unit of work on one database connection and transaction."""

    units: UnitRepo
    categories: CategoryRepo
    citizens: CitizenRepo
    complaints: ComplaintRepo
    conversations: ConversationRepo
    inbound: InboundRepo
    outbox: OutboxRepo
    staff: StaffRepo
    inbox: InboxRepo
    jobs: JobRepo
    surveys: SurveyRepo
    lookups: LookupRepo
    secrets: SecretRepo
    statistics: StatisticsRepo
    queue: QueueRepository
    staff_sessions: StaffSessionRepository

    def __init__(self, engine: AsyncEngine, tz: tzinfo) -> None:
        """Work on the engine's database; `tz` is the city's timezone (the IKM roll-up counts its days)."""
        self._engine = engine
        self._tz = tz
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        """Open a connection and begin a transaction."""
        self._conn = await self._engine.connect()
        await self._conn.begin()
        conn = self._conn
        self.units, self.categories = UnitRepo(conn), CategoryRepo(conn)
        self.citizens, self.complaints = CitizenRepo(conn), ComplaintRepo(conn)
        self.conversations, self.inbound = ConversationRepo(conn), InboundRepo(conn)
        self.outbox = OutboxRepo(conn)
        self.staff, self.inbox = StaffRepo(conn), InboxRepo(conn)
        self.jobs = JobRepo(conn)
        self.audit = AuditRepo(conn)
        self.surveys = SurveyRepo(conn, self._tz)
        self.lookups = LookupRepo(conn)
        self.secrets = SecretRepo(conn)
        from suarawarga.storage.statistics_sql import StatisticsRepo  # it reads this module's tables

        self.statistics = StatisticsRepo(conn)
        from suarawarga.storage.queue_sql import QueueRepo  # the staff console's reads

        self.queue = QueueRepo(conn)
        from suarawarga.storage.staffweb_sql import StaffSessionRepo  # it reads this module's tables

        self.staff_sessions = StaffSessionRepo(conn)
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Roll back anything not committed and return the connection to the pool."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                if conn.in_transaction():
                    await conn.rollback()
            finally:
                await conn.close()

    async def commit(self) -> None:
        """Commit, and begin a new transaction on the same connection."""
        if self._conn is None:
            raise RuntimeError("commit() outside 'async with'")
        await self._conn.commit()
        await self._conn.begin()

    async def rollback(self) -> None:
        """Roll back, and begin a new transaction on the same connection."""
        if self._conn is None:
            raise RuntimeError("rollback() outside 'async with'")
        await self._conn.rollback()
        await self._conn.begin()


__all__ = ["InboxStatus", "OutboxStatus", "SqlUnitOfWork"]
