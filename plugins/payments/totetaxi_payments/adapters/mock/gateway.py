"""The mock gateway: Stripe's test mode imitated on one table, events signed like Stripe's."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from sqlalchemy import select

from totetaxi_core.plugin_api import Context

from ... import signatures
from ...interfaces import (
    CANCELED,
    REQUIRES_ACTION,
    REQUIRES_CONFIRMATION,
    REQUIRES_PAYMENT_METHOD,
    SUCCEEDED,
    Card,
    GatewayError,
    Intent,
    RefundResult,
    SetupIntent,
    SignatureError,
    WebhookEvent,
)
from .models import MockObject
from .tasks import DELIVER_TASK

#: What each test PaymentMethod does when charged (Stripe's test mode).
BEHAVIOUR = {
    "pm_card_visa": ("visa", "4242", SUCCEEDED),
    "pm_card_chargeDeclined": ("visa", "0002", "declined"),
    "pm_card_authenticationRequired": ("visa", "3155", REQUIRES_ACTION),
}


def _new_id(prefix: str) -> str:
    return f"{prefix}_mock_{secrets.token_hex(12)}"


class MockGateway:
    """The ``PaymentGateway`` of development: Stripe's test mode, stored in our database."""

    name = "mock"

    def __init__(self, ctx: Context, webhook_secret: str) -> None:
        self.ctx = ctx
        self.webhook_secret = webhook_secret

    # --- storage ---

    def _get(self, object_id: str, kind: str) -> dict[str, Any]:
        found = self.ctx.dbsession.get(MockObject, object_id)
        if found is None or found.kind != kind:
            raise GatewayError(
                "resource_missing", f"No such {kind}: '{object_id}'", http_status=404
            )
        return dict(found.data)

    def _put(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        found = self.ctx.dbsession.get(MockObject, data["id"])
        if found is None:
            self.ctx.dbsession.add(MockObject(id=data["id"], kind=kind, data=data))
        else:
            found.data = data
        self.ctx.dbsession.flush()
        return data

    def _once(self, key: str, params: dict[str, Any], make: Any) -> Any:
        """Stripe's idempotency: the same key and parameters give the first result again."""
        digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode())
        record = self.ctx.dbsession.get(MockObject, f"idem:{key}")
        if record is not None:
            if record.data["params"] != digest.hexdigest():
                raise GatewayError(
                    "idempotency_error",
                    "Keys for idempotent requests can only "
                    "be used with the same parameters they were first used with.",
                    http_status=400,
                )
            return record.data["result"]
        result = make()
        self.ctx.dbsession.add(
            MockObject(
                id=f"idem:{key}",
                kind="idempotency",
                data={"params": digest.hexdigest(), "result": result},
            )
        )
        return result

    def _emit(self, kind: str, obj: dict[str, Any]) -> None:
        event = {
            "id": _new_id("evt"),
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "data": {"object": obj},
        }
        payload = json.dumps(event, sort_keys=True)
        signature = signatures.sign(payload.encode(), self.webhook_secret)
        self.ctx.enqueue(DELIVER_TASK, payload, signature)

    # --- intents ---

    @staticmethod
    def _intent(data: dict[str, Any]) -> Intent:
        error = data.get("last_payment_error") or {}
        return Intent(
            id=data["id"],
            status=data["status"],
            amount_cents=data["amount"],
            currency=data["currency"],
            client_secret=data["client_secret"],
            amount_received_cents=data.get("amount_received", 0),
            customer_id=data.get("customer"),
            payment_method_id=data.get("payment_method"),
            failure_code=error.get("code"),
            failure_message=error.get("message"),
            metadata=dict(data.get("metadata") or {}),
        )

    def _method_behaviour(self, method_id: str) -> tuple[str, str, str]:
        if method_id in BEHAVIOUR:
            return BEHAVIOUR[method_id]
        card = self._get(method_id, "payment_method")
        return BEHAVIOUR[card["behaves_as"]]

    def _charge(self, data: dict[str, Any], method_id: str) -> dict[str, Any]:
        if data["status"] in (SUCCEEDED, CANCELED):
            raise GatewayError(
                "payment_intent_unexpected_state",
                f"This PaymentIntent's status is {data['status']}; it cannot be confirmed.",
                http_status=400,
            )
        _, _, outcome = self._method_behaviour(method_id)
        data["payment_method"] = method_id
        data["last_payment_error"] = None
        if outcome == SUCCEEDED:
            data["status"], data["amount_received"] = SUCCEEDED, data["amount"]
            if data.get("setup_future_usage") and data.get("customer"):
                data["payment_method"] = self._attach_copy(method_id, data["customer"])
            self._emit("payment_intent.succeeded", data)
        elif outcome == REQUIRES_ACTION:
            data["status"] = REQUIRES_ACTION
            data["next_action"] = {"type": "use_stripe_sdk"}
            self._emit("payment_intent.requires_action", data)
        else:
            data["status"] = REQUIRES_PAYMENT_METHOD
            data["payment_method"] = None
            data["last_payment_error"] = {
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
            }
            self._emit("payment_intent.payment_failed", data)
        return data

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
        params = {
            "op": "create_intent",
            "amount": amount_cents,
            "currency": currency,
            "customer": customer_id,
            "payment_method": payment_method_id,
            "confirm": confirm,
            "save": save_method,
            "metadata": metadata or {},
        }

        def make() -> dict[str, Any]:
            if amount_cents < 50:
                raise GatewayError(
                    "amount_too_small", "Amount must be at least 50 cents.", http_status=400
                )
            intent_id = _new_id("pi")
            data = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount_cents,
                "currency": currency,
                "status": REQUIRES_PAYMENT_METHOD,
                "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
                "amount_received": 0,
                "customer": customer_id,
                "payment_method": None,
                "setup_future_usage": "off_session" if save_method else None,
                "metadata": metadata or {},
                "last_payment_error": None,
            }
            if confirm and payment_method_id:
                data = self._charge(data, payment_method_id)
            elif payment_method_id:
                self._method_behaviour(payment_method_id)  # an unknown method is refused now
                data.update(status=REQUIRES_CONFIRMATION, payment_method=payment_method_id)
            return self._put("payment_intent", data)

        return self._intent(self._once(idempotency_key, params, make))

    def retrieve_intent(self, intent_id: str) -> Intent:
        return self._intent(self._get(intent_id, "payment_intent"))

    def confirm_intent(
        self, intent_id: str, *, payment_method_id: str, idempotency_key: str
    ) -> Intent:
        params = {"op": "confirm", "intent": intent_id, "payment_method": payment_method_id}
        return self._intent(
            self._once(
                idempotency_key,
                params,
                lambda: self._put(
                    "payment_intent",
                    self._charge(self._get(intent_id, "payment_intent"), payment_method_id),
                ),
            )
        )

    def authenticate(self, intent_id: str, succeed: bool) -> Intent:
        """The customer's answer to 3-D Secure (what Stripe.js does in the browser)."""
        data = self._get(intent_id, "payment_intent")
        if data["status"] != REQUIRES_ACTION:
            raise GatewayError(
                "payment_intent_unexpected_state",
                f"This PaymentIntent is {data['status']}, not requires_action.",
                http_status=400,
            )
        data.pop("next_action", None)
        if succeed:
            data["status"], data["amount_received"] = SUCCEEDED, data["amount"]
            self._emit("payment_intent.succeeded", data)
        else:
            data["status"], data["payment_method"] = REQUIRES_PAYMENT_METHOD, None
            data["last_payment_error"] = {
                "code": "payment_intent_authentication_failure",
                "message": "We are unable to authenticate your payment method.",
            }
            self._emit("payment_intent.payment_failed", data)
        return self._intent(self._put("payment_intent", data))

    def cancel_intent(self, intent_id: str, *, idempotency_key: str) -> Intent:
        def make() -> dict[str, Any]:
            data = self._get(intent_id, "payment_intent")
            if data["status"] == SUCCEEDED:
                raise GatewayError(
                    "payment_intent_unexpected_state",
                    "You cannot cancel this PaymentIntent because it has a status of succeeded.",
                    http_status=400,
                )
            if data["status"] != CANCELED:
                data["status"] = CANCELED
                self._emit("payment_intent.canceled", data)
            return self._put("payment_intent", data)

        return self._intent(
            self._once(idempotency_key, {"op": "cancel", "intent": intent_id}, make)
        )

    # --- refunds ---

    def refund(
        self,
        intent_id: str,
        amount_cents: int,
        *,
        idempotency_key: str,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> RefundResult:
        def make() -> dict[str, Any]:
            intent = self._get(intent_id, "payment_intent")
            if intent["status"] != SUCCEEDED:
                raise GatewayError(
                    "payment_intent_unexpected_state",
                    "This PaymentIntent has no successful charge to refund.",
                    http_status=400,
                )
            refunded = intent.get("amount_refunded", 0)
            if refunded >= intent["amount_received"]:
                raise GatewayError(
                    "charge_already_refunded", "Charge has already been refunded.", http_status=400
                )
            if amount_cents < 1 or refunded + amount_cents > intent["amount_received"]:
                raise GatewayError(
                    "amount_too_large" if amount_cents >= 1 else "parameter_invalid_integer",
                    f"Refund amount ({amount_cents}) is greater than unrefunded amount on "
                    f"charge ({intent['amount_received'] - refunded}).",
                    http_status=400,
                )
            intent["amount_refunded"] = refunded + amount_cents
            self._put("payment_intent", intent)
            data = {
                "id": _new_id("re"),
                "object": "refund",
                "amount": amount_cents,
                "payment_intent": intent_id,
                "status": "succeeded",
                "reason": reason,
                "failure_reason": None,
                "metadata": dict(metadata or {}),
            }
            self._emit("refund.updated", data)
            return self._put("refund", data)

        data = self._once(
            idempotency_key, {"op": "refund", "intent": intent_id, "amount": amount_cents}, make
        )
        return RefundResult(
            id=data["id"],
            status=data["status"],
            amount_cents=data["amount"],
            intent_id=intent_id,
            failure_reason=data.get("failure_reason"),
        )

    # --- customers and cards ---

    def create_customer(self, *, email: str, name: str, idempotency_key: str) -> str:
        data = self._once(
            idempotency_key,
            {"op": "customer", "email": email, "name": name},
            lambda: self._put(
                "customer",
                {"id": _new_id("cus"), "object": "customer", "email": email, "name": name},
            ),
        )
        return data["id"]

    def create_setup_intent(self, customer_id: str, *, idempotency_key: str) -> SetupIntent:
        def make() -> dict[str, Any]:
            self._get(customer_id, "customer")
            setup_id = _new_id("seti")
            return self._put(
                "setup_intent",
                {
                    "id": setup_id,
                    "object": "setup_intent",
                    "customer": customer_id,
                    "status": REQUIRES_PAYMENT_METHOD,
                    "payment_method": None,
                    "client_secret": f"{setup_id}_secret_{secrets.token_hex(8)}",
                },
            )

        return self._setup(
            self._once(idempotency_key, {"op": "setup", "customer": customer_id}, make)
        )

    @staticmethod
    def _setup(data: dict[str, Any]) -> SetupIntent:
        return SetupIntent(
            id=data["id"],
            status=data["status"],
            client_secret=data["client_secret"],
            customer_id=data["customer"],
            payment_method_id=data.get("payment_method"),
        )

    def confirm_setup_intent(
        self, setup_intent_id: str, *, payment_method_id: str, idempotency_key: str
    ) -> SetupIntent:
        def make() -> dict[str, Any]:
            data = self._get(setup_intent_id, "setup_intent")
            if data["status"] == SUCCEEDED:
                raise GatewayError(
                    "setup_intent_unexpected_state",
                    "This SetupIntent has already succeeded.",
                    http_status=400,
                )
            _, _, outcome = self._method_behaviour(payment_method_id)
            if outcome == "declined":
                raise GatewayError("card_declined", "Your card was declined.", http_status=402)
            card_id = self._attach_copy(payment_method_id, data["customer"])
            data.update(status=SUCCEEDED, payment_method=card_id, last_setup_error=None)
            self._emit("setup_intent.succeeded", data)
            return self._put("setup_intent", data)

        return self._setup(
            self._once(
                idempotency_key,
                {"op": "confirm_setup", "setup": setup_intent_id, "pm": payment_method_id},
                make,
            )
        )

    def _attach_copy(self, method_id: str, customer_id: str) -> str:
        """Attaching a test method gives the customer a card object of its own, as Stripe does."""
        brand, last4, _ = self._method_behaviour(method_id)
        behaves_as = (
            method_id
            if method_id in BEHAVIOUR
            else self._get(method_id, "payment_method")["behaves_as"]
        )
        card = {
            "id": _new_id("pm"),
            "object": "payment_method",
            "behaves_as": behaves_as,
            "customer": customer_id,
            "brand": brand,
            "last4": last4,
            "exp_month": 12,
            "exp_year": time.gmtime().tm_year + 3,
        }
        self._put("payment_method", card)
        return card["id"]

    def retrieve_method(self, method_id: str) -> Card:
        if method_id in BEHAVIOUR:
            brand, last4, _ = BEHAVIOUR[method_id]
            return Card(
                id=method_id,
                brand=brand,
                last4=last4,
                exp_month=12,
                exp_year=time.gmtime().tm_year + 3,
            )
        data = self._get(method_id, "payment_method")
        return Card(
            id=data["id"],
            brand=data["brand"],
            last4=data["last4"],
            exp_month=data["exp_month"],
            exp_year=data["exp_year"],
            customer_id=data.get("customer"),
        )

    def list_methods(self, customer_id: str) -> list[Card]:
        self._get(customer_id, "customer")
        rows = self.ctx.dbsession.scalars(
            select(MockObject)
            .where(MockObject.kind == "payment_method")
            .order_by(MockObject.created_at)
        )
        return [
            self.retrieve_method(row.id) for row in rows if row.data.get("customer") == customer_id
        ]

    def detach_method(self, method_id: str) -> None:
        data = self._get(method_id, "payment_method")
        if not data.get("customer"):
            raise GatewayError(
                "payment_method_unexpected_state",
                "The payment method you provided is not attached to a customer.",
                http_status=400,
            )
        data["customer"] = None
        self._put("payment_method", data)

    # --- webhooks ---

    def parse_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent:
        signatures.verify(payload, signature_header, self.webhook_secret)
        try:
            event = json.loads(payload)
            return WebhookEvent(
                id=str(event["id"]),
                type=str(event["type"]),
                created=int(event["created"]),
                data=dict(event["data"]["object"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise SignatureError(f"The event is not a Stripe event: {exc}") from None


def webhook_secret(settings: dict[str, Any]) -> str:
    """The configured secret, or one derived from ``totetaxi.secret`` (stable per deployment,
    so the web process and workers agree)."""
    configured = settings.get("payments_mock.webhook_secret") or ""
    if configured:
        return str(configured)
    base = str(settings.get("totetaxi.secret") or "")
    return "whsec_" + hmac.new(base.encode(), b"payments_mock.webhook", hashlib.sha256).hexdigest()
