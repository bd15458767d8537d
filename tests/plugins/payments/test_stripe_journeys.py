"""End-to-end journeys with the real Stripe gateway (``payments_stripe``) against the local stub.

The app runs with ``pricing payments_stripe`` (tasks eager, the fixed clock of
``support.bookings``) and talks to :class:`~stripe_stub.StripeStub` over HTTP with the
official ``stripe`` library, on SQLite and on PostgreSQL. Nothing in the app is faked: payments go
through ``POST /api/v1/bookings/{id}/payments``, the "browser" confirms the intent at the stub as
Stripe.js would (with the intent id read from the ``client_secret``), and the stub's own events,
signed the way Stripe signs them, are POSTed to ``/api/v1/payments/webhook``.

The test databases are migrated with ``payments_mock`` (the test kit); each test first records
``payments_stripe`` as installed with ``totetaxi_core.migrate.migrate``, as ``totetaxi migrate``
does in production after the ``.ini`` switch.
"""

from __future__ import annotations

import configparser
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from support.payments import (
    APP_SETTINGS,
    BOOKINGS,
    METHODS,
    MOCK_CONFIRM,
    NOW,
    PETITE,
    REFUNDS,
    WEBHOOK,
    book,
    booking_status,
    client,
    count,
    customer,
    customer_body,
    events_seen,
    fetch,
    guest_body,
    pay,
    payments,
    refunds,
    remaining,
    saved_methods,
    set_clock,
    staff_member,
)
from support.stripe_stub import RecordedRequest, StripeStub
from totetaxi_payments.adapters.stripe import StripeGateway
from totetaxi_payments.models import GatewayCustomer, Payment, PaymentAudit
from webtest import TestApp

from totetaxi_core.db import make_engine
from totetaxi_core.migrate import migrate
from totetaxi_core.platform import prepare
from totetaxi_core.testing import base_settings

PLUGINS = "pricing payments_stripe"
DEVELOPMENT_INI = Path(__file__).resolve().parents[3] / "development.ini"
PAYMENT_INTENTS = "/v1/payment_intents"


# --- set-up --------------------------------------------------------------------------------------


@pytest.fixture
def stub() -> Iterator[StripeStub]:
    with StripeStub() as server:
        yield server


def stripe_settings(stub: StripeStub, **extra: Any) -> dict[str, Any]:
    return {
        "payments_stripe.secret_key": stub.api_key,
        "payments_stripe.webhook_secret": stub.webhook_secret,
        "payments_stripe.api_base": stub.url,
        **extra,
    }


def install(db_url: str, environ: dict[str, str] | None = None, **settings: Any) -> list[str]:
    """``totetaxi migrate`` with these settings: records ``payments_stripe`` as installed."""
    platform = prepare(base_settings(db_url, **settings), environ=environ or {})
    engine = make_engine(platform.settings)
    try:
        return migrate(platform, engine)
    finally:
        engine.dispose()


def stripe_app(db_url: str, make_testapp: Any, stub: StripeStub, **extra: Any) -> TestApp:
    settings = {**APP_SETTINGS, "totetaxi.plugins": PLUGINS, **stripe_settings(stub, **extra)}
    assert "installed payments_stripe 1.0.0" in install(db_url, **settings)
    testapp = make_testapp(**settings)
    set_clock(testapp, NOW)
    return testapp


@pytest.fixture
def app(db_url: str, make_testapp: Any, stub: StripeStub) -> TestApp:
    """Pricing + payments + the Stripe gateway pointed at the stub (library retries on)."""
    return stripe_app(db_url, make_testapp, stub)


# --- the browser and Stripe's side ---------------------------------------------------------------


def intent_id_of(client_secret: str) -> str:
    """What Stripe.js reads from a ``client_secret``: ``pi_..._secret_...`` -> ``pi_...``."""
    intent_id, marker, _ = client_secret.partition("_secret_")
    assert marker and intent_id.startswith(("pi_", "seti_")), client_secret
    return intent_id


def browser(stub: StripeStub) -> StripeGateway:
    """The customer's browser confirming at Stripe (the stub), outside the app.

    Stripe.js would send the publishable key and the ``client_secret``; the stub knows only the
    secret key, so the browser uses it (the intent id still comes from the client secret)."""
    return StripeGateway(
        stub.api_key, stub.webhook_secret, api_base=stub.url, max_network_retries=0
    )


def confirm_at_stripe(stub: StripeStub, client_secret: str, method: str = "pm_card_visa") -> Any:
    return browser(stub).confirm_intent(
        intent_id_of(client_secret),
        payment_method_id=method,
        idempotency_key=f"browser:{uuid.uuid4()}",
    )


def confirm_setup_at_stripe(
    stub: StripeStub, client_secret: str, method: str = "pm_card_visa"
) -> Any:
    return browser(stub).confirm_setup_intent(
        intent_id_of(client_secret),
        payment_method_id=method,
        idempotency_key=f"browser:{uuid.uuid4()}",
    )


def stripe_event(stub: StripeStub, event_type: str, object_id: str) -> dict[str, Any]:
    """The newest event of ``event_type`` the stub recorded about ``object_id``."""
    found = [
        e for e in stub.events if e["type"] == event_type and e["data"]["object"]["id"] == object_id
    ]
    assert found, f"the stub sent no {event_type} for {object_id}: " + ", ".join(
        e["type"] for e in stub.events
    )
    return found[-1]


def post_event(
    app: TestApp, stub: StripeStub, event: dict[str, Any], status: int = 200, **signing: Any
) -> Any:
    """Deliver ``event`` to the webhook, signed as Stripe signs (``secret``/``timestamp``)."""
    payload, header = stub.signed(event, **signing)
    return (
        client(app)
        .post(
            WEBHOOK,
            payload,
            status=status,
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
        )
        .json
    )


def deliver(
    app: TestApp, stub: StripeStub, event_type: str, object_id: str, status: int = 200
) -> Any:
    return post_event(app, stub, stripe_event(stub, event_type, object_id), status=status)


def only(requests: list[RecordedRequest]) -> RecordedRequest:
    assert len(requests) == 1, [(r.method, r.path, r.idempotency_key) for r in requests]
    return requests[0]


def payment_row(app: TestApp, payment_id: str) -> Payment:
    [row] = fetch(app, select(Payment).where(Payment.id == uuid.UUID(payment_id)))
    return row


def paid_by_stripe(
    app: TestApp, stub: StripeStub, headers: dict[str, str] | None = None
) -> tuple[dict, dict]:
    """A booking paid with ``pm_card_visa`` and settled by the stub's signed webhook."""
    booking = book(app, customer_body() if headers else guest_body(), headers)
    started = pay(app, booking, headers)
    assert confirm_at_stripe(stub, started["client_secret"]).status == "succeeded"
    intent = intent_id_of(started["client_secret"])
    answer = deliver(app, stub, "payment_intent.succeeded", intent)
    assert answer["outcome"] == "payment succeeded; booking confirmed"
    return booking, started


# --- 1. a guest pays with a card -----------------------------------------------------------------


@pytest.mark.both_databases
def test_guest_pays_and_the_signed_webhook_confirms_the_booking(
    app: TestApp, stub: StripeStub
) -> None:
    booking = book(app, guest_body())
    assert booking["status"] == "pending_payment"
    started = pay(app, booking)
    assert started["status"] == "requires_payment_method"
    assert started["amount_cents"] == booking["total_cents"] == PETITE
    assert started["gateway"] == "stripe"
    intent_id = intent_id_of(started["client_secret"])
    assert started["client_secret"] == stub.payment_intents[intent_id]["client_secret"]

    create = only(stub.requests_to("POST", PAYMENT_INTENTS))
    assert create.content_type == "application/x-www-form-urlencoded"
    assert create.authorization == f"Bearer {stub.api_key}"
    assert create.idempotency_key.startswith(f"booking:{booking['id']}:payment:1:")
    form = dict(create.form)
    assert form["amount"] == str(booking["total_cents"])
    assert form["currency"] == "usd"
    assert form["metadata[booking_id]"] == booking["id"]
    assert form["metadata[booking_number]"] == booking["number"]
    assert "customer" not in form and "confirm" not in form

    # The browser confirms with the client secret; nothing changes until Stripe says so.
    assert confirm_at_stripe(stub, started["client_secret"]).status == "succeeded"
    assert booking_status(app, booking["id"]) == "pending_payment"

    event = stripe_event(stub, "payment_intent.succeeded", intent_id)
    answer = post_event(app, stub, event)
    assert answer == {"received": True, "outcome": "payment succeeded; booking confirmed"}
    assert booking_status(app, booking["id"]) == "confirmed"
    [row] = payments(app, booking["id"])
    assert row.status == "succeeded"
    assert row.amount_received_cents == booking["total_cents"]
    assert row.gateway_intent_id == intent_id
    assert row.gateway_method_id == stub.payment_intents[intent_id]["payment_method"]
    seen = events_seen(app)
    assert [(e.event_id, e.outcome) for e in seen] == [
        (event["id"], "payment succeeded; booking confirmed")
    ]

    # Stripe delivers at least once: the same event again changes nothing.
    assert post_event(app, stub, event) == {"received": True, "outcome": "duplicate"}
    assert len(events_seen(app)) == 1
    again = payment_row(app, started["payment_id"])
    assert (again.status, again.amount_received_cents, again.attempts) == (
        "succeeded",
        booking["total_cents"],
        0,
    )
    assert booking_status(app, booking["id"]) == "confirmed"

    # Signed with another secret, or too old (Stripe's 5 minutes): refused, naming the header.
    forged = post_event(app, stub, event, status=400, secret="whsec_someone_else_0123456789abcdef")
    assert [e["name"] for e in forged["errors"]] == ["Stripe-Signature"]
    assert forged["errors"][0]["location"] == "header"
    stale = post_event(app, stub, event, status=400, timestamp=int(time.time()) - 301)
    assert [e["name"] for e in stale["errors"]] == ["Stripe-Signature"]
    assert len(events_seen(app)) == 1


@pytest.mark.both_databases
def test_a_replayed_pay_request_asks_stripe_for_the_same_intent(
    app: TestApp, stub: StripeStub
) -> None:
    booking = book(app, guest_body())
    first = pay(app, booking)
    second = pay(app, booking)
    assert second["payment_id"] == first["payment_id"]
    assert second["client_secret"] == first["client_secret"]
    assert len(stub.requests_to("POST", PAYMENT_INTENTS)) == 1
    assert len(stub.payment_intents) == 1


# --- 2. a declined card, three times -------------------------------------------------------------


@pytest.mark.both_databases
def test_three_declines_cancel_the_booking_and_the_intent_at_stripe(
    app: TestApp, stub: StripeStub
) -> None:
    before = remaining(app)
    booking = book(app, guest_body())
    assert remaining(app) == before - 1
    started = pay(app, booking)
    intent_id = intent_id_of(started["client_secret"])
    outcomes = []
    for attempt in (1, 2, 3):
        declined = confirm_at_stripe(stub, started["client_secret"], "pm_card_chargeDeclined")
        assert declined.status == "requires_payment_method"
        assert declined.failure_code == "card_declined"
        failed = [e for e in stub.events if e["type"] == "payment_intent.payment_failed"]
        assert len(failed) == attempt
        outcomes.append(post_event(app, stub, failed[-1])["outcome"])
        assert payment_row(app, started["payment_id"]).attempts == attempt
    assert outcomes == [
        "payment failed (1 of 3)",
        "payment failed (2 of 3)",
        "payment failed (3); booking cancelled",
    ]

    assert booking_status(app, booking["id"]) == "cancelled"
    assert remaining(app) == before
    row = payment_row(app, started["payment_id"])
    assert (row.status, row.failure_code) == ("canceled", "card_declined")
    # After the commit the eager task cancelled the intent at Stripe, once, with our key.
    cancel = only(stub.requests_to("POST", f"{PAYMENT_INTENTS}/{intent_id}/cancel"))
    assert cancel.idempotency_key == f"payment:{started['payment_id']}:cancel"
    assert cancel.status == 200
    assert stub.payment_intents[intent_id]["status"] == "canceled"
    # The booking is over: no fourth attempt.
    pay(app, booking, status=409)
    assert len(stub.requests_to("POST", PAYMENT_INTENTS)) == 1


# --- 3. a customer saves a card and pays with it -------------------------------------------------


def save_card(app: TestApp, stub: StripeStub, headers: dict[str, str]) -> dict[str, Any]:
    """Save ``pm_card_visa`` as the customer's card: setup intent, browser, webhook. Answers the
    card as ``GET /me/payment-methods`` lists it."""
    setup = client(app).post_json(METHODS, {}, headers=headers, status=201).json
    assert setup["status"] == "requires_payment_method"
    assert setup["setup_intent_id"] == intent_id_of(setup["client_secret"])
    assert confirm_setup_at_stripe(stub, setup["client_secret"]).status == "succeeded"
    assert client(app).get(METHODS, headers=headers).json["items"] == []  # not before the event
    answer = deliver(app, stub, "setup_intent.succeeded", setup["setup_intent_id"])
    assert answer["outcome"] == "card saved"
    [card] = client(app).get(METHODS, headers=headers).json["items"]
    return {**card, "setup_intent_id": setup["setup_intent_id"]}


@pytest.mark.both_databases
def test_a_customer_saves_a_card_through_a_stripe_setup_intent(
    app: TestApp, stub: StripeStub
) -> None:
    me, headers = customer(app)
    card = save_card(app, stub, headers)

    made = only(stub.requests_to("POST", "/v1/customers"))
    assert made.idempotency_key == f"customer:{me['id']}:stripe"
    assert made.params["email"] == me["email"]
    [stripe_customer] = stub.customers
    seti = only(stub.requests_to("POST", "/v1/setup_intents"))
    assert seti.idempotency_key == f"customer:{me['id']}:setup:1"
    assert seti.params["customer"] == stripe_customer
    assert seti.params["usage"] == "off_session"

    method_id = stub.setup_intents[card["setup_intent_id"]]["payment_method"]
    assert stub.payment_methods[method_id]["customer"] == stripe_customer
    year = stub.payment_methods[method_id]["card"]["exp_year"]
    assert (card["brand"], card["last4"], card["exp_month"], card["exp_year"]) == (
        "visa",
        "4242",
        8,
        year,
    )
    [saved] = saved_methods(app)
    assert (saved.gateway, saved.gateway_method_id, saved.gateway_customer_id) == (
        "stripe",
        method_id,
        stripe_customer,
    )

    # A second card reuses the customer at Stripe (our row remembers it).
    client(app).post_json(METHODS, {}, headers=headers, status=201)
    assert len(stub.requests_to("POST", "/v1/customers")) == 1
    assert stub.requests_to("POST", "/v1/setup_intents")[-1].idempotency_key == (
        f"customer:{me['id']}:setup:2"
    )


@pytest.mark.both_databases
def test_a_card_saved_while_paying_is_attached_and_listed(app: TestApp, stub: StripeStub) -> None:
    me, headers = customer(app)
    booking = book(app, customer_body(), headers)
    started = pay(app, booking, headers, body={"save_method": True})
    [stripe_customer] = stub.customers
    made = only(stub.requests_to("POST", "/v1/customers"))
    assert made.idempotency_key == f"customer:{me['id']}:stripe"
    create = only(stub.requests_to("POST", PAYMENT_INTENTS))
    assert create.params["customer"] == stripe_customer
    assert create.params["setup_future_usage"] == "off_session"
    assert "confirm" not in create.params

    assert confirm_at_stripe(stub, started["client_secret"]).status == "succeeded"
    intent_id = intent_id_of(started["client_secret"])
    answer = deliver(app, stub, "payment_intent.succeeded", intent_id)
    assert answer["outcome"] == "payment succeeded; booking confirmed"
    method_id = stub.payment_intents[intent_id]["payment_method"]
    assert stub.payment_methods[method_id]["customer"] == stripe_customer
    [card] = client(app).get(METHODS, headers=headers).json["items"]
    assert (card["brand"], card["last4"]) == ("visa", "4242")
    [saved] = saved_methods(app)
    assert (saved.gateway_method_id, saved.gateway_customer_id) == (method_id, stripe_customer)


@pytest.mark.both_databases
def test_paying_with_the_saved_card_confirms_the_booking(app: TestApp, stub: StripeStub) -> None:
    _, headers = customer(app)
    card = save_card(app, stub, headers)
    [stripe_customer] = stub.customers
    method_id = stub.setup_intents[card["setup_intent_id"]]["payment_method"]

    booking = book(app, customer_body(), headers)
    started = pay(app, booking, headers, body={"payment_method_id": card["id"]})
    create = only(stub.requests_to("POST", PAYMENT_INTENTS))
    assert create.idempotency_key.startswith(f"booking:{booking['id']}:payment:1:")
    assert create.params["customer"] == stripe_customer
    assert create.params["payment_method"] == method_id
    assert create.params["confirm"] == "true"
    intent_id = intent_id_of(started["client_secret"])
    assert stub.payment_intents[intent_id]["status"] == "succeeded"
    assert len(stub.requests_to("POST", "/v1/customers")) == 1  # the saved card's customer

    answer = deliver(app, stub, "payment_intent.succeeded", intent_id)
    assert answer["outcome"] == "payment succeeded; booking confirmed"
    assert booking_status(app, booking["id"]) == "confirmed"
    row = payment_row(app, started["payment_id"])
    assert (row.status, row.amount_received_cents) == ("succeeded", booking["total_cents"])


# --- 4. refunds ----------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_an_approved_partial_refund_is_made_at_stripe_once(app: TestApp, stub: StripeStub) -> None:
    booking, started = paid_by_stripe(app, stub)
    intent_id = intent_id_of(started["client_secret"])
    _, staff = staff_member(app, "staff")
    _, admin = staff_member(app, "admin")
    asked = (
        client(app)
        .post_json(
            REFUNDS,
            {
                "payment_id": started["payment_id"],
                "amount_cents": 20000,
                "reason": "One box stayed behind.",
            },
            headers=staff,
            status=201,
        )
        .json
    )
    assert asked["status"] == "requested"
    assert stub.requests_to("POST", "/v1/refunds") == []

    approved = (
        client(app)
        .post_json(f"{REFUNDS}/{asked['id']}/approve", {"note": "ok"}, headers=admin)
        .json
    )
    assert approved["status"] == "succeeded"
    sent = only(stub.requests_to("POST", "/v1/refunds"))
    assert sent.idempotency_key == f"refund:{asked['id']}"
    assert sent.params["amount"] == "20000"
    assert sent.params["payment_intent"] == intent_id
    [refund_at_stripe] = stub.refunds.values()
    assert refund_at_stripe["amount"] == 20000
    [row] = refunds(app)
    assert (row.status, row.gateway_refund_id) == ("succeeded", refund_at_stripe["id"])
    paid = payment_row(app, started["payment_id"])
    assert (paid.refunded_cents, paid.refundable_cents) == (20000, PETITE - 20000)

    # Decided once: a second approval is a conflict and asks Stripe nothing.
    client(app).post_json(f"{REFUNDS}/{asked['id']}/approve", {}, headers=admin, status=409)
    # More than what is left: refused before Stripe is asked.
    too_much = (
        client(app)
        .post_json(
            REFUNDS,
            {
                "payment_id": started["payment_id"],
                "amount_cents": PETITE - 20000 + 1,
                "reason": "Everything back.",
            },
            headers=staff,
            status=409,
        )
        .json
    )
    assert too_much["errors"][0]["name"] == "amount_cents"
    assert len(stub.requests_to("POST", "/v1/refunds")) == 1
    assert len(refunds(app)) == 1
    # The stub's refund.created event, delivered late, changes nothing more.
    answer = deliver(app, stub, "refund.created", refund_at_stripe["id"])
    assert answer["outcome"] == "refund already succeeded"
    assert payment_row(app, started["payment_id"]).refunded_cents == 20000
    assert booking_status(app, booking["id"]) == "confirmed"


# --- 5. switching the .ini is the only change ----------------------------------------------------


def development_settings() -> dict[str, str]:
    """``[app:main]`` of ``development.ini`` as PasteDeploy hands it to the app."""
    parser = configparser.ConfigParser(defaults={"here": str(DEVELOPMENT_INI.parent)})
    parser.read(DEVELOPMENT_INI)
    section = parser["app:main"]
    return {key: section[key] for key in section if key not in ("use", "here")}


@pytest.mark.both_databases
def test_development_ini_with_payments_stripe_serves_the_journey(
    db_url: str, make_testapp: Any, stub: StripeStub, tmp_path: Path
) -> None:
    settings = development_settings()
    settings["mail_console.folder"] = str(tmp_path / "mail")  # not the checkout's var/
    assert "payments_mock" in settings["totetaxi.plugins"].split()
    settings["totetaxi.plugins"] = settings["totetaxi.plugins"].replace(
        "payments_mock", "payments_stripe"
    )
    settings["sqlalchemy.url"] = db_url  # the test's database instead of var/totetaxi.sqlite
    environ = {
        "TOTETAXI_PAYMENTS_STRIPE__SECRET_KEY": stub.api_key,
        "TOTETAXI_PAYMENTS_STRIPE__WEBHOOK_SECRET": stub.webhook_secret,
        "TOTETAXI_PAYMENTS_STRIPE__API_BASE": stub.url,
    }
    # base_settings only adds what every test app has (test environment, eager tasks); the
    # .ini's own values win.
    assert "installed payments_stripe 1.0.0" in install(db_url, environ=environ, **settings)
    app = make_testapp(environ=environ, **settings)
    enabled = app.app.registry.settings["totetaxi.enabled_plugins"]
    assert "payments_stripe" in enabled and "payments_mock" not in enabled
    set_clock(app, NOW)

    booking, started = paid_by_stripe(app, stub)
    assert started["gateway"] == "stripe"
    assert booking_status(app, booking["id"]) == "confirmed"

    # The mock's routes are gone with it: a JSON 404, not a mock payment.
    gone = client(app).post_json(
        MOCK_CONFIRM + f"?token={booking['tracking_token']}",
        {"payment_id": started["payment_id"], "card_number": "4242424242424242"},
        status=404,
    )
    assert gone.content_type == "application/json"
    assert gone.json["status"] == "error"


def test_mock_routes_answer_404_json_while_stripe_is_the_gateway(app: TestApp) -> None:
    for path in (MOCK_CONFIRM, "/api/v1/payments/mock/authenticate"):
        gone = client(app).post_json(
            path, {"payment_id": str(uuid.uuid4()), "card_number": "4242424242424242"}, status=404
        )
        assert gone.content_type == "application/json"
        assert gone.json["status"] == "error"
        assert client(app).get(path, status=404).content_type == "application/json"


# --- 6. Stripe is down ---------------------------------------------------------------------------


def nothing_written(app: TestApp) -> dict[str, int]:
    return {
        "payments": count(app, Payment),
        "audit": count(app, PaymentAudit),
        "customers": count(app, GatewayCustomer),
    }


@pytest.mark.parametrize("trouble", ["500", "unreachable"])
def test_stripe_down_answers_a_clear_error_and_writes_nothing(
    db_url: str, make_testapp: Any, stub: StripeStub, trouble: str
) -> None:
    app = stripe_app(db_url, make_testapp, stub, **{"payments_stripe.max_network_retries": 0})
    booking = book(app, guest_body())
    before = nothing_written(app)
    if trouble == "500":
        stub.fail_next(1, 500)
    else:
        stub.close()  # nobody listens on the port any more: a connection error
    answer = client(app).post_json(
        f"{BOOKINGS}/{booking['id']}/payments?token={booking['tracking_token']}",
        {},
        expect_errors=True,
    )
    assert answer.status_int == 503 and answer.headers["Retry-After"]  # try again, not refused
    assert answer.content_type == "application/json"
    assert answer.json["status"] == "error"
    [error] = answer.json["errors"]
    assert error["name"] == "payment" and error["description"]
    assert "Traceback" not in answer.text
    assert nothing_written(app) == before == {"payments": 0, "audit": 0, "customers": 0}
    assert booking_status(app, booking["id"]) == "pending_payment"
    if trouble == "unreachable":
        return
    assert len(stub.requests_to("POST", PAYMENT_INTENTS)) == 1  # no retry: 0 configured
    assert stub.payment_intents == {}

    # Stripe is back: the same request now works (nothing half-written is in the way).
    started = pay(app, booking)
    assert started["amount_cents"] == booking["total_cents"]
    assert count(app, Payment) == 1
    assert len(stub.payment_intents) == 1
