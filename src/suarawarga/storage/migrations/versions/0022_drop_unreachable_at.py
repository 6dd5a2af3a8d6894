"""channel identities lose `unreachable_at`: nothing ever wrote or read it

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 22:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("channel_identities", schema=None) as batch_op:
        batch_op.drop_column("unreachable_at")


def downgrade() -> None:
    """Add the column back, empty (its values, all NULL in practice, are not kept)."""
    with op.batch_alter_table("channel_identities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unreachable_at", sa.DateTime(timezone=True), nullable=True))
