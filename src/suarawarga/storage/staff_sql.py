"""SQL repository of officers, their invites, the group chats linked to units and the staff change log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Row

from suarawarga.bot.messages import ChannelName, ConversationKey
from suarawarga.complaints.model import (
    Staff,
    StaffRole,
)
from suarawarga.complaints.staffing import LinkedGroup, Member, StaffEvent, StaffEventKind, Via
from suarawarga.storage.base_sql import (
    INVITES,
    STAFF,
    STAFF_EVENTS,
    UNIT_CHATS,
    UNITS,
    SqlRepo,
    upsert,
)
from suarawarga.storage.staff import ClaimedInvite

# A new complaint's notice reads its unit's officers and groups: built once (complaints_sql.py says why).
_OF_UNIT = select(STAFF).where(STAFF.c.unit_id == bindparam("unit"), STAFF.c.active.is_(True)).order_by(STAFF.c.id)
_CHATS_OF_UNIT = select(UNIT_CHATS).where(UNIT_CHATS.c.unit_id == bindparam("unit")).order_by(UNIT_CHATS.c.id)


class StaffRepo(SqlRepo):
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
        wanted = {role.value for role in roles} if roles else None  # a unit has a few officers: filtered here
        rows = await self.conn.execute(_OF_UNIT, {"unit": unit_id})
        return [self._staff(r) for r in rows if wanted is None or r.role in wanted]

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
        stmt = upsert(self.conn, STAFF).values(
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

    async def claim_invite(self, code_hash: str, now: datetime, used_by: str) -> ClaimedInvite | None:
        """Use up an unexpired, unused invite and return what it grants; None if there is no such invite."""
        result = await self.conn.execute(
            update(INVITES)
            .where(INVITES.c.code_hash == code_hash, INVITES.c.used_at.is_(None), INVITES.c.expires_at > now)
            .values(used_at=now, used_by=used_by)
            .returning(INVITES.c.unit_id, INVITES.c.role)
        )
        row = result.first()
        return ClaimedInvite(int(row.unit_id), StaffRole(row.role)) if row else None

    async def link_chat(self, unit_id: int, channel: ChannelName, chat_id: str, now: datetime) -> None:
        """Link a group chat to a unit (idempotent)."""
        stmt = upsert(self.conn, UNIT_CHATS).values(
            unit_id=unit_id, channel=channel.value, chat_id=chat_id, created_at=now
        )
        await self.conn.execute(
            stmt.on_conflict_do_nothing(
                index_elements=[UNIT_CHATS.c.channel, UNIT_CHATS.c.chat_id, UNIT_CHATS.c.unit_id]
            )
        )

    async def chats_of_unit(self, unit_id: int) -> list[ConversationKey]:
        """Return the group chats linked to a unit."""
        rows = await self.conn.execute(_CHATS_OF_UNIT, {"unit": unit_id})
        return [ConversationKey(ChannelName(r.channel), r.chat_id) for r in rows]

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
