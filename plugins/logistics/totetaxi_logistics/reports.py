"""The logistics plugin's report for the CRM (hook ``totetaxi_crm_reports``, optional: the
plugin starts without CRM): ``deliveries``.

One row per delivery task whose window *opens* in the range (New York days), streamed in
window order (then booking number, pickup before drop-off, attempt): its booking's number,
kind (``pickup``/``dropoff``), attempt, status, driver, window (start and end, New York time),
completion time, ``on_time`` (completed no later than the window's end; empty unless completed)
and the failure reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import case, select
from totetaxi_core.plugin_api import Booking, hookimpl

from .models import DeliveryTask, Driver, TaskKind, TaskStatus

COLUMNS = (
    "booking",
    "kind",
    "attempt",
    "status",
    "driver",
    "window_start",
    "window_end",
    "completed_at",
    "on_time",
    "failure_reason",
)
#: Rows fetched from the database at a time while streaming.
BATCH = 500


def delivery_rows(ctx: Any, start: dt.datetime, end: dt.datetime) -> Iterator[tuple[Any, ...]]:
    statement = (
        select(
            Booking.number,
            DeliveryTask.kind,
            DeliveryTask.attempt,
            DeliveryTask.status,
            Driver.name,
            DeliveryTask.complete_after,
            DeliveryTask.complete_before,
            DeliveryTask.completed_at,
            DeliveryTask.failure_reason,
        )
        .join(Booking, Booking.id == DeliveryTask.booking_id)
        .outerjoin(Driver, Driver.id == DeliveryTask.driver_id)
        .where(DeliveryTask.complete_after >= start, DeliveryTask.complete_after < end)
        .order_by(
            DeliveryTask.complete_after,
            Booking.number,
            case((DeliveryTask.kind == TaskKind.PICKUP, 0), else_=1),
            DeliveryTask.attempt,
            DeliveryTask.id,
        )
        .execution_options(yield_per=BATCH)
    )
    for row in ctx.dbsession.execute(statement):
        completed = row.status == TaskStatus.COMPLETED and row.completed_at is not None
        yield (
            row.number,
            str(row.kind),
            row.attempt,
            str(row.status),
            row.name or "",
            row.complete_after,
            row.complete_before,
            row.completed_at,
            (row.completed_at <= row.complete_before) if completed else None,
            row.failure_reason or "",
        )


@hookimpl(optionalhook=True)
def totetaxi_crm_reports(ctx: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": "deliveries",
            "title": "Deliveries",
            "columns": list(COLUMNS),
            "rows": delivery_rows,
            "description": (
                "Every delivery task whose window opens in the range, in window order; on time "
                "is a completion no later than the window's end."
            ),
        }
    ]
