"""Tables the application keeps about its own work: job marks, its secrets, identity views, failed look-ups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from suarawarga.storage.orm.base import Base

__all__ = ["AppSecretRow", "IdentityViewRow", "JobMarkRow", "LookupFailureRow"]


class JobMarkRow(Base):
    """A unique key per thing a job did once (an alert, a digest, a closure): reruns find it and skip."""

    __tablename__ = "job_marks"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    created_at: Mapped[datetime]


class AppSecretRow(Base):
    """A secret the application made for itself on first setup (the key of the log's sender tags); never logged."""

    __tablename__ = "app_secrets"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class IdentityViewRow(Base):
    """An officer looked at the reporter of a confidential complaint: who, which complaint, when."""

    __tablename__ = "identity_views"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), index=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    via: Mapped[str] = mapped_column(String(8), server_default="chat")  # "chat" or "web" (the staff console)


class LookupFailureRow(Base):
    """A status look-up that found nothing, kept for an hour to limit code guessing per chat."""

    __tablename__ = "lookup_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_hash: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of channel:chat id, not the id
    at: Mapped[datetime] = mapped_column(index=True)
