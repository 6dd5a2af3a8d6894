"""Declarative SQLAlchemy 2 models: the schema that Alembic migrations must reproduce; every model is `<Thing>Row`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class AwareDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes and store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to an aware column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to values read back without a zone."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every model, with constraint names Alembic can track."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: AwareDateTime(), dict[str, Any]: JSON()}


class UnitRow(Base):
    """An OPD or a sub-unit (puskesmas, kecamatan, kelurahan) with a stable code."""

    __tablename__ = "service_units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("service_units.id"), index=True)
    oversight: Mapped[bool] = mapped_column(Boolean, default=False)
    city_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    population: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PlaceNameRow(Base):
    """A place name (a kelurahan) inside a kecamatan, from the seed: it locates a typed address."""

    __tablename__ = "place_names"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("service_units.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))


class CityAreaRow(Base):
    """The rectangle around the city, from the seed: a shared location outside it is questioned."""

    __tablename__ = "city_area"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    south: Mapped[float] = mapped_column(Float)
    west: Mapped[float] = mapped_column(Float)
    north: Mapped[float] = mapped_column(Float)
    east: Mapped[float] = mapped_column(Float)


class CityRow(Base):
    """The city the seed describes (one row): its name is printed on posters and charts."""

    __tablename__ = "city"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class CategoryRow(Base):
    """A complaint category and its routing."""

    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_id: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    hint_id: Mapped[str] = mapped_column(String(200), default="")
    hint_en: Mapped[str] = mapped_column(String(200), default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("service_units.id"))
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    accept_working_days: Mapped[int] = mapped_column(Integer, default=3)
    respond_working_days: Mapped[int] = mapped_column(Integer, default=5)
    resolve_days: Mapped[int] = mapped_column(Integer, default=60)
    duplicate_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")  # look-back for duplicates
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


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
    unreachable_at: Mapped[datetime | None]


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


SURVEY_UNSUR_COLUMNS = (
    "persyaratan",
    "prosedur",
    "waktu",
    "biaya",
    "produk",
    "kompetensi",
    "perilaku",
    "pengaduan",
    "sarana",
)
"""One column per unsur, named by its stable code (surveys.definitions.Unsur), never by question position."""


class SurveyResponseRow(Base):
    """One IKM questionnaire (PermenPANRB 14/2017) for one unit: the nine scores 1-4 stored by unsur code."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        # Covering index for the IKM aggregation (per unit and period): SQLite answers it from the index
        # alone and PostgreSQL can scan it index-only, without touching the wide rows (service, saran).
        Index("ix_survey_responses_unit_time", "unit_id", "submitted_at", *SURVEY_UNSUR_COLUMNS),
        # The once-per-day check and a city-wide period report.
        Index("ix_survey_responses_citizen_time", "citizen_id", "submitted_at"),
        Index("ix_survey_responses_submitted_at", "submitted_at"),
        UniqueConstraint("import_key"),
        *(CheckConstraint(f"{code} BETWEEN 1 AND 4", name=f"{code}_score") for code in SURVEY_UNSUR_COLUMNS),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("service_units.id"))
    submitted_at: Mapped[datetime]
    survey_version: Mapped[str] = mapped_column(String(40))
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id", ondelete="SET NULL"))
    service: Mapped[str | None] = mapped_column(String(200))
    gender: Mapped[str | None] = mapped_column(String(16))
    age_band: Mapped[str | None] = mapped_column(String(16))
    education: Mapped[str | None] = mapped_column(String(16))
    occupation: Mapped[str | None] = mapped_column(String(16))
    saran: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))  # "chat" or "import"
    import_key: Mapped[str | None] = mapped_column(String(64))  # makes a re-import of the same row a no-op
    persyaratan: Mapped[int | None] = mapped_column(SmallInteger)
    prosedur: Mapped[int | None] = mapped_column(SmallInteger)
    waktu: Mapped[int | None] = mapped_column(SmallInteger)
    biaya: Mapped[int | None] = mapped_column(SmallInteger)
    produk: Mapped[int | None] = mapped_column(SmallInteger)
    kompetensi: Mapped[int | None] = mapped_column(SmallInteger)
    perilaku: Mapped[int | None] = mapped_column(SmallInteger)
    pengaduan: Mapped[int | None] = mapped_column(SmallInteger)
    sarana: Mapped[int | None] = mapped_column(SmallInteger)


SCORES_PER_UNSUR = (1, 2, 3, 4)
SURVEY_DAILY_COUNT_COLUMNS = tuple(f"{code}_{score}" for code in SURVEY_UNSUR_COLUMNS for score in SCORES_PER_UNSUR)
"""The roll-up's count columns: how many answers gave each score to each unsur (`persyaratan_1` .. `sarana_4`)."""


SURVEY_DAILY = Table(
    "survey_daily",
    Base.metadata,
    Column("unit_id", ForeignKey("service_units.id"), primary_key=True),
    Column("day", Date, primary_key=True),  # the city-local day the questionnaires were given
    Column("respondents", Integer, nullable=False),
    *(Column(name, Integer, nullable=False) for name in SURVEY_DAILY_COUNT_COLUMNS),
    Index("ix_survey_daily_day", "day"),
)
"""The daily roll-up of the IKM answers: per unit and city-local day, respondents and score counts.

Written in the same transaction as every questionnaire stored (chat or import), so the IKM of any period is a sum
over at most a few hundred rows per unit, and stays exact: the counts are integers (docs/ikm.md §3).
`run-job rollup-check` recomputes a day from the answers and repairs any difference.
"""


SURVEY_MONTHLY = Table(
    "survey_monthly",
    Base.metadata,
    Column("unit_id", ForeignKey("service_units.id"), primary_key=True),
    Column("month", Date, primary_key=True),  # the first city-local day of the month
    Column("respondents", Integer, nullable=False),
    *(Column(name, Integer, nullable=False) for name in SURVEY_DAILY_COUNT_COLUMNS),
    Index("ix_survey_monthly_month", "month"),
)
"""The same counts per unit and city-local month, written with the daily rows: a year is twelve rows per unit.

A period's whole months are summed from here and its other days from `survey_daily`; the nightly roll-up check
rebuilds a month from its days whenever it repairs a day.
"""


class IdentityViewRow(Base):
    """An officer looked at the reporter of a confidential complaint: who, which complaint, when."""

    __tablename__ = "identity_views"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id"), index=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    via: Mapped[str] = mapped_column(String(8), server_default="chat")  # "chat" or "web" (the staff console)


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


class LookupFailureRow(Base):
    """A status look-up that found nothing, kept for an hour to limit code guessing per chat."""

    __tablename__ = "lookup_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_hash: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of channel:chat id, not the id
    at: Mapped[datetime] = mapped_column(index=True)


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
