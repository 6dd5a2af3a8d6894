"""public statistics: each complaint keeps its first resolution (when, how long, within the deadline)

Revision ID: 0021
Revises: 0017
Create Date: 2026-12-05 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0017"
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
            "ix_complaints_outcomes", ["filed_at", "unit_id", "resolve_seconds", "resolved_in_time"], unique=False
        )
        batch_op.create_index("ix_complaints_open", ["status", "unit_id", "category_id", "filed_at"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_open")
        batch_op.drop_index("ix_complaints_outcomes")
        batch_op.drop_column("resolved_in_time")
        batch_op.drop_column("resolve_seconds")
        batch_op.drop_column("first_resolved_at")
