"""addresses: the parts as the customer typed them, beside the standard form

Revision ID: c0007
Revises: c0006
Create Date: 2026-12-03 11:25:23.892795
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0007"
down_revision = "c0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows stored before keep NULL: their columns hold exactly what was typed (the old schemas
    # refused anything but the standard form), so they are their own text as typed.
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("as_typed", sa.JSON(), nullable=True))

    with op.batch_alter_table("saved_addresses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("as_typed", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("saved_addresses", schema=None) as batch_op:
        batch_op.drop_column("as_typed")

    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.drop_column("as_typed")
