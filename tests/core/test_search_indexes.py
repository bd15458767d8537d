"""The staff searches and the dashboard can use the indexes of migration c0008 on PostgreSQL.

A planner picks an index by cost, and on a test's handful of rows a sequential scan is always
cheapest; with scans switched off it must still find a way through the index, which it can
only when the query's expression is the indexed one. A change that drifts one from the other
(the trigram expressions above all) fails here rather than in production at scale.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from totetaxi_core.bookings import search
from totetaxi_core.bookings.models import ACTIVE, Booking
from totetaxi_core.identity.models import Customer


def plan(url: str, statement: sa.Select, *, index_scans: bool = False) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET enable_seqscan = off")
            if not index_scans:
                # Else walking the created_at index (the list's order) would do.
                conn.exec_driver_sql("SET enable_indexscan = off")
            sql = statement.compile(conn, compile_kwargs={"literal_binds": True}).string
            # Through the driver's own parameter step, which undoes the %% escapes.
            explained = conn.exec_driver_sql(f"EXPLAIN {sql}", {})
            return "\n".join(row[0] for row in explained)
    finally:
        engine.dispose()


def newest_first(statement: sa.Select, model: type) -> sa.Select:
    return statement.order_by(model.created_at.desc(), model.id.desc()).limit(21)


@pytest.fixture
def pg_url(pg_backend):
    url = pg_backend.new_url()
    yield url
    pg_backend.drop(url)


@pytest.mark.postgresql
@pytest.mark.parametrize("q", ["james coleman", "gale@example", "917 555 0142", "de la cruz"])
def test_a_text_search_looks_contacts_up_in_the_trigram_indexes(pg_url, q):
    bookings = plan(
        pg_url, newest_first(search.bookings(search.booking_filters({"q": q})), Booking)
    )
    assert "ix_bookings_guest_contact" in bookings
    assert "ix_customers_contact" in bookings
    # Their bookings through an index on customer_id (either: both lead with it).
    assert "Index Cond: (customer_id = ANY ($0))" in bookings
    assert "Seq Scan" not in bookings
    customers = plan(pg_url, newest_first(search.customers(search.CustomerFilters(q)), Customer))
    assert "ix_customers_contact" in customers and "Seq Scan" not in customers


@pytest.mark.postgresql
def test_a_customers_bookings_and_the_customers_list_use_their_indexes(pg_url):
    customer = uuid.uuid4()
    mine = sa.select(Booking).where(Booking.customer_id == customer)
    recent = plan(pg_url, newest_first(mine, Booking), index_scans=True)
    assert "ix_bookings_customer_id_created_at" in recent
    active = (
        mine.where(Booking.status.in_(ACTIVE))
        .order_by(Booking.pickup_date, Booking.created_at)
        .limit(10)
    )
    assert "Index Scan using ix_bookings_customer_id_active" in plan(
        pg_url, active, index_scans=True
    )
    listed = plan(pg_url, newest_first(sa.select(Customer), Customer), index_scans=True)
    assert "ix_customers_created_at" in listed and "Seq Scan" not in listed
