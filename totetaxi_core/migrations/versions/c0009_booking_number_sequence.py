"""bookings: numbers drawn from a sequence on PostgreSQL

Revision ID: c0009
Revises: c0008
Create Date: 2026-12-03 14:30:00
"""

from __future__ import annotations

from alembic import op

revision = "c0009"
down_revision = "c0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The counter row serialised every booking from its number to its commit (a row lock held
    # while the rest of the booking was written): a sequence hands out numbers without a lock.
    # SQLite keeps the counter (it has one writer anyway).
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SEQUENCE booking_numbers START WITH 1 MINVALUE 1")
    op.execute(
        "SELECT setval('booking_numbers', "
        "GREATEST((SELECT value FROM booking_counters WHERE name = 'booking'), "
        "(SELECT COALESCE(MAX(seq), 0) FROM bookings)) + 1, false)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "UPDATE booking_counters SET value = GREATEST(value, "
        "(SELECT COALESCE(MAX(seq), 0) FROM bookings)) WHERE name = 'booking'"
    )
    op.execute("DROP SEQUENCE booking_numbers")
