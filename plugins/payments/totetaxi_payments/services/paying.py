"""Paying for a booking: a payment and its intent at the gateway (DESIGN §9 "Pay")."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import func, select

from totetaxi_core.plugin_api import Booking, BookingStatus, Context, Customer, Refused

from ..interfaces import GatewayError
from ..models import OPEN_STATUSES, Payment, PaymentStatus, SavedMethod
from .methods import saved_method
from .plumbing import (
    GatewayUnavailable,
    balance_due_cents,
    failures,
    gateway,
    gateway_customer,
    max_attempts,
    record,
    set_status,
)
from .webhooks import succeeded


def _open_payment(ctx: Context, booking: Booking) -> Payment | None:
    return ctx.dbsession.scalars(
        select(Payment)
        .where(Payment.booking_id == booking.id, Payment.status.in_(OPEN_STATUSES))
        .order_by(Payment.created_at.desc())
    ).first()


def start_payment(
    ctx: Context,
    booking: Booking,
    customer: Customer | None,
    *,
    saved_method_id: str | None = None,
    save_method: bool = False,
) -> Payment:
    """Create (or reuse) the PaymentIntent for a booking waiting for payment, or for the
    balance of a confirmed one whose total rose.

    The amount is the booking's server-computed total (or balance). With a saved card the intent is
    confirmed at once; the webhook settles it either way.
    """
    # A booking waiting for payment owes its total; a confirmed one whose total rose (a
    # reschedule to a dearer day) owes the difference.
    due = balance_due_cents(ctx, booking)
    if booking.status != BookingStatus.PENDING_PAYMENT and due == 0:
        raise Refused(
            409,
            "status",
            f"Booking {booking.number} is {booking.status}; only a "
            "booking waiting for payment (or with a balance to pay) can be paid.",
        )
    amount = booking.total_cents if booking.status == BookingStatus.PENDING_PAYMENT else due
    if save_method and customer is None:
        raise Refused(
            400,
            "save_method",
            "Saving a card needs a customer account; sign in or leave save_method out.",
        )
    if failures(ctx, booking.id) >= max_attempts(ctx):
        raise Refused(409, "status", "This booking has used all its payment attempts.")
    saved = None
    if saved_method_id is not None:
        saved = saved_method(ctx, customer, saved_method_id, "payment_method_id")
    gw = gateway(ctx)
    # One payment is opened at a time per booking: concurrent requests queue on the booking's
    # row (PostgreSQL) and the second one finds the first's payment.
    ctx.dbsession.execute(select(Booking.id).where(Booking.id == booking.id).with_for_update())
    payment = _open_payment(ctx, booking)
    if payment is not None and payment.status == PaymentStatus.PROCESSING:
        # Already charged, its event on its way: replacing it could charge twice.
        raise Refused(
            409,
            "status",
            "A payment for this booking is already under way "
            f"({payment.status}); wait for it to finish.",
        )
    if payment is not None and (
        payment.amount_cents != amount or saved is not None or save_method != payment.save_method
    ):
        # That intent charges another amount, or lacks the customer and card now asked for. It
        # is cancelled at the gateway *now*: the customer may have paid it a moment ago, and
        # opening a second one then would charge twice.
        settled = _cancel_or_settle(ctx, payment, booking)
        if settled is not None:
            return settled
        payment = None
    if payment is not None:
        return payment
    ordinal = (
        ctx.dbsession.scalar(
            select(func.count()).select_from(Payment).where(Payment.booking_id == booking.id)
        )
        + 1
    )
    customer_ref = None
    if customer is not None and (save_method or saved is not None):
        customer_ref = saved.gateway_customer_id if saved else gateway_customer(ctx, customer)
    payment_id = uuid.uuid4()
    try:
        intent = gw.create_intent(
            amount,
            booking.currency.lower(),
            # Derived from the booking and the attempt number: a replayed request asks the
            # gateway for the same intent rather than creating a second one.
            idempotency_key=_payment_key(booking, amount, ordinal, saved, save_method),
            customer_id=customer_ref,
            payment_method_id=saved.gateway_method_id if saved else None,
            confirm=saved is not None,
            save_method=save_method,
            metadata={"booking_id": str(booking.id), "booking_number": booking.number},
        )
    except GatewayError as exc:
        if exc.retryable:
            raise GatewayUnavailable(exc.message) from None
        raise Refused(409, "payment", f"The payment gateway refused: {exc.message}") from None
    payment = Payment(
        id=payment_id,
        booking_id=booking.id,
        customer_id=customer.id if customer else None,
        amount_cents=amount,
        currency=booking.currency,
        gateway=gw.name,
        gateway_intent_id=intent.id,
        # Settlement comes from the webhook only: an intent charged at once (a saved card) waits
        # as "processing" until its succeeded event is applied.
        status=(
            PaymentStatus.PROCESSING
            if intent.status == PaymentStatus.SUCCEEDED
            else PaymentStatus(intent.status)
        ),
        save_method=save_method,
        client_secret=intent.client_secret,
        gateway_method_id=intent.payment_method_id,
        attempts=0,
        amount_received_cents=0,
        refund_held_cents=0,
        refunded_cents=0,
        last_event_at=0,
        failure_code="",
        failure_reason="",
        needs_attention=False,
    )
    ctx.dbsession.add(payment)
    ctx.dbsession.flush()
    record(
        ctx,
        "payment.created",
        payment=payment,
        amount_cents=payment.amount_cents,
        new_status=payment.status,
        detail={"intent": intent.id, "ordinal": ordinal},
    )
    return payment


def _payment_key(
    booking: Booking, amount: int, ordinal: int, saved: SavedMethod | None, save_method: bool
) -> str:
    # The same attempt with the same parameters gets the same key (a replayed request finds its
    # intent); other parameters get another key, never an idempotency_error at the gateway.
    terms = f"{amount}:{saved.gateway_method_id if saved else ''}:{save_method}"
    return (
        f"booking:{booking.id}:payment:{ordinal}:" + hashlib.sha256(terms.encode()).hexdigest()[:12]
    )


def _cancel_or_settle(ctx: Context, payment: Payment, booking: Booking) -> Payment | None:
    """Cancel ``payment`` at the gateway; if it was paid meanwhile, settle it and return it."""
    gw = gateway(ctx)
    try:
        intent = gw.cancel_intent(
            payment.gateway_intent_id, idempotency_key=f"payment:{payment.id}:cancel"
        )
    except GatewayError as exc:
        if exc.retryable:
            raise GatewayUnavailable(exc.message) from None
        intent = gw.retrieve_intent(payment.gateway_intent_id)
    if intent.status == PaymentStatus.SUCCEEDED:
        succeeded(
            ctx,
            payment,
            booking,
            f"retrieved:{intent.id}",
            {
                "amount_received": intent.amount_received_cents,
                "payment_method": intent.payment_method_id,
                "customer": intent.customer_id,
            },
        )
        return payment
    set_status(ctx, payment, PaymentStatus.CANCELED, note="Replaced by a new payment.")
    return None
