"""bookings

Revision ID: c0003
Revises: c0002
Create Date: 2026-11-25 14:36:44.066840
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import totetaxi_core.db.types

revision = "c0003"
down_revision = "c0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "addresses",
        sa.Column("line1", sa.String(length=200), nullable=False),
        sa.Column("line2", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("postal_code", sa.String(length=10), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
    )
    op.create_table(
        "booking_counters",
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_booking_counters")),
    )
    op.create_table(
        "bookings",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending_payment",
                "confirmed",
                "in_progress",
                "completed",
                "cancelled",
                name="bookingstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("service_type", sa.String(length=30), nullable=False),
        sa.Column("package", sa.String(length=30), nullable=True),
        sa.Column("item_count", sa.Integer(), nullable=True),
        sa.Column("specialty_items", sa.JSON(), nullable=False),
        sa.Column("same_day", sa.Boolean(), nullable=False),
        sa.Column("coi_handling", sa.Boolean(), nullable=False),
        sa.Column("pickup_date", sa.Date(), nullable=False),
        sa.Column("time_window", sa.String(length=20), nullable=False),
        sa.Column("pickup_address_id", sa.Uuid(), nullable=False),
        sa.Column("delivery_address_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("guest_first_name", sa.String(length=100), nullable=False),
        sa.Column("guest_last_name", sa.String(length=100), nullable=False),
        sa.Column("guest_email", sa.String(length=254), nullable=False),
        sa.Column("guest_phone", sa.String(length=40), nullable=False),
        sa.Column("tracking_token_hash", sa.String(length=64), nullable=True),
        sa.Column("quote", sa.JSON(), nullable=False),
        sa.Column("subtotal_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("high_value", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("cancelled_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_bookings_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["delivery_address_id"],
            ["addresses.id"],
            name=op.f("fk_bookings_delivery_address_id_addresses"),
        ),
        sa.ForeignKeyConstraint(
            ["pickup_address_id"],
            ["addresses.id"],
            name=op.f("fk_bookings_pickup_address_id_addresses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("number", name=op.f("uq_bookings_number")),
        sa.UniqueConstraint("seq", name=op.f("uq_bookings_seq")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookings_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_deleted_at"), ["deleted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_guest_email"), ["guest_email"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_pickup_date"), ["pickup_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_status"), ["status"], unique=False)

    op.create_table(
        "booking_events",
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_events_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_events")),
    )
    with op.batch_alter_table("booking_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_booking_events_booking_id"), ["booking_id"], unique=False
        )
    # The one numbering row: bookings take TT numbers from it inside their transaction.
    op.execute("INSERT INTO booking_counters (name, value) VALUES ('booking', 0)")


def downgrade() -> None:
    with op.batch_alter_table("booking_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_events_booking_id"))

    op.drop_table("booking_events")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookings_status"))
        batch_op.drop_index(batch_op.f("ix_bookings_pickup_date"))
        batch_op.drop_index(batch_op.f("ix_bookings_guest_email"))
        batch_op.drop_index(batch_op.f("ix_bookings_deleted_at"))
        batch_op.drop_index(batch_op.f("ix_bookings_customer_id"))

    op.drop_table("bookings")
    op.drop_table("booking_counters")
    op.drop_table("addresses")
