"""notifications: email templates, notifications, delivery log, held addresses

Revision ID: n0001
Revises:
Create Date: 2026-11-25 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import totetaxi_core.db.types

revision = "n0001"
down_revision = None
branch_labels = ("notifications",)
depends_on = "c0005"


def upgrade() -> None:
    op.create_table(
        "notifications_held_addresses",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_notifications_held_addresses")),
    )
    op.create_table(
        "notifications_templates",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["staff_users.id"],
            name=op.f("fk_notifications_templates_updated_by_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_templates")),
        sa.UniqueConstraint("key", name=op.f("uq_notifications_templates_key")),
    )
    op.create_table(
        "notifications_notifications",
        sa.Column("unique_key", sa.String(length=200), nullable=False),
        sa.Column("template_key", sa.String(length=60), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "retrying",
                "sent",
                "failed",
                "held",
                name="notificationstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("provider", sa.String(length=30), nullable=False),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("sent_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_notifications_notifications_booking_id_bookings"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_notifications_notifications_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_notifications")),
        sa.UniqueConstraint("unique_key", name=op.f("uq_notifications_notifications_unique_key")),
    )
    op.create_index(
        op.f("ix_notifications_notifications_booking_id"),
        "notifications_notifications",
        ["booking_id"],
        unique=False,
    )
    op.create_index(
        "ix_notifications_notifications_created_at",
        "notifications_notifications",
        ["created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_notifications_notifications_customer_id"),
        "notifications_notifications",
        ["customer_id"],
        unique=False,
    )
    op.create_index(
        "ix_notifications_notifications_due",
        "notifications_notifications",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_notifications_notifications_provider_message_id"),
        "notifications_notifications",
        ["provider_message_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_notifications_notifications_recipient"),
        "notifications_notifications",
        ["recipient"],
        unique=False,
    )
    op.create_index(
        op.f("ix_notifications_notifications_status"),
        "notifications_notifications",
        ["status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_notifications_notifications_template_key"),
        "notifications_notifications",
        ["template_key"],
        unique=False,
    )
    op.create_table(
        "notifications_delivery_log",
        sa.Column("notification_id", sa.Uuid(), nullable=True),
        sa.Column("at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("provider", sa.String(length=30), nullable=False),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("provider_event_id", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications_notifications.id"],
            name=op.f("fk_notifications_delivery_log_notification_id_notifications_notifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_delivery_log")),
        sa.UniqueConstraint(
            "provider_event_id", name=op.f("uq_notifications_delivery_log_provider_event_id")
        ),
    )
    op.create_index(
        op.f("ix_notifications_delivery_log_notification_id"),
        "notifications_delivery_log",
        ["notification_id"],
        unique=False,
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_index(
        op.f("ix_notifications_delivery_log_notification_id"),
        table_name="notifications_delivery_log",
    )
    op.drop_table("notifications_delivery_log")
    op.drop_index(
        op.f("ix_notifications_notifications_template_key"),
        table_name="notifications_notifications",
    )
    op.drop_index(
        op.f("ix_notifications_notifications_status"), table_name="notifications_notifications"
    )
    op.drop_index(
        op.f("ix_notifications_notifications_recipient"), table_name="notifications_notifications"
    )
    op.drop_index(
        op.f("ix_notifications_notifications_provider_message_id"),
        table_name="notifications_notifications",
    )
    op.drop_index("ix_notifications_notifications_due", table_name="notifications_notifications")
    op.drop_index(
        op.f("ix_notifications_notifications_customer_id"), table_name="notifications_notifications"
    )
    op.drop_index(
        "ix_notifications_notifications_created_at", table_name="notifications_notifications"
    )
    op.drop_index(
        op.f("ix_notifications_notifications_booking_id"), table_name="notifications_notifications"
    )
    op.drop_table("notifications_notifications")
    op.drop_table("notifications_templates")
    op.drop_table("notifications_held_addresses")
