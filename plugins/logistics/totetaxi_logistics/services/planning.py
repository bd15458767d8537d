"""A confirmed booking's tasks: made in the confirming transaction, held or queued to be sent.

Nothing here talks to the provider: sending happens after commit (:mod:`.dispatching`).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from totetaxi_core.plugin_api import Booking, Context, Customer, booking_holds

from ..models import OPEN, DeliveryTask, TaskKind, TaskStatus
from ..windows import dropoff_window, pickup_window

log = logging.getLogger("totetaxi.logistics")

#: The background task that sends one delivery task to the dispatcher.
DISPATCH = "logistics.dispatch"
#: The background task that cancels one task at the provider.
CANCEL_AT_PROVIDER = "logistics.cancel_at_provider"


def address_snapshot(address: Any) -> dict[str, str]:
    """The booking address as it is now: what the driver is sent, kept on the task."""
    return {
        "street": address.line1,
        "unit": address.line2 or "",
        "city": address.city,
        "state": address.state,
        "zip_code": address.postal_code,
    }


def _contact(ctx: Context, booking: Booking) -> tuple[str, str]:
    """Who the driver meets: the customer's profile, or the guest's details."""
    if booking.customer_id is not None:
        customer = ctx.dbsession.get(Customer, booking.customer_id)
        if customer is not None:
            return f"{customer.first_name} {customer.last_name}".strip(), customer.phone or ""
    return (
        f"{booking.guest_first_name or ''} {booking.guest_last_name or ''}".strip(),
        booking.guest_phone or "",
    )


def tasks_of(ctx: Context, booking_id: Any) -> list[DeliveryTask]:
    """Every task of a booking, attempts in order (pickup before drop-off)."""
    return list(
        ctx.dbsession.scalars(
            select(DeliveryTask)
            .where(DeliveryTask.booking_id == booking_id)
            .order_by(DeliveryTask.kind.desc(), DeliveryTask.attempt)
        )
    )


def current_tasks(ctx: Context, booking_id: Any) -> dict[TaskKind, DeliveryTask]:
    """The latest attempt of each kind (what the board and the customer see)."""
    latest: dict[TaskKind, DeliveryTask] = {}
    for task in tasks_of(ctx, booking_id):
        latest[TaskKind(task.kind)] = task  # attempts come in order: the last one stays
    return latest


def new_task(
    ctx: Context,
    booking: Booking,
    kind: TaskKind,
    day: dt.date,
    time_window: str,
    attempt: int = 1,
) -> DeliveryTask:
    """Add one task of ``booking`` (not yet sent) due on ``day`` in ``time_window``."""
    window = pickup_window if kind == TaskKind.PICKUP else dropoff_window
    after, before = window(ctx.settings, day, time_window)
    address = booking.pickup_address if kind == TaskKind.PICKUP else booking.delivery_address
    name, phone = _contact(ctx, booking)
    task = DeliveryTask(
        booking_id=booking.id,
        kind=kind,
        attempt=attempt,
        status=TaskStatus.CREATED,
        address=address_snapshot(address),
        recipient_name=name[:200],
        recipient_phone=phone[:40],
        complete_after=after,
        complete_before=before,
    )
    ctx.dbsession.add(task)
    return task


def plan_tasks(ctx: Context, booking: Booking) -> list[DeliveryTask]:
    """The booking's pickup and drop-off, made once (a second confirmation finds them), then
    held or queued to be sent after commit."""
    existing = current_tasks(ctx, booking.id)
    for kind in (TaskKind.PICKUP, TaskKind.DROPOFF):
        if kind not in existing:
            existing[kind] = new_task(ctx, booking, kind, booking.pickup_date, booking.time_window)
    ctx.dbsession.flush()
    release(ctx, booking)
    return list(existing.values())


def hold_reasons(ctx: Context, booking: Booking) -> str:
    """Why the booking may not be dispatched (empty: it may)."""
    return " ".join(hold.get("description", "") for hold in booking_holds(ctx, booking)).strip()


def release(ctx: Context, booking: Booking) -> int:
    """Ask the holds again and send every open task not sent yet that nothing holds now; mark
    the held ones with the reason. Returns how many were queued."""
    reason = hold_reasons(ctx, booking)
    queued = 0
    for task in current_tasks(ctx, booking.id).values():
        if task.status not in OPEN or task.provider_task_id is not None:
            continue
        if reason:
            if task.held_reason != reason:
                log.info("booking %s held: %s", booking.number, reason)
            task.held_reason = reason[:2000]
            continue
        task.held_reason = ""
        ctx.enqueue(DISPATCH, str(task.id))
        queued += 1
    return queued
