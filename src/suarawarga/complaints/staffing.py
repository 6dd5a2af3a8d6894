"""Who is on a unit's staff: listing, removing officers and unlinking groups, each change recorded.

Use cases on an open unit of work (the caller commits). A change is made by an admin at the CLI (`by` is None)
or in chat by a head of the unit or a city admin (`by` is their membership); every change is a staff event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from suarawarga.bot.messages import ChannelName, ConversationKey, Outbound
from suarawarga.complaints.model import Staff, StaffRole, Unit
from suarawarga.errors import NotAllowed, NotFound
from suarawarga.storage.uow import UnitOfWork

REASON_MAX = 300


class StaffEventKind(StrEnum):
    """What happened to a unit's staff; persisted by name."""

    JOINED = "joined"
    LINKED = "linked"
    REMOVED = "removed"
    UNLINKED = "unlinked"


class Via(StrEnum):
    """Where a staff change was made."""

    CHAT = "chat"
    CLI = "cli"


@dataclass(frozen=True, slots=True)
class Member:
    """An active membership as listed: the officer and when they joined."""

    staff: Staff
    unit_code: str
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class LinkedGroup:
    """A group chat linked to a unit."""

    id: int
    unit_id: int
    unit_code: str
    channel: str
    chat_id: str
    linked_at: datetime


@dataclass(frozen=True, slots=True)
class StaffEvent:
    """One recorded staff change."""

    at: datetime
    kind: StaffEventKind
    unit_code: str
    channel: str
    staff_id: int | None
    staff_name: str | None
    chat_id: str | None
    by_name: str | None  # None: an admin at the CLI
    via: Via
    reason: str | None


@dataclass(frozen=True, slots=True)
class Roster:
    """The active officers and linked groups of one unit (or of every unit)."""

    members: list[Member]
    groups: list[LinkedGroup]


def can_manage(manager: Staff, unit_id: int, city_admin_unit_id: int | None) -> bool:
    """Tell whether a membership may remove a unit's officers and unlink its groups (its head, or a city admin)."""
    if manager.role is StaffRole.ADMIN:
        return True
    if manager.role is not StaffRole.HEAD:
        return False
    return manager.unit_id == unit_id or (city_admin_unit_id is not None and manager.unit_id == city_admin_unit_id)


async def unit_by_code(uow: UnitOfWork, code: str) -> Unit:
    """Return a unit by its code, in any letter case; NotFound otherwise."""
    unit = await uow.units.by_code(code.strip().upper())
    if unit is None:
        raise NotFound(code)
    return unit


async def roster(uow: UnitOfWork, unit: Unit | None = None) -> Roster:
    """Return the active officers and linked groups of a unit, or of every unit."""
    unit_id = unit.id if unit is not None else None
    return Roster(await uow.staff.active_members(unit_id), await uow.staff.linked_groups(unit_id))


async def _check_manager(uow: UnitOfWork, by: Staff | None, unit_id: int) -> None:
    if by is None:
        return
    admin = await uow.units.city_admin()
    if not can_manage(by, unit_id, admin.id if admin else None):
        raise NotAllowed("only the head of the unit or a city admin manages its staff")


async def remove_member(
    uow: UnitOfWork, staff_id: int, now: datetime, *, by: Staff | None = None, reason: str | None = None
) -> Staff:
    """Remove an officer from a unit: their buttons, commands and console sessions stop at once; recorded."""
    member = await uow.staff.get(staff_id)
    if member is None:
        raise NotFound(f"staff {staff_id}")
    await _check_manager(uow, by, member.unit_id)
    await uow.staff.deactivate(member.id)
    await uow.staff_sessions.end_for_staff([member.id], now)  # signed out of the web console at once
    await uow.staff.record_event(
        now,
        StaffEventKind.REMOVED,
        member.unit_id,
        member.channel,
        staff_id=member.id,
        by_staff_id=by.id if by else None,
        via=Via.CHAT if by else Via.CLI,
        reason=(reason or "").strip()[:REASON_MAX] or None,
    )
    return member


GROUP_LANGUAGE = "id"  # OPD groups work in Indonesian; an officer's own chat uses the language they chose


def removal_notice(member: Staff, unit_name: str) -> Outbound:
    """Return the message that tells a removed officer (in their language) that they no longer act for the unit."""
    key = ConversationKey(ChannelName(member.channel), member.chat_id)
    return Outbound(key=key, text_key="staff.removed_you", params={"unit": unit_name}, language=member.language)


def unlink_notice(group: LinkedGroup, unit_name: str) -> Outbound:
    """Return the message that tells an unlinked group it no longer receives the unit's complaints."""
    key = ConversationKey(ChannelName(group.channel), group.chat_id)
    return Outbound(key=key, text_key="staff.unlinked_here", params={"unit": unit_name}, language=GROUP_LANGUAGE)


async def unlink_group(
    uow: UnitOfWork, group_id: int, now: datetime, *, by: Staff | None = None, reason: str | None = None
) -> LinkedGroup:
    """Stop posting a unit's complaints to a group chat; recorded as an event."""
    group = await uow.staff.linked_group(group_id)
    if group is None:
        raise NotFound(f"group {group_id}")
    await _check_manager(uow, by, group.unit_id)
    await uow.staff.unlink(group.id)
    await uow.staff.record_event(
        now,
        StaffEventKind.UNLINKED,
        group.unit_id,
        group.channel,
        chat_id=group.chat_id,
        by_staff_id=by.id if by else None,
        via=Via.CHAT if by else Via.CLI,
        reason=(reason or "").strip()[:REASON_MAX] or None,
    )
    return group


async def groups_of_chat(uow: UnitOfWork, channel: ChannelName, chat_id: str) -> list[LinkedGroup]:
    """Return the links of one group chat (to one or more units)."""
    return await uow.staff.linked_groups(None, channel, chat_id)


async def history(uow: UnitOfWork, unit: Unit | None = None, limit: int = 200) -> list[StaffEvent]:
    """Return the recorded staff changes, newest first (of one unit, or of every unit)."""
    return await uow.staff.events(unit.id if unit is not None else None, limit)
