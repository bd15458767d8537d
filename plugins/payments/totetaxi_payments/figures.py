"""The payments' figures for the CRM dashboard (hook ``totetaxi_crm_figures``), SQL aggregates.

* ``payment_success_rate``: among the payments created in ``[start, end)`` that were attempted
  (succeeded, or at least one confirmation failed), the fraction that succeeded (``None``
  when none was attempted);
* ``payments_attempted`` and ``payments_succeeded``: those two counts;
* ``refunds_cents``: the refunds that succeeded in the period (``completed_at``), summed;
* ``payments_needing_attention``: payments flagged now (money that confirmed no booking).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, or_, select

from .models import Payment, PaymentStatus, Refund, RefundStatus


def figures(ctx: Any, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    db = ctx.dbsession
    succeeded = Payment.status == PaymentStatus.SUCCEEDED
    attempted, won, attention = db.execute(
        select(
            func.coalesce(
                func.sum(
                    case(
                        (
                            (Payment.created_at >= start)
                            & (Payment.created_at < end)
                            & or_(succeeded, Payment.attempts > 0),
                            1,
                        ),
                        else_=0,
                    )
                ),
                0,
            ),
            func.coalesce(
                func.sum(
                    case(
                        ((Payment.created_at >= start) & (Payment.created_at < end) & succeeded, 1),
                        else_=0,
                    )
                ),
                0,
            ),
            func.coalesce(func.sum(case((Payment.needs_attention.is_(True), 1), else_=0)), 0),
        ).where(
            or_(
                (Payment.created_at >= start) & (Payment.created_at < end),
                Payment.needs_attention.is_(True),
            )
        )
    ).one()
    refunded = db.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.status == RefundStatus.SUCCEEDED,
            Refund.completed_at >= start,
            Refund.completed_at < end,
        )
    )
    attempted, won = int(attempted), int(won)
    return {
        "payment_success_rate": round(won / attempted, 4) if attempted else None,
        "payments_attempted": attempted,
        "payments_succeeded": won,
        "refunds_cents": int(refunded or 0),
        "payments_needing_attention": int(attention),
    }
