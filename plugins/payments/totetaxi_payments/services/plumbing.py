"""What every part of the payments services shares: the gateway, our customer at the gateway, the
payment audit trail, a payment's status and its cancelling, the task names."""

from __future__ import annotations

import uuid
from typing import Any

from pyramid_retry import mark_error_retryable
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from totetaxi_core.plugin_api import Context, Customer

from ..interfaces import PaymentGateway
from ..models import GatewayCustomer, Payment, PaymentAudit, PaymentStatus, Refund

CANCEL_INTENT_TASK = "payments.cancel_intent"
REFUND_TASK = "payments.send_refund"
TERMINAL = (PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED)


class GatewayUnavailable(Exception):
    """The gateway did not answer (network, 5xx): the API says 503, try again."""


def gateway(ctx: Context) -> PaymentGateway:
    """The enabled ``payment_gateway`` provider."""
    found = ctx.call_hook("totetaxi_payment_gateway")
    if found is None:
        raise RuntimeError(
            "No payment_gateway provider is enabled (payments_mock or payments_stripe)."
        )
    return found


def _actor(ctx: Context) -> tuple[str, uuid.UUID | None]:
    actor = ctx.actor
    return str(getattr(actor, "kind", "system")), getattr(actor, "id", None)


def record(
    ctx: Context,
    action: str,
    *,
    payment: Payment | None = None,
    refund: Refund | None = None,
    booking_id: uuid.UUID | None = None,
    amount_cents: int | None = None,
    old_status: str = "",
    new_status: str = "",
    source: str = "",
    detail: dict[str, Any] | None = None,
    note: str = "",
) -> None:
    """Append a :class:`PaymentAudit` row (every money movement and state change)."""
    kind, actor_id = _actor(ctx)
    ctx.dbsession.add(
        PaymentAudit(
            payment_id=payment.id if payment else (refund.payment_id if refund else None),
            refund_id=refund.id if refund else None,
            booking_id=booking_id
            or (payment.booking_id if payment else (refund.booking_id if refund else None)),
            action=action,
            amount_cents=amount_cents,
            old_status=str(old_status or ""),
            new_status=str(new_status or ""),
            actor_kind=kind,
            actor_id=actor_id,
            source=source or str(ctx.extra.get("request_id") or ""),
            detail=detail or {},
            note=note[:2000],
        )
    )


def max_attempts(ctx: Context) -> int:
    return int(ctx.settings.get("payments.max_attempts", 3))


def paid_net_cents(ctx: Context, booking_id: uuid.UUID) -> int:
    """What the booking's payments took, less every refund held, asked, sent or done."""
    return int(
        ctx.dbsession.scalar(
            select(
                func.coalesce(
                    func.sum(Payment.amount_received_cents - Payment.refund_held_cents), 0
                )
            ).where(Payment.booking_id == booking_id, Payment.status == PaymentStatus.SUCCEEDED)
        )
        or 0
    )


def balance_due_cents(ctx: Context, booking: Any) -> int:
    """What is left to pay on a confirmed booking whose total rose (a reschedule to a dearer
    day); 0 for any other booking. A booking waiting for payment owes its total instead."""
    if booking.status != "confirmed":
        return 0
    return max(booking.total_cents - paid_net_cents(ctx, booking.id), 0)


def failures(ctx: Context, booking_id: uuid.UUID) -> int:
    """Failed payment attempts of a booking, over all its payments."""
    return int(
        ctx.dbsession.scalar(
            select(func.coalesce(func.sum(Payment.attempts), 0)).where(
                Payment.booking_id == booking_id
            )
        )
        or 0
    )


def set_status(
    ctx: Context, payment: Payment, status: PaymentStatus | str, *, source: str = "", note: str = ""
) -> None:
    old = payment.status
    status = PaymentStatus(status)
    if old == status:
        return
    payment.status = status
    record(
        ctx,
        "payment.status_changed",
        payment=payment,
        old_status=old,
        new_status=status,
        source=source,
        note=note,
    )


def gateway_customer(ctx: Context, customer: Customer) -> str:
    """Our customer's customer object at the gateway, created on first need."""
    gw = gateway(ctx)
    found = ctx.dbsession.scalars(
        select(GatewayCustomer).where(
            GatewayCustomer.customer_id == customer.id, GatewayCustomer.gateway == gw.name
        )
    ).first()
    if found is not None:
        return found.gateway_customer_id
    gateway_id = gw.create_customer(
        email=customer.email,
        name=customer.display_name,
        idempotency_key=f"customer:{customer.id}:{gw.name}",
    )
    ctx.dbsession.add(
        GatewayCustomer(customer_id=customer.id, gateway=gw.name, gateway_customer_id=gateway_id)
    )
    try:
        ctx.dbsession.flush()
    except IntegrityError as exc:
        mark_error_retryable(exc)  # a concurrent first payment saved it: replay, then reuse
        raise
    return gateway_id


def cancel_payment(ctx: Context, payment: Payment, why: str) -> None:
    """Cancel an open payment here now and at the gateway after commit (a task)."""
    if payment.status in TERMINAL:
        return
    set_status(ctx, payment, PaymentStatus.CANCELED, note=why)
    ctx.enqueue(CANCEL_INTENT_TASK, str(payment.id))
