"""Payments needing attention: money taken before a staff member changed the booking's total.

A staff edit after payment flags the booking's succeeded payments (``needs_attention``) and
records the difference (``payment.total_changed``): the customer owes more, or is owed some back.
Staff handle it — a refund requested on the booking's page, or a balance collected — and then
mark the payment settled with a note saying what was done. Settling is audited twice, like every
money decision: a :class:`~totetaxi_payments.models.PaymentAudit` row and a core audit record.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from totetaxi_core.plugin_api import Booking, Context, Refused, record_audit

from ..models import Payment, PaymentAudit
from .plumbing import record

#: The payment audit action that flags a payment (see ``hooks.totetaxi_booking_changed``).
TOTAL_CHANGED = "payment.total_changed"
NOTE_MIN, NOTE_MAX = 3, 500


@dataclass(frozen=True)
class Attention:
    """One flagged payment as the attention list shows it."""

    payment: Payment
    booking_number: str
    booking_total_cents: int
    #: The latest total change after payment: positive means collect, negative refund.
    difference_cents: int | None
    reason: str


def attention_count(db: Any) -> int:
    """How many payments need attention now."""
    return int(db.scalar(select(func.count()).select_from(Payment).where(Payment.needs_attention)))


def needing_attention(db: Any, limit: int) -> list[Attention]:
    """The ``limit`` oldest flagged payments with their booking and why (three queries)."""
    payments = list(
        db.scalars(
            select(Payment)
            .where(Payment.needs_attention)
            .order_by(Payment.created_at, Payment.id)
            .limit(limit)
        )
    )
    if not payments:
        return []
    bookings = {
        row.id: row
        for row in db.execute(
            select(Booking.id, Booking.number, Booking.total_cents).where(
                Booking.id.in_({p.booking_id for p in payments})
            )
        )
    }
    # Why: the latest note of the payment's history (a re-price, or the webhook that found
    # money confirming no booking); the difference: the latest re-price's.
    noted: dict[uuid.UUID, str] = {}
    changed: dict[uuid.UUID, int | None] = {}
    for row in db.scalars(
        select(PaymentAudit)
        .where(PaymentAudit.payment_id.in_([p.id for p in payments]), PaymentAudit.note != "")
        .order_by(PaymentAudit.at, PaymentAudit.id)
    ):
        key = row.payment_id
        assert key is not None  # filtered on it
        noted[key] = row.note
        if row.action == TOTAL_CHANGED:
            changed[key] = row.amount_cents
    answer = []
    for payment in payments:
        booking = bookings.get(payment.booking_id)
        answer.append(
            Attention(
                payment=payment,
                booking_number=booking.number if booking else "?",
                booking_total_cents=booking.total_cents if booking else 0,
                difference_cents=changed.get(payment.id),
                reason=noted.get(payment.id, ""),
            )
        )
    return answer


def settle_attention(ctx: Context, payment: Payment, note: str) -> Payment:
    """A staff member says the difference was handled (``note``: what was done, 3 to 500
    characters). Refused with 409 when the payment needs no attention (someone settled it
    first: the flag is cleared atomically, so two clicks settle once)."""
    note = " ".join((note or "").split())
    if not NOTE_MIN <= len(note) <= NOTE_MAX:
        raise Refused(400, "note", f"Say what was done, in {NOTE_MIN} to {NOTE_MAX} characters.")
    cleared = ctx.dbsession.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.needs_attention.is_(True))
        .values(needs_attention=False)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not cleared:
        raise Refused(409, "payment", "This payment needs no attention (already settled).")
    ctx.dbsession.refresh(payment, ["needs_attention"])
    record(ctx, "payment.attention_settled", payment=payment, note=note)
    record_audit(
        ctx,
        "payments.attention_settled",
        "payment",
        payment.id,
        before={"needs_attention": True},
        after={"needs_attention": False, "note": note},
    )
    return payment
