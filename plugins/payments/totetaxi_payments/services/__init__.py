"""Paying for bookings, settling by webhook, refunds with approval, saved cards.

Everything here runs in the caller's transaction (a request or a task). Calls to the gateway
that create or move money carry idempotency keys derived from our own rows, so a replayed
request or task asks the gateway for the same object instead of a second one (DESIGN §9).

One module per seam: :mod:`.paying`, :mod:`.webhooks`, :mod:`.methods` (saved cards),
:mod:`.refunds` and :mod:`.reading`; :mod:`.plumbing` holds what they share. The names the
API, the console and the hooks call are re-exported here; the tasks are in
:mod:`totetaxi_payments.tasks`.
"""

from __future__ import annotations

from .attention import attention_count, needing_attention, settle_attention
from .methods import methods_of, remove_method, start_setup
from .paying import start_payment
from .plumbing import (
    CANCEL_INTENT_TASK,
    GatewayUnavailable,
    balance_due_cents,
    cancel_payment,
    gateway,
    record,
)
from .reading import method_json, payment_json, payments_of, refund_json, refunds_of
from .refunds import approve_refund, reject_refund, request_refund
from .webhooks import NotYetKnown, handle_webhook

__all__ = [
    "CANCEL_INTENT_TASK",
    "GatewayUnavailable",
    "NotYetKnown",
    "approve_refund",
    "attention_count",
    "balance_due_cents",
    "cancel_payment",
    "gateway",
    "handle_webhook",
    "method_json",
    "methods_of",
    "needing_attention",
    "payment_json",
    "payments_of",
    "record",
    "refund_json",
    "refunds_of",
    "reject_refund",
    "remove_method",
    "request_refund",
    "settle_attention",
    "start_payment",
    "start_setup",
]
