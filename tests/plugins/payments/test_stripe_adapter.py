"""What only the Stripe gateway has: the wire format, keys, retries, errors and the plugin.

The behaviour every gateway shares is in ``test_gateway_contract.py``.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from pyramid.config import Configurator
from support.stripe_stub import StripeStub, parse_form
from totetaxi_payments import signatures
from totetaxi_payments.adapters import stripe as adapter
from totetaxi_payments.adapters.stripe import StripeGateway
from totetaxi_payments.interfaces import (
    REQUIRES_PAYMENT_METHOD,
    SUCCEEDED,
    GatewayError,
    SignatureError,
)

from totetaxi_core.errors import SettingsError
from totetaxi_core.platform import prepare
from totetaxi_core.plugin_api import find_service
from totetaxi_core.testing import base_settings


@pytest.fixture
def stub() -> Iterator[StripeStub]:
    with StripeStub() as server:
        yield server


def make_gateway(stub: StripeStub, retries: int = 0, key: str | None = None) -> StripeGateway:
    return StripeGateway(
        key or stub.api_key, stub.webhook_secret, api_base=stub.url, max_network_retries=retries
    )


@pytest.fixture
def gateway(stub: StripeStub) -> StripeGateway:
    return make_gateway(stub)


def ikey(label: str) -> str:
    return f"pay-{label}-{uuid.uuid4().hex}"


# --- the wire format --------------------------------------------------------------------------


def test_requests_are_form_encoded_with_brackets(stub: StripeStub, gateway: StripeGateway) -> None:
    customer = gateway.create_customer(
        email="ada@example.com", name="Ada", idempotency_key=ikey("customer")
    )
    gateway.create_intent(
        1500,
        "USD",
        idempotency_key=ikey("create"),
        customer_id=customer,
        payment_method_id="pm_card_visa",
        confirm=True,
        save_method=True,
        metadata={"booking": "TT-1001", "attempt": "1"},
    )
    [create] = stub.requests_to("POST", "/v1/payment_intents")
    assert create.content_type == "application/x-www-form-urlencoded"
    form = dict(create.form)
    assert form["amount"] == "1500"
    assert form["currency"] == "usd"
    assert form["customer"] == customer
    assert form["payment_method"] == "pm_card_visa"
    assert form["confirm"] == "true"
    assert form["setup_future_usage"] == "off_session"
    assert form["metadata[booking]"] == "TT-1001"
    assert form["metadata[attempt]"] == "1"
    assert form["payment_method_types[0]"] == "card"
    assert "automatic_payment_methods[enabled]" not in form
    assert create.params["metadata"] == {"booking": "TT-1001", "attempt": "1"}
    assert create.params["payment_method_types"] == ["card"]
    # No JSON anywhere: Stripe's v1 API takes forms.
    with pytest.raises(json.JSONDecodeError):
        json.loads(create.body)


def test_list_methods_is_a_get_with_a_query(stub: StripeStub, gateway: StripeGateway) -> None:
    customer = gateway.create_customer(
        email="bo@example.com", name="Bo", idempotency_key=ikey("customer")
    )
    assert gateway.list_methods(customer) == []
    [listing] = stub.requests_to("GET", "/v1/payment_methods")
    assert dict(listing.form) == {"customer": customer, "type": "card", "limit": "100"}
    assert listing.body == ""
    assert listing.idempotency_key is None


def test_stub_parses_both_array_notations() -> None:
    assert parse_form([("a[]", "x"), ("a[]", "y")]) == {"a": ["x", "y"]}
    assert parse_form([("a[1]", "y"), ("a[0]", "x")]) == {"a": ["x", "y"]}
    assert parse_form([("expand[0]", "payment_method"), ("metadata[0]", "z")]) == {
        "expand": ["payment_method"],
        "metadata": {"0": "z"},
    }
    assert parse_form([("m[a][b]", "1")]) == {"m": {"a": {"b": "1"}}}


def test_our_idempotency_keys_are_sent(stub: StripeStub, gateway: StripeGateway) -> None:
    keys = {
        name: ikey(name)
        for name in (
            "customer",
            "create",
            "confirm",
            "refund",
            "cancel-create",
            "cancel",
            "setup",
            "setup-confirm",
        )
    }
    customer = gateway.create_customer(
        email="cy@example.com", name="Cy", idempotency_key=keys["customer"]
    )
    intent = gateway.create_intent(1500, "usd", idempotency_key=keys["create"])
    gateway.confirm_intent(
        intent.id, payment_method_id="pm_card_visa", idempotency_key=keys["confirm"]
    )
    gateway.refund(intent.id, 500, idempotency_key=keys["refund"])
    other = gateway.create_intent(900, "usd", idempotency_key=keys["cancel-create"])
    gateway.cancel_intent(other.id, idempotency_key=keys["cancel"])
    setup = gateway.create_setup_intent(customer, idempotency_key=keys["setup"])
    gateway.confirm_setup_intent(
        setup.id, payment_method_id="pm_card_visa", idempotency_key=keys["setup-confirm"]
    )

    sent = [r.idempotency_key for r in stub.requests if r.method == "POST"]
    assert sent == list(keys.values())
    assert all(r.status == 200 and not r.replayed for r in stub.requests)


def test_the_library_retries_with_our_key(stub: StripeStub) -> None:
    gateway = make_gateway(stub, retries=2)
    stub.fail_next(2, 500)
    k = ikey("create")
    intent = gateway.create_intent(1500, "usd", idempotency_key=k)
    posts = stub.requests_to("POST", "/v1/payment_intents")
    assert [r.status for r in posts] == [500, 500, 200]
    assert {r.idempotency_key for r in posts} == {k}
    assert list(stub.payment_intents) == [intent.id]


def test_no_retries_means_a_retryable_error(stub: StripeStub, gateway: StripeGateway) -> None:
    stub.fail_next(1, 500)
    with pytest.raises(GatewayError) as caught:
        gateway.create_intent(1500, "usd", idempotency_key=ikey("create"))
    assert caught.value.retryable
    assert caught.value.http_status == 500
    assert caught.value.code == "api_error"
    assert len(stub.requests) == 1
    assert stub.payment_intents == {}


def test_too_few_retries_still_fail(stub: StripeStub) -> None:
    gateway = make_gateway(stub, retries=1)
    stub.fail_next(2, 503)
    with pytest.raises(GatewayError) as caught:
        gateway.create_intent(1500, "usd", idempotency_key=ikey("create"))
    assert caught.value.retryable and caught.value.http_status == 503
    assert len(stub.requests) == 2


def test_rate_limits_are_retryable(stub: StripeStub, gateway: StripeGateway) -> None:
    stub.fail_next(
        1,
        429,
        error_type="invalid_request_error",
        code="rate_limit",
        message="Too many requests hit the API too quickly.",
    )
    with pytest.raises(GatewayError) as caught:
        gateway.retrieve_intent("pi_x")
    assert caught.value.retryable
    assert caught.value.code == "rate_limit"
    assert caught.value.http_status == 429


def test_an_unreachable_stripe_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gateway = StripeGateway(
        "sk_test_x", "whsec_x", api_base=f"http://127.0.0.1:{port}", max_network_retries=0
    )
    with pytest.raises(GatewayError) as caught:
        gateway.create_intent(1500, "usd", idempotency_key=ikey("create"))
    assert caught.value.retryable
    assert caught.value.code == "api_connection_error"
    assert caught.value.http_status is None


# --- keys and errors ------------------------------------------------------------------------


def test_requests_carry_the_configured_key(stub: StripeStub, gateway: StripeGateway) -> None:
    intent = gateway.create_intent(1500, "usd", idempotency_key=ikey("create"))
    gateway.retrieve_intent(intent.id)
    assert [r.authorization for r in stub.requests] == [f"Bearer {stub.api_key}"] * 2


def test_a_bad_key_is_not_retryable(stub: StripeStub) -> None:
    gateway = make_gateway(stub, retries=2, key="sk_test_wrong_key_000000000000")
    with pytest.raises(GatewayError) as caught:
        gateway.create_intent(1500, "usd", idempotency_key=ikey("create"))
    assert not caught.value.retryable
    assert caught.value.http_status == 401
    assert caught.value.code == "authentication_error"
    assert "Invalid API Key" in caught.value.message
    assert len(stub.requests) == 1  # a 401 is not retried


def test_the_library_globals_stay_untouched(stub: StripeStub, gateway: StripeGateway) -> None:
    gateway.create_intent(1500, "usd", idempotency_key=ikey("create"))
    assert stripe.api_key is None
    assert stripe.api_base == "https://api.stripe.com"


def test_a_reused_key_with_other_parameters_is_refused(
    stub: StripeStub, gateway: StripeGateway
) -> None:
    k = ikey("create")
    gateway.create_intent(1500, "usd", idempotency_key=k)
    with pytest.raises(GatewayError) as caught:
        gateway.create_intent(1600, "usd", idempotency_key=k)
    assert caught.value.code == "idempotency_error"
    assert caught.value.http_status == 400
    assert not caught.value.retryable
    assert len(stub.payment_intents) == 1


def test_a_replay_is_stripes_stored_answer(stub: StripeStub, gateway: StripeGateway) -> None:
    intent = gateway.create_intent(1500, "usd", idempotency_key=ikey("create"))
    k = ikey("confirm")
    first = gateway.confirm_intent(
        intent.id, payment_method_id="pm_card_chargeDeclined", idempotency_key=k
    )
    second = gateway.confirm_intent(
        intent.id, payment_method_id="pm_card_chargeDeclined", idempotency_key=k
    )
    assert first == second
    confirms = stub.requests_to("POST", f"/v1/payment_intents/{intent.id}/confirm")
    assert [(r.status, r.replayed) for r in confirms] == [(402, False), (402, True)]
    assert len([c for c in stub.charges.values() if not c["paid"]]) == 1


def test_a_decline_maps_last_payment_error(stub: StripeStub, gateway: StripeGateway) -> None:
    intent = gateway.create_intent(1500, "usd", idempotency_key=ikey("create"))
    declined = gateway.confirm_intent(
        intent.id, payment_method_id="pm_card_chargeDeclined", idempotency_key=ikey("confirm")
    )
    assert declined.status == REQUIRES_PAYMENT_METHOD
    assert declined.failure_code == "card_declined"
    assert declined.failure_message == "Your card was declined."
    stored = stub.payment_intents[intent.id]
    assert stored["last_payment_error"]["decline_code"] == "generic_decline"
    # Only one request: the intent came from the 402's error body, not a second GET.
    assert [r.method for r in stub.requests] == ["POST", "POST"]


def test_a_card_error_without_the_intent_retrieves_it(
    stub: StripeStub, gateway: StripeGateway
) -> None:
    intent = gateway.create_intent(1500, "usd", idempotency_key=ikey("create"))
    stub.fail_next(
        1, 402, error_type="card_error", code="card_declined", message="Your card was declined."
    )
    answer = gateway.confirm_intent(
        intent.id, payment_method_id="pm_card_visa", idempotency_key=ikey("confirm")
    )
    assert answer.id == intent.id
    assert answer.status == REQUIRES_PAYMENT_METHOD
    assert stub.requests[-1].method == "GET"


def test_a_declined_setup_raises(stub: StripeStub, gateway: StripeGateway) -> None:
    customer = gateway.create_customer(
        email="di@example.com", name="Di", idempotency_key=ikey("customer")
    )
    setup = gateway.create_setup_intent(customer, idempotency_key=ikey("setup"))
    with pytest.raises(GatewayError) as caught:
        gateway.confirm_setup_intent(
            setup.id,
            payment_method_id="pm_card_chargeDeclined",
            idempotency_key=ikey("setup-confirm"),
        )
    assert caught.value.code == "card_declined"
    assert caught.value.http_status == 402
    assert not caught.value.retryable
    assert gateway.list_methods(customer) == []


def test_refund_reasons(stub: StripeStub, gateway: StripeGateway) -> None:
    paid = gateway.create_intent(
        1500, "usd", idempotency_key=ikey("create"), payment_method_id="pm_card_visa", confirm=True
    )
    assert paid.status == SUCCEEDED
    gateway.refund(paid.id, 100, idempotency_key=ikey("r1"), reason="requested_by_customer")
    gateway.refund(paid.id, 100, idempotency_key=ikey("r2"), reason="Van broke down")
    first, second = (dict(r.form) for r in stub.requests_to("POST", "/v1/refunds"))
    assert first["reason"] == "requested_by_customer"
    assert "reason" not in second
    assert second["metadata[reason]"] == "Van broke down"


def test_refund_errors_carry_stripes_codes(stub: StripeStub, gateway: StripeGateway) -> None:
    paid = gateway.create_intent(
        1500, "usd", idempotency_key=ikey("create"), payment_method_id="pm_card_visa", confirm=True
    )
    with pytest.raises(GatewayError) as caught:
        gateway.refund(paid.id, 1501, idempotency_key=ikey("r"))
    assert (caught.value.code, caught.value.http_status) == ("amount_too_large", 400)
    assert "greater than unrefunded amount" in caught.value.message
    gateway.refund(paid.id, 1500, idempotency_key=ikey("r"))
    with pytest.raises(GatewayError) as caught:
        gateway.refund(paid.id, 1, idempotency_key=ikey("r"))
    assert caught.value.code == "charge_already_refunded"


def test_unknown_objects_are_resource_missing(gateway: StripeGateway) -> None:
    for call in (
        lambda: gateway.retrieve_intent("pi_nope"),
        lambda: gateway.retrieve_method("pm_nope"),
        lambda: gateway.detach_method("pm_nope"),
    ):
        with pytest.raises(GatewayError) as caught:
            call()
        assert (caught.value.code, caught.value.http_status) == ("resource_missing", 404)
    with pytest.raises(GatewayError) as caught:
        gateway.create_setup_intent("cus_nope", idempotency_key=ikey("setup"))
    assert (caught.value.code, caught.value.http_status) == ("resource_missing", 400)


def test_saved_cards_are_new_payment_methods(stub: StripeStub, gateway: StripeGateway) -> None:
    customer = gateway.create_customer(
        email="ed@example.com", name="Ed", idempotency_key=ikey("customer")
    )
    setup = gateway.create_setup_intent(customer, idempotency_key=ikey("setup"))
    done = gateway.confirm_setup_intent(
        setup.id, payment_method_id="pm_card_visa", idempotency_key=ikey("confirm")
    )
    assert done.payment_method_id and done.payment_method_id.startswith("pm_")
    assert done.payment_method_id != "pm_card_visa"
    card = gateway.retrieve_method("pm_card_visa")
    assert (card.id, card.brand, card.last4, card.customer_id) == (
        "pm_card_visa",
        "visa",
        "4242",
        None,
    )


# --- webhooks -------------------------------------------------------------------------------


def test_stub_events_parse(stub: StripeStub, gateway: StripeGateway) -> None:
    paid = gateway.create_intent(
        1500,
        "usd",
        idempotency_key=ikey("create"),
        payment_method_id="pm_card_visa",
        confirm=True,
        metadata={"booking": "TT-9"},
    )
    event = next(e for e in stub.events if e["type"] == "payment_intent.succeeded")
    parsed = gateway.parse_webhook(*stub.signed(event))
    assert (parsed.id, parsed.type, parsed.created) == (
        event["id"],
        event["type"],
        event["created"],
    )
    assert parsed.data["id"] == paid.id
    assert parsed.data["metadata"] == {"booking": "TT-9"}
    assert type(parsed.data) is dict and type(parsed.data["metadata"]) is dict

    payload, header = stub.event(
        "payment_intent.payment_failed", {"id": "pi_1", "object": "payment_intent"}
    )
    assert gateway.parse_webhook(payload, header).data == {"id": "pi_1", "object": "payment_intent"}


def test_a_webhook_signed_with_another_secret_is_refused(
    stub: StripeStub, gateway: StripeGateway
) -> None:
    payload, header = stub.event(
        "payment_intent.succeeded", {"id": "pi_1"}, secret="whsec_someone_else"
    )
    with pytest.raises(SignatureError):
        gateway.parse_webhook(payload, header)


@pytest.mark.parametrize("payload", [b"not json", b"\xff\xfe", b'{"object": "event"}'])
def test_a_signed_payload_that_is_no_event_is_refused(
    stub: StripeStub, gateway: StripeGateway, payload: bytes
) -> None:
    header = "t={t},v1={sig}".format(
        t=int(time.time()),
        sig=signatures.sign(payload, stub.webhook_secret).split("v1=")[1],
    )
    with pytest.raises(SignatureError):
        gateway.parse_webhook(payload, header)


def test_the_library_and_our_signatures_agree(stub: StripeStub, gateway: StripeGateway) -> None:
    payload, header = stub.event("payment_intent.succeeded", {"id": "pi_1"})
    signatures.verify(payload, header, stub.webhook_secret)
    ours = signatures.sign(payload, stub.webhook_secret)
    assert gateway.parse_webhook(payload, ours).data == {"id": "pi_1"}
    stale = signatures.sign(payload, stub.webhook_secret, timestamp=int(time.time()) - 301)
    with pytest.raises(SignatureError):
        gateway.parse_webhook(payload, stale)


def test_webhook_tolerance_is_configurable(stub: StripeStub) -> None:
    gateway = StripeGateway(
        stub.api_key, stub.webhook_secret, api_base=stub.url, webhook_tolerance=60
    )
    payload, header = stub.event(
        "payment_intent.succeeded", {"id": "pi_1"}, timestamp=int(time.time()) - 120
    )
    with pytest.raises(SignatureError):
        gateway.parse_webhook(payload, header)


# --- the plugin -----------------------------------------------------------------------------


def _settings(tmp_path: Any, **overrides: Any) -> dict[str, Any]:
    return base_settings(
        f"sqlite:///{tmp_path / 'unused.sqlite'}",
        **{"totetaxi.plugins": "payments_stripe", **overrides},
    )


def test_the_manifest() -> None:
    manifest = adapter.manifest
    assert manifest.name == "payments_stripe"
    assert manifest.depends == ("payments",)
    assert manifest.provides == ("payment_gateway",)
    declared = {s.key: s for s in manifest.settings}
    assert set(declared) == {
        "payments_stripe.secret_key",
        "payments_stripe.webhook_secret",
        "payments_stripe.api_base",
        "payments_stripe.max_network_retries",
    }
    assert declared["payments_stripe.secret_key"].required
    assert declared["payments_stripe.secret_key"].kind == "secret"
    assert declared["payments_stripe.webhook_secret"].required
    assert declared["payments_stripe.max_network_retries"].default == 2


def test_start_up_needs_the_secret_key(tmp_path: Any) -> None:
    with pytest.raises(SettingsError) as caught:
        prepare(_settings(tmp_path, **{"payments_stripe.webhook_secret": "whsec_x"}), environ={})
    assert "payments_stripe.secret_key" in str(caught.value)
    assert "payments_stripe.webhook_secret" not in str(caught.value)


def test_start_up_refuses_a_publishable_key(tmp_path: Any) -> None:
    with pytest.raises(SettingsError) as caught:
        prepare(
            _settings(
                tmp_path,
                **{
                    "payments_stripe.secret_key": "pk_test_123",
                    "payments_stripe.webhook_secret": "whsec_x",
                },
            ),
            environ={},
        )
    assert "payments_stripe.secret_key" in str(caught.value)


def test_start_up_with_settings_from_the_environment(tmp_path: Any) -> None:
    platform = prepare(
        _settings(tmp_path),
        environ={
            "TOTETAXI_PAYMENTS_STRIPE__SECRET_KEY": "sk_test_abc",
            "TOTETAXI_PAYMENTS_STRIPE__WEBHOOK_SECRET": "whsec_abc",
            "TOTETAXI_PAYMENTS_STRIPE__MAX_NETWORK_RETRIES": "0",
        },
    )
    assert {"payments", "payments_stripe"} <= set(platform.settings["totetaxi.enabled_plugins"])
    assert platform.settings["payments_stripe.max_network_retries"] == 0
    assert platform.settings["payments_stripe.api_base"] == ""


def test_includeme_provides_the_gateway(stub: StripeStub) -> None:
    config = Configurator(
        settings={
            "payments_stripe.secret_key": stub.api_key,
            "payments_stripe.webhook_secret": stub.webhook_secret,
            "payments_stripe.api_base": stub.url,
            "payments_stripe.max_network_retries": 0,
        }
    )
    config.include("totetaxi_core.service_registry")
    config.include("totetaxi_core.hooks")
    config.include("totetaxi_payments.adapters.stripe")
    config.commit()
    gateway = config.registry.hooks.call("totetaxi_payment_gateway", ctx=None)
    assert gateway is find_service(config.registry, "payments_stripe.gateway")
    assert isinstance(gateway, StripeGateway)
    assert gateway.max_network_retries == 0
    intent = gateway.create_intent(1500, "usd", idempotency_key=ikey("create"))
    assert list(stub.payment_intents) == [intent.id]
