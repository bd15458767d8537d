"""Settling by webhook: the signed event, recorded once, applied to its payment, setup or refund."""

from __future__ import annotations

import time
import uuid
from typing import Any

from pyramid_retry import mark_error_retryable
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from totetaxi_core.plugin_api import (
    Booking,
    BookingStatus,
    Context,
    publish_live,
    staff_event,
    transition,
)

from ..models import OPEN_STATUSES, Payment, PaymentStatus, WebhookEventRecord
from .methods import finish_setup, remember_method
from .plumbing import (
    TERMINAL,
    cancel_payment,
    failures,
    gateway,
    max_attempts,
    paid_net_cents,
    record,
    set_status,
)
from .refunds import apply_refund_event

#: An event for an intent of ours that we do not know is refused (503, sent again) while it is
#: this young; older, its creating request must have rolled back, and the intent is adopted.
ADOPT_AFTER_SECONDS = 600


def handle_webhook(ctx: Context, payload: bytes, signature: str | None) -> str:
    """Verify, deduplicate and apply one gateway event; return what was done.

    Raises :class:`~totetaxi_payments.interfaces.SignatureError` for a bad signature.
    """
    gw = gateway(ctx)
    event = gw.parse_webhook(payload, signature)
    db = ctx.dbsession
    if (
        db.scalars(
            select(WebhookEventRecord.id).where(WebhookEventRecord.event_id == event.id)
        ).first()
        is not None
    ):
        return "duplicate"
    seen = WebhookEventRecord(
        gateway=gw.name, event_id=event.id, type=event.type, created=event.created
    )
    db.add(seen)
    try:
        db.flush()
    except IntegrityError as exc:
        # The same event is being handled by a concurrent delivery: replay, then "duplicate".
        mark_error_retryable(exc)
        raise
    kind = event.type
    if kind.startswith("payment_intent."):
        outcome = _apply_intent_event(ctx, event.id, event.created, event.data)
    elif kind == "setup_intent.succeeded":
        outcome = finish_setup(ctx, event.data)
    elif kind in ("refund.updated", "refund.created", "charge.refund.updated"):
        outcome = apply_refund_event(ctx, event.id, event.data)
    else:
        outcome = "ignored"
    seen.outcome = outcome[:200]
    return outcome


def _failure(data: dict[str, Any]) -> tuple[str, str]:
    error = data.get("last_payment_error") or {}
    return (
        str(error.get("code") or error.get("decline_code") or "payment_failed"),
        str(error.get("message") or "The payment was not completed."),
    )


def _apply_intent_event(ctx: Context, event_id: str, created: int, data: dict[str, Any]) -> str:
    db = ctx.dbsession
    payment = db.scalars(
        select(Payment).where(Payment.gateway_intent_id == data.get("id")).with_for_update()
    ).first()
    if payment is None:
        if int(time.time()) - created < ADOPT_AFTER_SECONDS:
            _unknown_but_ours(ctx, data, "booking_id", Booking)  # 503: probably not committed
            return "unknown intent"
        payment = _adopt(ctx, data, event_id)  # its request never committed: take it in
        if payment is None:
            return "unknown intent"
    status = str(data.get("status") or "")
    if status not in PaymentStatus.__members__.values():
        return f"unknown status {status}"
    booking = db.get(Booking, payment.booking_id)
    if (
        data.get("last_payment_error")
        and status == PaymentStatus.REQUIRES_PAYMENT_METHOD
        and payment.status != PaymentStatus.SUCCEEDED
    ):
        # A failure counts once per event (events are deduplicated by id), whatever order it
        # arrives in; only the status change below depends on the order.
        return _failed(
            ctx,
            payment,
            booking,
            event_id,
            data,
            apply_status=payment.status not in TERMINAL and created >= payment.last_event_at,
        )
    if payment.status == PaymentStatus.SUCCEEDED or (
        payment.status == PaymentStatus.CANCELED and status != PaymentStatus.SUCCEEDED
    ):
        # Final states never move back: a late "failed" after "succeeded" changes nothing. A
        # success after we cancelled locally is money taken all the same: it is recorded.
        return f"stale: payment already {payment.status}"
    if created < payment.last_event_at and PaymentStatus(status) not in TERMINAL:
        return "stale: older than the last event applied"
    payment.last_event_at = max(payment.last_event_at, created)
    if status == PaymentStatus.SUCCEEDED:
        return succeeded(ctx, payment, booking, event_id, data)
    set_status(ctx, payment, status, source=event_id)
    return f"payment {status}"


class NotYetKnown(Exception):
    """An event about one of our objects that this database does not show yet (the request
    that created it has not committed): answered 503 and not recorded, so it comes again."""


def _unknown_but_ours(ctx: Context, data: dict[str, Any], key: str, model: Any) -> None:
    raw = (data.get("metadata") or {}).get(key)
    if not raw:
        return
    try:
        ours = ctx.dbsession.get(model, uuid.UUID(str(raw)))
    except ValueError:
        return
    if ours is not None:
        raise NotYetKnown(f"{data.get('id')} is not recorded yet")


def _adopt(ctx: Context, data: dict[str, Any], event_id: str) -> Payment | None:
    """An intent of one of our bookings whose creating request rolled back after the gateway
    call: record it now, flagged, so the money it moves is never lost from sight."""
    raw = (data.get("metadata") or {}).get("booking_id")
    try:
        booking = ctx.dbsession.get(Booking, uuid.UUID(str(raw))) if raw else None
    except ValueError:
        booking = None
    if booking is None:
        return None
    payment = Payment(
        id=uuid.uuid4(),
        booking_id=booking.id,
        customer_id=booking.customer_id,
        amount_cents=int(data.get("amount") or 0),
        currency=booking.currency,
        gateway=gateway(ctx).name,
        gateway_intent_id=str(data["id"]),
        status=PaymentStatus.REQUIRES_PAYMENT_METHOD,
        save_method=False,
        client_secret="",
        attempts=0,
        amount_received_cents=0,
        refund_held_cents=0,
        refunded_cents=0,
        last_event_at=0,
        failure_code="",
        failure_reason="",
        needs_attention=True,
    )
    ctx.dbsession.add(payment)
    ctx.dbsession.flush()
    record(
        ctx,
        "payment.adopted",
        payment=payment,
        amount_cents=payment.amount_cents,
        source=event_id,
        note="An intent whose creating request never committed.",
    )
    return payment


def succeeded(
    ctx: Context, payment: Payment, booking: Booking, event_id: str, data: dict[str, Any]
) -> str:
    payment.amount_received_cents = int(data.get("amount_received") or payment.amount_cents)
    payment.gateway_method_id = data.get("payment_method") or payment.gateway_method_id
    payment.succeeded_at = ctx.now()
    payment.failure_code = payment.failure_reason = ""
    set_status(ctx, payment, PaymentStatus.SUCCEEDED, source=event_id)
    record(
        ctx,
        "payment.captured",
        payment=payment,
        amount_cents=payment.amount_received_cents,
        source=event_id,
    )
    outcome = "payment succeeded"
    if payment.save_method and payment.customer_id and payment.gateway_method_id:
        remember_method(ctx, payment.customer_id, payment.gateway_method_id, data.get("customer"))
    if (
        booking.status == BookingStatus.PENDING_PAYMENT
        and payment.amount_received_cents >= booking.total_cents
    ):
        # Even a payment we had replaced confirms the booking when it covers the total; the
        # other open payments of the booking are then cancelled.
        payment.needs_attention = False
        transition(ctx, booking, BookingStatus.CONFIRMED, "Payment received.")
        for other in ctx.dbsession.scalars(
            select(Payment).where(
                Payment.booking_id == booking.id,
                Payment.id != payment.id,
                Payment.status.in_(OPEN_STATUSES),
            )
        ):
            cancel_payment(ctx, other, "The booking was paid by another payment.")
        ctx.call_hook("totetaxi_payment_succeeded", payment=payment, booking=booking)
        return outcome + "; booking confirmed"
    if booking.status == BookingStatus.CONFIRMED and payment.amount_cents < booking.total_cents:
        ctx.dbsession.flush()  # this payment's amount must be in the sum
        if paid_net_cents(ctx, booking.id) <= booking.total_cents:
            # The balance of a booking whose total rose (a reschedule): collected, not extra.
            payment.needs_attention = False
            record(
                ctx,
                "payment.balance_collected",
                payment=payment,
                amount_cents=payment.amount_received_cents,
                source=event_id,
            )
            ctx.call_hook("totetaxi_payment_succeeded", payment=payment, booking=booking)
            return outcome + "; balance collected"
    # Money taken that confirms nothing: paid after the booking was cancelled, a payment we had
    # replaced (a re-price: it may be short), or a second payment. Staff refund or settle it;
    # no success event fires, so nobody is told "confirmed" for it.
    why = (
        f"the booking was {booking.status}"
        if booking.status != BookingStatus.PENDING_PAYMENT
        else f"{payment.amount_received_cents} cents received for a total of {booking.total_cents}"
        if payment.amount_received_cents < booking.total_cents
        else "the payment had been replaced"
    )
    payment.needs_attention = True
    publish_live(
        ctx,
        staff_event(
            "actions.pending",
            {"kind": "payment_attention", "payment_id": str(payment.id), "number": booking.number},
        ),
    )
    record(
        ctx,
        "payment.needs_attention",
        payment=payment,
        amount_cents=payment.amount_received_cents,
        source=event_id,
        note=f"Payment succeeded but {why}; refund or settle it.",
    )
    return outcome + f"; needs attention: {why}"


def _failed(
    ctx: Context,
    payment: Payment,
    booking: Booking,
    event_id: str,
    data: dict[str, Any],
    apply_status: bool = True,
) -> str:
    code, message = _failure(data)
    payment.attempts += 1
    if apply_status:
        payment.failure_code, payment.failure_reason = code[:60], message[:500]
        set_status(ctx, payment, PaymentStatus.REQUIRES_PAYMENT_METHOD, source=event_id)
    record(
        ctx,
        "payment.failed",
        payment=payment,
        amount_cents=payment.amount_cents,
        source=event_id,
        detail={"code": code, "attempt": payment.attempts},
        note=message,
    )
    ctx.dbsession.flush()  # the attempt just counted must be in the sum
    used = failures(ctx, booking.id)
    left = (
        max(0, max_attempts(ctx) - used) if booking.status == BookingStatus.PENDING_PAYMENT else 0
    )
    ctx.call_hook(
        "totetaxi_payment_failed",
        payment=payment,
        booking=booking,
        reason=message,
        attempts_left=left,
    )
    stale = "" if apply_status else "stale: older than the state applied; "
    if used >= max_attempts(ctx) and booking.status == BookingStatus.PENDING_PAYMENT:
        cancel_payment(ctx, payment, f"{used} failed payment attempts.")
        transition(
            ctx,
            booking,
            BookingStatus.CANCELLED,
            f"Payment failed {used} times; the booking was cancelled.",
        )
        return f"{stale}payment failed ({used}); booking cancelled"
    return f"{stale}payment failed ({used} of {max_attempts(ctx)})"
