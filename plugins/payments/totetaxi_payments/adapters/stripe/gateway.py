"""The Stripe-backed gateway: :class:`StripeGateway` and the mapping of Stripe's objects and
errors to the slot's (:mod:`totetaxi_payments.interfaces`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import stripe

from ...interfaces import (
    Card,
    GatewayError,
    Intent,
    RefundResult,
    SetupIntent,
    SignatureError,
    WebhookEvent,
)

T = TypeVar("T")

#: The only values Stripe accepts for a refund's ``reason``; anything else goes to metadata.
STRIPE_REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})

#: Error codes for exceptions whose body carries none.
_FALLBACK_CODES: tuple[tuple[type[stripe.StripeError], str], ...] = (
    (stripe.IdempotencyError, "idempotency_error"),
    (stripe.AuthenticationError, "authentication_error"),
    (stripe.PermissionError, "permission_error"),
    (stripe.RateLimitError, "rate_limit"),
    (stripe.APIConnectionError, "api_connection_error"),
    (stripe.CardError, "card_error"),
    (stripe.InvalidRequestError, "invalid_request_error"),
    (stripe.APIError, "api_error"),
)


def _plain(obj: Any) -> Any:
    """A StripeObject (or anything nested in one) as plain dicts and lists."""
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict()
    if isinstance(obj, Mapping):
        return {key: _plain(value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_plain(value) for value in obj]
    return obj


def _id_of(value: Any) -> str | None:
    """An id from a field that is either an id or an expanded object."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return value.get("id")
    return getattr(value, "id", None)


def _intent(data: Mapping[str, Any]) -> Intent:
    error = data.get("last_payment_error") or {}
    return Intent(
        id=data["id"],
        status=data["status"],
        amount_cents=int(data["amount"]),
        currency=data["currency"],
        client_secret=data.get("client_secret") or "",
        amount_received_cents=int(data.get("amount_received") or 0),
        customer_id=_id_of(data.get("customer")),
        payment_method_id=_id_of(data.get("payment_method")),
        failure_code=(error.get("code") or error.get("decline_code")) if error else None,
        failure_message=error.get("message") if error else None,
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
    )


def _refund(data: Mapping[str, Any]) -> RefundResult:
    return RefundResult(
        id=data["id"],
        status=data["status"],
        amount_cents=int(data["amount"]),
        intent_id=_id_of(data.get("payment_intent")) or "",
        failure_reason=data.get("failure_reason"),
    )


def _card(data: Mapping[str, Any]) -> Card:
    card = data.get("card")
    if not card:
        raise GatewayError(
            "unsupported_payment_method",
            f"Payment method {data.get('id')} is a {data.get('type')!r}, not a card.",
        )
    return Card(
        id=data["id"],
        brand=card["brand"],
        last4=card["last4"],
        exp_month=int(card["exp_month"]),
        exp_year=int(card["exp_year"]),
        customer_id=_id_of(data.get("customer")),
    )


def _setup_intent(data: Mapping[str, Any]) -> SetupIntent:
    return SetupIntent(
        id=data["id"],
        status=data["status"],
        client_secret=data.get("client_secret") or "",
        customer_id=_id_of(data.get("customer")) or "",
        payment_method_id=_id_of(data.get("payment_method")),
    )


def _error_body(exc: stripe.StripeError) -> dict[str, Any]:
    body = exc.json_body
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        return dict(body["error"])
    return {}


def _gateway_error(exc: stripe.StripeError) -> GatewayError:
    """Stripe's exception as a :class:`GatewayError` (code, sentence, retryable, status)."""
    body = _error_body(exc)
    code = exc.code or body.get("code")
    if not code:
        code = next((name for cls, name in _FALLBACK_CODES if isinstance(exc, cls)), None)
    code = code or body.get("type") or "stripe_error"
    status = exc.http_status
    retryable = (
        isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError)
        or status == 409
        or (status is not None and status >= 500)
    )
    message = body.get("message") or exc.user_message or str(exc) or type(exc).__name__
    return GatewayError(code, message, retryable=retryable, http_status=status)


class StripeGateway:
    """The ``payment_gateway`` slot implemented with Stripe (see the module docstring)."""

    name = "stripe"

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        max_network_retries: int = 2,
        webhook_tolerance: int = 300,
    ) -> None:
        if not secret_key:
            raise ValueError("StripeGateway needs a secret key")
        base_addresses: dict[str, str | None] = {}
        if api_base:
            base_addresses["api"] = api_base.rstrip("/")
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses=base_addresses or None,  # type: ignore[arg-type]
            max_network_retries=max_network_retries,
        )
        self._webhook_secret = webhook_secret
        self._webhook_tolerance = webhook_tolerance
        self.max_network_retries = max_network_retries

    @property
    def client(self) -> stripe.StripeClient:
        """The underlying client, for what the gateway interface does not cover."""
        return self._client

    # --- calling Stripe ---------------------------------------------------------------------

    @staticmethod
    def _call(call: Callable[[], T]) -> T:
        try:
            return call()
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc

    @staticmethod
    def _options(idempotency_key: str) -> dict[str, Any]:
        if not idempotency_key:
            raise ValueError("an idempotency_key is required for calls that move money")
        return {"idempotency_key": idempotency_key}

    def _intent_call(self, call: Callable[[], Any], intent_id: str | None = None) -> Intent:
        """Run a create/confirm call; a card decline answers the intent instead of raising."""
        try:
            return _intent(_plain(call()))
        except stripe.CardError as exc:
            reported = _error_body(exc).get("payment_intent")
            if isinstance(reported, Mapping) and reported.get("id"):
                return _intent(_plain(reported))
            if intent_id is not None:
                return self.retrieve_intent(intent_id)
            raise _gateway_error(exc) from exc
        except stripe.StripeError as exc:
            raise _gateway_error(exc) from exc

    # --- PaymentIntents ---------------------------------------------------------------------

    def create_intent(
        self,
        amount_cents: int,
        currency: str,
        *,
        idempotency_key: str,
        customer_id: str | None = None,
        payment_method_id: str | None = None,
        confirm: bool = False,
        save_method: bool = False,
        metadata: dict[str, str] | None = None,
    ) -> Intent:
        params: dict[str, Any] = {
            "amount": int(amount_cents),
            "currency": currency.lower(),
            # Cards only, and no automatic payment methods: no redirects, no return_url.
            "payment_method_types": ["card"],
        }
        if metadata:
            params["metadata"] = {str(k): str(v) for k, v in metadata.items()}
        if customer_id:
            params["customer"] = customer_id
        if payment_method_id:
            params["payment_method"] = payment_method_id
        if confirm:
            params["confirm"] = True
        if save_method:
            params["setup_future_usage"] = "off_session"
        options = self._options(idempotency_key)
        return self._intent_call(
            lambda: self._client.v1.payment_intents.create(
                params=params,
                options=options,  # type: ignore[arg-type]
            )
        )

    def retrieve_intent(self, intent_id: str) -> Intent:
        return _intent(
            _plain(self._call(lambda: self._client.v1.payment_intents.retrieve(intent_id)))
        )

    def confirm_intent(
        self, intent_id: str, *, payment_method_id: str, idempotency_key: str
    ) -> Intent:
        options = self._options(idempotency_key)
        return self._intent_call(
            lambda: self._client.v1.payment_intents.confirm(
                intent_id,
                params={"payment_method": payment_method_id},
                options=options,  # type: ignore[arg-type]
            ),
            intent_id,
        )

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        options = self._options(idempotency_key)
        return _intent(
            _plain(
                self._call(
                    lambda: self._client.v1.payment_intents.cancel(
                        intent_id,
                        options=options,  # type: ignore[arg-type]
                    )
                )
            )
        )

    # --- Refunds ----------------------------------------------------------------------------

    def refund(
        self,
        intent_id: str,
        amount_cents: int,
        *,
        idempotency_key: str,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> RefundResult:
        params: dict[str, Any] = {"payment_intent": intent_id, "amount": int(amount_cents)}
        extra = dict(metadata or {})
        if reason in STRIPE_REFUND_REASONS:
            params["reason"] = reason
        elif reason:
            # Stripe refuses free text in ``reason``; keep ours where it can be read back.
            extra["reason"] = reason[:500]
        if extra:
            params["metadata"] = extra
        options = self._options(idempotency_key)
        return _refund(
            _plain(
                self._call(
                    lambda: self._client.v1.refunds.create(
                        params=params,
                        options=options,  # type: ignore[arg-type]
                    )
                )
            )
        )

    # --- Customers and saved cards ----------------------------------------------------------

    def create_customer(self, *, email: str, name: str, idempotency_key: str) -> str:
        options = self._options(idempotency_key)
        customer = self._call(
            lambda: self._client.v1.customers.create(
                params={"email": email, "name": name},
                options=options,  # type: ignore[arg-type]
            )
        )
        return str(customer.id)

    def create_setup_intent(self, customer_id: str, *, idempotency_key: str) -> SetupIntent:
        params = {"customer": customer_id, "payment_method_types": ["card"], "usage": "off_session"}
        options = self._options(idempotency_key)
        return _setup_intent(
            _plain(
                self._call(
                    lambda: self._client.v1.setup_intents.create(
                        params=params,
                        options=options,  # type: ignore[arg-type]
                    )
                )
            )
        )

    def confirm_setup_intent(
        self, setup_intent_id: str, *, payment_method_id: str, idempotency_key: str
    ) -> SetupIntent:
        # A declined card raises GatewayError("card_declined", ...): a SetupIntent has no
        # failure fields to carry it (unlike an Intent).
        options = self._options(idempotency_key)
        return _setup_intent(
            _plain(
                self._call(
                    lambda: self._client.v1.setup_intents.confirm(
                        setup_intent_id,
                        params={"payment_method": payment_method_id},
                        options=options,  # type: ignore[arg-type]
                    )
                )
            )
        )

    def retrieve_method(self, method_id: str) -> Card:
        return _card(
            _plain(self._call(lambda: self._client.v1.payment_methods.retrieve(method_id)))
        )

    def list_methods(self, customer_id: str) -> list[Card]:
        def fetch() -> list[Any]:
            page = self._client.v1.payment_methods.list(
                params={"customer": customer_id, "type": "card", "limit": 100}
            )
            return list(page.auto_paging_iter())

        return [_card(_plain(method)) for method in self._call(fetch)]

    def detach_method(self, method_id: str) -> None:
        self._call(lambda: self._client.v1.payment_methods.detach(method_id))

    # --- Webhooks ---------------------------------------------------------------------------

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent:
        if not signature_header:
            raise SignatureError("The Stripe-Signature header is missing.")
        try:
            event = self._client.construct_event(
                payload, signature_header, self._webhook_secret, self._webhook_tolerance
            )
        except stripe.SignatureVerificationError as exc:
            raise SignatureError(exc.user_message or str(exc)) from None
        except ValueError:  # not JSON, or not UTF-8
            # Signed by the secret, yet not a Stripe event: refuse it the same way.
            raise SignatureError("The webhook payload is not a Stripe event.") from None
        values = _plain(event)
        data = values.get("data")
        obj = data.get("object") if isinstance(data, Mapping) else None
        if not isinstance(obj, Mapping) or not values.get("id") or not values.get("type"):
            raise SignatureError(
                "The webhook payload is not a Stripe event (no id, type or data.object)."
            )
        return WebhookEvent(
            id=str(values["id"]),
            type=str(values["type"]),
            created=int(values.get("created") or 0),
            data=dict(obj),
        )


def gateway_from_settings(settings: Mapping[str, Any]) -> StripeGateway:
    """The gateway the validated ``payments_stripe.*`` settings describe."""
    retries = settings.get("payments_stripe.max_network_retries")
    return StripeGateway(
        secret_key=settings["payments_stripe.secret_key"],
        webhook_secret=settings["payments_stripe.webhook_secret"],
        api_base=settings.get("payments_stripe.api_base") or None,
        max_network_retries=2 if retries in (None, "") else int(retries),
    )
