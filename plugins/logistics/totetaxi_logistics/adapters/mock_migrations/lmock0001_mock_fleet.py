"""logistics_mock: the simulated fleet's tasks

Revision ID: lmock0001
Revises:
Create Date: 2026-12-03 17:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
import totetaxi_core.db.types
from alembic import op

revision = "lmock0001"
down_revision = None
branch_labels = ("logistics_mock",)
depends_on = "logistics0001"


def upgrade() -> None:
    op.create_table(
        "logistics_mock_tasks",
        sa.Column("provider_id", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_logistics_mock_tasks")),
    )
    with op.batch_alter_table("logistics_mock_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logistics_mock_tasks_reference"), ["reference"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("logistics_mock_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_mock_tasks_reference"))

    op.drop_table("logistics_mock_tasks")
