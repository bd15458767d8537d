"""The payments plugin's report for the CRM (hook ``totetaxi_crm_reports``, optional: the
plugin starts without CRM): ``payments_reconciliation``.

One row per booking *created* in the range (New York days), oldest first, in one streamed
``GROUP BY`` over its payments:

* ``owed_cents`` — the booking's total (what it owes);
* ``received_cents`` — what the gateway took: the received amounts of its succeeded payments;
* ``refunded_cents`` — what went back (refunds completed at the gateway, all its payments);
* ``net_cents`` — received − refunded;
* ``difference_cents`` — net − owed (negative: short; positive: over);
* ``state`` — ``cancelled`` for a cancelled booking (its difference is what the cancellation
  kept against the total), else ``paid`` (difference 0), ``unpaid`` (nothing net received),
  ``short`` (some, not all) or ``over``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import case, func, select

from totetaxi_core.plugin_api import Booking, BookingStatus, hookimpl

from .models import Payment, PaymentStatus

COLUMNS = (
    "booking",
    "created_at",
    "pickup_date",
    "booking_status",
    "owed_cents",
    "received_cents",
    "refunded_cents",
    "net_cents",
    "difference_cents",
    "state",
)
#: Rows fetched from the database at a time while streaming.
BATCH = 500


def state_of(status: str, owed: int, net: int) -> str:
    if status == BookingStatus.CANCELLED:
        return "cancelled"
    if net == owed:
        return "paid"
    if net <= 0:
        return "unpaid"
    return "short" if net < owed else "over"


def reconciliation_rows(
    ctx: Any, start: dt.datetime, end: dt.datetime
) -> Iterator[tuple[Any, ...]]:
    succeeded = Payment.status == PaymentStatus.SUCCEEDED
    statement = (
        select(
            Booking.number,
            Booking.created_at,
            Booking.pickup_date,
            Booking.status,
            Booking.total_cents,
            func.coalesce(func.sum(case((succeeded, Payment.amount_received_cents), else_=0)), 0),
            func.coalesce(func.sum(Payment.refunded_cents), 0),
        )
        .outerjoin(Payment, Payment.booking_id == Booking.id)
        .where(Booking.created_at >= start, Booking.created_at < end)
        .group_by(
            Booking.id,
            Booking.number,
            Booking.created_at,
            Booking.pickup_date,
            Booking.status,
            Booking.total_cents,
        )
        .order_by(Booking.created_at, Booking.id)
        .execution_options(yield_per=BATCH)
    )
    for number, created_at, pickup_date, status, owed, received, refunded in ctx.dbsession.execute(
        statement
    ):
        received, refunded = int(received), int(refunded)
        net = received - refunded
        yield (
            number,
            created_at,
            pickup_date,
            str(status),
            owed,
            received,
            refunded,
            net,
            net - owed,
            state_of(status, owed, net),
        )


@hookimpl(optionalhook=True)
def totetaxi_crm_reports(ctx: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": "payments_reconciliation",
            "title": "Payments reconciliation",
            "columns": list(COLUMNS),
            "rows": reconciliation_rows,
            "description": (
                "Per booking created in the range: what it owes (its total) against what the "
                "gateway took (succeeded payments) less refunds; the difference is net − owed."
            ),
        }
    ]
