"""What tracking shows: a booking's tasks and timeline, for its customer or for staff.

Customers see their driver's first name, the ETA, the driver's latest position only while a
task is in progress, proof of delivery once completed, and the timeline's customer messages.
Staff also see provider ids, failure reasons, holds and the raw events' kinds.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from totetaxi_core.plugin_api import Context

from ..models import DeliveryTask, TaskStatus, TrackingUpdate
from .planning import current_tasks


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def task_json(task: DeliveryTask, *, staff: bool = False) -> dict[str, Any]:
    """One task as the tracking API answers it."""
    driver = task.driver
    position = None
    if (
        task.status == TaskStatus.IN_PROGRESS
        and driver is not None
        and driver.latitude is not None
        and driver.longitude is not None
    ):
        position = {
            "latitude": driver.latitude,
            "longitude": driver.longitude,
            "at": _iso(driver.position_at),
        }
    answer: dict[str, Any] = {
        "id": str(task.id),
        "kind": str(task.kind),
        "attempt": task.attempt,
        "status": str(task.status),
        "complete_after": _iso(task.complete_after),
        "complete_before": _iso(task.complete_before),
        "driver": {"first_name": driver.first_name} if driver is not None else None,
        "eta": _iso(task.eta)
        if task.status in (TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS)
        else None,
        "driver_position": position,
        "tracking_url": task.tracking_url or None,
        "started_at": _iso(task.started_at),
        "completed_at": _iso(task.completed_at),
        "proof_of_delivery": (
            {
                "photo": task.proof_photo or None,
                "signature": task.proof_signature or None,
                "notes": task.proof_notes or None,
            }
            if task.status == TaskStatus.COMPLETED
            else None
        ),
        "held": bool(task.held_reason),
    }
    if staff:
        answer.update(
            {
                "held_reason": task.held_reason or None,
                "failure_reason": task.failure_reason or None,
                "failed_at": _iso(task.failed_at),
                "provider": task.provider or None,
                "provider_task_id": task.provider_task_id,
                "driver": (
                    {"id": str(driver.id), "name": driver.name, "phone": driver.phone}
                    if driver is not None
                    else None
                ),
                "superseded_by": str(task.superseded_by) if task.superseded_by else None,
            }
        )
    return answer


def timeline(ctx: Context, booking_id: uuid.UUID, *, staff: bool = False) -> list[dict[str, Any]]:
    """The booking's tracking updates in the order they happened."""
    rows = ctx.dbsession.scalars(
        select(TrackingUpdate)
        .where(TrackingUpdate.booking_id == booking_id)
        .order_by(TrackingUpdate.at, TrackingUpdate.received_at)
    )
    entries = []
    for row in rows:
        if not staff and (not row.applied or not row.message):
            continue  # late or repeated facts are for staff
        entry: dict[str, Any] = {
            "at": row.at.isoformat(),
            "task_id": str(row.task_id),
            "kind": row.kind,
            "status": row.status,
            "message": row.message,
            "eta": _iso(row.eta),
        }
        if staff:
            entry["applied"] = row.applied
            entry["position"] = (
                {"latitude": row.latitude, "longitude": row.longitude}
                if row.latitude is not None
                else None
            )
        entries.append(entry)
    return entries


def tracking(ctx: Context, booking: Any, *, staff: bool = False) -> dict[str, Any]:
    """``GET /bookings/{id}/tracking``: the booking's current tasks and its timeline."""
    tasks = current_tasks(ctx, booking.id)
    return {
        "booking_id": str(booking.id),
        "number": booking.number,
        "status": str(booking.status),
        "tasks": [task_json(task, staff=staff) for task in tasks.values()],
        "timeline": timeline(ctx, booking.id, staff=staff),
    }
