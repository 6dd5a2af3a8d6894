"""Tables of officers: members, invites, linked group chats, the staff record and the web console's sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suarawarga.storage.orm.base import Base

__all__ = ["StaffEventRow", "StaffInviteRow", "StaffLoginTokenRow", "StaffMemberRow", "StaffSessionRow", "UnitChatRow"]


class StaffMemberRow(Base):
    """An officer of a unit, known by their account on one channel."""

    __tablename__ = "staff_members"
    __table_args__ = (UniqueConstraint("channel", "external_id", "unit_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("service_units.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    language: Mapped[str] = mapped_column(String(8), default="id", server_default="id")


class StaffInviteRow(Base):
    """A one-time code that makes its user an officer of a unit, or links a group chat to it."""

    __tablename__ = "staff_invites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("service_units.id"))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[str | None] = mapped_column(String(100))


class UnitChatRow(Base):
    """A group chat linked to a unit: new complaints of that unit are posted there."""

    __tablename__ = "unit_chats"
    __table_args__ = (UniqueConstraint("channel", "chat_id", "unit_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("service_units.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class StaffEventRow(Base):
    """The record of who joined, left or was removed from a unit's staff, and of groups linked and unlinked."""

    __tablename__ = "staff_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int] = mapped_column(ForeignKey("service_units.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str | None] = mapped_column(String(64))  # the group, for links and unlinks
    by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"))  # None: an admin at the CLI
    via: Mapped[str] = mapped_column(String(8))  # "chat" or "cli"
    reason: Mapped[str | None] = mapped_column(String(300))


class StaffLoginTokenRow(Base):
    """A one-time sign-in link for the staff console, asked for in chat; only the token's hash is kept."""

    __tablename__ = "staff_login_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class StaffSessionRow(Base):
    """A signed-in browser of the staff console; only the cookie's hash is kept."""

    __tablename__ = "staff_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
