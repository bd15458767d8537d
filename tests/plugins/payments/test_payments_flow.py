"""Paying for a booking with the mock gateway: journeys, the amount, who may pay, reuse of the
open payment, re-pricing, declines up to the limit, 3-D Secure, ``Idempotency-Key``, and the
mock's own routes.

Every test checks the database as well as the answer: ``Payment`` rows, the mock's stored
intents (``MockObject`` rows of kind ``payment_intent``), ``PaymentAudit`` rows, the booking's
status and history, the van reserved (``CapacityDay`` and the availability API) and the outbox.
The app is that of ``support.payments`` (pricing + payments_mock, clock on Monday
2026-11-23 10:00 New York, bookings for Thursday ``DAY`` at 99 500 cents).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import support.payments as payments_support
from sqlalchemy import select
from support.payments import (
    APP_SETTINGS,
    BOOKINGS,
    CARD_3DS,
    CARD_DECLINED,
    CARD_OK,
    DAY,
    MOCK_AUTHENTICATE,
    MOCK_CONFIRM,
    NOW,
    PETITE,
    STAFF_BOOKINGS,
    actions,
    audit_rows,
    book,
    book_as_guest,
    booking_status,
    client,
    count,
    customer,
    customer_body,
    error_named,
    events_seen,
    fetch,
    guest_body,
    held_events,
    intents_at_gateway,
    mock_authenticate,
    mock_confirm,
    mock_object,
    outbox,
    pay,
    payment,
    payments,
    post_webhook,
    race,
    remaining,
    repriced_after_payment,
    run,
    set_clock,
    snapshot,
    spy_on,
    staff_member,
    token_of,
    vans_booked,
)
from totetaxi_payments.adapters.mock import DELIVER_TASK, MockGateway, MockObject
from totetaxi_payments.interfaces import GatewayError
from totetaxi_payments.models import Payment, PaymentAudit
from totetaxi_payments.services import CANCEL_INTENT_TASK
from webtest import TestApp

from totetaxi_core.api.idempotency import HEADER, REPLAYED_HEADER
from totetaxi_core.bookings.models import Booking, BookingEvent
from totetaxi_core.tasks.models import OutboxStatus

app = payments_support.app  # the fixture: pricing + payments_mock, clock on NOW
pg_app = payments_support.pg_app_fixture  # PostgreSQL, a connection per racer

SATURDAY = dt.date(2026, 12, 5)  # weekend: +15 %
PETITE_ON_SATURDAY = 99500 + 14925


def history(app: TestApp, booking_id: str) -> list[tuple[str, str]]:
    rows = fetch(
        app,
        select(BookingEvent)
        .where(BookingEvent.booking_id == uuid.UUID(booking_id))
        .order_by(BookingEvent.at),
    )
    return [(str(row.status), row.message) for row in rows]


def booking_row(app: TestApp, booking_id: str) -> Booking:
    [row] = fetch(app, select(Booking).where(Booking.id == uuid.UUID(booking_id)))
    return row


def payment_actions(app: TestApp, payment_id: str) -> list[str]:
    return actions(app, PaymentAudit.payment_id == uuid.UUID(payment_id))


# --- journeys ------------------------------------------------------------------------------------


def test_a_guest_books_and_pays_with_4242_and_the_booking_is_confirmed(app):
    spy = spy_on(app)
    created = book_as_guest(app)
    assert remaining(app) == 3 and vans_booked(app) == 1
    started = pay(app, created)
    assert started["status"] == "requires_payment_method"
    assert started["amount_cents"] == created["total_cents"] == PETITE
    assert started["booking_id"] == created["id"] and started["currency"] == "USD"
    assert started["client_secret"].startswith("pi_mock_")
    [row] = payments(app)
    assert str(row.id) == started["payment_id"] and row.customer_id is None
    assert row.status == "requires_payment_method" and row.gateway == "mock"
    intent = mock_object(app, row.gateway_intent_id)
    assert (intent["amount"], intent["currency"], intent["status"]) == (
        PETITE,
        "usd",
        "requires_payment_method",
    )
    assert intent["metadata"] == {"booking_id": created["id"], "booking_number": created["number"]}
    assert spy.succeeded == []

    answer = mock_confirm(app, started["payment_id"], "4242424242424242", created)
    assert answer["status"] == "succeeded"
    # The signed event went through the outbox to the webhook handler after the commit.
    row = payment(app, started["payment_id"])
    assert row.status == "succeeded" and row.amount_received_cents == PETITE
    assert row.gateway_method_id == "pm_card_visa" and row.succeeded_at is not None
    assert (row.attempts, row.refunded_cents, row.refund_held_cents) == (0, 0, 0)
    assert booking_status(app, created["id"]) == "confirmed"
    assert history(app, created["id"])[-1] == ("confirmed", "Payment received.")
    assert remaining(app) == 3 and vans_booked(app) == 1  # the van stays taken
    [event] = events_seen(app)
    assert event.type == "payment_intent.succeeded"
    assert event.outcome == "payment succeeded; booking confirmed"
    [delivery] = outbox(app, DELIVER_TASK)
    assert delivery.status == OutboxStatus.DONE
    assert payment_actions(app, started["payment_id"]) == [
        "payment.created",
        "payment.status_changed",
        "payment.captured",
    ]
    changed = next(r for r in audit_rows(app) if r.action == "payment.status_changed")
    assert (changed.old_status, changed.new_status) == ("requires_payment_method", "succeeded")
    assert changed.source == event.event_id and changed.actor_kind == "system"
    assert str(changed.booking_id) == created["id"]
    assert spy.succeeded == [
        {
            "payment": started["payment_id"],
            "booking": created["id"],
            "payment_status": "succeeded",
            "booking_status": "confirmed",
            "amount_received": PETITE,
            "is_payment": True,
        }
    ]
    assert spy.failed == [] and spy.refunded == []
    # The guest reads the payment through the booking.
    listed = (
        client(app)
        .get(f"{BOOKINGS}/{created['id']}/payments", params=token_of(created))
        .json["items"]
    )
    assert [(p["payment_id"], p["status"], p["amount_received_cents"]) for p in listed] == [
        (started["payment_id"], "succeeded", PETITE)
    ]
    assert listed[0]["refundable_cents"] == PETITE


def test_a_viewer_cannot_pay_or_decline_through_the_mock_and_staff_can(app):
    created = book_as_guest(app)
    started = pay(app, created)
    _, viewer = staff_member(app, "viewer")
    for _ in range(3):  # three declines would cancel the guest's booking
        answer = mock_confirm(app, started["payment_id"], CARD_DECLINED, headers=viewer, status=403)
        assert answer["status"] == "error"
    assert payment(app, started["payment_id"]).status == "requires_payment_method"
    assert booking_status(app, created["id"]) == "pending_payment"
    _, staff = staff_member(app, "staff")
    assert mock_confirm(app, started["payment_id"], CARD_OK, headers=staff)["status"] == (
        "succeeded"
    )
    assert booking_status(app, created["id"]) == "confirmed"


def test_a_customer_books_and_pays(app):
    spy = spy_on(app)
    me, headers = customer(app)
    created = book(app, customer_body(), headers)
    started = pay(app, created, headers)
    assert mock_confirm(app, started["payment_id"], CARD_OK, headers=headers)["status"] == (
        "succeeded"
    )
    row = payment(app, started["payment_id"])
    assert str(row.customer_id) == me["id"] and row.status == "succeeded"
    assert row.save_method is False
    assert booking_status(app, created["id"]) == "confirmed"
    assert [call["booking"] for call in spy.succeeded] == [created["id"]]
    assert intents_at_gateway(app) == 1
    # Staff see it in the booking's payments panel.
    _, staff = staff_member(app, "viewer")
    panel = client(app).get(f"{STAFF_BOOKINGS}/{created['id']}", headers=staff).json["payments"]
    assert [(p["payment_id"], p["status"]) for p in panel] == [(started["payment_id"], "succeeded")]


# --- the amount and who may pay ------------------------------------------------------------------


@pytest.mark.parametrize("field", ["amount_cents", "amount", "currency", "status"])
def test_a_client_sent_amount_or_status_is_400_and_writes_nothing(app, field):
    created = book_as_guest(app)
    before = snapshot(app)
    answer = pay(app, created, body={field: 1}, status=400)
    assert answer["status"] == "error"
    assert any(field in error["description"] for error in answer["errors"]), answer["errors"]
    assert snapshot(app) == before and payments(app) == [] and intents_at_gateway(app) == 0
    # Without it, the amount is the server's total.
    assert pay(app, created)["amount_cents"] == created["total_cents"]


def test_the_amount_follows_the_booking_total_of_another_service(app):
    body = {
        "service_type": "standard_delivery",
        "item_count": 5,
        "specialty_items": [{"code": "crib", "qty": 1}],
        "date": DAY.isoformat(),
        "pickup_address": guest_body()["pickup_address"],
        "delivery_address": guest_body()["delivery_address"],
        "guest": guest_body()["guest"],
    }
    created = book(app, body)
    assert created["total_cents"] != PETITE
    started = pay(app, created)
    assert started["amount_cents"] == created["total_cents"]
    assert (
        mock_object(app, payments(app)[0].gateway_intent_id)["amount"] == (created["total_cents"])
    )


def test_paying_a_confirmed_booking_is_409(app):
    created = book_as_guest(app)
    first = pay(app, created)
    mock_confirm(app, first["payment_id"], CARD_OK, created)
    before = snapshot(app)
    error = error_named(pay(app, created, status=409), "status")
    assert "confirmed" in error["description"]
    assert snapshot(app) == before and intents_at_gateway(app) == 1


def test_paying_a_cancelled_booking_is_409(app):
    created = book_as_guest(app)
    client(app).post_json(
        f"{BOOKINGS}/{created['id']}/cancel?token={created['tracking_token']}",
        {"reason": "Plans changed"},
        status=200,
    )
    before = snapshot(app)
    error = error_named(pay(app, created, status=409), "status")
    assert "cancelled" in error["description"]
    assert snapshot(app) == before and payments(app) == [] and intents_at_gateway(app) == 0


def test_another_customer_or_a_guest_without_the_token_gets_404(app):
    _, owner = customer(app)
    theirs = book(app, customer_body(), owner)
    _, intruder = customer(app)
    guest_booking = book_as_guest(app)
    before = snapshot(app)
    pay(app, theirs, intruder, status=404)
    pay(app, theirs, status=404)  # anonymous
    pay(app, guest_booking, guest=False, status=404)  # no token
    client(app).post_json(f"{BOOKINGS}/{guest_booking['id']}/payments?token=wrong", {}, status=404)
    pay(app, guest_booking, intruder, guest=False, status=404)
    client(app).post_json(f"{BOOKINGS}/{uuid.uuid4()}/payments", {}, status=404)
    assert snapshot(app) == before and payments(app) == []
    # Nor may they confirm or read the owner's payment.
    started = pay(app, theirs, owner)
    after_start = snapshot(app)
    mock_confirm(app, started["payment_id"], CARD_OK, headers=intruder, status=404)
    mock_confirm(app, started["payment_id"], CARD_OK, status=404)
    mock_confirm(app, started["payment_id"], CARD_OK, guest_booking, status=404)  # other token
    client(app).get(f"{BOOKINGS}/{theirs['id']}/payments", headers=intruder, status=404)
    assert snapshot(app) == after_start
    assert booking_status(app, theirs["id"]) == "pending_payment"


def test_a_second_post_reuses_the_open_payment(app):
    created = book_as_guest(app)
    first = pay(app, created)
    second = pay(app, created)
    assert second["payment_id"] == first["payment_id"]
    assert second["client_secret"] == first["client_secret"]
    assert len(payments(app)) == 1 and intents_at_gateway(app) == 1
    assert payment_actions(app, first["payment_id"]) == ["payment.created"]
    # ... also after a decline: the same intent takes the next card.
    mock_confirm(app, first["payment_id"], CARD_DECLINED, created)
    third = pay(app, created)
    assert third["payment_id"] == first["payment_id"] and third["attempts"] == 1
    assert third["failure_code"] == "card_declined"
    mock_confirm(app, first["payment_id"], CARD_OK, created)
    assert booking_status(app, created["id"]) == "confirmed"
    assert len(payments(app)) == 1 and intents_at_gateway(app) == 1


def test_a_staff_reprice_cancels_the_open_intent_and_the_next_post_charges_the_new_total(app):
    created = book_as_guest(app)
    old = pay(app, created)
    old_row = payments(app)[0]
    _, staff = staff_member(app)
    answer = (
        client(app)
        .patch_json(
            f"{STAFF_BOOKINGS}/{created['id']}", {"date": SATURDAY.isoformat()}, headers=staff
        )
        .json
    )
    assert answer["total_cents"] == PETITE_ON_SATURDAY
    # The open payment is cancelled here, and at the gateway by the outbox task.
    cancelled = payment(app, old["payment_id"])
    assert cancelled.status == "canceled"
    [change] = [r for r in audit_rows(app) if r.action == "payment.status_changed"]
    assert (change.old_status, change.new_status) == ("requires_payment_method", "canceled")
    assert change.actor_kind == "staff" and "total" in change.note
    [task] = outbox(app, CANCEL_INTENT_TASK)
    assert task.args == [old["payment_id"]] and task.status == OutboxStatus.DONE
    assert mock_object(app, old_row.gateway_intent_id)["status"] == "canceled"
    # The old intent can no longer be charged.
    mock_confirm(app, old["payment_id"], CARD_OK, created, status=409)
    assert payment(app, old["payment_id"]).status == "canceled"
    assert booking_status(app, created["id"]) == "pending_payment"

    new = pay(app, created)
    assert new["payment_id"] != old["payment_id"]
    assert new["amount_cents"] == PETITE_ON_SATURDAY
    assert len(payments(app)) == 2 and intents_at_gateway(app) == 2
    assert mock_object(app, payment(app, new["payment_id"]).gateway_intent_id)["amount"] == (
        PETITE_ON_SATURDAY
    )
    mock_confirm(app, new["payment_id"], CARD_OK, created)
    assert payment(app, new["payment_id"]).amount_received_cents == PETITE_ON_SATURDAY
    assert booking_status(app, created["id"]) == "confirmed"
    assert vans_booked(app, DAY) == 0 and vans_booked(app, SATURDAY) == 1


def test_the_success_of_an_intent_cancelled_by_a_reprice_does_not_confirm_an_underpaid_booking(app):
    """The guest pays the old intent at the very moment staff re-price the booking: the
    gateway took 99 500 cents, the booking now costs 114 425."""
    created = book_as_guest(app)
    old = pay(app, created)
    _, staff = staff_member(app)
    with held_events(app) as held:
        mock_confirm(app, old["payment_id"], CARD_OK, created)
        client(app).patch_json(
            f"{STAFF_BOOKINGS}/{created['id']}", {"date": SATURDAY.isoformat()}, headers=staff
        )
    assert payment(app, old["payment_id"]).status == "canceled"
    [success] = held
    post_webhook(app, *success)
    row = payment(app, old["payment_id"])
    assert row.amount_received_cents == PETITE < PETITE_ON_SATURDAY
    assert booking_row(app, created["id"]).total_cents == PETITE_ON_SATURDAY
    assert "payment.needs_attention" in payment_actions(app, old["payment_id"])
    assert booking_status(app, created["id"]) == "pending_payment"


def test_a_gateway_outage_when_paying_is_503_and_writes_nothing(app, monkeypatch):
    created = book_as_guest(app)
    real = MockGateway.create_intent

    def unreachable(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise GatewayError("api_connection_error", "Network trouble.", retryable=True)

    monkeypatch.setattr(MockGateway, "create_intent", unreachable)
    before = snapshot(app)
    answer = client(app).post_json(
        f"{BOOKINGS}/{created['id']}/payments?token={created['tracking_token']}", {}, status=503
    )
    error_named(answer.json, "payment")
    assert answer.headers["Retry-After"]
    assert snapshot(app) == before
    monkeypatch.setattr(MockGateway, "create_intent", real)
    assert pay(app, created)["status"] == "requires_payment_method"
    assert len(payments(app)) == 1 and intents_at_gateway(app) == 1


def test_a_gateway_refusal_when_paying_is_409_and_writes_nothing(app, monkeypatch):
    created = book_as_guest(app)

    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise GatewayError("amount_too_small", "Amount must be at least 50 cents.")

    monkeypatch.setattr(MockGateway, "create_intent", refuse)
    before = snapshot(app)
    error = error_named(pay(app, created, status=409), "payment")
    assert "50 cents" in error["description"]
    assert snapshot(app) == before and booking_status(app, created["id"]) == "pending_payment"


# --- declines, the attempt limit, 3-D Secure -----------------------------------------------------


def test_three_declines_cancel_the_booking_and_release_the_van(app):
    spy = spy_on(app)
    created = book_as_guest(app)
    started = pay(app, created)
    assert vans_booked(app) == 1 and remaining(app) == 3
    for attempt in (1, 2):
        answer = mock_confirm(app, started["payment_id"], CARD_DECLINED, created)
        assert (answer["status"], answer["failure_code"]) == (
            "requires_payment_method",
            "card_declined",
        )
        row = payment(app, started["payment_id"])
        assert (row.status, row.attempts, row.failure_code) == (
            "requires_payment_method",
            attempt,
            "card_declined",
        )
        assert row.failure_reason == "Your card was declined."
        assert booking_status(app, created["id"]) == "pending_payment"
        assert vans_booked(app) == 1
    mock_confirm(app, started["payment_id"], CARD_DECLINED, created)
    row = payment(app, started["payment_id"])
    assert (row.status, row.attempts, row.amount_received_cents) == ("canceled", 3, 0)
    booking = booking_row(app, created["id"])
    assert booking.status == "cancelled" and booking.cancelled_at is not None
    assert "3" in booking.cancel_reason
    assert vans_booked(app) == 0 and remaining(app) == 4
    assert [(c["payment"], c["attempts"], c["reason"], c["attempts_left"]) for c in spy.failed] == [
        (started["payment_id"], n, "Your card was declined.", 3 - n) for n in (1, 2, 3)
    ]
    assert spy.failed[-1]["booking_status"] == "pending_payment"  # fired before the cancel
    assert spy.succeeded == []
    assert payment_actions(app, started["payment_id"]).count("payment.failed") == 3
    assert [e.outcome for e in events_seen(app)][:3] == [
        "payment failed (1 of 3)",
        "payment failed (2 of 3)",
        "payment failed (3); booking cancelled",
    ]
    # The intent is cancelled at the gateway too (after commit), and nothing can be paid.
    [task] = outbox(app, CANCEL_INTENT_TASK)
    assert task.status == OutboxStatus.DONE
    assert mock_object(app, row.gateway_intent_id)["status"] == "canceled"
    before = snapshot(app)
    error_named(pay(app, created, status=409), "status")
    mock_confirm(app, started["payment_id"], CARD_OK, created, status=409)
    assert snapshot(app) == before
    assert booking_status(app, created["id"]) == "cancelled"


@pytest.mark.both_databases
def test_the_attempt_limit_follows_the_setting(make_testapp):
    app = make_testapp(**{**APP_SETTINGS, "payments.max_attempts": 1})
    set_clock(app, NOW)
    created = book_as_guest(app)
    started = pay(app, created)
    mock_confirm(app, started["payment_id"], CARD_DECLINED, created)
    assert booking_status(app, created["id"]) == "cancelled"
    assert payment(app, started["payment_id"]).attempts == 1
    assert vans_booked(app) == 0


def test_3155_asks_for_authentication_and_passing_it_confirms(app):
    spy = spy_on(app)
    created = book_as_guest(app)
    started = pay(app, created)
    answer = mock_confirm(app, started["payment_id"], CARD_3DS, created)
    assert answer["status"] == "requires_action"
    row = payment(app, started["payment_id"])
    assert row.status == "requires_action" and row.attempts == 0
    assert mock_object(app, row.gateway_intent_id)["next_action"] == {"type": "use_stripe_sdk"}
    assert booking_status(app, created["id"]) == "pending_payment" and spy.succeeded == []
    assert mock_authenticate(app, started["payment_id"], True, created)["status"] == "succeeded"
    row = payment(app, started["payment_id"])
    assert row.status == "succeeded" and row.amount_received_cents == PETITE
    assert row.gateway_method_id == "pm_card_authenticationRequired"
    assert booking_status(app, created["id"]) == "confirmed"
    assert len(spy.succeeded) == 1 and spy.failed == []
    assert [e.type for e in events_seen(app)] == [
        "payment_intent.requires_action",
        "payment_intent.succeeded",
    ]
    # Authenticating again is refused by the gateway (409), and changes nothing.
    before = snapshot(app)
    mock_authenticate(app, started["payment_id"], True, created, status=409)
    assert snapshot(app) == before


def test_a_failed_authentication_counts_as_a_failure(app):
    spy = spy_on(app)
    created = book_as_guest(app)
    started = pay(app, created)
    mock_confirm(app, started["payment_id"], CARD_3DS, created)
    answer = mock_authenticate(app, started["payment_id"], False, created)
    assert answer["status"] == "requires_payment_method"
    row = payment(app, started["payment_id"])
    assert (row.status, row.attempts) == ("requires_payment_method", 1)
    assert row.failure_code == "payment_intent_authentication_failure"
    assert [c["attempts"] for c in spy.failed] == [1]
    assert booking_status(app, created["id"]) == "pending_payment"
    # Two more failures of either kind cancel the booking.
    mock_confirm(app, started["payment_id"], CARD_DECLINED, created)
    mock_confirm(app, started["payment_id"], CARD_3DS, created)
    mock_authenticate(app, started["payment_id"], False, created)
    assert booking_status(app, created["id"]) == "cancelled"
    assert payment(app, started["payment_id"]).attempts == 3 and len(spy.failed) == 3
    assert vans_booked(app) == 0


# --- Idempotency-Key -----------------------------------------------------------------------------


@pytest.mark.both_databases
def test_a_double_submitted_payment_with_one_key_is_one_payment(app):
    created = book_as_guest(app)
    key = str(uuid.uuid4())
    path = f"{BOOKINGS}/{created['id']}/payments?token={created['tracking_token']}"
    first = client(app).post_json(path, {}, headers={HEADER: key}, status=201)
    assert REPLAYED_HEADER not in first.headers
    again = client(app).post_json(path, {}, headers={HEADER: key}, status=201)
    assert again.headers[REPLAYED_HEADER] == "true"
    assert again.body == first.body
    assert len(payments(app)) == 1 and intents_at_gateway(app) == 1
    assert actions(app).count("payment.created") == 1
    # The same key with another body is refused and writes nothing.
    before = snapshot(app)
    refused = client(app).post_json(path, {"save_method": False}, headers={HEADER: key}, status=409)
    error_named(refused.json, HEADER)
    assert snapshot(app) == before


# --- the mock's own routes -----------------------------------------------------------------------


def test_the_mock_refuses_unknown_cards_and_ambiguous_bodies(app):
    created = book_as_guest(app)
    started = pay(app, created)
    before = snapshot(app)
    for card in ("4111 1111 1111 1111", "abcd", ""):
        answer = mock_confirm(app, started["payment_id"], card, created, status=400)
        error_named(answer, "card_number")
    path = f"{MOCK_CONFIRM}?token={created['tracking_token']}"
    error_named(
        client(app).post_json(path, {"card_number": CARD_OK}, status=400).json, "payment_id"
    )
    error_named(
        client(app)
        .post_json(
            path,
            {
                "card_number": CARD_OK,
                "payment_id": started["payment_id"],
                "setup_intent_id": "seti_x",
            },
            status=400,
        )
        .json,
        "payment_id",
    )
    mock_confirm(app, str(uuid.uuid4()), CARD_OK, created, status=404)
    mock_confirm(app, "not-a-uuid", CARD_OK, created, status=404)
    # Authenticating an intent that asked for nothing is a 409 from the gateway.
    mock_authenticate(app, started["payment_id"], True, created, status=409)
    assert snapshot(app) == before


def test_spaces_and_dashes_in_the_card_number_are_fine(app):
    created = book_as_guest(app)
    started = pay(app, created)
    assert mock_confirm(app, started["payment_id"], "4242-4242-4242-4242", created)["status"] == (
        "succeeded"
    )
    assert booking_status(app, created["id"]) == "confirmed"


def test_staff_may_confirm_with_a_test_card(app):
    created = book_as_guest(app)
    started = pay(app, created)
    _, staff = staff_member(app)
    assert mock_confirm(app, started["payment_id"], CARD_OK, headers=staff)["status"] == (
        "succeeded"
    )
    assert booking_status(app, created["id"]) == "confirmed"


@pytest.mark.both_databases
def test_the_mock_routes_are_404_when_payments_are_not_enabled(make_testapp):
    app = make_testapp(**{"totetaxi.plugins": "pricing"})
    set_clock(app, NOW)
    created = book_as_guest(app)
    for path, body in (
        (MOCK_CONFIRM, {"payment_id": str(uuid.uuid4()), "card_number": CARD_OK}),
        (MOCK_AUTHENTICATE, {"payment_id": str(uuid.uuid4()), "succeed": True}),
        (f"{BOOKINGS}/{created['id']}/payments", {}),
    ):
        answer = client(app).post_json(path, body, status=404)
        assert answer.content_type == "application/json"
        assert answer.json["status"] == "error"
    assert count(app, MockObject) == 0 and count(app, Payment) == 0


# With payments_stripe enabled instead, the mock's routes are 404 too: see
# test_stripe_journeys.py::test_mock_routes_answer_404_json_while_stripe_is_the_gateway.


# --- concurrency (PostgreSQL) --------------------------------------------------------------------


@pytest.mark.postgresql
def test_concurrent_payment_posts_open_one_payment(pg_app):
    created = book_as_guest(pg_app)
    path = f"{BOOKINGS}/{created['id']}/payments?token={created['tracking_token']}"
    answers = race(pg_app, [lambda own: own.post_json(path, {}, expect_errors=True)] * 4)
    assert sorted(status for status, _ in answers) == [201] * 4, answers
    assert len({body["payment_id"] for _, body in answers}) == 1
    assert len(payments(pg_app)) == 1 and intents_at_gateway(pg_app) == 1
    assert count(pg_app, PaymentAudit, PaymentAudit.action == "payment.created") == 1


def test_nothing_is_left_running(app):
    """Eager tasks: after a journey no outbox message is left pending."""
    created = book_as_guest(app)
    started = pay(app, created)
    mock_confirm(app, started["payment_id"], CARD_DECLINED, created)
    mock_confirm(app, started["payment_id"], CARD_OK, created)
    statuses = {message.status for message in outbox(app)}
    assert statuses == {OutboxStatus.DONE}
    assert run(
        app,
        lambda ctx: ctx.dbsession.scalar(
            select(Payment.status).where(Payment.id == uuid.UUID(started["payment_id"]))
        ),
    ) == ("succeeded")


def test_re_pricing_a_paid_booking_flags_the_difference_for_staff(app):
    _, payment_id = repriced_after_payment(app)  # to a Saturday: +15%
    row = payment(app, payment_id)
    assert (row.status, row.needs_attention) == ("succeeded", True)
    [flag] = audit_rows(app, PaymentAudit.action == "payment.total_changed")
    assert flag.amount_cents == 14925 and "collect or refund" in flag.note
