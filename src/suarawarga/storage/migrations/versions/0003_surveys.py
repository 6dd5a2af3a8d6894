"""surveys: IKM responses stored by unsur code

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 17:05:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSUR = ("persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi", "perilaku", "pengaduan", "sarana")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("survey_version", sa.String(length=40), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=True),
        sa.Column("service", sa.String(length=200), nullable=True),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.Column("age_band", sa.String(length=16), nullable=True),
        sa.Column("education", sa.String(length=16), nullable=True),
        sa.Column("occupation", sa.String(length=16), nullable=True),
        sa.Column("saran", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("import_key", sa.String(length=64), nullable=True),
        *(sa.Column(code, sa.SmallInteger(), nullable=True) for code in UNSUR),
        *(
            sa.CheckConstraint(f"{code} BETWEEN 1 AND 4", name=op.f(f"ck_survey_responses_{code}_score"))
            for code in UNSUR
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_survey_responses_citizen_id_citizens"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["service_units.id"], name=op.f("fk_survey_responses_unit_id_service_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("import_key", name=op.f("uq_survey_responses_import_key")),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index("ix_survey_responses_citizen_time", ["citizen_id", "submitted_at"], unique=False)
        batch_op.create_index("ix_survey_responses_submitted_at", ["submitted_at"], unique=False)
        batch_op.create_index("ix_survey_responses_unit_time", ["unit_id", "submitted_at", *UNSUR], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_responses_unit_time")
        batch_op.drop_index("ix_survey_responses_submitted_at")
        batch_op.drop_index("ix_survey_responses_citizen_time")
    op.drop_table("survey_responses")
