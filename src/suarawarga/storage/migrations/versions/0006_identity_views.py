"""identity views audit log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 17:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "identity_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_identity_views_complaint_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_members.id"], name=op.f("fk_identity_views_staff_id_staff_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_views")),
    )
    with op.batch_alter_table("identity_views", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_views_complaint_id"), ["complaint_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_identity_views_staff_id"), ["staff_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("identity_views", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_views_staff_id"))
        batch_op.drop_index(batch_op.f("ix_identity_views_complaint_id"))
    op.drop_table("identity_views")
