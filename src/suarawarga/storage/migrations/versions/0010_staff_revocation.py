"""staff events (joins, removals, group links) and failed status look-ups

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 23:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "staff_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=True),
        sa.Column("by_staff_id", sa.Integer(), nullable=True),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["by_staff_id"], ["staff_members.id"], name=op.f("fk_staff_events_by_staff_id_staff_members")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_members.id"], name=op.f("fk_staff_events_staff_id_staff_members")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["service_units.id"], name=op.f("fk_staff_events_unit_id_service_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_events")),
    )
    with op.batch_alter_table("staff_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_events_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_events_unit_id"), ["unit_id"], unique=False)
    op.create_table(
        "lookup_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lookup_failures")),
    )
    with op.batch_alter_table("lookup_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lookup_failures_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_lookup_failures_chat_hash"), ["chat_hash"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("lookup_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lookup_failures_chat_hash"))
        batch_op.drop_index(batch_op.f("ix_lookup_failures_at"))
    op.drop_table("lookup_failures")
    with op.batch_alter_table("staff_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_events_unit_id"))
        batch_op.drop_index(batch_op.f("ix_staff_events_staff_id"))
    op.drop_table("staff_events")
