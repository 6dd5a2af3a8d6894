"""duplicates: supporters of a complaint, merging a duplicate into another, the look-up's indexes

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-05 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from suarawarga.complaints.duplicates import place_key

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
BATCH = 5000


def upgrade() -> None:
    """Add the supporters table, the merge link, the categories' look-back and the look-up indexes."""
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duplicate_days", sa.Integer(), server_default="30", nullable=False))
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("place_key", sa.String(length=120), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_complaints_merged_into_id_complaints"), "complaints", ["merged_into_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_complaints_merged_into_id"), ["merged_into_id"], unique=False)
        batch_op.create_index("ix_complaints_category_lat_lon", ["category_id", "latitude", "longitude"], unique=False)
        batch_op.create_index(
            "ix_complaints_category_kecamatan",
            ["category_id", "kecamatan_id", "filed_at", "status", "place_key"],
            unique=False,
        )
    _backfill_place_keys()
    op.create_table(
        "complaint_supports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("chat_id", sa.String(length=64), nullable=True),
        sa.Column("identity_mode", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("contact", sa.String(length=40), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merged_from_id", sa.Integer(), nullable=True),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("files", sa.JSON(), nullable=True),
        sa.Column("solved", sa.String(length=16), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["citizens.id"],
            name=op.f("fk_complaint_supports_citizen_id_citizens"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_supports_complaint_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merged_from_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_supports_merged_from_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_supports")),
    )
    with op.batch_alter_table("complaint_supports", schema=None) as batch_op:
        batch_op.create_index("ix_complaint_supports_complaint", ["complaint_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_supports_citizen_id"), ["citizen_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_supports_merged_from_id"), ["merged_from_id"], unique=False)


def _backfill_place_keys() -> None:
    """Key the typed addresses already stored, in chunks by id (the look-up filters by this key)."""
    bind = op.get_bind()
    complaints = sa.table("complaints", sa.column("id"), sa.column("location_text"), sa.column("place_key"))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(complaints.c.id, complaints.c.location_text)
            .where(complaints.c.id > last, complaints.c.location_text.is_not(None))
            .order_by(complaints.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        last = int(rows[-1][0])
        for complaint_id, text in rows:
            key = place_key(text)
            if key is not None:
                bind.execute(complaints.update().where(complaints.c.id == complaint_id).values(place_key=key))


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("complaint_supports")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_category_kecamatan")
        batch_op.drop_index("ix_complaints_category_lat_lon")
        batch_op.drop_index(batch_op.f("ix_complaints_merged_into_id"))
        batch_op.drop_constraint(batch_op.f("fk_complaints_merged_into_id_complaints"), type_="foreignkey")
        batch_op.drop_column("place_key")
        batch_op.drop_column("merged_into_id")
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_column("duplicate_days")
