"""The ``PaymentGateway`` contract: one suite, run against every gateway.

Each gateway joins through a *harness* (:class:`Harness`): the gateway object, a ``sign``
function producing the ``Stripe-Signature`` header its ``parse_webhook`` accepts, and optionally
a way to count the PaymentIntents it stored (to prove an idempotent replay created nothing).

* ``stripe``: :class:`~totetaxi_payments.adapters.stripe.StripeGateway` against the local
  Stripe stub (``support.stripe_stub``), signatures from ``stripe.WebhookSignature``.
* ``mock``: :class:`~totetaxi_payments.adapters.mock.MockGateway` on a test database, in one
  transaction, signatures from :mod:`totetaxi_payments.signatures`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import pytest
from support.stripe_stub import StripeStub
from totetaxi_payments.adapters.stripe import StripeGateway
from totetaxi_payments.interfaces import (
    CANCELED,
    INTENT_STATUSES,
    REQUIRES_ACTION,
    REQUIRES_CONFIRMATION,
    REQUIRES_PAYMENT_METHOD,
    SUCCEEDED,
    TEST_METHODS,
    Card,
    GatewayError,
    Intent,
    PaymentGateway,
    RefundResult,
    SignatureError,
    WebhookEvent,
)

from totetaxi_core.testing import SlotContract

VISA = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"
AUTH_REQUIRED = "pm_card_authenticationRequired"


@dataclass
class Harness:
    """One gateway under contract."""

    name: str
    gateway: PaymentGateway
    #: ``sign(payload, timestamp=None)`` -> a ``Stripe-Signature`` header the gateway accepts.
    sign: Callable[..., str]
    #: How many PaymentIntents the gateway has stored, when the harness can tell.
    intents_created: Callable[[], int] | None = None


def _stripe_harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    stub = StripeStub()
    gateway = StripeGateway(
        stub.api_key, stub.webhook_secret, api_base=stub.url, max_network_retries=0
    )
    try:
        yield Harness(
            name="stripe",
            gateway=gateway,
            sign=lambda payload, timestamp=None: stub.sign(payload, timestamp=timestamp),
            intents_created=lambda: len(stub.payment_intents),
        )
    finally:
        stub.close()


def _mock_harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    from sqlalchemy import func, select
    from totetaxi_payments import signatures
    from totetaxi_payments.adapters.mock import MockGateway, MockObject, webhook_secret

    from totetaxi_core import make_app
    from totetaxi_core.context import Context
    from totetaxi_core.db import unit_of_work
    from totetaxi_core.platform import prepare
    from totetaxi_core.testing import base_settings, get_backend

    # SQLite is enough for the contract: the mock's storage is the ORM either way (the journeys
    # under tests/plugins/payments run it on PostgreSQL too).
    url = get_backend("sqlite", request.getfixturevalue("tmp_path_factory")).new_url()
    registry = make_app(
        prepare(base_settings(url, **{"totetaxi.plugins": "payments_mock"}), environ={})
    ).registry
    secret = webhook_secret(registry.settings)
    # One transaction for the whole test, as the mock works inside its caller's.
    with unit_of_work(registry["dbsession_factory"]) as (dbsession, tm):
        ctx = Context(registry=registry, dbsession=dbsession, transaction_manager=tm)
        yield Harness(
            name="mock",
            gateway=MockGateway(ctx, secret),
            sign=lambda payload, timestamp=None: signatures.sign(payload, secret, timestamp),
            intents_created=lambda: dbsession.scalar(
                select(func.count())
                .select_from(MockObject)
                .where(MockObject.kind == "payment_intent")
            ),
        )
    registry["dbengine"].dispose()


HARNESSES: dict[str, Callable[[pytest.FixtureRequest], Iterator[Harness]]] = {
    "stripe": _stripe_harness,
    "mock": _mock_harness,
}


def key(label: str = "k") -> str:
    """A fresh idempotency key (as the domain derives them: purpose + unique id)."""
    return f"test-{label}-{uuid.uuid4().hex}"


def paid_intent(gateway: PaymentGateway, amount: int = 1500) -> Intent:
    intent = gateway.create_intent(amount, "usd", idempotency_key=key("create"))
    paid = gateway.confirm_intent(intent.id, payment_method_id=VISA, idempotency_key=key("confirm"))
    assert paid.status == SUCCEEDED
    return paid


# --- the interface ------------------------------------------------------------------------


def test_test_methods_are_stripes() -> None:
    assert set(TEST_METHODS.values()) == {VISA, DECLINED, AUTH_REQUIRED}


# --- PaymentIntents -------------------------------------------------------------------------


# --- Refunds --------------------------------------------------------------------------------


# --- Saved cards ----------------------------------------------------------------------------


def _no_card_number(value: Any) -> None:
    text = json.dumps(value, default=str)
    for number in TEST_METHODS:
        assert number not in text


# --- Webhooks -------------------------------------------------------------------------------


def _event_payload(created: int | None = None) -> tuple[bytes, dict[str, Any]]:
    obj = {
        "id": "pi_3Pexample0000000000000000",
        "object": "payment_intent",
        "amount": 1500,
        "amount_received": 1500,
        "currency": "usd",
        "status": "succeeded",
        "metadata": {"booking": "TT-1001"},
        "last_payment_error": None,
    }
    event = {
        "id": "evt_3Pexample0000000000000000",
        "object": "event",
        "api_version": "2026-01-28.clover",
        "created": created or int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "payment_intent.succeeded",
    }
    return json.dumps(event).encode(), event


class TestPaymentGatewayContract(SlotContract):
    """The contract of the ``payment_gateway`` slot, run against the Stripe adapter (on the
    local stub) and the mock gateway.

    A gateway kept in another distribution runs it by subclassing with its own ``providers``
    and a :meth:`provide` yielding its :class:`Harness`.
    """

    slot = "payment_gateway"
    providers = ("stripe", "mock")

    def provide(self, name: str, request: pytest.FixtureRequest) -> Iterator[Harness]:
        yield from HARNESSES[name](request)

    @pytest.fixture
    def gateway(self, harness: Harness) -> PaymentGateway:
        return harness.gateway

    def test_gateway_implements_the_interface(self, gateway: PaymentGateway) -> None:
        assert isinstance(gateway, PaymentGateway)
        assert isinstance(gateway.name, str) and gateway.name

    def test_create_intent(self, gateway: PaymentGateway) -> None:
        intent = gateway.create_intent(
            1500, "usd", idempotency_key=key(), metadata={"booking": "TT-1001"}
        )
        assert isinstance(intent, Intent)
        assert intent.id
        assert intent.amount_cents == 1500
        # Stripe reports currencies in lower case; the contract only fixes the ISO code.
        assert intent.currency.lower() == "usd"
        assert intent.client_secret
        assert intent.status == REQUIRES_PAYMENT_METHOD
        assert intent.amount_received_cents == 0
        assert intent.metadata == {"booking": "TT-1001"}
        assert intent.failure_code is None and intent.failure_message is None
        assert gateway.retrieve_intent(intent.id) == intent

    def test_create_intent_with_method_waits_for_confirmation(
        self, gateway: PaymentGateway
    ) -> None:
        intent = gateway.create_intent(1500, "usd", idempotency_key=key(), payment_method_id=VISA)
        assert intent.status == REQUIRES_CONFIRMATION
        assert intent.amount_received_cents == 0

    def test_confirm_with_a_good_card_succeeds(self, gateway: PaymentGateway) -> None:
        intent = gateway.create_intent(2599, "usd", idempotency_key=key())
        paid = gateway.confirm_intent(intent.id, payment_method_id=VISA, idempotency_key=key())
        assert paid.id == intent.id
        assert paid.status == SUCCEEDED
        assert paid.amount_received_cents == 2599
        assert paid.payment_method_id
        assert paid.failure_code is None
        assert gateway.retrieve_intent(intent.id).status == SUCCEEDED

    def test_a_declined_card_is_not_an_exception(self, gateway: PaymentGateway) -> None:
        intent = gateway.create_intent(1500, "usd", idempotency_key=key())
        declined = gateway.confirm_intent(
            intent.id, payment_method_id=DECLINED, idempotency_key=key()
        )
        assert declined.id == intent.id
        assert declined.status == REQUIRES_PAYMENT_METHOD
        assert declined.failure_code == "card_declined"
        assert declined.failure_message
        assert declined.amount_received_cents == 0
        again = gateway.retrieve_intent(intent.id)
        assert again.status == REQUIRES_PAYMENT_METHOD
        assert again.failure_code == "card_declined"

        # The customer tries another card on the same intent.
        paid = gateway.confirm_intent(intent.id, payment_method_id=VISA, idempotency_key=key())
        assert paid.status == SUCCEEDED
        assert paid.failure_code is None
        assert paid.amount_received_cents == 1500

    def test_a_card_needing_authentication_requires_action(self, gateway: PaymentGateway) -> None:
        intent = gateway.create_intent(1500, "usd", idempotency_key=key())
        pending = gateway.confirm_intent(
            intent.id, payment_method_id=AUTH_REQUIRED, idempotency_key=key()
        )
        assert pending.status == REQUIRES_ACTION
        assert pending.amount_received_cents == 0
        assert pending.client_secret  # the browser finishes 3-D Secure with it

    def test_create_and_confirm_at_once(self, gateway: PaymentGateway) -> None:
        paid = gateway.create_intent(
            4200,
            "usd",
            idempotency_key=key(),
            payment_method_id=VISA,
            confirm=True,
            metadata={"booking": "TT-7"},
        )
        assert paid.status == SUCCEEDED
        assert paid.amount_received_cents == 4200
        assert paid.metadata == {"booking": "TT-7"}

        declined = gateway.create_intent(
            4200, "usd", idempotency_key=key(), payment_method_id=DECLINED, confirm=True
        )
        assert declined.id and declined.id != paid.id
        assert declined.status == REQUIRES_PAYMENT_METHOD
        assert declined.failure_code == "card_declined"

    def test_same_idempotency_key_creates_one_intent(self, harness: Harness) -> None:
        gateway = harness.gateway
        before = harness.intents_created() if harness.intents_created else None
        k = key("create")
        first = gateway.create_intent(1500, "usd", idempotency_key=k, metadata={"booking": "B1"})
        second = gateway.create_intent(1500, "usd", idempotency_key=k, metadata={"booking": "B1"})
        assert second.id == first.id
        assert second == first
        if harness.intents_created is not None:
            assert before is not None
            assert harness.intents_created() == before + 1

    def test_same_idempotency_key_charges_once(self, gateway: PaymentGateway) -> None:
        intent = gateway.create_intent(1500, "usd", idempotency_key=key())
        k = key("confirm")
        first = gateway.confirm_intent(intent.id, payment_method_id=VISA, idempotency_key=k)
        second = gateway.confirm_intent(intent.id, payment_method_id=VISA, idempotency_key=k)
        assert first.status == second.status == SUCCEEDED
        assert second.amount_received_cents == 1500

    def test_confirming_a_paid_intent_again_is_refused(self, gateway: PaymentGateway) -> None:
        paid = paid_intent(gateway)
        with pytest.raises(GatewayError) as caught:
            gateway.confirm_intent(paid.id, payment_method_id=VISA, idempotency_key=key())
        assert caught.value.code == "payment_intent_unexpected_state"
        assert not caught.value.retryable

    def test_cancel(self, gateway: PaymentGateway) -> None:
        intent = gateway.create_intent(1500, "usd", idempotency_key=key())
        canceled = gateway.cancel_intent(intent.id, idempotency_key=key())
        assert canceled.id == intent.id
        assert canceled.status == CANCELED
        assert gateway.retrieve_intent(intent.id).status == CANCELED
        with pytest.raises(GatewayError) as caught:
            gateway.confirm_intent(intent.id, payment_method_id=VISA, idempotency_key=key())
        assert caught.value.code == "payment_intent_unexpected_state"

    def test_a_paid_intent_cannot_be_canceled(self, gateway: PaymentGateway) -> None:
        paid = paid_intent(gateway)
        with pytest.raises(GatewayError) as caught:
            gateway.cancel_intent(paid.id, idempotency_key=key())
        assert caught.value.code == "payment_intent_unexpected_state"
        assert not caught.value.retryable

    def test_retrieve_unknown_intent(self, gateway: PaymentGateway) -> None:
        with pytest.raises(GatewayError) as caught:
            gateway.retrieve_intent("pi_doesnotexist000000000000")
        assert caught.value.code == "resource_missing"
        assert caught.value.message
        assert not caught.value.retryable

    def test_statuses_are_stripes(self, gateway: PaymentGateway) -> None:
        intent = gateway.create_intent(1500, "usd", idempotency_key=key())
        assert intent.status in INTENT_STATUSES

    def test_refund_in_parts_and_never_more(self, gateway: PaymentGateway) -> None:
        paid = paid_intent(gateway, 1500)
        first = gateway.refund(
            paid.id, 500, idempotency_key=key("refund"), reason="requested_by_customer"
        )
        assert isinstance(first, RefundResult)
        assert first.id
        assert first.amount_cents == 500
        assert first.intent_id == paid.id
        assert first.status in ("pending", "succeeded")

        rest = gateway.refund(paid.id, 1000, idempotency_key=key("refund"))
        assert rest.amount_cents == 1000
        assert rest.id != first.id

        with pytest.raises(GatewayError) as caught:
            gateway.refund(paid.id, 1, idempotency_key=key("refund"))
        assert caught.value.code in ("amount_too_large", "charge_already_refunded")
        assert not caught.value.retryable

    def test_refund_beyond_the_remainder(self, gateway: PaymentGateway) -> None:
        paid = paid_intent(gateway, 1500)
        gateway.refund(paid.id, 1000, idempotency_key=key("refund"))
        with pytest.raises(GatewayError) as caught:
            gateway.refund(paid.id, 501, idempotency_key=key("refund"))
        assert caught.value.code == "amount_too_large"
        assert not caught.value.retryable
        # What was left can still be refunded.
        assert gateway.refund(paid.id, 500, idempotency_key=key("refund")).amount_cents == 500

    def test_same_idempotency_key_refunds_once(self, gateway: PaymentGateway) -> None:
        paid = paid_intent(gateway, 1500)
        k = key("refund")
        first = gateway.refund(paid.id, 1000, idempotency_key=k)
        second = gateway.refund(paid.id, 1000, idempotency_key=k)
        assert second.id == first.id
        # Only 1000 went back: 500 remain, so a second real refund of 1000 is refused.
        with pytest.raises(GatewayError):
            gateway.refund(paid.id, 1000, idempotency_key=key("refund"))
        assert gateway.refund(paid.id, 500, idempotency_key=key("refund")).amount_cents == 500

    def test_an_unpaid_intent_cannot_be_refunded(self, gateway: PaymentGateway) -> None:
        intent = gateway.create_intent(1500, "usd", idempotency_key=key())
        with pytest.raises(GatewayError) as caught:
            gateway.refund(intent.id, 100, idempotency_key=key())
        assert not caught.value.retryable

    def test_save_a_card_with_a_setup_intent(self, gateway: PaymentGateway) -> None:
        customer = gateway.create_customer(
            email="ada@example.com", name="Ada Lovelace", idempotency_key=key("customer")
        )
        assert customer
        assert gateway.list_methods(customer) == []

        setup = gateway.create_setup_intent(customer, idempotency_key=key("setup"))
        assert setup.id and setup.client_secret
        assert setup.customer_id == customer
        assert setup.status == REQUIRES_PAYMENT_METHOD

        done = gateway.confirm_setup_intent(
            setup.id, payment_method_id=VISA, idempotency_key=key("setup-confirm")
        )
        assert done.id == setup.id
        assert done.status == SUCCEEDED
        assert done.customer_id == customer
        assert done.payment_method_id

        cards = gateway.list_methods(customer)
        assert len(cards) == 1
        card = cards[0]
        assert isinstance(card, Card)
        assert card.id == done.payment_method_id
        assert (card.brand, card.last4) == ("visa", "4242")
        assert 1 <= card.exp_month <= 12
        assert card.exp_year >= time.gmtime().tm_year
        assert card.customer_id == customer
        _no_card_number([asdict(c) for c in cards])
        _no_card_number(asdict(done))

        assert gateway.retrieve_method(card.id) == card

    def test_detach_a_saved_card(self, gateway: PaymentGateway) -> None:
        customer = gateway.create_customer(
            email="bo@example.com", name="Bo", idempotency_key=key("customer")
        )
        setup = gateway.create_setup_intent(customer, idempotency_key=key())
        done = gateway.confirm_setup_intent(setup.id, payment_method_id=VISA, idempotency_key=key())
        assert [c.id for c in gateway.list_methods(customer)] == [done.payment_method_id]
        assert done.payment_method_id is not None
        gateway.detach_method(done.payment_method_id)
        assert gateway.list_methods(customer) == []
        assert gateway.retrieve_method(done.payment_method_id).customer_id is None

    def test_same_idempotency_key_creates_one_customer(self, gateway: PaymentGateway) -> None:
        k = key("customer")
        first = gateway.create_customer(email="cy@example.com", name="Cy", idempotency_key=k)
        again = gateway.create_customer(email="cy@example.com", name="Cy", idempotency_key=k)
        assert again == first

    def test_pay_and_save_the_card(self, gateway: PaymentGateway) -> None:
        customer = gateway.create_customer(
            email="di@example.com", name="Di", idempotency_key=key("customer")
        )
        paid = gateway.create_intent(
            3000,
            "usd",
            idempotency_key=key(),
            customer_id=customer,
            payment_method_id=VISA,
            confirm=True,
            save_method=True,
        )
        assert paid.status == SUCCEEDED
        assert paid.customer_id == customer
        cards = gateway.list_methods(customer)
        assert [c.id for c in cards] == [paid.payment_method_id]
        assert cards[0].last4 == "4242"

        # The saved card pays again for the same customer.
        again = gateway.create_intent(
            1200,
            "usd",
            idempotency_key=key(),
            customer_id=customer,
            payment_method_id=cards[0].id,
            confirm=True,
        )
        assert again.status == SUCCEEDED
        assert again.payment_method_id == cards[0].id

    def test_paying_without_saving_keeps_nothing(self, gateway: PaymentGateway) -> None:
        customer = gateway.create_customer(
            email="ed@example.com", name="Ed", idempotency_key=key("customer")
        )
        paid = gateway.create_intent(
            3000,
            "usd",
            idempotency_key=key(),
            customer_id=customer,
            payment_method_id=VISA,
            confirm=True,
        )
        assert paid.status == SUCCEEDED
        assert gateway.list_methods(customer) == []

    def test_a_signed_webhook_parses(self, harness: Harness) -> None:
        payload, event = _event_payload()
        parsed = harness.gateway.parse_webhook(payload, harness.sign(payload))
        assert isinstance(parsed, WebhookEvent)
        assert parsed.id == event["id"]
        assert parsed.type == "payment_intent.succeeded"
        assert parsed.created == event["created"]
        assert parsed.data == event["data"]["object"]
        assert type(parsed.data) is dict
        assert type(parsed.data["metadata"]) is dict

    def test_a_recent_signature_within_tolerance_is_accepted(self, harness: Harness) -> None:
        payload, _ = _event_payload()
        header = harness.sign(payload, timestamp=int(time.time()) - 200)
        assert harness.gateway.parse_webhook(payload, header).type == "payment_intent.succeeded"

    def test_a_forged_signature_is_refused(self, harness: Harness) -> None:
        payload, _ = _event_payload()
        header = harness.sign(payload)
        tampered = payload.replace(b'"amount": 1500', b'"amount": 1')
        assert tampered != payload
        with pytest.raises(SignatureError):
            harness.gateway.parse_webhook(tampered, header)
        timestamp = header.split(",")[0]
        with pytest.raises(SignatureError):
            harness.gateway.parse_webhook(payload, f"{timestamp},v1={'0' * 64}")

    @pytest.mark.parametrize("header", [None, "", "v1=abc", "t=notanumber,v1=abc", "garbage"])
    def test_a_missing_or_malformed_header_is_refused(
        self, harness: Harness, header: str | None
    ) -> None:
        payload, _ = _event_payload()
        with pytest.raises(SignatureError):
            harness.gateway.parse_webhook(payload, header)

    def test_a_stale_signature_is_refused(self, harness: Harness) -> None:
        payload, _ = _event_payload()
        header = harness.sign(payload, timestamp=int(time.time()) - 301)
        with pytest.raises(SignatureError):
            harness.gateway.parse_webhook(payload, header)
