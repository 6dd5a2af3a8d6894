"""whatsapp: outbox platform ids and statuses, chat activity for the 24-hour window

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 16:58:47.397743
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "chat_activity",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "chat_id", name=op.f("pk_chat_activity")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("platform_status", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_platform_id"), ["platform_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_platform_id"))
        batch_op.drop_column("platform_status")
        batch_op.drop_column("platform_id")
    op.drop_table("chat_activity")
