"""app_secrets: the key of the log's sender tags, made on first setup (dead letters need no new column)

Dead letters are inbox rows with status 'failed' (the column exists); this revision adds the table where the
application keeps the secrets it makes for itself, shared by every process on the database.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 23:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "app_secrets",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_app_secrets")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("app_secrets")
