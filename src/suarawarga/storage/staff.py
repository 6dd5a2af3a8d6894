"""The port of officers, invites, linked group chats and the staff change log.

No SQLAlchemy here: the SQL implementation is in `staff_sql.py`; a test or a fake may implement these too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from suarawarga.bot.messages import ChannelName, ConversationKey
from suarawarga.complaints.model import (
    Staff,
    StaffRole,
)
from suarawarga.complaints.staffing import LinkedGroup, Member, StaffEvent, StaffEventKind, Via


@dataclass(frozen=True, slots=True)
class ClaimedInvite:
    """What a used-up invite grants: a role in a unit."""

    unit_id: int
    role: StaffRole


class StaffRepository(Protocol):
    """Officers, their invites, and the group chats linked to units."""

    async def set_language(self, channel: ChannelName, external_id: str, language: str) -> int:
        """Store the language an officer chose, on all their memberships; return how many."""
        ...

    async def memberships(self, channel: ChannelName, external_id: str) -> list[Staff]:
        """Return the active unit memberships of a person on a channel."""
        ...

    async def for_unit(self, unit_id: int, roles: Sequence[StaffRole] | None = None) -> list[Staff]:
        """Return the active officers of a unit (optionally of some roles)."""
        ...

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
        ...

    async def add_invite(
        self, code_hash: str, unit_id: int, role: StaffRole, now: datetime, expires_at: datetime
    ) -> None:
        """Store a new invite (only the hash of its code)."""
        ...

    async def claim_invite(self, code_hash: str, now: datetime, used_by: str) -> ClaimedInvite | None:
        """Use up an unexpired, unused invite and return what it grants; None if there is no such invite."""
        ...

    async def link_chat(self, unit_id: int, channel: ChannelName, chat_id: str, now: datetime) -> None:
        """Link a group chat to a unit (idempotent)."""
        ...

    async def chats_of_unit(self, unit_id: int) -> list[ConversationKey]:
        """Return the group chats linked to a unit."""
        ...

    async def units_of_chat(self, channel: ChannelName, chat_id: str) -> list[int]:
        """Return the units a group chat is linked to."""
        ...

    async def get(self, staff_id: int) -> Staff | None:
        """Return an active membership by its id."""
        ...

    async def deactivate(self, staff_id: int) -> None:
        """End a membership (kept for the records that name it; `join` with a new invite restores it)."""
        ...

    async def active_members(self, unit_id: int | None = None) -> list[Member]:
        """Return the active memberships (of one unit, or all) with their unit codes, by unit code then id."""
        ...

    async def linked_groups(
        self, unit_id: int | None = None, channel: ChannelName | None = None, chat_id: str | None = None
    ) -> list[LinkedGroup]:
        """Return the group links (of one unit, or of one chat, or all), by unit code then id."""
        ...

    async def linked_group(self, group_id: int) -> LinkedGroup | None:
        """Return one group link by its id."""
        ...

    async def unlink(self, group_id: int) -> None:
        """Remove a group link."""
        ...

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
        ...

    async def events(self, unit_id: int | None = None, limit: int = 200) -> list[StaffEvent]:
        """Return the recorded staff changes, newest first."""
        ...
