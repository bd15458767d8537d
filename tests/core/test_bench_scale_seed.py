"""bench/scale_seed.py, the scale benchmark's data set, loaded small so that it cannot rot:
every row is one the application could have written, and the app serves it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa
from webtest import TestApp

from totetaxi_core import make_app
from totetaxi_core.platform import prepare
from totetaxi_core.testing import base_settings, bearer, make_staff

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scale_seed.py"
FAST = {"totetaxi.environment": "test", "totetaxi.password_hash_profile": "fast"}

#: Each query counts rows that break a rule; every count must be 0.
BROKEN = {
    "numbers out of creation order": """
        SELECT count(*) FROM (
            SELECT seq, number, row_number() OVER (ORDER BY created_at, seq) AS n FROM bookings
        ) b WHERE seq <> n OR number <> 'TT-' || lpad(seq::text, 6, '0')""",
    "the counter behind the numbers": """
        SELECT count(*) FROM booking_counters
        WHERE name = 'booking' AND value <> (SELECT count(*) FROM bookings)""",
    "histories that do not end in the status": """
        SELECT count(*) FROM bookings b WHERE b.version <> (
            SELECT count(*) FROM booking_events e WHERE e.booking_id = b.id
        ) OR b.status <> (
            SELECT e.status FROM booking_events e WHERE e.booking_id = b.id
            ORDER BY e.at DESC LIMIT 1
        ) OR b.created_at <> (
            SELECT min(e.at) FROM booking_events e WHERE e.booking_id = b.id
        )""",
    "times in the future": """
        SELECT count(*) FROM booking_events WHERE at > now()""",
    "cancellations without their facts": """
        SELECT count(*) FROM bookings
        WHERE (status = 'cancelled') <> (cancelled_at IS NOT NULL AND cancelled_by <> '')""",
    "contacts of the wrong kind": """
        SELECT count(*) FROM bookings WHERE CASE WHEN customer_id IS NULL
            THEN guest_email = '' OR tracking_token_hash IS NULL
            ELSE guest_first_name || guest_last_name || guest_email || guest_phone <> ''
                 OR tracking_token_hash IS NOT NULL END""",
    "customers younger than their bookings": """
        SELECT count(*) FROM bookings b JOIN customers c ON c.id = b.customer_id
        WHERE c.created_at >= b.created_at""",
    "profiles that miscount": """
        SELECT count(*) FROM customer_profiles p WHERE total_bookings <> (
            SELECT count(*) FROM bookings b WHERE b.customer_id = p.customer_id
        ) OR completed_bookings <> (
            SELECT count(*) FROM bookings b
            WHERE b.customer_id = p.customer_id AND b.status = 'completed'
        ) OR total_spent_cents <> (
            SELECT coalesce(sum(total_cents), 0) FROM bookings b
            WHERE b.customer_id = p.customer_id AND b.status = 'completed'
        )""",
    "vans that miscount": """
        SELECT count(*) FROM pricing_capacity_days d WHERE booked <> (
            SELECT count(*) FROM bookings b WHERE b.pickup_date = d.day AND b.status <> 'cancelled'
        ) OR booked > van_capacity""",
    "quotes of another date or total": """
        SELECT count(*) FROM bookings
        WHERE quote->>'date' <> pickup_date::text
           OR (quote->>'total_cents')::int <> total_cents""",
}


@pytest.fixture
def scale_seed() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scale_seed", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["scale_seed"] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules["scale_seed"]


@pytest.mark.postgresql
def test_a_small_scale_seed_is_consistent_and_served(pg_backend, scale_seed):
    url = pg_backend.new_url()
    try:
        seeded = scale_seed.seed(url, bookings=120, customers=15, heavy=40, settings=FAST)
        assert (seeded.bookings, seeded.customers) == (120, 15)
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                broken = {rule: conn.scalar(sa.text(sql)) for rule, sql in BROKEN.items()}
                statuses = set(conn.scalars(sa.text("SELECT DISTINCT status FROM bookings")))
        finally:
            engine.dispose()
        assert broken == dict.fromkeys(BROKEN, 0)
        assert {"completed", "cancelled", "confirmed"} <= statuses

        app = make_app(prepare(base_settings(url, **{"totetaxi.plugins": scale_seed.PLUGINS})))
        try:
            web = TestApp(app)
            me = bearer(web, seeded.heavy_customer_email, password=seeded.password)
            counts = web.get("/api/v1/me/dashboard", headers=me).json["counts"]
            assert counts["total"] == 40
            member = make_staff(app.registry, "viewer")
            headers = bearer(web, member.email, staff=True)
            found = web.get(
                "/api/v1/staff/bookings", params={"q": seeded.sample_name}, headers=headers
            ).json["items"]
            assert found and all(item["customer_id"] for item in found)
        finally:
            app.registry["dbengine"].dispose()
    finally:
        pg_backend.drop(url)
