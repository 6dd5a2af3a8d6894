"""Tables of the IKM survey: the questionnaires and their daily and monthly roll-ups of score counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from suarawarga.storage.orm.base import Base

__all__ = [
    "SCORES_PER_UNSUR",
    "SURVEY_DAILY",
    "SURVEY_DAILY_COUNT_COLUMNS",
    "SURVEY_MONTHLY",
    "SURVEY_UNSUR_COLUMNS",
    "SurveyResponseRow",
]


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
