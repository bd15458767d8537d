"""Bookings core: create (guest and customer), read, track, cancel, lifecycle, hooks, numbers.

The app runs with the pricing plugin and a fixed clock: Monday 2026-11-23 10:00 America/New_York.
Bookings are for Thursday 2026-12-03 (``DAY``, ten days ahead, no surcharge) unless a test says
otherwise; the 48-hour cancellation limit of ``DAY`` is Tuesday 2026-12-01 00:00 New York time.

Customers act with bearer tokens from clients without cookies; guests are anonymous clients
without cookies; staff use bearer tokens from ``/api/v1/staff/auth/token``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import support.bookings as bookings_support
from support.bookings import (
    ALLOWED,
    AVAILABILITY,
    BOOKINGS,
    CANCEL_LIMIT,
    DAY,
    DELIVERY,
    GUEST,
    MISSING_ID,
    NOW,
    NUMBER,
    OTHER_DAY,
    PICKUP,
    QUOTES,
    STATUSES,
    Objector,
    book,
    book_as_guest,
    cancel,
    client,
    customer,
    customer_body,
    error_named,
    get_booking,
    guest_body,
    ny,
    plain,
    quote_fields,
    refused,
    remaining,
    run,
    save_address,
    set_clock,
    staff_headers,
    token_of,
    track,
)
from totetaxi_pricing import services as pricing
from webtest import TestApp

from totetaxi_core import make_app
from totetaxi_core.bookings.lifecycle import TRANSITIONS, can_transition
from totetaxi_core.hooks import hookimpl
from totetaxi_core.platform import prepare
from totetaxi_core.testing import (
    base_settings,
    race,
)

app = bookings_support.app  # the fixture: pricing plugin, clock on NOW

# --- lifecycle -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new"), list(itertools.product(STATUSES, repeat=2)))
def test_the_transition_matrix(old, new):
    assert can_transition(old, new) is ((old, new) in ALLOWED)


def test_transitions_table_is_the_business_rules():
    table = {(plain(old), plain(new)) for old, targets in TRANSITIONS.items() for new in targets}
    assert table == ALLOWED


@pytest.mark.parametrize(
    ("old", "new"),
    [pair for pair in itertools.product(STATUSES, repeat=2) if pair not in ALLOWED],
)
def test_a_refused_transition_names_both_states(old, new):
    from totetaxi_core.bookings.lifecycle import transition

    booking = SimpleNamespace(status=old)
    with pytest.raises(Exception) as caught:  # the spec names no exception type
        transition(None, booking, new)
    message = str(caught.value)
    assert old in message and new in message
    assert booking.status == old


# --- create: guests ------------------------------------------------------------------------------


def test_a_guest_books_and_gets_a_tracking_token(app):
    quote = client(app).post_json(QUOTES, quote_fields(), status=200).json
    before = remaining(app)
    answer = book_as_guest(app)
    assert uuid.UUID(answer["id"])
    assert answer["number"] == "TT-000001"
    assert answer["status"] == "pending_payment"
    assert answer["total_cents"] == quote["total_cents"] == 99500
    for key, value in quote.items():
        assert answer["quote"][key] == value, key
    assert answer["pickup_date"] == DAY.isoformat()
    assert answer["time_window"] == "morning"
    assert answer["customer_id"] is None
    assert isinstance(answer["tracking_token"], str) and len(answer["tracking_token"]) >= 16
    assert remaining(app) == before - 1


@pytest.mark.both_databases
def test_the_total_follows_the_quote_for_other_services(app):
    fields = {
        "service_type": "standard_delivery",
        "item_count": 5,
        "specialty_items": [{"code": "crib", "qty": 1}],
        "date": DAY.isoformat(),
        "coi_handling": True,
    }
    quote = client(app).post_json(QUOTES, fields, status=200).json
    answer = book(
        app,
        {
            **fields,
            "pickup_address": PICKUP,
            "delivery_address": DELIVERY,
            "guest": GUEST,
            "time_window": "afternoon",
            "notes": "Ring twice.",
        },
    )
    assert answer["total_cents"] == quote["total_cents"]
    assert answer["quote"]["lines"] == quote["lines"]
    assert answer["time_window"] == "afternoon"


@pytest.mark.both_databases
def test_an_anonymous_booking_needs_the_guest_block(app):
    body = guest_body()
    del body["guest"]
    refused(app, body, "guest")
    assert remaining(app) == 4


def test_a_guest_cannot_use_saved_address_ids(app):
    _, headers = customer(app)
    address_id = save_address(app, headers, PICKUP)
    body = guest_body()
    del body["pickup_address"]
    refused(app, {**body, "pickup_address_id": address_id}, "pickup_address_id")
    body = guest_body()
    del body["delivery_address"]
    refused(app, {**body, "delivery_address_id": address_id}, "delivery_address_id")


# --- create: customers ---------------------------------------------------------------------------


def test_a_customer_books_with_the_profile_contact(app):
    me, headers = customer(app)
    answer = book(app, customer_body(time_window="afternoon"), headers)
    assert answer["customer_id"] == me["id"]
    assert answer["status"] == "pending_payment"
    assert answer["time_window"] == "afternoon"
    assert "tracking_token" not in answer
    assert NUMBER.match(answer["number"])


def test_a_customer_books_with_saved_addresses(app):
    me, headers = customer(app)
    body = quote_fields()
    body["pickup_address_id"] = save_address(app, headers, PICKUP)
    body["delivery_address_id"] = save_address(app, headers, DELIVERY)
    answer = book(app, body, headers)
    assert answer["customer_id"] == me["id"]
    assert get_booking(app, answer["id"], headers).json["id"] == answer["id"]


def test_a_customer_may_mix_a_saved_address_and_a_new_one(app):
    _, headers = customer(app)
    body = customer_body()
    del body["delivery_address"]
    body["delivery_address_id"] = save_address(app, headers, DELIVERY)
    book(app, body, headers)


@pytest.mark.both_databases
def test_a_signed_in_customer_may_not_send_a_guest_block(app):
    _, headers = customer(app)
    refused(app, customer_body(guest=GUEST), "guest", headers=headers)
    assert remaining(app) == 4


def test_another_customers_saved_address_is_refused_like_an_unknown_one(app):
    _, owner = customer(app)
    foreign_id = save_address(app, owner, PICKUP)
    _, intruder = customer(app)
    for field, other in (
        ("pickup_address", "delivery_address"),
        ("delivery_address", "pickup_address"),
    ):
        descriptions = []
        for address_id in (foreign_id, MISSING_ID):
            body = {**quote_fields(), other: PICKUP, f"{field}_id": address_id}
            error = refused(app, body, f"{field}_id", headers=intruder)
            descriptions.append(error["description"].replace(address_id, "<id>"))
        assert descriptions[0] == descriptions[1]
    assert remaining(app) == 4


def test_a_deleted_saved_address_cannot_be_used(app):
    _, headers = customer(app)
    address_id = save_address(app, headers, PICKUP)
    client(app).delete(f"/api/v1/me/addresses/{address_id}", headers=headers, status=204)
    body = {**quote_fields(), "pickup_address_id": address_id, "delivery_address": DELIVERY}
    refused(app, body, "pickup_address_id", headers=headers)


@pytest.mark.parametrize("field", ["pickup_address", "delivery_address"])
def test_an_address_and_an_id_for_the_same_end_is_refused(app, field):
    _, headers = customer(app)
    address_id = save_address(app, headers, PICKUP)
    refused(app, customer_body(**{f"{field}_id": address_id}), field, headers=headers)


@pytest.mark.parametrize("field", ["pickup_address", "delivery_address"])
def test_a_missing_address_is_refused(app, field):
    body = guest_body()
    del body[field]
    refused(app, body, field)


# --- create: malformed bodies --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [("total_cents", 1), ("status", "confirmed"), ("number", "TT-999999"), ("colour", "red")],
)
def test_unknown_keys_are_refused_by_name(app, key, value):
    answer = book(app, guest_body(**{key: value}), status=400)
    assert answer["status"] == "error"
    assert any(key in error["description"] for error in answer["errors"]), answer["errors"]
    assert remaining(app) == 4


def test_a_tampered_total_writes_nothing(app):
    book(app, guest_body(total_cents=100), status=400)
    assert book_as_guest(app)["number"] == "TT-000001"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date": "2026-11-20"}, "date"),  # the past
        ({"date": "2027-06-01"}, "date"),  # beyond the 180-day horizon
        ({"package": "mansion"}, "package"),
        ({"service_type": "teleport", "package": None}, "service_type"),
        ({"service_type": "standard_delivery", "package": None}, "item_count"),
        ({"specialty_items": [{"code": "piano", "qty": 1}]}, "specialty_items"),
    ],
)
def test_pricing_errors_are_a_400_naming_the_field(app, change, field):
    body = guest_body()
    for key, value in change.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    refused(app, body, field)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_window": "evening"}, "time_window"),
        ({"notes": "x" * 1001}, "notes"),
        ({"guest": {**GUEST, "email": "not-an-email"}}, "guest"),
        ({"guest": {"first_name": "Gale"}}, "guest"),
        ({"pickup_address": {**PICKUP, "state": "XX"}}, "pickup_address"),
        ({"delivery_address": {**DELIVERY, "postal_code": "1196"}}, "delivery_address"),
        ({"pickup_address": "200 E 62nd St"}, "pickup_address"),
    ],
)
def test_malformed_fields_are_a_400_naming_them(app, change, field):
    answer = book(app, guest_body(**change), status=400)
    assert answer["status"] == "error"
    error_named(answer, field)
    assert remaining(app) == 4


def test_notes_of_1000_characters_are_fine(app):
    book_as_guest(app, notes="x" * 1000)


def test_a_body_that_is_not_an_object_is_a_400(app):
    client(app).post(BOOKINGS, "[1, 2]", content_type="application/json", status=400)
    client(app).post(BOOKINGS, "{not json", content_type="application/json", status=400)


# --- create: rules and capacity ------------------------------------------------------------------


def test_every_rule_problem_is_returned_together_as_422(app):
    app.app.registry.hooks.register(Objector(), "objector")
    answer = book(app, guest_body(), status=422)
    error_named(answer, "notes")
    error_named(answer, "time_window")
    assert remaining(app) == 4
    app.app.registry.hooks.pm.unregister(name="objector")
    assert book_as_guest(app)["number"] == "TT-000001"


def test_a_full_day_is_409_and_takes_no_number(app):
    for n in range(1, 5):
        assert book_as_guest(app)["number"] == f"TT-00000{n}"
    assert remaining(app) == 0
    refused(app, guest_body(), "date", status=409)
    _, headers = customer(app)
    refused(app, customer_body(), "date", status=409, headers=headers)
    assert book_as_guest(app, OTHER_DAY)["number"] == "TT-000005"


def test_a_closed_day_is_409(app):
    run(app, lambda ctx: pricing.set_capacity(ctx, DAY, 0, None, "Closed"))
    refused(app, guest_body(), "date", status=409)
    assert book_as_guest(app, OTHER_DAY)["number"] == "TT-000001"


@pytest.mark.both_databases
def test_numbers_are_sequential(app):
    _, headers = customer(app)
    numbers = [
        book_as_guest(app)["number"],
        book(app, customer_body(), headers)["number"],
        book_as_guest(app, OTHER_DAY)["number"],
    ]
    assert numbers == ["TT-000001", "TT-000002", "TT-000003"]
    assert remaining(app) == 2 and remaining(app, OTHER_DAY) == 3


# --- reading -------------------------------------------------------------------------------------


def test_the_owner_reads_a_customer_booking(app):
    me, headers = customer(app)
    created = book(app, customer_body(), headers)
    read = get_booking(app, created["id"], headers).json
    assert read["id"] == created["id"] and read["number"] == created["number"]
    assert read["status"] == "pending_payment" and read["customer_id"] == me["id"]


def test_nobody_else_reads_a_customer_booking(app):
    _, owner = customer(app)
    created = book(app, customer_body(), owner)
    _, intruder = customer(app)
    get_booking(app, created["id"], intruder, status=404)
    get_booking(app, created["id"], status=404)  # anonymous


def test_a_guest_reads_with_the_token_only(app):
    created = book_as_guest(app)
    read = get_booking(app, created["id"], params=token_of(created)).json
    assert read["number"] == created["number"] and read["status"] == "pending_payment"
    get_booking(app, created["id"], status=404)
    get_booking(app, created["id"], params={"token": "wrong-token"}, status=404)
    other = book_as_guest(app)  # one guest's token never opens another's booking
    get_booking(app, created["id"], params=token_of(other), status=404)
    _, headers = customer(app)
    get_booking(app, created["id"], headers, status=404)


@pytest.mark.parametrize("role", ["viewer", "staff", "admin"])
def test_staff_read_every_booking(app, role):
    _, headers = customer(app)
    mine = book(app, customer_body(), headers)
    guests = book_as_guest(app)
    staff = staff_headers(app, role)
    for created in (mine, guests):
        assert get_booking(app, created["id"], staff).json["number"] == created["number"]


@pytest.mark.parametrize("booking_id", ["not-a-uuid", "123", MISSING_ID, MISSING_ID + "0"])
def test_unknown_or_malformed_ids_are_404(app, booking_id):
    get_booking(app, booking_id, staff_headers(app), status=404)


# --- tracking ------------------------------------------------------------------------------------


def test_a_guest_tracks_with_the_token(app):
    created = book_as_guest(app)
    answer = track(app, created["number"], params=token_of(created)).json
    assert answer["number"] == created["number"]
    assert answer["status"] == "pending_payment"
    assert answer["pickup_date"] == DAY.isoformat()
    assert answer["updates"]
    first = answer["updates"][0]
    assert set(first) >= {"at", "status", "message"}
    assert first["status"] == "pending_payment"
    assert dt.datetime.fromisoformat(first["at"]).tzinfo is not None


def test_tracking_needs_the_right_token(app):
    created = book_as_guest(app)
    track(app, created["number"], status=404)
    track(app, created["number"], params={"token": "wrong-token"}, status=404)
    track(app, "TT-999999", params=token_of(created), status=404)
    other = book_as_guest(app)
    track(app, created["number"], params=token_of(other), status=404)


def test_a_customer_tracks_their_own_booking_without_a_token(app):
    _, owner = customer(app)
    created = book(app, customer_body(), owner)
    assert track(app, created["number"], owner).json["number"] == created["number"]
    track(app, created["number"], status=404)  # anonymous
    _, intruder = customer(app)
    track(app, created["number"], intruder, status=404)


# --- cancellation --------------------------------------------------------------------------------


def test_the_owner_cancels_and_the_van_is_released(app):
    _, headers = customer(app)
    created = book(app, customer_body(), headers)
    assert remaining(app) == 3
    answer = cancel(app, created["id"], headers, body={"reason": "Plans changed"}).json
    assert answer["status"] == "cancelled" and answer["id"] == created["id"]
    assert remaining(app) == 4
    assert get_booking(app, created["id"], headers).json["status"] == "cancelled"


@pytest.mark.both_databases
def test_cancelling_twice_is_409_naming_both_states(app):
    _, headers = customer(app)
    created = book(app, customer_body(), headers)
    cancel(app, created["id"], headers)
    answer = cancel(app, created["id"], headers, status=409).json
    assert answer["status"] == "error"
    assert any(error["description"].count("cancelled") >= 2 for error in answer["errors"]), answer[
        "errors"
    ]
    assert remaining(app) == 4  # released once, not twice


def test_cancelling_a_specialty_booking_gives_back_the_specialty_van(app):
    def specialty_remaining() -> int:
        params = {"start": DAY.isoformat(), "end": DAY.isoformat(), "service_type": "specialty"}
        [info] = client(app).get(AVAILABILITY, params=params).json["days"]
        return info["specialty_remaining"]

    created = book_as_guest(app, specialty_items=[{"code": "peloton", "qty": 1}])
    assert (remaining(app), specialty_remaining()) == (3, 1)
    cancel(app, created["id"], params=token_of(created))
    assert (remaining(app), specialty_remaining()) == (4, 2)


def test_a_guest_cancels_with_the_token(app):
    created = book_as_guest(app)
    cancel(app, created["id"], status=404)
    cancel(app, created["id"], params={"token": "wrong-token"}, status=404)
    assert remaining(app) == 3
    answer = cancel(app, created["id"], params=token_of(created)).json
    assert answer["status"] == "cancelled"
    assert remaining(app) == 4
    tracked = track(app, created["number"], params=token_of(created)).json
    assert tracked["status"] == "cancelled"


def test_another_customer_cannot_cancel(app):
    _, owner = customer(app)
    created = book(app, customer_body(), owner)
    _, intruder = customer(app)
    cancel(app, created["id"], intruder, status=404)
    guest = book_as_guest(app)
    cancel(app, guest["id"], intruder, status=404)
    assert get_booking(app, created["id"], owner).json["status"] == "pending_payment"
    assert remaining(app) == 2


def test_cancelling_an_unknown_booking_is_404(app):
    _, headers = customer(app)
    cancel(app, MISSING_ID, headers, status=404)
    cancel(app, "not-a-uuid", headers, status=404)


@pytest.mark.parametrize(
    ("when", "status"),
    [
        (CANCEL_LIMIT - dt.timedelta(minutes=1), 200),
        (CANCEL_LIMIT + dt.timedelta(minutes=1), 409),
        (ny(2026, 12, 2, 18), 409),
    ],
    ids=["just-before-48h", "just-inside-48h", "day-before"],
)
def test_customers_cancel_until_48_hours_before_the_pickup_date(app, when, status):
    _, headers = customer(app)
    mine = book(app, customer_body(), headers)
    guests = book_as_guest(app)
    set_clock(app, when)
    cancel(app, mine["id"], headers, status=status)
    cancel(app, guests["id"], params=token_of(guests), status=status)
    expected = "cancelled" if status == 200 else "pending_payment"
    assert get_booking(app, mine["id"], headers).json["status"] == expected
    assert remaining(app) == (4 if status == 200 else 2)


@pytest.mark.both_databases
def test_a_cancelled_booking_says_so_even_inside_the_48_hours(app):
    _, headers = customer(app)
    mine = book(app, customer_body(), headers)
    cancel(app, mine["id"], headers)
    set_clock(app, ny(2026, 12, 2, 18))
    answer = cancel(app, mine["id"], headers, status=409).json
    assert "from cancelled to cancelled" in answer["errors"][0]["description"]


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_cancel_any_time(app, role):
    _, headers = customer(app)
    created = book(app, customer_body(), headers)
    set_clock(app, ny(2026, 12, 2, 18))
    cancel(app, created["id"], headers, status=409)
    answer = cancel(app, created["id"], staff_headers(app, role), body={"reason": "Van broke"}).json
    assert answer["status"] == "cancelled"
    assert remaining(app) == 4


# --- hooks ---------------------------------------------------------------------------------------


class Spy:
    def __init__(self) -> None:
        self.created: list[tuple[str, Any]] = []
        self.changed: list[tuple[str, Any, Any, Any]] = []

    @hookimpl
    def totetaxi_booking_created(self, ctx, booking):
        self.created.append((str(booking.id), plain(booking.status)))

    @hookimpl
    def totetaxi_booking_status_changed(self, ctx, booking, old_status, new_status, reason):
        self.changed.append((str(booking.id), plain(old_status), plain(new_status), reason))


def test_created_and_status_changed_hooks_fire_once_each(app):
    spy = Spy()
    app.app.registry.hooks.register(spy, "spy")
    created = book_as_guest(app)
    assert spy.created == [(created["id"], "pending_payment")]
    assert spy.changed == []
    cancel(app, created["id"], params=token_of(created), body={"reason": "Plans changed"})
    cancel(app, created["id"], params=token_of(created), status=409)
    assert spy.created == [(created["id"], "pending_payment")]
    assert spy.changed == [(created["id"], "pending_payment", "cancelled", "Plans changed")]


def test_a_refused_booking_fires_no_hook(app):
    spy = Spy()
    app.app.registry.hooks.register(spy, "spy")
    run(app, lambda ctx: pricing.set_capacity(ctx, DAY, 0, None))
    book(app, guest_body(), status=409)
    book(app, guest_body(total_cents=1), status=400)
    assert spy.created == [] and spy.changed == []


# --- concurrency (PostgreSQL) --------------------------------------------------------------------

RACERS = 30


@pytest.fixture
def pg_app(pg_backend):
    """An app of its own on a fresh PostgreSQL database, with a connection for every racer."""
    url = pg_backend.new_url()
    settings = base_settings(url, **{"totetaxi.plugins": "pricing", "sqlalchemy.pool_size": "40"})
    app = make_app(prepare(settings, environ={}))
    app.registry.clock = lambda: NOW
    yield app
    app.registry["dbengine"].dispose()
    pg_backend.drop(url)


@pytest.mark.postgresql
def test_thirty_concurrent_bookings_for_four_vans(pg_app):
    def racer() -> tuple[int, dict[str, Any]]:
        own = TestApp(pg_app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
        answer = own.post_json(BOOKINGS, guest_body(), expect_errors=True)
        return answer.status_int, answer.json

    outcomes = race(*[racer] * RACERS, timeout=90, return_exceptions=True)
    crashes = [o for o in outcomes if isinstance(o, BaseException)]
    answers = [o for o in outcomes if not isinstance(o, BaseException)]
    assert crashes == []
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] * 4 + [409] * 26, statuses
    numbers = sorted(body["number"] for status, body in answers if status == 201)
    assert numbers == ["TT-000001", "TT-000002", "TT-000003", "TT-000004"]
    for status, body in answers:
        if status == 409:
            error_named(body, "date")
    probe = TestApp(pg_app)
    params = {"start": DAY.isoformat(), "end": DAY.isoformat()}
    [info] = probe.get(AVAILABILITY, params=params).json["days"]
    assert info["remaining"] == 0
    # The next booking (another day) continues the sequence without a gap.
    assert probe.post_json(BOOKINGS, guest_body(OTHER_DAY)).json["number"] == "TT-000005"
