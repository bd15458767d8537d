"""indexes for staff searches, the status/date filters, a customer's bookings and the customers list

Revision ID: c0008
Revises: c0007
Create Date: 2026-12-03 14:00:00.000000

The trigram indexes (pg_trgm, GIN) exist on PostgreSQL only: SQLite cannot index a substring
search and scans. Each expression is the one :func:`totetaxi_core.db.searchable.searchable_text`
builds for the models; PostgreSQL uses the index only for the same expression.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c0008"
down_revision = "c0007"
branch_labels = None
depends_on = None

GUEST_CONTACT = (
    "lower(guest_first_name || ' ' || guest_last_name || ' ' || guest_email || ' ' || guest_phone)"
)
CUSTOMER_CONTACT = "lower(first_name || ' ' || last_name || ' ' || email || ' ' || phone)"
# The dashboard's query must name the same statuses (totetaxi_core.bookings.models.ACTIVE).
ACTIVE = "status IN ('pending_payment', 'confirmed', 'in_progress')"


def upgrade() -> None:
    # The composite indexes start with the column of the ones they replace, which answer
    # nothing the new ones cannot.
    op.drop_index("ix_bookings_created_at", table_name="bookings")
    op.create_index(
        "ix_bookings_created_at_status_pickup_date",
        "bookings",
        ["created_at", "status", "pickup_date"],
    )
    op.drop_index("ix_bookings_status", table_name="bookings")
    op.create_index("ix_bookings_status_pickup_date", "bookings", ["status", "pickup_date"])
    op.drop_index("ix_bookings_customer_id", table_name="bookings")
    op.create_index("ix_bookings_customer_id_created_at", "bookings", ["customer_id", "created_at"])
    op.create_index(
        "ix_bookings_customer_id_active",
        "bookings",
        ["customer_id", "pickup_date", "created_at"],
        postgresql_where=sa.text(ACTIVE),
        sqlite_where=sa.text(ACTIVE),
    )
    op.create_index("ix_customers_created_at", "customers", ["created_at"])
    if op.get_bind().dialect.name == "postgresql":
        # A trusted extension since PostgreSQL 13: the database's owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            f"CREATE INDEX ix_bookings_guest_contact ON bookings "
            f"USING gin ({GUEST_CONTACT} gin_trgm_ops)"
        )
        op.execute(
            f"CREATE INDEX ix_customers_contact ON customers "
            f"USING gin ({CUSTOMER_CONTACT} gin_trgm_ops)"
        )
        # Statistics of the indexed expressions come only from ANALYZE, which autovacuum runs
        # after enough rows change, not after a new index: gather them now.
        op.execute("ANALYZE bookings")
        op.execute("ANALYZE customers")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The extension stays: something else may use it, and it costs nothing unused.
        op.drop_index("ix_customers_contact", table_name="customers")
        op.drop_index("ix_bookings_guest_contact", table_name="bookings")
    op.drop_index("ix_customers_created_at", table_name="customers")
    op.drop_index("ix_bookings_customer_id_active", table_name="bookings")
    op.drop_index("ix_bookings_customer_id_created_at", table_name="bookings")
    op.create_index("ix_bookings_customer_id", "bookings", ["customer_id"])
    op.drop_index("ix_bookings_status_pickup_date", table_name="bookings")
    op.create_index("ix_bookings_status", "bookings", ["status"])
    op.drop_index("ix_bookings_created_at_status_pickup_date", table_name="bookings")
    op.create_index("ix_bookings_created_at", "bookings", ["created_at"])
