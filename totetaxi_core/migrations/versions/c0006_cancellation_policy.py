"""bookings: the cancellation policy as data; who cancelled and the refund percent it earned

Revision ID: c0006
Revises: c0005
Create Date: 2026-12-03 11:00:00
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op

from totetaxi_core.db.types import UTCDateTime

revision = "c0006"
down_revision = "c0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tiers = op.create_table(
        "booking_cancellation_tiers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("hours_before", sa.Integer(), nullable=False),
        sa.Column("refund_percent", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_cancellation_tiers")),
        sa.UniqueConstraint(
            "hours_before", name=op.f("uq_booking_cancellation_tiers_hours_before")
        ),
        sa.CheckConstraint(
            "refund_percent >= 0 AND refund_percent <= 100",
            name=op.f("ck_booking_cancellation_tiers_percent"),
        ),
        sa.CheckConstraint("hours_before >= 0", name=op.f("ck_booking_cancellation_tiers_hours")),
    )
    now = dt.datetime.now(dt.UTC)
    # BUSINESS_RULES.md's default: free until 48 hours before the pickup.
    op.bulk_insert(
        tiers,
        [
            {
                "id": uuid.uuid4(),
                "hours_before": 48,
                "refund_percent": 100,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cancelled_by", sa.String(length=20), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("cancellation_refund_percent", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_column("cancellation_refund_percent")
        batch_op.drop_column("cancelled_by")
    op.drop_table("booking_cancellation_tiers")
