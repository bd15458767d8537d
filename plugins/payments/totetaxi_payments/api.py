"""The payments API of API.md: pay a booking, the gateway webhook, saved cards, refunds."""

from __future__ import annotations

import uuid
from typing import Any

import colander
from cornice import Service
from cornice.validators import colander_body_validator, colander_validator
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import select

from totetaxi_core.plugin_api import (
    API_PREFIX,
    BookingContext,
    InvalidDraft,
    OneOf,
    OwnedContext,
    Permission,
    answers,
    count_webhook_failure,
    get_or_404,
    json_error,
    keyset_page,
    no_content,
    page_of,
    page_query,
    signed_in_customer,
    strict,
)
from totetaxi_core.plugin_api import BOOKING_ACT as ACT
from totetaxi_core.plugin_api import BOOKING_READ as READ

from . import services
from .interfaces import SignatureError
from .models import Payment, Refund, RefundStatus, SavedMethod
from .permissions import PaymentsPermission
from .schemas import (
    PAYMENT_EXAMPLE,
    ApproveBody,
    DecisionBody,
    PayBody,
    PaymentOut,
    PaymentsOut,
    RefundBody,
    RefundOut,
    SavedMethodsOut,
    SetupOut,
    WebhookOut,
)

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

GATEWAY_DOWN = "The payment gateway did not answer; nothing was charged twice."
#: ``GET /staff/refunds``: ``?status=requested`` is the approval queue.
REFUND_FILTERS = page_query(
    status=colander.SchemaNode(
        colander.String(),
        validator=OneOf([s.value for s in RefundStatus]),
        missing=colander.drop,
        allow_empty=True,
    )
)


@booking_payments.post(
    schema=strict(PayBody),
    validators=(colander_body_validator,),
    permission=ACT,
    response_schemas=answers(
        201,
        PaymentOut(),
        "The booking's open payment, with the client_secret to confirm it.",
        example=PAYMENT_EXAMPLE,
        errors={
            409: "The booking is not waiting for payment, has used its attempts, or a payment "
            "is under way.",
            503: GATEWAY_DOWN,
        },
    ),
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


@booking_payments.get(
    permission=READ, response_schemas=answers(200, PaymentsOut(), "The booking's payments.")
)
def payments_view(request: Request) -> dict[str, Any]:
    """The booking's payments, oldest first, and ``balance_cents``: what a confirmed booking
    whose total rose (a reschedule) still owes, paid with ``POST`` here."""
    booking = request.context.obj
    return {
        "items": [services.payment_json(p) for p in services.payments_of(request.ctx, booking.id)],
        "balance_cents": services.balance_due_cents(request.ctx, booking),
    }


@webhook.post(
    permission=NO_PERMISSION_REQUIRED,
    idempotent=False,
    response_schemas=answers(
        200,
        WebhookOut(),
        "Recorded and applied (a repeated event changes nothing). A bad, missing or stale "
        "Stripe-Signature is 400.",
        errors={503: "The event is for a payment this server does not show yet; sent again."},
    ),
)
def webhook_view(request: Request) -> Any:
    """Verify the signature, record the event id, apply it. 400 on a bad signature."""
    try:
        outcome = services.handle_webhook(
            request.ctx, request.body, request.headers.get("Stripe-Signature")
        )
    except SignatureError as exc:
        # Labelled with the gateway plugin's name (payments_stripe): "mock" alone is ambiguous.
        count_webhook_failure(f"payments_{services.gateway(request.ctx).name}", "signature")
        return json_error(request, 400, "Stripe-Signature", str(exc), "header")
    except services.NotYetKnown as exc:
        count_webhook_failure(f"payments_{services.gateway(request.ctx).name}", "not_ready")
        # Not recorded (the answer rolls back): the gateway sends it again shortly.
        response = json_error(request, 503, "event", f"Not ready for this event yet: {exc}.")
        response.headers["Retry-After"] = "10"
        return response
    return {"received": True, "outcome": outcome}


@methods.get(
    permission=Permission.CUSTOMER_SELF,
    response_schemas=answers(200, SavedMethodsOut(), "The customer's saved cards."),
)
def methods_view(request: Request) -> dict[str, Any]:
    """The customer's saved cards (brand, last4, expiry)."""
    return {
        "items": [
            services.method_json(m)
            for m in services.methods_of(request.ctx, signed_in_customer(request).id)
        ]
    }


@methods.post(
    permission=Permission.CUSTOMER_SELF,
    response_schemas=answers(201, SetupOut(), "A setup intent.", errors={503: GATEWAY_DOWN}),
)
def add_method_view(request: Request) -> dict[str, Any]:
    """Start saving a card: a setup intent the site confirms; the webhook stores the card."""
    request.response.status_code = 201
    return services.start_setup(request.ctx, signed_in_customer(request))


@method.delete(
    permission=Permission.CUSTOMER_SELF,
    response_schemas=answers(
        204,
        description="Detached at the gateway and forgotten.",
        errors={409: "The gateway refused to detach it.", 503: GATEWAY_DOWN},
    ),
)
def remove_method_view(request: Request) -> Response:
    """Forget a saved card (detached at the gateway first)."""
    services.remove_method(request.ctx, request.context.obj)
    return no_content(request)


def _refund(request: Request) -> Refund:
    raw = request.matchdict["id"]
    return get_or_404(request.dbsession, Refund, raw, detail=f"No refund with id {raw}.")


@refunds.get(
    schema=REFUND_FILTERS,
    validators=(colander_validator,),
    permission=Permission.STAFF_READ,
    response_schemas=answers(200, page_of(RefundOut()), "Refunds, newest first."),
)
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
    schema=strict(RefundBody),
    validators=(colander_body_validator,),
    permission=REQUEST_REFUND,
    response_schemas=answers(
        201,
        RefundOut(),
        "The refund, requested: its amount is held against the payment.",
        errors={409: "The payment cannot be refunded, or not by that much."},
    ),
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
    schema=strict(ApproveBody),
    validators=(colander_body_validator,),
    permission=DECIDE_REFUND,
    response_schemas=answers(
        200,
        RefundOut(),
        "Approved: refunded at the gateway (succeeded, pending or failed).",
        errors={409: "The refund was already decided.", 503: GATEWAY_DOWN},
    ),
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
    schema=strict(DecisionBody),
    validators=(colander_body_validator,),
    permission=DECIDE_REFUND,
    response_schemas=answers(
        200,
        RefundOut(),
        "Rejected: the held amount is free again.",
        errors={409: "The refund was already decided."},
    ),
)
def reject_view(request: Request) -> dict[str, Any]:
    """An admin rejects a requested refund; its held amount is released."""
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
