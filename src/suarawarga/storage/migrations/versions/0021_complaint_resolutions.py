"""public statistics: each complaint keeps its first resolution (when, how long, within the deadline); the
monthly IKM roll-up (filled from the daily one)

Revision ID: 0021
Revises: 0017
Create Date: 2026-12-05 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

UNSUR = ("persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi", "perilaku", "pengaduan", "sarana")
ADDED = ("respondents", *(f"{code}_{score}" for code in UNSUR for score in (1, 2, 3, 4)))
BATCH = 5000

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolve_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolved_in_time", sa.Boolean(), nullable=True))
    # The domain judges every past resolution (the same code the resolve action runs), then the indexes are built.
    from suarawarga.storage.statistics_sql import backfill_resolutions

    backfill_resolutions(op.get_bind())
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_complaints_outcomes",
            ["filed_at", "unit_id", "resolve_seconds", "resolved_in_time", "merged_into_id"],
            unique=False,
        )
        batch_op.create_index("ix_complaints_open", ["status", "unit_id", "category_id", "filed_at"], unique=False)
    table = op.create_table(
        "survey_monthly",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in ADDED),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["service_units.id"], name=op.f("fk_survey_monthly_unit_id_service_units")
        ),
        sa.PrimaryKeyConstraint("unit_id", "month", name=op.f("pk_survey_monthly")),
    )
    with op.batch_alter_table("survey_monthly", schema=None) as batch_op:
        batch_op.create_index("ix_survey_monthly_month", ["month"], unique=False)
    _fill_months(table)


def _fill_months(table: sa.Table) -> None:
    """Sum the daily roll-up rows already stored into month rows (the first day of the month is the key)."""
    bind = op.get_bind()
    daily = sa.table("survey_daily", sa.column("unit_id"), sa.column("day", sa.Date()), *map(sa.column, ADDED))
    totals: dict[tuple[int, date], list[int]] = {}
    last: tuple[int, date] | None = None
    while True:  # in pages of the primary key: the daily table holds a row per unit and day
        query = sa.select(daily.c.unit_id, daily.c.day, *(daily.c[name] for name in ADDED))
        if last is not None:
            query = query.where(
                sa.tuple_(daily.c.unit_id, daily.c.day) > sa.tuple_(sa.literal(last[0]), sa.literal(last[1], sa.Date()))
            )
        rows = bind.execute(query.order_by(daily.c.unit_id, daily.c.day).limit(BATCH)).all()
        if not rows:
            break
        last = (int(rows[-1][0]), rows[-1][1])
        for row in rows:
            counts = totals.setdefault((int(row[0]), row[1].replace(day=1)), [0] * len(ADDED))
            for position, value in enumerate(row[2:]):
                counts[position] += int(value)
    values = [
        {"unit_id": unit_id, "month": month, **dict(zip(ADDED, counts, strict=True))}
        for (unit_id, month), counts in totals.items()
    ]
    for start in range(0, len(values), BATCH):
        bind.execute(sa.insert(table), values[start : start + BATCH])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("survey_monthly", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_monthly_month")
    op.drop_table("survey_monthly")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_open")
        batch_op.drop_index("ix_complaints_outcomes")
        batch_op.drop_column("resolved_in_time")
        batch_op.drop_column("resolve_seconds")
        batch_op.drop_column("first_resolved_at")
