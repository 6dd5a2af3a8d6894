"""public site: the daily roll-up of IKM answers (filled from those stored) and indexes for complaint statistics

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 23:20:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSUR = ("persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi", "perilaku", "pengaduan", "sarana")
COUNTS = tuple(f"{code}_{score}" for code in UNSUR for score in (1, 2, 3, 4))
BATCH = 5000


def _timezone() -> ZoneInfo:
    """Return the city's timezone: given by the application, else from the settings."""
    config = op.get_context().config
    given = config.attributes.get("timezone") if config is not None else None
    if given:
        return ZoneInfo(str(given))
    from suarawarga.config import load_settings  # run by the alembic command itself: read the settings then

    return load_settings().tz


def _backfill(table: sa.Table) -> None:
    """Roll up the answers already stored, per unit and city-local day."""
    tz = _timezone()
    bind = op.get_bind()
    answers = sa.table(
        "survey_responses", sa.column("id"), sa.column("unit_id"), sa.column("submitted_at"), *map(sa.column, UNSUR)
    )
    totals: dict[tuple[int, object], list[int]] = {}
    last = 0
    while True:  # in chunks by id: a city may have millions of answers, and not every driver streams
        rows = bind.execute(
            sa.select(answers.c.id, answers.c.unit_id, answers.c.submitted_at, *(answers.c[code] for code in UNSUR))
            .where(answers.c.id > last)
            .order_by(answers.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        last = int(rows[-1][0])
        for row in rows:
            at = row[2]
            if isinstance(at, str):
                at = datetime.fromisoformat(at)
            at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
            counts = totals.setdefault((int(row[1]), at.astimezone(tz).date()), [0] * (1 + len(COUNTS)))
            counts[0] += 1
            for position, score in enumerate(row[3:]):
                if score is not None:
                    counts[1 + position * 4 + int(score) - 1] += 1
    values = [
        {"unit_id": unit_id, "day": day, "respondents": counts[0], **dict(zip(COUNTS, counts[1:], strict=True))}
        for (unit_id, day), counts in totals.items()
    ]
    for start in range(0, len(values), BATCH):
        bind.execute(sa.insert(table), values[start : start + BATCH])


def upgrade() -> None:
    """Apply this revision."""
    table = op.create_table(
        "survey_daily",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("respondents", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.ForeignKeyConstraint(["unit_id"], ["service_units.id"], name=op.f("fk_survey_daily_unit_id_service_units")),
        sa.PrimaryKeyConstraint("unit_id", "day", name=op.f("pk_survey_daily")),
    )
    with op.batch_alter_table("survey_daily", schema=None) as batch_op:
        batch_op.create_index("ix_survey_daily_day", ["day"], unique=False)
    _backfill(table)
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index("ix_complaints_filed_at", ["filed_at"], unique=False)
        batch_op.create_index("ix_complaints_status_filed", ["status", "filed_at"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_status_filed")
        batch_op.drop_index("ix_complaints_filed_at")
    with op.batch_alter_table("survey_daily", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_daily_day")
    op.drop_table("survey_daily")
