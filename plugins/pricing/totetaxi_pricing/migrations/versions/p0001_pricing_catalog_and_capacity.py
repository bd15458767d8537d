"""pricing catalog and capacity

Revision ID: p0001
Revises:
Create Date: 2026-11-25 14:07:38.017022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import totetaxi_core.db.types

revision = "p0001"
down_revision = None
branch_labels = ("pricing",)
depends_on = "c0002"


def upgrade() -> None:
    op.create_table(
        "pricing_capacity_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("van_capacity", sa.Integer(), nullable=True),
        sa.Column("specialty_capacity", sa.Integer(), nullable=True),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("specialty_booked", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=120), nullable=False),
        sa.CheckConstraint(
            "booked >= 0 AND specialty_booked >= 0", name=op.f("ck_pricing_capacity_days_booked")
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_pricing_capacity_days")),
    )
    op.create_table(
        "pricing_packages",
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("max_items", sa.Integer(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("max_items > 0", name=op.f("ck_pricing_packages_max_items")),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_pricing_packages_price")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_pricing_packages")),
    )
    op.create_table(
        "pricing_peak_ranges",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_pricing_peak_ranges_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricing_peak_ranges")),
    )
    with op.batch_alter_table("pricing_peak_ranges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pricing_peak_ranges_end_date"), ["end_date"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pricing_peak_ranges_start_date"), ["start_date"], unique=False
        )

    op.create_table(
        "pricing_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("catalog_version", sa.Integer(), nullable=False),
        sa.Column("per_item_cents", sa.Integer(), nullable=False),
        sa.Column("minimum_cents", sa.Integer(), nullable=False),
        sa.Column("same_day_flat_cents", sa.Integer(), nullable=False),
        sa.Column("same_day_included_items", sa.Integer(), nullable=False),
        sa.Column("same_day_cutoff_hour", sa.Integer(), nullable=False),
        sa.Column("coi_fee_cents", sa.Integer(), nullable=False),
        sa.Column("high_value_cents", sa.Integer(), nullable=False),
        sa.Column("van_capacity", sa.Integer(), nullable=False),
        sa.Column("specialty_capacity", sa.Integer(), nullable=False),
        sa.Column("max_days_ahead", sa.Integer(), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricing_policy")),
    )
    op.create_table(
        "pricing_specialty_items",
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price_cents >= 0", name=op.f("ck_pricing_specialty_items_price")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_pricing_specialty_items")),
    )
    op.create_table(
        "pricing_surcharge_rules",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("percent_bp", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "percent_bp >= 0 AND percent_bp <= 10000",
            name=op.f("ck_pricing_surcharge_rules_percent"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_pricing_surcharge_rules")),
    )


def downgrade() -> None:
    op.drop_table("pricing_surcharge_rules")
    op.drop_table("pricing_specialty_items")
    op.drop_table("pricing_policy")
    with op.batch_alter_table("pricing_peak_ranges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pricing_peak_ranges_start_date"))
        batch_op.drop_index(batch_op.f("ix_pricing_peak_ranges_end_date"))

    op.drop_table("pricing_peak_ranges")
    op.drop_table("pricing_packages")
    op.drop_table("pricing_capacity_days")
