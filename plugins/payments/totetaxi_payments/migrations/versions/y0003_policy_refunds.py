"""payments: refunds by policy (no staff request, no approval) beside staff-requested ones

Revision ID: y0003
Revises: y0002
Create Date: 2026-12-03 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "y0003"
down_revision = "y0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments_refunds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=20), nullable=False, server_default="staff")
        )
        batch_op.alter_column("requested_by", existing_type=sa.Uuid(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("payments_refunds", schema=None) as batch_op:
        batch_op.alter_column("requested_by", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("source")
