"""pricing: the minimum charge of every booking, of any service type

Revision ID: p0002
Revises: p0001
Create Date: 2026-12-03 10:47:08.354404
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "p0002"
down_revision = "p0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pricing_policy", schema=None) as batch_op:
        batch_op.add_column(sa.Column("booking_minimum_cents", sa.Integer(), nullable=True))
    # The figure is data, never a constant here: a database priced before this rule starts from
    # the minimum its admins already keep for standard delivery (both are $285 as seeded). A new
    # catalog version makes every process reload its cached catalog. A fresh install has no row
    # yet; its seed writes the figure.
    op.execute(
        sa.text(
            "UPDATE pricing_policy SET booking_minimum_cents = minimum_cents, "
            "catalog_version = catalog_version + 1"
        )
    )
    with op.batch_alter_table("pricing_policy", schema=None) as batch_op:
        batch_op.alter_column("booking_minimum_cents", existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("pricing_policy", schema=None) as batch_op:
        batch_op.drop_column("booking_minimum_cents")
