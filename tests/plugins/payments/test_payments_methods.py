"""Saved cards: ``GET``/``POST /me/payment-methods`` (a setup intent the mock confirms),
``DELETE /me/payment-methods/{id}``, paying with a saved card, ``save_method`` on a payment.

A saved card is the gateway's PaymentMethod attached to the gateway customer; we keep its ids
and what may be shown (brand, last4, expiry), never a card number.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import support.payments as payments_support
from sqlalchemy import select
from support.payments import (
    CARD_DECLINED,
    CARD_OK,
    METHODS,
    MOCK_CONFIRM,
    PETITE,
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
    fetch,
    held_events,
    intents_at_gateway,
    mock_confirm,
    mock_object,
    pay,
    payment,
    payments,
    post_webhook,
    snapshot,
    spy_on,
)
from totetaxi_payments.adapters.mock import MockObject
from totetaxi_payments.models import GatewayCustomer, SavedMethod, SetupAttempt
from webtest import TestApp

app = payments_support.app  # the fixture: pricing + payments_mock, clock on NOW

FULL_NUMBERS = ("4242424242424242", "4242 4242 4242 4242", "4000000000000002")


def start_setup(app: TestApp, headers: dict[str, str]) -> dict[str, Any]:
    return client(app).post_json(METHODS, {}, headers=headers, status=201).json


def confirm_setup(
    app: TestApp,
    headers: dict[str, str],
    setup_intent_id: str,
    card: str = CARD_OK,
    status: int = 200,
) -> Any:
    return (
        client(app)
        .post_json(
            MOCK_CONFIRM,
            {"setup_intent_id": setup_intent_id, "card_number": card},
            headers=headers,
            status=status,
        )
        .json
    )


def save_card(app: TestApp, headers: dict[str, str]) -> dict[str, Any]:
    """Save 4242 through a setup intent; answer the card as the list shows it."""
    setup = start_setup(app, headers)
    assert confirm_setup(app, headers, setup["setup_intent_id"])["status"] == "succeeded"
    return listed(app, headers)[0]


def listed(app: TestApp, headers: dict[str, str]) -> list[dict[str, Any]]:
    return client(app).get(METHODS, headers=headers).json["items"]


def all_saved(app: TestApp) -> list[SavedMethod]:
    """Every saved card, soft-deleted ones too."""
    return fetch(
        app,
        select(SavedMethod)
        .order_by(SavedMethod.created_at)
        .execution_options(include_deleted=True),
    )


def no_card_number(answer: Any) -> None:
    text = json.dumps(answer)
    for number in FULL_NUMBERS:
        assert number not in text


# --- saving a card through a setup intent --------------------------------------------------------


def test_a_customer_saves_a_card_and_sees_only_brand_last4_and_expiry(app):
    me, headers = customer(app)
    assert listed(app, headers) == []
    setup = start_setup(app, headers)
    assert setup["setup_intent_id"].startswith("seti_mock_")
    assert setup["client_secret"].startswith(setup["setup_intent_id"] + "_secret_")
    assert setup["status"] == "requires_payment_method"
    [attempt] = fetch(app, select(SetupAttempt))
    assert (
        str(attempt.customer_id) == me["id"]
        and attempt.gateway_setup_id == (setup["setup_intent_id"])
    )
    [gateway_customer] = fetch(app, select(GatewayCustomer))
    assert str(gateway_customer.customer_id) == me["id"] and gateway_customer.gateway == "mock"
    assert mock_object(app, gateway_customer.gateway_customer_id)["email"] == me["email"]
    assert all_saved(app) == []  # saved by the webhook, not yet

    answer = confirm_setup(app, headers, setup["setup_intent_id"], "4242 4242 4242 4242")
    assert answer == {"setup_intent_id": setup["setup_intent_id"], "status": "succeeded"}
    [card] = listed(app, headers)
    assert set(card) == {"id", "brand", "last4", "exp_month", "exp_year", "created_at"}
    assert (card["brand"], card["last4"], card["exp_month"]) == ("visa", "4242", 12)
    assert card["exp_year"] >= 2026
    no_card_number(client(app).get(METHODS, headers=headers).json)
    [row] = all_saved(app)
    assert str(row.id) == card["id"] and str(row.customer_id) == me["id"]
    assert row.gateway_method_id.startswith("pm_mock_")  # the customer's own copy
    assert row.gateway_customer_id == gateway_customer.gateway_customer_id
    at_gateway = mock_object(app, row.gateway_method_id)
    assert at_gateway["customer"] == gateway_customer.gateway_customer_id
    assert at_gateway["behaves_as"] == "pm_card_visa"
    assert [a.status for a in fetch(app, select(SetupAttempt))] == ["succeeded"]
    assert "method.saved" in actions(app)
    dashboard = client(app).get("/api/v1/me/dashboard", headers=headers).json
    assert [m["id"] for m in dashboard["payment_methods"]] == [card["id"]]
    assert dashboard["payment_methods"][0]["last4"] == "4242"
    no_card_number(dashboard)


def test_a_declined_card_is_not_saved(app):
    _, headers = customer(app)
    setup = start_setup(app, headers)
    before = snapshot(app)
    error_named(
        confirm_setup(app, headers, setup["setup_intent_id"], CARD_DECLINED, status=409),
        "payment_id",
    )
    assert snapshot(app) == before and listed(app, headers) == []


def test_nobody_else_confirms_a_customers_setup_intent(app):
    _, owner = customer(app)
    _, intruder = customer(app)
    setup = start_setup(app, owner)
    before = snapshot(app)
    confirm_setup(app, intruder, setup["setup_intent_id"], status=404)
    client(app).post_json(
        MOCK_CONFIRM,
        {"setup_intent_id": setup["setup_intent_id"], "card_number": CARD_OK},
        status=404,
    )
    confirm_setup(app, owner, "seti_unknown", status=404)
    assert snapshot(app) == before and listed(app, owner) == []


def test_guests_have_no_saved_cards(app):
    client(app).get(METHODS, status=401)
    client(app).post_json(METHODS, {}, status=401)
    assert count(app, SetupAttempt) == 0 and count(app, GatewayCustomer) == 0


def test_each_customer_lists_only_their_own_cards(app):
    _, first = customer(app)
    _, second = customer(app)
    mine = save_card(app, first)
    assert listed(app, second) == []
    theirs = save_card(app, second)
    assert [c["id"] for c in listed(app, first)] == [mine["id"]]
    assert [c["id"] for c in listed(app, second)] == [theirs["id"]]
    assert count(app, GatewayCustomer) == 2


# --- paying with a saved card --------------------------------------------------------------------


def test_a_customer_saves_a_card_and_pays_with_it(app):
    spy = spy_on(app)
    me, headers = customer(app)
    card = save_card(app, headers)
    [saved] = all_saved(app)
    created = book(app, customer_body(), headers)
    started = pay(app, created, headers, body={"payment_method_id": card["id"]})
    assert started["amount_cents"] == PETITE
    # Charged at once; settled only by the webhook (delivered after the commit).
    assert started["status"] == "processing" and started["amount_received_cents"] == 0
    # No /mock/confirm: the intent was confirmed with the saved card at once.
    row = payment(app, started["payment_id"])
    intent = mock_object(app, row.gateway_intent_id)
    assert intent["payment_method"] == saved.gateway_method_id
    assert intent["customer"] == saved.gateway_customer_id
    assert (intent["status"], intent["amount_received"]) == ("succeeded", PETITE)
    assert booking_status(app, created["id"]) == "confirmed"
    assert (row.status, row.amount_received_cents) == ("succeeded", PETITE)
    assert str(row.customer_id) == me["id"]
    assert [call["booking"] for call in spy.succeeded] == [created["id"]]
    changes = [
        (a.old_status, a.new_status)
        for a in audit_rows(app)
        if a.action in ("payment.created", "payment.status_changed")
        and str(a.payment_id) == started["payment_id"]
    ]
    assert changes == [("", "processing"), ("processing", "succeeded")]


def test_paying_with_a_saved_card_replaces_an_open_payment_without_it(app):
    _, headers = customer(app)
    card = save_card(app, headers)
    created = book(app, customer_body(), headers)
    plain = pay(app, created, headers)
    with_card = pay(app, created, headers, body={"payment_method_id": card["id"]})
    assert with_card["payment_id"] != plain["payment_id"]
    assert payment(app, plain["payment_id"]).status == "canceled"
    assert intents_at_gateway(app) == 2


@pytest.mark.both_databases
def test_a_double_submitted_saved_card_payment_charges_once(app):
    """Two clicks on "pay with this card" while the first charge's event is still in flight
    (the broker delivers it a moment later; eager tasks would deliver it at once)."""
    _, headers = customer(app)
    card = save_card(app, headers)
    created = book(app, customer_body(), headers)
    with held_events(app) as held:
        first = pay(app, created, headers, body={"payment_method_id": card["id"]})
        second = pay(app, created, headers, body={"payment_method_id": card["id"]}, status="*")
    for payload, signature in held:
        post_webhook(app, payload, signature)
    assert booking_status(app, created["id"]) == "confirmed"
    charged = [
        row
        for row in fetch(app, select(MockObject).where(MockObject.kind == "payment_intent"))
        if row.data["amount_received"]
    ]
    assert len(charged) == 1, "the customer was charged more than once"
    assert sum(p.amount_received_cents for p in payments(app)) == PETITE
    assert second.get("payment_id") in (None, first["payment_id"])
    assert "payment.needs_attention" not in actions(app)


@pytest.mark.parametrize("kind", ["another customer's", "unknown", "malformed"])
def test_paying_with_a_card_that_is_not_yours_is_400_and_writes_nothing(app, kind):
    _, owner = customer(app)
    card = save_card(app, owner)
    _, headers = customer(app)
    created = book(app, customer_body(), headers)
    method_id = {
        "another customer's": card["id"],
        "unknown": str(uuid.uuid4()),
        "malformed": "pm_card_visa",
    }[kind]
    before = snapshot(app)
    answer = pay(app, created, headers, body={"payment_method_id": method_id}, status=400)
    error_named(answer, "payment_method_id")
    assert snapshot(app) == before and payments(app) == []
    assert booking_status(app, created["id"]) == "pending_payment"


def test_a_guest_cannot_pay_with_a_saved_card_id(app):
    _, owner = customer(app)
    card = save_card(app, owner)
    created = book_as_guest(app)
    before = snapshot(app)
    error_named(
        pay(app, created, body={"payment_method_id": card["id"]}, status=400), "payment_method_id"
    )
    assert snapshot(app) == before


# --- save_method on a payment --------------------------------------------------------------------


def test_save_method_keeps_the_card_after_a_successful_payment(app):
    me, headers = customer(app)
    created = book(app, customer_body(), headers)
    started = pay(app, created, headers, body={"save_method": True})
    row = payment(app, started["payment_id"])
    assert row.save_method is True
    intent = mock_object(app, row.gateway_intent_id)
    [gateway_customer] = fetch(app, select(GatewayCustomer))
    assert intent["customer"] == gateway_customer.gateway_customer_id
    assert intent["setup_future_usage"] == "off_session"
    assert all_saved(app) == []
    mock_confirm(app, started["payment_id"], CARD_OK, headers=headers)
    assert booking_status(app, created["id"]) == "confirmed"
    [card] = listed(app, headers)
    assert (card["brand"], card["last4"]) == ("visa", "4242")
    [saved] = all_saved(app)
    assert str(saved.customer_id) == me["id"]
    assert saved.gateway_customer_id == gateway_customer.gateway_customer_id
    assert mock_object(app, saved.gateway_method_id)["customer"] == (
        gateway_customer.gateway_customer_id
    )


def test_a_card_saved_with_a_payment_pays_the_next_booking(app):
    _, headers = customer(app)
    first = book(app, customer_body(), headers)
    started = pay(app, first, headers, body={"save_method": True})
    mock_confirm(app, started["payment_id"], CARD_OK, headers=headers)
    [card] = listed(app, headers)
    second = book(app, customer_body(), headers)
    again = pay(app, second, headers, body={"payment_method_id": card["id"]})
    assert booking_status(app, second["id"]) == "confirmed"
    row = payment(app, again["payment_id"])
    assert (row.status, row.amount_received_cents) == ("succeeded", PETITE)


def test_save_method_keeps_nothing_after_a_decline(app):
    _, headers = customer(app)
    created = book(app, customer_body(), headers)
    started = pay(app, created, headers, body={"save_method": True})
    mock_confirm(app, started["payment_id"], CARD_DECLINED, headers=headers)
    assert listed(app, headers) == [] and all_saved(app) == []


def test_without_save_method_nothing_is_kept(app):
    _, headers = customer(app)
    created = book(app, customer_body(), headers)
    started = pay(app, created, headers)
    mock_confirm(app, started["payment_id"], CARD_OK, headers=headers)
    assert listed(app, headers) == [] and count(app, GatewayCustomer) == 0


def test_a_guest_asking_to_save_the_card_is_400_naming_save_method(app):
    created = book_as_guest(app)
    before = snapshot(app)
    error = error_named(pay(app, created, body={"save_method": True}, status=400), "save_method")
    assert error["description"]
    assert snapshot(app) == before and payments(app) == [] and intents_at_gateway(app) == 0
    # save_method false is fine for a guest.
    assert pay(app, created, body={"save_method": False})["status"] == "requires_payment_method"


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_save_method_must_be_a_boolean(app, value):
    _, headers = customer(app)
    created = book(app, customer_body(), headers)
    answer = pay(app, created, headers, body={"save_method": value}, status=400)
    assert any("save_method" in (e["name"] + e["description"]) for e in answer["errors"])
    assert payments(app) == []


# --- deleting a card -----------------------------------------------------------------------------


def test_deleting_a_card_detaches_it_and_it_is_gone(app):
    _, headers = customer(app)
    card = save_card(app, headers)
    [saved] = all_saved(app)
    client(app).delete(f"{METHODS}/{card['id']}", headers=headers, status=204)
    assert listed(app, headers) == []
    assert client(app).get("/api/v1/me/dashboard", headers=headers).json["payment_methods"] == []
    [row] = all_saved(app)
    assert row.deleted_at is not None  # kept for history, hidden everywhere
    assert mock_object(app, saved.gateway_method_id)["customer"] is None
    assert "method.removed" in actions(app)
    # Gone for good: deleting again is 404, paying with it is 400.
    client(app).delete(f"{METHODS}/{card['id']}", headers=headers, status=404)
    created = book(app, customer_body(), headers)
    error_named(
        pay(app, created, headers, body={"payment_method_id": card["id"]}, status=400),
        "payment_method_id",
    )


def test_nobody_else_deletes_a_customers_card(app):
    _, owner = customer(app)
    card = save_card(app, owner)
    _, intruder = customer(app)
    before = snapshot(app)
    client(app).delete(f"{METHODS}/{card['id']}", headers=intruder, status=404)
    # Not signed in: 401 before the card is looked up, so it tells nothing either.
    client(app).delete(f"{METHODS}/{card['id']}", status=401)
    client(app).delete(f"{METHODS}/{uuid.uuid4()}", headers=owner, status=404)
    client(app).delete(f"{METHODS}/not-a-uuid", headers=owner, status=404)
    assert snapshot(app) == before
    assert [c["id"] for c in listed(app, owner)] == [card["id"]]
