"""staff console: indexes for the queue's filters (a member's units, a kecamatan, a category, by filing time)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_complaints_unit_filed", ["unit_id", "filed_at"]),
    ("ix_complaints_kecamatan_filed", ["kecamatan_id", "filed_at"]),
    ("ix_complaints_category_filed", ["category_id", "filed_at"]),
)


def upgrade() -> None:
    """Add the queue's indexes."""
    for name, columns in INDEXES:
        op.create_index(name, "complaints", columns)


def downgrade() -> None:
    """Drop the queue's indexes."""
    for name, _ in INDEXES:
        op.drop_index(name, table_name="complaints")
