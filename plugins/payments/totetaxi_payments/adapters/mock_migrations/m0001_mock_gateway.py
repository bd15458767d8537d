"""the mock gateway's objects

Revision ID: m0001
Revises:
Create Date: 2026-11-25 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import totetaxi_core.db.types

revision = "m0001"
down_revision = None
branch_labels = ("payments_mock",)
depends_on = "c0001"


def upgrade() -> None:
    op.create_table(
        "payments_mock_objects",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments_mock_objects")),
    )


def downgrade() -> None:
    op.drop_table("payments_mock_objects")
