"""place names and the city area, for checking where a complaint is

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 23:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "place_names",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["service_units.id"], name=op.f("fk_place_names_unit_id_service_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place_names")),
    )
    with op.batch_alter_table("place_names", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_place_names_unit_id"), ["unit_id"], unique=False)
    op.create_table(
        "city_area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("south", sa.Float(), nullable=False),
        sa.Column("west", sa.Float(), nullable=False),
        sa.Column("north", sa.Float(), nullable=False),
        sa.Column("east", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_city_area")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("city_area")
    with op.batch_alter_table("place_names", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_place_names_unit_id"))
    op.drop_table("place_names")
