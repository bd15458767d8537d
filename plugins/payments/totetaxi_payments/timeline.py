"""The payments' entries of a booking's or a customer's timeline (core hook
``totetaxi_timeline``): each payment and each refund, newest first, two queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from totetaxi_core.plugin_api import format_money

from .models import Payment, Refund

LIMIT = 100


def entries(request: Any, booking: Any, customer: Any) -> list[dict[str, Any]]:
    db = request.dbsession
    payments = select(Payment).order_by(Payment.created_at.desc()).limit(LIMIT)
    refunds = select(Refund).order_by(Refund.created_at.desc()).limit(LIMIT)
    if booking is not None:
        payments = payments.where(Payment.booking_id == booking.id)
        refunds = refunds.where(Refund.booking_id == booking.id)
    else:
        payments = payments.where(Payment.customer_id == customer.id)
        refunds = refunds.join(Payment, Payment.id == Refund.payment_id).where(
            Payment.customer_id == customer.id
        )
    found: list[dict[str, Any]] = []
    for payment in db.scalars(payments):
        found.append(
            {
                "at": payment.created_at,
                "kind": "payment",
                "title": f"Payment {format_money(payment.amount_cents, payment.currency)}: "
                f"{payment.status}",
                "detail": payment.failure_reason or "",
                "source": "payments",
            }
        )
    for refund in db.scalars(refunds):
        found.append(
            {
                "at": refund.decided_at or refund.created_at,
                "kind": "refund",
                "title": f"Refund {format_money(refund.amount_cents)}: {refund.status}",
                "detail": refund.reason,
                "source": "payments",
            }
        )
    return found
