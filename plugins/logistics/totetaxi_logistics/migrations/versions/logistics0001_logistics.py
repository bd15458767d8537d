"""logistics: delivery tasks, tracking updates, drivers

Revision ID: logistics0001
Revises:
Create Date: 2026-12-03 17:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import totetaxi_core.db.append_only  # op.create_append_only_triggers
import totetaxi_core.db.types

revision = "logistics0001"
down_revision = None
branch_labels = ("logistics",)  # this plugin's own branch
depends_on = "c0009"  # the core revision whose tables it stands on


def upgrade() -> None:
    op.create_table(
        "logistics_drivers",
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("vehicle", sa.String(length=120), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("position_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_drivers")),
        sa.UniqueConstraint("provider", "provider_id", name=op.f("uq_logistics_drivers_provider")),
    )
    op.create_table(
        "logistics_tasks",
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("pickup", "dropoff", name="taskkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "created",
                "assigned",
                "in_progress",
                "completed",
                "failed",
                "cancelled",
                name="taskstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("recipient_name", sa.String(length=200), nullable=False),
        sa.Column("recipient_phone", sa.String(length=40), nullable=False),
        sa.Column(
            "complete_after", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "complete_before", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("driver_id", sa.Uuid(), nullable=True),
        sa.Column("assignment", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_task_id", sa.String(length=100), nullable=True),
        sa.Column("tracking_url", sa.String(length=500), nullable=False),
        sa.Column("held_reason", sa.Text(), nullable=False),
        sa.Column(
            "dispatched_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("cancel_pending", sa.Boolean(), nullable=False),
        sa.Column("eta", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "last_event_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("started_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("arrived_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=False),
        sa.Column("proof_photo", sa.String(length=500), nullable=False),
        sa.Column("proof_signature", sa.String(length=500), nullable=False),
        sa.Column("proof_notes", sa.Text(), nullable=False),
        sa.Column("reserved_date", sa.Date(), nullable=True),
        sa.Column("superseded_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_logistics_tasks_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["logistics_drivers.id"],
            name=op.f("fk_logistics_tasks_driver_id_logistics_drivers"),
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by"],
            ["logistics_tasks.id"],
            name=op.f("fk_logistics_tasks_superseded_by_logistics_tasks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_tasks")),
        sa.UniqueConstraint(
            "booking_id", "kind", "attempt", name=op.f("uq_logistics_tasks_booking_id")
        ),
        sa.UniqueConstraint(
            "provider", "provider_task_id", name=op.f("uq_logistics_tasks_provider")
        ),
    )
    with op.batch_alter_table("logistics_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_logistics_tasks_booking_id"), ["booking_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_logistics_tasks_driver_id"), ["driver_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_logistics_tasks_status"), ["status"], unique=False)
        batch_op.create_index("ix_logistics_tasks_window", ["complete_after"], unique=False)

    op.create_table(
        "logistics_tracking_updates",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("eta", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("driver_id", sa.Uuid(), nullable=True),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_logistics_tracking_updates_booking_id_bookings"),
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["logistics_tasks.id"],
            name=op.f("fk_logistics_tracking_updates_task_id_logistics_tasks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logistics_tracking_updates")),
        sa.UniqueConstraint("event_key", name=op.f("uq_logistics_tracking_updates_event_key")),
    )
    with op.batch_alter_table("logistics_tracking_updates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_logistics_tracking_updates_booking_at", ["booking_id", "at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_logistics_tracking_updates_task_id"), ["task_id"], unique=False
        )

    op.create_append_only_triggers(
        "logistics_tracking_updates",
        "Tracking updates are history: they are never changed or deleted.",
    )


def downgrade() -> None:
    op.drop_append_only_triggers("logistics_tracking_updates")
    with op.batch_alter_table("logistics_tracking_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_logistics_tracking_updates_task_id"))
        batch_op.drop_index("ix_logistics_tracking_updates_booking_at")

    op.drop_table("logistics_tracking_updates")
    with op.batch_alter_table("logistics_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_logistics_tasks_window")
        batch_op.drop_index(batch_op.f("ix_logistics_tasks_status"))
        batch_op.drop_index(batch_op.f("ix_logistics_tasks_driver_id"))
        batch_op.drop_index(batch_op.f("ix_logistics_tasks_booking_id"))

    op.drop_table("logistics_tasks")
    op.drop_table("logistics_drivers")
