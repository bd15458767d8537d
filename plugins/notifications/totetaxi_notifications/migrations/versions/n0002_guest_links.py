"""notifications: guests' sealed booking links

Revision ID: n0002
Revises: n0001
Create Date: 2026-11-26 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import totetaxi_core.db.types

revision = "n0002"
down_revision = "n0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications_guest_links",
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("sealed_token", sa.Text(), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_notifications_guest_links_booking_id_bookings"),
        ),
        sa.PrimaryKeyConstraint("booking_id", name=op.f("pk_notifications_guest_links")),
    )


def downgrade() -> None:
    op.drop_table("notifications_guest_links")
