"""The minimum charge of every booking (BUSINESS_RULES "Fees": issue 13, "the minimum charge
applies to every booking").

Every booking, of any service type, is priced at least the catalog's minimum charge ($285 as
seeded): when its priced lines (service and specialty items) come to less, a visible "minimum
charge" line makes up the difference, before surcharges, in the quote and in the booking's stored
lines. The figure is data: seeded by the plugin, edited by admins on the Prices page (audited).
Standard delivery keeps its own minimum (also $285 as seeded) on its service lines, as before.

The app's clock is fixed at Monday 2026-11-23 10:00 America/New_York.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from totetaxi_pricing import services
from totetaxi_pricing.models import PricingPolicy
from webtest import TestApp

from totetaxi_core.audit.models import AuditRecord
from totetaxi_core.db import make_engine
from totetaxi_core.migrate import alembic_config
from totetaxi_core.platform import prepare
from totetaxi_core.plugin_api import BUSINESS_TZ
from totetaxi_core.testing import (
    STRONG_PASSWORD,
    base_settings,
    booking_body,
    create_booking,
    in_transaction,
    make_staff,
)

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=BUSINESS_TZ).astimezone(dt.UTC)
TODAY = dt.date(2026, 11, 23)  # Monday
MONDAY = dt.date(2026, 11, 30)  # no surcharge
SATURDAY = dt.date(2026, 11, 28)  # weekend +15%
QUOTES = "/api/v1/quotes"
CATALOG = "/console/pricing/catalog"
MINIMUM = "minimum_charge"


@pytest.fixture
def app(make_testapp) -> TestApp:
    testapp = make_testapp(**{"totetaxi.plugins": "pricing"})
    testapp.app.registry.clock = lambda: NOW
    return testapp


def run(app: TestApp, work: Any) -> Any:
    return in_transaction(app.app.registry, work)


def quote(app: TestApp, **body: Any) -> dict[str, Any]:
    body = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in body.items()}
    answer = TestApp(app.app).post_json(QUOTES, body, status=200).json
    # The breakdown adds up, whatever the rule.
    assert answer["subtotal_cents"] == sum(line["amount_cents"] for line in answer["lines"])
    assert answer["total_cents"] == (
        answer["subtotal_cents"]
        + sum(s["amount_cents"] for s in answer["surcharges"])
        + sum(f["amount_cents"] for f in answer["fees"])
    )
    return answer


def wardrobe_box(day: dt.date = MONDAY, **extra: Any) -> dict[str, Any]:
    return {
        "service_type": "specialty",
        "specialty_items": [{"code": "wardrobe_box", "qty": 1}],
        "date": day,
        **extra,
    }


def lines(q: dict[str, Any]) -> list[tuple[str, int]]:
    return [(line["code"], line["amount_cents"]) for line in q["lines"]]


def edit(app: TestApp, **policy: int) -> None:
    run(app, lambda ctx: services.edit_policy(ctx, **policy))


# --- every service type --------------------------------------------------------------------------


@pytest.mark.validation_only
def test_a_wardrobe_box_alone_is_topped_up_to_285_dollars_with_a_visible_line(app):
    q = quote(app, **wardrobe_box())
    assert lines(q) == [("specialty.wardrobe_box", 27500), (MINIMUM, 1000)]
    assert "minimum charge" in q["lines"][1]["description"].lower()
    assert "$285" in q["lines"][1]["description"]
    assert q["subtotal_cents"] == q["total_cents"] == 28500
    assert q["surcharges"] == [] and q["fees"] == []


@pytest.mark.validation_only
def test_surcharges_apply_after_the_minimum_line(app):
    # A Saturday wardrobe box: ($275 + $10 minimum) x 1.15.
    q = quote(app, **wardrobe_box(SATURDAY))
    assert lines(q) == [("specialty.wardrobe_box", 27500), (MINIMUM, 1000)]
    assert q["subtotal_cents"] == 28500
    assert [(s["code"], s["amount_cents"]) for s in q["surcharges"]] == [("weekend", 4275)]
    assert q["total_cents"] == 32775


@pytest.mark.validation_only
def test_fees_neither_count_towards_the_minimum_nor_are_topped_up(app):
    # The COI fee is a fee: the priced lines alone are held to the minimum, the fee comes on top.
    q = quote(app, **wardrobe_box(coi_handling=True))
    assert lines(q) == [("specialty.wardrobe_box", 27500), (MINIMUM, 1000)]
    assert q["total_cents"] == 28500 + 5000


@pytest.mark.validation_only
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {"service_type": "mini_move", "package": "petite"},
            [("mini_move.petite", 99500)],
            id="mini_move-above-anyway",
        ),
        pytest.param(
            {"service_type": "standard_delivery", "item_count": 1},
            [("standard_delivery.items", 9500), ("standard_delivery.minimum", 19000)],
            id="standard-delivery-own-minimum",
        ),
        pytest.param(
            {"service_type": "standard_delivery", "item_count": 4},
            [("standard_delivery.items", 38000)],
            id="standard-delivery-above",
        ),
        pytest.param(
            {"service_type": "specialty", "specialty_items": [{"code": "crib", "qty": 1}]},
            [("specialty.crib", 35000)],
            id="specialty-above",
        ),
        pytest.param(
            {
                "service_type": "mini_move",
                "package": "petite",
                "specialty_items": [{"code": "wardrobe_box", "qty": 1}],
            },
            [("mini_move.petite", 99500), ("specialty.wardrobe_box", 27500)],
            id="specialty-added-to-a-mini-move",
        ),
    ],
)
def test_bookings_at_or_above_the_minimum_get_no_line(app, body, expected):
    q = quote(app, **body, date=MONDAY)
    assert lines(q) == expected
    assert q["subtotal_cents"] >= 28500


@pytest.mark.validation_only
def test_same_day_delivery_is_above_the_minimum(app):
    q = quote(app, service_type="standard_delivery", item_count=1, same_day=True, date=TODAY)
    assert lines(q) == [("standard_delivery.same_day", 36000)]


def test_a_cheap_mini_move_package_is_topped_up_too(app):
    run(app, lambda ctx: services.edit_package(ctx, "petite", price_cents=20000))
    q = quote(app, service_type="mini_move", package="petite", date=MONDAY)
    assert lines(q) == [("mini_move.petite", 20000), (MINIMUM, 8500)]
    assert q["total_cents"] == 28500


def test_standard_delivery_is_held_to_the_booking_minimum_when_its_own_is_lower(app):
    edit(app, minimum_cents=0)
    q = quote(app, service_type="standard_delivery", item_count=2, date=MONDAY)
    assert lines(q) == [("standard_delivery.items", 19000), (MINIMUM, 9500)]
    assert q["total_cents"] == 28500
    # ... and same day too.
    edit(app, same_day_flat_cents=20000)
    q = quote(app, service_type="standard_delivery", item_count=1, same_day=True, date=TODAY)
    assert lines(q) == [("standard_delivery.same_day", 20000), (MINIMUM, 8500)]
    assert q["total_cents"] == 28500


def test_specialty_items_added_to_a_booking_count_towards_the_minimum(app):
    edit(app, minimum_cents=0)
    run(app, lambda ctx: services.edit_specialty(ctx, "wardrobe_box", price_cents=10000))
    body = {
        "service_type": "standard_delivery",
        "item_count": 1,
        "specialty_items": [{"code": "wardrobe_box", "qty": 1}],
        "date": MONDAY,
    }
    q = quote(app, **body)
    # $95 + $100 = $195: one line makes up the $90 to $285, after every priced line.
    assert lines(q) == [
        ("standard_delivery.items", 9500),
        ("specialty.wardrobe_box", 10000),
        (MINIMUM, 9000),
    ]
    # $95 + 2 x $100 = $295: above the minimum, no line.
    body["specialty_items"] = [{"code": "wardrobe_box", "qty": 2}]
    assert lines(quote(app, **body)) == [
        ("standard_delivery.items", 9500),
        ("specialty.wardrobe_box", 20000),
    ]


def test_the_standard_delivery_minimum_and_the_booking_minimum_never_both_top_up_the_same_money(
    app,
):
    # 2 items: $190, its own minimum makes it $285 = the booking minimum: one line only.
    q = quote(app, service_type="standard_delivery", item_count=2, date=MONDAY)
    assert lines(q) == [("standard_delivery.items", 19000), ("standard_delivery.minimum", 9500)]
    # A booking minimum above the delivery's own adds only the rest.
    edit(app, booking_minimum_cents=30000)
    q = quote(app, service_type="standard_delivery", item_count=2, date=MONDAY)
    assert lines(q) == [
        ("standard_delivery.items", 19000),
        ("standard_delivery.minimum", 9500),
        (MINIMUM, 1500),
    ]
    assert q["total_cents"] == 30000


# --- the figure is data --------------------------------------------------------------------------


@pytest.mark.validation_only
def test_services_shows_the_minimum_charge_and_keeps_its_fields(app):
    answer = TestApp(app.app).get("/api/v1/services").json
    assert answer["minimum_charge_cents"] == 28500
    # API.md's fields stay as they were.
    assert answer["standard_delivery"] == {
        "per_item_cents": 9500,
        "minimum_cents": 28500,
        "same_day_flat_cents": 36000,
        "same_day_included_items": 3,
    }


def test_an_edited_minimum_is_used_by_the_next_quote(app):
    edit(app, booking_minimum_cents=30000)
    q = quote(app, **wardrobe_box())
    assert lines(q) == [("specialty.wardrobe_box", 27500), (MINIMUM, 2500)]
    assert "$300" in q["lines"][1]["description"]
    assert TestApp(app.app).get("/api/v1/services").json["minimum_charge_cents"] == 30000
    edit(app, booking_minimum_cents=0)  # no minimum at all
    assert lines(quote(app, **wardrobe_box())) == [("specialty.wardrobe_box", 27500)]


def signed_in(app: TestApp, role: str) -> Any:
    staff = make_staff(app.app.registry, role)
    form = app.get("/console/login").forms[0]
    form["email"] = staff.email
    form["password"] = STRONG_PASSWORD
    form.submit(status=303)
    return staff


def test_an_admin_edits_the_minimum_on_the_prices_page_and_it_is_audited(app):
    admin = signed_in(app, "admin")
    form = app.get(CATALOG).forms["rates-form"]
    assert form["booking_minimum"].value == "285.00"
    form["booking_minimum"] = "300"
    answer = form.submit(status=303)
    assert "done=rates_saved" in answer.location
    assert answer.follow().forms["rates-form"]["booking_minimum"].value == "300.00"

    def records(ctx):
        return [
            (r.actor_id, r.changes)
            for r in ctx.dbsession.scalars(
                sa.select(AuditRecord).where(AuditRecord.action == "pricing.policy_changed")
            )
        ]

    assert run(app, records) == [
        (
            admin.id,
            {"before": {"booking_minimum_cents": 28500}, "after": {"booking_minimum_cents": 30000}},
        )
    ]
    assert quote(app, **wardrobe_box())["total_cents"] == 30000


def test_a_bad_minimum_is_400_next_to_its_field_and_changes_nothing(app):
    signed_in(app, "admin")
    form = app.get(CATALOG).forms["rates-form"]
    form["booking_minimum"] = "-1"
    page = form.submit(status=400)
    message = re.search(r'data-testid="error-booking_minimum">([^<]*)<', page.text)
    assert message and "must not be negative" in message.group(1)
    assert run(app, lambda ctx: ctx.dbsession.get(PricingPolicy, 1).booking_minimum_cents) == 28500


@pytest.mark.parametrize("role", ["viewer", "staff"])
def test_viewers_and_staff_see_the_minimum_but_cannot_change_it(app, role):
    signed_in(app, role)
    page = app.get(CATALOG)
    assert "rates-form" not in page.forms
    assert re.search(r'data-testid="booking-minimum">\$285<', page.text)


# --- the booking keeps the line ------------------------------------------------------------------


def test_a_booked_wardrobe_box_stores_the_minimum_line(app):
    body = booking_body(MONDAY)
    del body["package"]
    body.update(service_type="specialty", specialty_items=[{"code": "wardrobe_box", "qty": 1}])
    created = create_booking(app, body)
    assert created["total_cents"] == 28500
    assert lines(created["quote"]) == [("specialty.wardrobe_box", 27500), (MINIMUM, 1000)]
    stored = (
        TestApp(app.app)
        .get(f"/api/v1/bookings/{created['id']}?token={created['tracking_token']}")
        .json
    )
    assert lines(stored["quote"]) == [("specialty.wardrobe_box", 27500), (MINIMUM, 1000)]
    assert stored["total_cents"] == stored["quote"]["total_cents"] == 28500


# --- the migration -------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_the_migration_starts_the_booking_minimum_at_the_stored_delivery_minimum(backend):
    """A database priced before the rule existed gets the minimum its admins already set."""
    url = backend.empty_url()
    platform = prepare(base_settings(url, **{"totetaxi.plugins": "pricing"}), environ={})
    engine = make_engine(platform.settings)
    try:
        config = alembic_config(platform, engine)
        command.upgrade(config, "p0001")
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO pricing_policy (id, catalog_version, per_item_cents, "
                    "minimum_cents, same_day_flat_cents, same_day_included_items, "
                    "same_day_cutoff_hour, coi_fee_cents, high_value_cents, van_capacity, "
                    "specialty_capacity, max_days_ahead, created_at, updated_at) VALUES "
                    "(1, 7, 9500, 31000, 36000, 3, 12, 5000, 200000, 4, 2, 180, "
                    ":now, :now)"
                ),
                {"now": NOW},
            )
        command.upgrade(config, "heads")
        with engine.connect() as conn:
            row = conn.execute(
                sa.text(
                    "SELECT minimum_cents, booking_minimum_cents, catalog_version "
                    "FROM pricing_policy"
                )
            ).one()
        # The same figure, and a new catalog version so every process reloads its cache.
        assert tuple(row) == (31000, 31000, 8)
    finally:
        engine.dispose()
        backend.drop(url)
