"""The ``payments_stripe`` plugin: the ``payment_gateway`` slot backed by Stripe.

:class:`StripeGateway` implements :class:`~totetaxi_payments.interfaces.PaymentGateway` with the
official ``stripe`` library through one :class:`stripe.StripeClient` (never the library's module
globals such as ``stripe.api_key``), so two gateways with different keys can live side by side.

* Every call that creates or moves money passes the caller's ``idempotency_key`` as Stripe's
  ``Idempotency-Key`` (the library would otherwise invent a random one per call, which protects
  nothing across a process restart or a pyramid_retry re-run). The library's own network retries
  re-send that same key.
* A declined card is an HTTP 402 ``card_error`` from Stripe; on a PaymentIntent it is answered
  with the intent as Stripe reports it (``requires_payment_method`` and ``last_payment_error``),
  never raised. Every other refusal becomes a :class:`GatewayError` carrying Stripe's code.
* Webhooks are verified with ``StripeClient.construct_event`` (HMAC-SHA256 ``v1`` signature, a
  tolerance of 300 s by default).

Importing this package does no network I/O; ``includeme`` only builds the client. The gateway is
in :mod:`.gateway`, the hook answering the slot in :mod:`.hooks`.
"""

from __future__ import annotations

from pyramid.config import Configurator

from totetaxi_core.plugin_api import Manifest, Setting

from .gateway import StripeGateway, gateway_from_settings

__all__ = ["GATEWAY_SERVICE", "StripeGateway", "gateway_from_settings", "includeme", "manifest"]

#: The service holding this app's :class:`StripeGateway` (the hook answers with the same one).
GATEWAY_SERVICE = "payments_stripe.gateway"


def _check_secret_key(value: str) -> str | None:
    if value and not value.startswith(("sk_", "rk_")):
        return "must be a Stripe secret key (sk_...) or restricted key (rk_...)"
    return None


def _check_webhook_secret(value: str) -> str | None:
    if value and not value.startswith("whsec_"):
        return "must be a webhook signing secret (whsec_...)"
    return None


def _check_api_base(value: str) -> str | None:
    if value and not value.startswith(("https://", "http://")):
        return f"must be an http(s):// URL or empty, got {value!r}"
    return None


manifest = Manifest(
    name="payments_stripe",
    version="1.0.0",
    summary="Stripe as the payment gateway (PaymentIntents, refunds, saved cards, webhooks)",
    depends=("payments",),
    provides=("payment_gateway",),
    settings=(
        Setting(
            "payments_stripe.secret_key",
            kind="secret",
            required=True,
            help="the Stripe secret API key, sk_live_... or sk_test_...",
            check=_check_secret_key,
        ),
        Setting(
            "payments_stripe.webhook_secret",
            kind="secret",
            required=True,
            help="the signing secret of the Stripe webhook endpoint, whsec_...",
            check=_check_webhook_secret,
        ),
        Setting(
            "payments_stripe.api_base",
            "",
            help="Stripe API base URL; empty for Stripe itself (set to a stub in tests)",
            check=_check_api_base,
        ),
        Setting(
            "payments_stripe.max_network_retries",
            2,
            kind="int",
            minimum=0,
            maximum=5,
            help="times the stripe library re-sends a request after a network error, a "
            "409 or a 5xx (with the same idempotency key)",
        ),
    ),
)


def includeme(config: Configurator) -> None:
    from .hooks import GatewayHooks

    gateway = gateway_from_settings(config.get_settings())
    config.register_service(gateway, name=GATEWAY_SERVICE)
    config.add_hookimpls(GatewayHooks(gateway), name="payments_stripe")
