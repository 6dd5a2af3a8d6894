"""consent per purpose, officers' language, kept drafts

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text_version", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_consents_citizen_id_citizens"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
        sa.UniqueConstraint("citizen_id", "purpose", name=op.f("uq_consents_citizen_id")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_citizen_id"), ["citizen_id"], unique=False)
    # Consent given before this revision was to the notice of what the citizen then used: a citizen with
    # complaints consented to the complaint notice, one with survey answers to the survey notice. Anyone
    # else is asked again, per purpose.
    op.execute(
        "INSERT INTO consents (citizen_id, purpose, given_at, text_version) "
        "SELECT c.id, 'complaint', c.consent_at, 'privacy.notice@before-0009' FROM citizens c "
        "WHERE c.consent_at IS NOT NULL AND EXISTS (SELECT 1 FROM complaints p WHERE p.citizen_id = c.id)"
    )
    op.execute(
        "INSERT INTO consents (citizen_id, purpose, given_at, text_version) "
        "SELECT c.id, 'survey', c.consent_at, 'survey.privacy.notice@before-0009' FROM citizens c "
        "WHERE c.consent_at IS NOT NULL AND EXISTS (SELECT 1 FROM survey_responses r WHERE r.citizen_id = c.id)"
    )
    with op.batch_alter_table("staff_members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), server_default="id", nullable=False))
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parked", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_conversations_parked_at"), ["parked_at"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_parked_at"))
        batch_op.drop_column("parked_at")
        batch_op.drop_column("parked")
    with op.batch_alter_table("staff_members", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_citizen_id"))
    op.drop_table("consents")
