"""crm: customer notes

Revision ID: crm0001
Revises:
Create Date: 2026-12-03 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import totetaxi_core.db.append_only  # op.create_append_only_triggers
import totetaxi_core.db.types

revision = "crm0001"
down_revision = None
branch_labels = ("crm",)
depends_on = "c0009"


def upgrade() -> None:
    op.create_table(
        "crm_customer_notes",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_crm_customer_notes_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_customer_notes")),
    )
    with op.batch_alter_table("crm_customer_notes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_crm_customer_notes_customer_at", ["customer_id", "at"], unique=False
        )

    op.create_append_only_triggers(
        "crm_customer_notes", "Customer notes are history: add a new note instead."
    )


def downgrade() -> None:
    op.drop_append_only_triggers("crm_customer_notes")
    with op.batch_alter_table("crm_customer_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_customer_notes_customer_at")

    op.drop_table("crm_customer_notes")
