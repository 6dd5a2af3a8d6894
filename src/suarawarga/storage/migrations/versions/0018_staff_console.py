"""staff console: one-time sign-in links, browser sessions, and where a confidential reporter was viewed

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "staff_login_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_members.id"], name=op.f("fk_staff_login_tokens_staff_id_staff_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_login_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_login_tokens_token_hash")),
    )
    with op.batch_alter_table("staff_login_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_login_tokens_staff_id"), ["staff_id"], unique=False)
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_members.id"], name=op.f("fk_staff_sessions_staff_id_staff_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_sessions_ended_at"), ["ended_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_sessions_staff_id"), ["staff_id"], unique=False)
    with op.batch_alter_table("identity_views", schema=None) as batch_op:
        batch_op.add_column(sa.Column("via", sa.String(length=8), server_default="chat", nullable=False))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("identity_views", schema=None) as batch_op:
        batch_op.drop_column("via")
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_sessions_staff_id"))
        batch_op.drop_index(batch_op.f("ix_staff_sessions_ended_at"))
    op.drop_table("staff_sessions")
    with op.batch_alter_table("staff_login_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_login_tokens_staff_id"))
    op.drop_table("staff_login_tokens")
