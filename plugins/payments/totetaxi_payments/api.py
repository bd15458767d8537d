"""The payments API of API.md: pay a booking, the gateway webhook, saved cards, refunds."""

from __future__ import annotations

import uuid
from typing import Any

from cornice import Service
from cornice.validators import colander_body_validator
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import select

from totetaxi_core.plugin_api import (
    API_PREFIX,
    BookingContext,
    InvalidDraft,
    OwnedContext,
    Permission,
    get_or_404,
    json_error,
    keyset_page,
    no_content,
    signed_in_customer,
    strict,
)
from totetaxi_core.plugin_api import BOOKING_ACT as ACT
from totetaxi_core.plugin_api import BOOKING_READ as READ

from . import services
from .interfaces import SignatureError
from .models import Payment, Refund, RefundStatus, SavedMethod
from .permissions import PaymentsPermission
from .schemas import ApproveBody, DecisionBody, PayBody, RefundBody

REQUEST_REFUND, DECIDE_REFUND = PaymentsPermission.REFUND_REQUEST, PaymentsPermission.REFUND_DECIDE


class SavedMethodContext(OwnedContext):
    model = SavedMethod
    noun = "saved card"


booking_payments = Service(
    name="booking_payments",
    path=API_PREFIX + "/bookings/{id}/payments",
    factory=BookingContext,
    description="Pay for a booking",
)
webhook = Service(
    name="payments_webhook",
    path=API_PREFIX + "/payments/webhook",
    description="Gateway events (signed)",
)
methods = Service(name="payment_methods", path=API_PREFIX + "/me/payment-methods")
method = Service(
    name="payment_method", path=API_PREFIX + "/me/payment-methods/{id}", factory=SavedMethodContext
)
refunds = Service(name="staff_refunds", path=API_PREFIX + "/staff/refunds")
refund_approve = Service(
    name="staff_refund_approve", path=API_PREFIX + "/staff/refunds/{id}/approve"
)
refund_reject = Service(name="staff_refund_reject", path=API_PREFIX + "/staff/refunds/{id}/reject")


@booking_payments.post(
    schema=strict(PayBody), validators=(colander_body_validator,), permission=ACT
)
def pay_view(request: Request) -> dict[str, Any]:
    """Create (or reuse) the payment of a booking waiting for payment; 201 with the intent's
    ``client_secret`` for the site to confirm."""
    body = request.validated
    payment = services.start_payment(
        request.ctx,
        request.context.obj,
        signed_in_customer(request),
        saved_method_id=body["payment_method_id"],
        save_method=body["save_method"],
    )
    request.response.status_code = 201
    return services.payment_json(payment)


@booking_payments.get(permission=READ)
def payments_view(request: Request) -> dict[str, Any]:
    """The booking's payments, oldest first, and ``balance_cents``: what a confirmed booking
    whose total rose (a reschedule) still owes, paid with ``POST`` here."""
    booking = request.context.obj
    return {
        "items": [services.payment_json(p) for p in services.payments_of(request.ctx, booking.id)],
        "balance_cents": services.balance_due_cents(request.ctx, booking),
    }


@webhook.post(permission=NO_PERMISSION_REQUIRED, idempotent=False)
def webhook_view(request: Request) -> Any:
    """Verify the signature, record the event id, apply it. 400 on a bad signature."""
    try:
        outcome = services.handle_webhook(
            request.ctx, request.body, request.headers.get("Stripe-Signature")
        )
    except SignatureError as exc:
        return json_error(request, 400, "Stripe-Signature", str(exc), "header")
    except services.NotYetKnown as exc:
        # Not recorded (the answer rolls back): the gateway sends it again shortly.
        response = json_error(request, 503, "event", f"Not ready for this event yet: {exc}.")
        response.headers["Retry-After"] = "10"
        return response
    return {"received": True, "outcome": outcome}


@methods.get(permission=Permission.CUSTOMER_SELF)
def methods_view(request: Request) -> dict[str, Any]:
    """The customer's saved cards (brand, last4, expiry)."""
    return {
        "items": [
            services.method_json(m)
            for m in services.methods_of(request.ctx, signed_in_customer(request).id)
        ]
    }


@methods.post(permission=Permission.CUSTOMER_SELF)
def add_method_view(request: Request) -> dict[str, Any]:
    """Start saving a card: a setup intent the site confirms; the webhook stores the card."""
    request.response.status_code = 201
    return services.start_setup(request.ctx, signed_in_customer(request))


@method.delete(permission=Permission.CUSTOMER_SELF)
def remove_method_view(request: Request) -> Response:
    services.remove_method(request.ctx, request.context.obj)
    return no_content(request)


def _refund(request: Request) -> Refund:
    raw = request.matchdict["id"]
    return get_or_404(request.dbsession, Refund, raw, detail=f"No refund with id {raw}.")


@refunds.get(permission=Permission.STAFF_READ)
def refunds_view(request: Request) -> dict[str, Any]:
    """Refunds newest first; ``?status=requested`` is the approval queue."""
    statement = select(Refund)
    status = request.GET.get("status")
    if status:
        if status not in RefundStatus.__members__.values():
            raise InvalidDraft(
                "status",
                "status must be one of " + ", ".join(s.value for s in RefundStatus) + ".",
                "querystring",
            )
        statement = statement.where(Refund.status == status)
    return keyset_page(request, request.dbsession, statement, Refund, services.refund_json)


@refunds.post(
    schema=strict(RefundBody), validators=(colander_body_validator,), permission=REQUEST_REFUND
)
def request_refund_view(request: Request) -> dict[str, Any]:
    """Staff request a refund (full or partial, with a reason): 201 ``requested``."""
    body = request.validated
    payment = None
    try:
        payment = request.dbsession.get(Payment, uuid.UUID(body["payment_id"]))
    except ValueError:
        payment = None
    if payment is None:
        raise InvalidDraft("payment_id", "No payment has this id.")
    refund = services.request_refund(request.ctx, payment, body["amount_cents"], body["reason"])
    request.response.status_code = 201
    return services.refund_json(refund)


@refund_approve.post(
    schema=strict(ApproveBody), validators=(colander_body_validator,), permission=DECIDE_REFUND
)
def approve_view(request: Request) -> dict[str, Any]:
    """An admin approves: the gateway refunds; ``succeeded`` (or ``pending``/``failed``).

    ``amount_cents`` below the requested amount approves less; ``note`` must say why.
    """
    body = request.validated
    refund = services.approve_refund(
        request.ctx, _refund(request), body["note"], body.get("amount_cents")
    )
    return services.refund_json(refund)


@refund_reject.post(
    schema=strict(DecisionBody), validators=(colander_body_validator,), permission=DECIDE_REFUND
)
def reject_view(request: Request) -> dict[str, Any]:
    refund = services.reject_refund(request.ctx, _refund(request), request.validated["note"])
    return services.refund_json(refund)


def unavailable_view(exc: services.GatewayUnavailable, request: Request) -> Response:
    response = json_error(
        request,
        503,
        "payment",
        "The payment gateway did not answer; try "
        f"again in a moment ({exc}). Nothing was charged twice.",
    )
    response.headers["Retry-After"] = "5"
    return response


def includeme(config: Configurator) -> None:
    config.add_exception_view(unavailable_view, context=services.GatewayUnavailable)
    config.scan(__name__)
