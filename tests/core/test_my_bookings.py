"""The customer's own bookings: /me/bookings (paginated, filtered) and /me/dashboard."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event
from webtest import TestApp

from totetaxi_core.testing import bearer, make_staff, register_customer

PLACE = {"line1": "200 E 62nd St", "city": "New York", "state": "NY", "postal_code": "10065"}


@pytest.fixture
def app(make_testapp):
    return make_testapp(**{"totetaxi.plugins": "pricing"})


def signed_in(app) -> dict[str, str]:
    customer = register_customer(TestApp(app.app))
    return bearer(TestApp(app.app), customer["email"])


def book(app, headers, days_ahead: int) -> dict:
    day = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days_ahead)).isoformat()
    return (
        TestApp(app.app)
        .post_json(
            "/api/v1/bookings",
            {
                "service_type": "standard_delivery",
                "item_count": 2,
                "date": day,
                "pickup_address": PLACE,
                "delivery_address": PLACE,
            },
            headers=headers,
            status=201,
        )
        .json
    )


@pytest.mark.both_databases
def test_my_bookings_are_mine_newest_first_and_paginated(app):
    alice, bob = signed_in(app), signed_in(app)
    numbers = [book(app, alice, 10 + n)["number"] for n in range(3)]
    book(app, bob, 12)
    client = TestApp(app.app)
    first = client.get("/api/v1/me/bookings?limit=2", headers=alice).json
    assert [b["number"] for b in first["items"]] == [numbers[2], numbers[1]]
    rest = client.get(
        f"/api/v1/me/bookings?limit=2&cursor={first['next_cursor']}", headers=alice
    ).json
    assert [b["number"] for b in rest["items"]] == [numbers[0]]
    assert rest["next_cursor"] is None
    assert len(client.get("/api/v1/me/bookings", headers=bob).json["items"]) == 1


def test_status_filter_and_its_validation(app):
    alice = signed_in(app)
    kept, gone = book(app, alice, 10), book(app, alice, 11)
    client = TestApp(app.app)
    client.post_json(f"/api/v1/bookings/{gone['id']}/cancel", {}, headers=alice)
    cancelled = client.get("/api/v1/me/bookings?status=cancelled", headers=alice).json
    assert [b["id"] for b in cancelled["items"]] == [gone["id"]]
    pending = client.get("/api/v1/me/bookings?status=pending_payment", headers=alice).json
    assert [b["id"] for b in pending["items"]] == [kept["id"]]
    refused = client.get("/api/v1/me/bookings?status=lost", headers=alice, status=400).json
    assert refused["errors"][0]["name"] == "status"


@pytest.mark.both_databases
def test_a_page_costs_the_same_queries_however_many_bookings(app):
    alice = signed_in(app)
    engine = app.app.registry["dbengine"]
    client = TestApp(app.app)

    def statements_for_one_page() -> int:
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            client.get("/api/v1/me/bookings?limit=20", headers=alice)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    book(app, alice, 10)
    one = statements_for_one_page()
    for n in range(4):
        book(app, alice, 11 + n)
    assert statements_for_one_page() == one  # no query per row


def test_dashboard(app):
    alice = signed_in(app)
    client = TestApp(app.app)
    client.post_json("/api/v1/me/addresses", {"label": "Home", **PLACE}, headers=alice)
    later, sooner = book(app, alice, 20), book(app, alice, 10)
    done = book(app, alice, 15)
    client.post_json(f"/api/v1/bookings/{done['id']}/cancel", {}, headers=alice)
    board = client.get("/api/v1/me/dashboard", headers=alice).json
    assert [b["id"] for b in board["active_bookings"]] == [sooner["id"], later["id"]]
    assert [b["id"] for b in board["recent_bookings"]] == [done["id"], sooner["id"], later["id"]]
    assert [a["label"] for a in board["addresses"]] == ["Home"]
    assert board["payment_methods"] == []
    assert board["counts"]["total"] == 3
    assert board["counts"]["pending_payment"] == 2 and board["counts"]["cancelled"] == 1


def test_only_customers_have_bookings_of_their_own(app):
    client = TestApp(app.app)
    client.get("/api/v1/me/bookings", status=401)
    client.get("/api/v1/me/dashboard", status=401)
    make_staff(app.app.registry, "admin", email="boss@totetaxi.test")
    staff = bearer(client, "boss@totetaxi.test", staff=True)
    client.get("/api/v1/me/bookings", headers=staff, status=403)


def test_journey_register_save_address_book_and_see_it(app):
    browser = TestApp(app.app)
    customer = register_customer(browser)
    csrf = {"X-CSRF-Token": customer["csrf"]}
    home = browser.post_json(
        "/api/v1/me/addresses", {"label": "Home", **PLACE}, headers=csrf, status=201
    ).json
    beach = browser.post_json(
        "/api/v1/me/addresses",
        {
            "label": "Hamptons",
            "line1": "12 Dune Rd",
            "city": "Southampton",
            "state": "NY",
            "postal_code": "11968",
        },
        headers=csrf,
        status=201,
    ).json
    day = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=14)).isoformat()
    draft = {"service_type": "mini_move", "package": "petite", "date": day}
    quote = browser.post_json("/api/v1/quotes", draft, headers=csrf).json
    booked = browser.post_json(
        "/api/v1/bookings",
        {**draft, "pickup_address_id": home["id"], "delivery_address_id": beach["id"]},
        headers=csrf,
        status=201,
    ).json
    assert booked["total_cents"] == quote["total_cents"]
    assert "tracking_token" not in booked
    assert booked["delivery_address"]["city"] == "Southampton"
    mine = browser.get("/api/v1/me/bookings").json["items"]
    assert [b["number"] for b in mine] == [booked["number"]]
    board = browser.get("/api/v1/me/dashboard").json
    assert [b["number"] for b in board["active_bookings"]] == [booked["number"]]
    assert browser.get("/api/v1/me").json["counts"]["total_bookings"] == 1
