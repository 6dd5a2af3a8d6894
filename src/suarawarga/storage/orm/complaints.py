"""Tables of complaints: the complaint, its history, its files, its ratings and its supporters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suarawarga.storage.orm.base import Base

__all__ = ["AttachmentRow", "ComplaintEventRow", "ComplaintRow", "RatingRow", "SupportRow"]


class ComplaintRow(Base):
    """A complaint."""

    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_unit_status", "unit_id", "status"),
        Index("ix_complaints_citizen_filed", "citizen_id", "filed_at"),
        # Public statistics: complaints filed in a window, and those open now.
        Index("ix_complaints_filed_at", "filed_at"),
        Index("ix_complaints_status_filed", "status", "filed_at"),
        # Duplicate look-up: a bounding box of one category, and one category in one kecamatan (docs/complaints.md §7).
        Index("ix_complaints_category_lat_lon", "category_id", "latitude", "longitude"),
        Index("ix_complaints_category_kecamatan", "category_id", "kecamatan_id", "filed_at", "status", "place_key"),
        # The staff queue: a member's units, or one kecamatan or category, in filing order.
        Index("ix_complaints_unit_filed", "unit_id", "filed_at"),
        Index("ix_complaints_kecamatan_filed", "kecamatan_id", "filed_at"),
        Index("ix_complaints_category_filed", "category_id", "filed_at"),
        # Covering indexes of the statistics' aggregates: the window's outcomes, and what is open now.
        Index("ix_complaints_outcomes", "filed_at", "unit_id", "resolve_seconds", "resolved_in_time", "merged_into_id"),
        Index("ix_complaints_open", "status", "unit_id", "category_id", "filed_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(24))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("service_units.id"))
    kecamatan_id: Mapped[int | None] = mapped_column(ForeignKey("service_units.id"))
    description: Mapped[str] = mapped_column(Text)
    identity_mode: Mapped[str] = mapped_column(String(16))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id", ondelete="SET NULL"))
    channel: Mapped[str | None] = mapped_column(String(16))
    chat_id: Mapped[str | None] = mapped_column(String(64))
    reporter_name: Mapped[str | None] = mapped_column(String(100))
    reporter_contact: Mapped[str | None] = mapped_column(String(40))
    location_text: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    language: Mapped[str] = mapped_column(String(8))
    filed_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"), index=True)  # closed as duplicate
    place_key: Mapped[str | None] = mapped_column(String(120))  # the typed address's street, normalised (§8)
    # The first resolution as the domain judged it when it happened (complaints.statistics.resolution).
    first_resolved_at: Mapped[datetime | None]
    resolve_seconds: Mapped[int | None] = mapped_column(Integer)
    resolved_in_time: Mapped[bool | None] = mapped_column(Boolean)


class ComplaintEventRow(Base):
    """One entry of a complaint's history: status changes, replies, reminders."""

    __tablename__ = "complaint_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(24))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("service_units.id"))
    note: Mapped[str | None] = mapped_column(Text)


class AttachmentRow(Base):
    """A file's metadata; the bytes live under the attachment directory, not in the database."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(300))
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class RatingRow(Base):
    """The citizen's verdict on a resolution: solved or not, and a 1–4 rating of the handling."""

    __tablename__ = "complaint_ratings"
    __table_args__ = (UniqueConstraint("complaint_id", "round"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)  # the n-th resolution of this complaint
    unit_id: Mapped[int] = mapped_column(ForeignKey("service_units.id"), index=True)
    solved: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SupportRow(Base):
    """A citizen who said "saya juga mengalami": they follow a complaint instead of filing the same one again.

    Personal fields follow the supporter's own identity choice (anonim keeps none); `hapusdata` blanks them and the
    citizen link. `merged_from_id`: the support came from an officer merging that complaint into this one.
    """

    __tablename__ = "complaint_supports"
    __table_args__ = (Index("ix_complaint_supports_complaint", "complaint_id", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    chat_id: Mapped[str | None] = mapped_column(String(64))
    identity_mode: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(100))
    contact: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    merged_from_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    via: Mapped[str] = mapped_column(String(8))  # "chat": said "Ya, sama"; "merge": reporter of a merged complaint
    files: Mapped[list[str] | None] = mapped_column(JSON)  # photos the supporter added (erased with them)
    solved: Mapped[str | None] = mapped_column(String(16))  # the supporter's own verdict on the resolution
    score: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None]
