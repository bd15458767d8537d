"""The payments plugin's background tasks, registered by :func:`includeme`."""

from __future__ import annotations

import uuid

from pyramid.config import Configurator

from totetaxi_core.plugin_api import Context

from .interfaces import GatewayError
from .models import Payment, Refund, RefundStatus
from .services.plumbing import CANCEL_INTENT_TASK, REFUND_TASK, gateway
from .services.refunds import send_refund


def cancel_intent_task(ctx: Context, payment_id: str) -> str:
    """Background: cancel the payment's intent at the gateway (idempotent)."""
    payment = ctx.dbsession.get(Payment, uuid.UUID(payment_id))
    if payment is None:
        return "gone"
    try:
        gateway(ctx).cancel_intent(
            payment.gateway_intent_id, idempotency_key=f"payment:{payment.id}:cancel"
        )
    except GatewayError as exc:
        if exc.retryable:
            raise
        return f"not cancelled: {exc.code}"  # already succeeded or canceled at the gateway
    return "cancelled"


def refund_task(ctx: Context, refund_id: str) -> str:
    """Background: send an approved refund the gateway did not answer for (same key)."""
    refund = ctx.dbsession.get(Refund, uuid.UUID(refund_id))
    if refund is None or refund.status != RefundStatus.PENDING or refund.gateway_refund_id:
        return "nothing to do"
    send_refund(ctx, refund, ctx.dbsession.get(Payment, refund.payment_id), retry_later=False)
    return str(refund.status)


def includeme(config: Configurator) -> None:
    config.add_task(cancel_intent_task, name=CANCEL_INTENT_TASK)
    config.add_task(refund_task, name=REFUND_TASK)
