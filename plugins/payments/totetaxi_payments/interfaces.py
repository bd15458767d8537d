"""The ``payment_gateway`` slot: the one interface both gateways implement.

The payments plugin talks to a gateway only through :class:`PaymentGateway`. The objects it
gets back are plain frozen dataclasses in Stripe's vocabulary (a PaymentIntent's statuses, test
PaymentMethod ids such as ``pm_card_visa``), so the mock behaves like Stripe's test mode and the
domain code cannot tell them apart.

Rules every implementation keeps (the contract suite in ``tests/plugins/payments`` checks them):

* Every call that creates or moves money takes an ``idempotency_key``; the same key sent again
  answers with the first result and never charges or refunds twice.
* Refusals raise :class:`GatewayError` with Stripe's ``code`` (``card_declined``,
  ``amount_too_large``, ``resource_missing``, ...) and a sentence; ``retryable`` is true only
  for network and server-side trouble.
* A declined card is not an exception on ``confirm_intent``: the intent comes back in
  ``requires_payment_method`` with ``failure_code``/``failure_message``, as Stripe does.
* :meth:`PaymentGateway.parse_webhook` verifies the ``Stripe-Signature`` header (``t=...,
  v1=...``, HMAC-SHA256 of ``"{t}.{payload}"``, five minutes of tolerance) and raises
  :class:`SignatureError` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

#: PaymentIntent statuses (Stripe's).
REQUIRES_PAYMENT_METHOD = "requires_payment_method"
REQUIRES_CONFIRMATION = "requires_confirmation"
REQUIRES_ACTION = "requires_action"
PROCESSING = "processing"
SUCCEEDED = "succeeded"
CANCELED = "canceled"
INTENT_STATUSES = (
    REQUIRES_PAYMENT_METHOD,
    REQUIRES_CONFIRMATION,
    REQUIRES_ACTION,
    PROCESSING,
    SUCCEEDED,
    CANCELED,
)

#: Stripe's test PaymentMethods, and the card numbers they stand for (BUSINESS_RULES.md).
TEST_METHODS = {
    "4242424242424242": "pm_card_visa",
    "4000000000000002": "pm_card_chargeDeclined",
    "4000002500003155": "pm_card_authenticationRequired",
}


@dataclass(frozen=True)
class Intent:
    """A PaymentIntent as the gateway reports it."""

    id: str
    status: str
    amount_cents: int
    currency: str
    client_secret: str
    amount_received_cents: int = 0
    customer_id: str | None = None
    payment_method_id: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    """A refund at the gateway: ``pending``, ``succeeded``, ``failed`` or ``canceled``."""

    id: str
    status: str
    amount_cents: int
    intent_id: str
    failure_reason: str | None = None


@dataclass(frozen=True)
class Card:
    """A saved card (a PaymentMethod): never its number, only what may be shown."""

    id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    customer_id: str | None = None


@dataclass(frozen=True)
class SetupIntent:
    """A SetupIntent: how a card is saved for later without a charge."""

    id: str
    status: str
    client_secret: str
    customer_id: str
    payment_method_id: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    """A verified gateway event: ``type`` such as ``payment_intent.succeeded``; ``data`` is the
    event's object as the gateway sent it (a dict in Stripe's shape)."""

    id: str
    type: str
    created: int
    data: dict[str, Any]


class GatewayError(Exception):
    """The gateway refused or failed a call."""

    def __init__(
        self, code: str, message: str, *, retryable: bool = False, http_status: int | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.retryable, self.http_status = retryable, http_status


class SignatureError(Exception):
    """A webhook whose signature is missing, wrong or too old."""


@runtime_checkable
class PaymentGateway(Protocol):
    """What the payments plugin needs from a gateway (slot ``payment_gateway``)."""

    name: str

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
        """Create a PaymentIntent; with ``confirm`` and a method, try to charge at once.

        ``save_method`` asks the gateway to keep the method for ``customer_id``
        (``setup_future_usage``)."""
        ...

    def retrieve_intent(self, intent_id: str) -> Intent:
        """The intent as it is now (``GatewayError`` ``resource_missing`` when unknown)."""
        ...

    def confirm_intent(
        self, intent_id: str, *, payment_method_id: str, idempotency_key: str
    ) -> Intent:
        """Charge ``payment_method_id``; a decline answers ``requires_payment_method``."""
        ...

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        """Cancel an intent that has not succeeded."""
        ...

    def refund(
        self,
        intent_id: str,
        amount_cents: int,
        *,
        idempotency_key: str,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> RefundResult:
        """Refund part or all of a succeeded intent (never more than it received).

        ``metadata`` travels with the refund and comes back in its events (our refund id, so a
        refund whose answer was lost can still be matched)."""
        ...

    def create_customer(self, *, email: str, name: str, idempotency_key: str) -> str:
        """Create a gateway customer; return its id."""
        ...

    def create_setup_intent(self, customer_id: str, *, idempotency_key: str) -> SetupIntent:
        """Start saving a card for ``customer_id`` without charging it."""
        ...

    def confirm_setup_intent(
        self, setup_intent_id: str, *, payment_method_id: str, idempotency_key: str
    ) -> SetupIntent:
        """Finish saving: attaches ``payment_method_id`` to the setup intent's customer."""
        ...

    def retrieve_method(self, method_id: str) -> Card:
        """A PaymentMethod's card facts."""
        ...

    def list_methods(self, customer_id: str) -> list[Card]:
        """The cards attached to ``customer_id``."""
        ...

    def detach_method(self, method_id: str) -> None:
        """Detach a saved card from its customer."""
        ...

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent:
        """Verify the signature of a webhook and parse it (raises :class:`SignatureError`)."""
        ...
