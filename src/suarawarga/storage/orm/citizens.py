"""Tables of citizens: the citizen, their consents and their account on each channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suarawarga.storage.orm.base import Base

__all__ = ["ChannelIdentityRow", "CitizenRow", "ConsentRow"]


class CitizenRow(Base):
    """A citizen; identities on each channel point here."""

    __tablename__ = "citizens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime]
    consent_at: Mapped[datetime | None]
    language: Mapped[str] = mapped_column(String(8), default="id")


class ConsentRow(Base):
    """A citizen's consent to one purpose (complaints, the survey): when, and to which notice text."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("citizen_id", "purpose"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    given_at: Mapped[datetime]
    text_version: Mapped[str] = mapped_column(String(80))


class ChannelIdentityRow(Base):
    """A citizen's account on one channel (Telegram user id, WhatsApp wa_id, console session)."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizens.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="id")
    created_at: Mapped[datetime]
    last_inbound_at: Mapped[datetime | None]
