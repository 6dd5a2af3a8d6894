"""Tables of the message path: conversation state, inbox, processed ids, outbox and chat activity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suarawarga.storage.orm.base import Base

__all__ = ["ChatActivityRow", "ConversationRow", "InboxRow", "OutboxRow", "ProcessedInboundRow"]


class ConversationRow(Base):
    """Where a chat is in its conversation."""

    __tablename__ = "conversations"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow: Mapped[str | None] = mapped_column(String(32))
    step: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    choices: Mapped[dict[str, Any]] = mapped_column(JSON)
    language: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime]
    # A flow left with `menu` (its step and data), kept until parked_at + a day so that `lanjut` resumes it.
    parked: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    parked_at: Mapped[datetime | None] = mapped_column(index=True)


class ProcessedInboundRow(Base):
    """An inbound message already handled: a second delivery of it is dropped."""

    __tablename__ = "processed_inbound"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    processed_at: Mapped[datetime]


class OutboxRow(Base):
    """A message waiting to be sent, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        # A chat's messages in the order written: a message waits while an earlier one is pending.
        Index("ix_outbox_chat", "channel", "recipient", "created_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    # The platform's id of the sent message (WhatsApp wamid), to match its delivery statuses.
    platform_id: Mapped[str | None] = mapped_column(String(128), index=True)
    platform_status: Mapped[str | None] = mapped_column(String(16))  # sent < delivered < read; or failed
    # Which process's pump holds a fresh message (its shard, "0/1"): restarted, it releases them at once.
    held_by: Mapped[str | None] = mapped_column(String(32))


class ChatActivityRow(Base):
    """When a chat last wrote to us: WhatsApp allows free-form messages only within 24 hours of that."""

    __tablename__ = "chat_activity"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_inbound_at: Mapped[datetime]


class InboxRow(Base):
    """A raw update from a platform, stored before it is acknowledged so an acknowledged update is never lost."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_inbox_status_id", "status", "id"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    # Which serve process drains the row: the one whose shard number is chat_hash % shard count.
    chat_hash: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
