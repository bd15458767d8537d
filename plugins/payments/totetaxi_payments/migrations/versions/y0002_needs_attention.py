"""payments: flag money taken that confirmed no booking

Revision ID: y0002
Revises: y0001
Create Date: 2026-11-25 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "y0002"
down_revision = "y0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments_payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("needs_attention", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(
            batch_op.f("ix_payments_payments_needs_attention"), ["needs_attention"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("payments_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_payments_needs_attention"))
        batch_op.drop_column("needs_attention")
