"""example: notes and task runs

Revision ID: e0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import totetaxi_core.db.types

revision = "e0001"
down_revision = None
branch_labels = ("example",)
depends_on = "c0001"


def upgrade() -> None:
    op.create_table(
        "example_notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", totetaxi_core.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_example_notes")),
    )
    op.create_index(op.f("ix_example_notes_deleted_at"), "example_notes", ["deleted_at"])
    op.create_table(
        "example_task_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("note_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["note_id"],
            ["example_notes.id"],
            name=op.f("fk_example_task_runs_note_id_example_notes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_example_task_runs")),
    )

    op.create_table(
        "example_counters",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_example_counters")),
    )


def downgrade() -> None:
    op.drop_table("example_counters")
    op.drop_table("example_task_runs")
    op.drop_index(op.f("ix_example_notes_deleted_at"), table_name="example_notes")
    op.drop_table("example_notes")
