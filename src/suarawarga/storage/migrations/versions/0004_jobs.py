"""job marks and complaint ratings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 16:58:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "job_marks",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_job_marks")),
    )
    op.create_table(
        "complaint_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("solved", sa.String(length=16), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_ratings_complaint_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["service_units.id"], name=op.f("fk_complaint_ratings_unit_id_service_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_ratings")),
        sa.UniqueConstraint("complaint_id", "round", name=op.f("uq_complaint_ratings_complaint_id")),
    )
    with op.batch_alter_table("complaint_ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_complaint_ratings_complaint_id"), ["complaint_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_ratings_unit_id"), ["unit_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("complaint_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_ratings_unit_id"))
        batch_op.drop_index(batch_op.f("ix_complaint_ratings_complaint_id"))
    op.drop_table("complaint_ratings")
    op.drop_table("job_marks")
