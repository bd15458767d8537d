"""Refunds: staff request, admins approve or reject, the gateway refunds (holds keep the amount)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update

from totetaxi_core.plugin_api import (
    Booking,
    Context,
    LiveEvent,
    Refused,
    format_money,
    publish_live,
    record_audit,
    record_event,
    staff_event,
)

from ..interfaces import GatewayError
from ..models import Payment, PaymentStatus, Refund, RefundStatus
from .plumbing import REFUND_TASK, gateway, record


def request_refund(
    ctx: Context, payment: Payment, amount_cents: int, reason: str, *, source: str = "staff"
) -> Refund:
    """Staff ask for a refund; the amount is held against the payment at once, so concurrent
    requests can never add up to more than was paid.

    ``source="policy"``: a refund the cancellation policy (or a cheaper reschedule) owes; it
    needs no approval and is sent after commit (:data:`REFUND_TASK`), audited as the policy's.
    """
    reason = " ".join((reason or "").split())
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents < 1:
        raise Refused(
            400, "amount_cents", "amount_cents must be a whole number of cents, at least 1."
        )
    if not 3 <= len(reason) <= 500:
        raise Refused(400, "reason", "Give a reason of 3 to 500 characters.")
    if payment.status != PaymentStatus.SUCCEEDED:
        raise Refused(
            409,
            "payment_id",
            f"Only a succeeded payment can be refunded; this one is {payment.status}.",
        )
    held = ctx.dbsession.execute(
        update(Payment)
        .where(
            Payment.id == payment.id,
            Payment.refund_held_cents + amount_cents <= Payment.amount_received_cents,
        )
        .values(refund_held_cents=Payment.refund_held_cents + amount_cents)
        .execution_options(synchronize_session=False)
    )
    if held.rowcount != 1:
        ctx.dbsession.refresh(payment)
        raise Refused(
            409,
            "amount_cents",
            f"At most {payment.refundable_cents} cents of this payment can still be refunded.",
        )
    ctx.dbsession.refresh(payment)
    by_policy = source == "policy"
    actor = ctx.actor
    refund = Refund(
        id=uuid.uuid4(),
        payment_id=payment.id,
        booking_id=payment.booking_id,
        amount_cents=amount_cents,
        reason=reason,
        source=source,
        status=RefundStatus.PENDING if by_policy else RefundStatus.REQUESTED,
        requested_by=(
            actor.id if not by_policy and getattr(actor, "kind", None) == "staff" else None
        ),
    )
    ctx.dbsession.add(refund)
    ctx.dbsession.flush()
    if not by_policy:  # an admin's approval is now awaited: the console's pending actions
        publish_live(ctx, _pending("refund_approval", refund))
    if by_policy:
        record(
            ctx,
            "refund.by_policy",
            refund=refund,
            amount_cents=amount_cents,
            new_status=refund.status,
            note=reason,
        )
        record_audit(
            ctx,
            "payments.refund_by_policy",
            "refund",
            refund.id,
            after={"payment_id": str(payment.id), "amount_cents": amount_cents, "reason": reason},
        )
        # After commit: the cancellation (or move) that owes it must be stored first.
        ctx.enqueue(REFUND_TASK, str(refund.id))
        return refund
    record(
        ctx,
        "refund.requested",
        refund=refund,
        amount_cents=amount_cents,
        new_status=refund.status,
        note=reason,
    )
    record_audit(
        ctx,
        "payments.refund_requested",
        "refund",
        refund.id,
        after={"payment_id": str(payment.id), "amount_cents": amount_cents, "reason": reason},
    )
    return refund


def _claim(ctx: Context, refund: Refund, new: RefundStatus) -> None:
    """Move a refund out of ``requested`` once: a concurrent decision gets 409."""
    moved = ctx.dbsession.execute(
        update(Refund)
        .where(Refund.id == refund.id, Refund.status == RefundStatus.REQUESTED)
        .values(status=new, decided_by=ctx.actor.id, decided_at=ctx.now())
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        ctx.dbsession.refresh(refund)
        raise Refused(409, "status", f"This refund is already {refund.status}.")
    ctx.dbsession.refresh(refund)


def _release_hold(ctx: Context, refund: Refund) -> None:
    ctx.dbsession.execute(
        update(Payment)
        .where(Payment.id == refund.payment_id)
        .values(refund_held_cents=Payment.refund_held_cents - refund.amount_cents)
        .execution_options(synchronize_session=False)
    )


def reject_refund(ctx: Context, refund: Refund, note: str) -> Refund:
    _claim(ctx, refund, RefundStatus.REJECTED)
    refund.decision_note = note[:500]
    _release_hold(ctx, refund)
    record(
        ctx,
        "refund.rejected",
        refund=refund,
        amount_cents=refund.amount_cents,
        old_status=RefundStatus.REQUESTED,
        new_status=RefundStatus.REJECTED,
        note=note,
    )
    record_audit(
        ctx,
        "payments.refund_rejected",
        "refund",
        refund.id,
        before={"status": "requested"},
        after={"status": "rejected", "note": note},
    )
    return refund


def approve_refund(
    ctx: Context, refund: Refund, note: str = "", amount_cents: int | None = None
) -> Refund:
    """An admin approves: the gateway refunds (idempotent by the refund's id).

    ``amount_cents`` below the requested amount approves less (a reason in ``note`` is then
    required); the rest of the hold is released.
    """
    requested = refund.amount_cents
    note = " ".join((note or "").split())
    if amount_cents is not None and amount_cents != requested:
        if isinstance(amount_cents, bool) or not 1 <= amount_cents < requested:
            raise Refused(
                400,
                "amount_cents",
                f"Approve between 1 and {requested} cents (the amount requested).",
            )
        if len(note) < 3:
            raise Refused(400, "note", "Give the reason for approving less than was requested.")
    _claim(ctx, refund, RefundStatus.PENDING)
    refund.decision_note = note[:500]
    if amount_cents is not None and amount_cents < requested:
        ctx.dbsession.execute(
            update(Payment)
            .where(Payment.id == refund.payment_id)
            .values(refund_held_cents=Payment.refund_held_cents - (requested - amount_cents))
            .execution_options(synchronize_session=False)
        )
        refund.amount_cents = amount_cents
    payment = ctx.dbsession.get(Payment, refund.payment_id)
    record_audit(
        ctx,
        "payments.refund_approved",
        "refund",
        refund.id,
        before={"status": "requested", "amount_cents": requested},
        after={"status": "pending", "amount_cents": refund.amount_cents},
    )
    record(
        ctx,
        "refund.approved",
        refund=refund,
        amount_cents=refund.amount_cents,
        old_status=RefundStatus.REQUESTED,
        new_status=RefundStatus.PENDING,
        note=note,
    )
    return send_refund(ctx, refund, payment, retry_later=True)


def send_refund(ctx: Context, refund: Refund, payment: Payment, retry_later: bool) -> Refund:
    try:
        result = gateway(ctx).refund(
            payment.gateway_intent_id,
            refund.amount_cents,
            idempotency_key=f"refund:{refund.id}",
            reason="requested_by_customer",
            metadata={"refund_id": str(refund.id)},
        )
    except GatewayError as exc:
        if not exc.retryable:
            _refund_failed(ctx, refund, exc.message, "")
            return refund
        if not retry_later:
            raise
        # The gateway may or may not have refunded: the approval stands ("pending") and a task
        # asks again with the same key until the gateway answers; it never refunds twice.
        refund.failure_reason = f"Gateway unreachable, retrying: {exc.message}"[:500]
        ctx.enqueue(REFUND_TASK, str(refund.id))
        return refund
    refund.gateway_refund_id = result.id
    refund.failure_reason = ""
    if result.status == "succeeded":
        _refund_succeeded(ctx, refund, payment, "")
    elif result.status in ("failed", "canceled"):
        _refund_failed(ctx, refund, result.failure_reason or result.status, "")
    return refund


def _refund_succeeded(ctx: Context, refund: Refund, payment: Payment, source: str) -> None:
    refund.status = RefundStatus.SUCCEEDED
    refund.completed_at = ctx.now()
    # Atomic: two refunds of one payment completing at once must both count.
    ctx.dbsession.execute(
        update(Payment)
        .where(Payment.id == payment.id)
        .values(refunded_cents=Payment.refunded_cents + refund.amount_cents)
        .execution_options(synchronize_session=False)
    )
    ctx.dbsession.refresh(payment)
    record(
        ctx,
        "refund.succeeded",
        refund=refund,
        amount_cents=refund.amount_cents,
        old_status=RefundStatus.PENDING,
        new_status=RefundStatus.SUCCEEDED,
        source=source,
    )
    booking = ctx.dbsession.get(Booking, refund.booking_id)
    record_event(
        ctx,
        booking,
        booking.status,
        f"Refund of {format_money(refund.amount_cents, payment.currency)} issued.",
    )
    ctx.call_hook("totetaxi_refund_completed", refund=refund, payment=payment, booking=booking)


def _refund_failed(ctx: Context, refund: Refund, why: str, source: str) -> None:
    old = refund.status
    refund.status = RefundStatus.FAILED
    refund.failure_reason = why[:500]
    _release_hold(ctx, refund)
    record(
        ctx,
        "refund.failed",
        refund=refund,
        amount_cents=refund.amount_cents,
        old_status=old,
        new_status=RefundStatus.FAILED,
        source=source,
        note=why,
    )


def _match_refund_by_metadata(ctx: Context, data: dict[str, Any]) -> Refund | None:
    raw = (data.get("metadata") or {}).get("refund_id")
    try:
        return ctx.dbsession.get(Refund, uuid.UUID(str(raw))) if raw else None
    except ValueError:
        return None


def apply_refund_event(ctx: Context, event_id: str, data: dict[str, Any]) -> str:
    refund = ctx.dbsession.scalars(
        select(Refund).where(Refund.gateway_refund_id == data.get("id")).with_for_update()
    ).first()
    if refund is None:
        found = _match_refund_by_metadata(ctx, data)
        if found is None:
            return "unknown refund"
        refund = found
    if refund.status == RefundStatus.REQUESTED and data.get("status") == "succeeded":
        # The gateway refunded although our approval rolled back: the money went; record it.
        refund.status = RefundStatus.PENDING
        refund.gateway_refund_id = str(data.get("id"))
    if refund.status != RefundStatus.PENDING:
        return f"refund already {refund.status}"
    status = data.get("status")
    if status == "succeeded":
        _refund_succeeded(ctx, refund, ctx.dbsession.get(Payment, refund.payment_id), event_id)
        return "refund succeeded"
    if status in ("failed", "canceled"):
        _refund_failed(ctx, refund, str(data.get("failure_reason") or status), event_id)
        return "refund failed"
    return f"refund {status}"


def _pending(kind: str, refund: Refund) -> LiveEvent:
    return staff_event(
        "actions.pending",
        {"kind": kind, "refund_id": str(refund.id), "booking_id": str(refund.booking_id)},
    )
