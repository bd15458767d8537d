"""Reading payments, refunds and saved cards for the API and the console."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from totetaxi_core.plugin_api import Context

from ..models import OPEN_STATUSES, Payment, Refund, SavedMethod


def payment_json(payment: Payment, for_payer: bool = True) -> dict[str, Any]:
    """A payment as the API shows it; ``client_secret`` only to the payer, while it is open."""
    secret = payment.client_secret if for_payer and payment.status in OPEN_STATUSES else None
    return {
        "payment_id": str(payment.id),
        "booking_id": str(payment.booking_id),
        "status": str(payment.status),
        "amount_cents": payment.amount_cents,
        "currency": payment.currency,
        "client_secret": secret,
        "needs_attention": payment.needs_attention,
        "attempts": payment.attempts,
        "failure_code": payment.failure_code or None,
        "failure_reason": payment.failure_reason or None,
        "amount_received_cents": payment.amount_received_cents,
        "refunded_cents": payment.refunded_cents,
        "refundable_cents": payment.refundable_cents,
        "gateway": payment.gateway,
        "created_at": payment.created_at.isoformat(),
    }


def refund_json(refund: Refund) -> dict[str, Any]:
    return {
        "id": str(refund.id),
        "payment_id": str(refund.payment_id),
        "booking_id": str(refund.booking_id),
        "amount_cents": refund.amount_cents,
        "reason": refund.reason,
        "status": str(refund.status),
        "requested_by": str(refund.requested_by) if refund.requested_by else None,
        "source": refund.source,
        "decided_by": str(refund.decided_by) if refund.decided_by else None,
        "decision_note": refund.decision_note,
        "failure_reason": refund.failure_reason or None,
        "created_at": refund.created_at.isoformat(),
        "completed_at": refund.completed_at.isoformat() if refund.completed_at else None,
    }


def method_json(saved: SavedMethod) -> dict[str, Any]:
    return {
        "id": str(saved.id),
        "brand": saved.brand,
        "last4": saved.last4,
        "exp_month": saved.exp_month,
        "exp_year": saved.exp_year,
        "created_at": saved.created_at.isoformat(),
    }


def payments_of(ctx: Context, booking_id: uuid.UUID) -> list[Payment]:
    return list(
        ctx.dbsession.scalars(
            select(Payment).where(Payment.booking_id == booking_id).order_by(Payment.created_at)
        )
    )


def refunds_of(ctx: Context, booking_id: uuid.UUID) -> list[Refund]:
    return list(
        ctx.dbsession.scalars(
            select(Refund).where(Refund.booking_id == booking_id).order_by(Refund.created_at)
        )
    )
