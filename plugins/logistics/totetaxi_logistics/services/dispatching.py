"""Sending tasks to the dispatcher, and cancelling them there: background work, after commit.

A send is idempotent: the task row is locked, a task that has its provider id is not sent
again, and before creating anything the provider is asked whether it already holds a task for
our id (a send whose answer was lost, a worker killed between the provider's answer and our
commit): the provider's task carries our id (Onfleet: in its metadata).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from sqlalchemy import select
from totetaxi_core.plugin_api import Booking, BookingStatus, Context, utcnow

from ..interfaces import Dispatcher, DispatcherError, Place, ProviderTask, TaskRequest
from ..models import OPEN, DeliveryTask, Driver, TaskKind, TaskStatus
from .planning import CANCEL_AT_PROVIDER, DISPATCH, current_tasks, hold_reasons, release
from .timeline import add_update

log = logging.getLogger("totetaxi.logistics")

#: How far back ``find_task`` looks for a task we may have created already.
LOOKBACK = dt.timedelta(minutes=10)


def dispatcher(ctx: Context) -> Dispatcher:
    """The enabled provider of the ``dispatcher`` slot."""
    provider = ctx.call_hook("totetaxi_dispatcher")
    if provider is None:
        raise LookupError("no plugin provides the dispatcher slot")
    return provider


def _place(task: DeliveryTask) -> Place:
    address = task.address or {}
    return Place(
        street=address.get("street", ""),
        unit=address.get("unit", ""),
        city=address.get("city", ""),
        state=address.get("state", ""),
        zip_code=address.get("zip_code", ""),
    )


def request_of(ctx: Context, task: DeliveryTask, booking: Booking) -> TaskRequest:
    """What the provider is sent for ``task``."""
    depends_on = None
    if task.kind == TaskKind.DROPOFF:
        pickup = current_tasks(ctx, booking.id).get(TaskKind.PICKUP)
        if pickup is not None and pickup.status in OPEN:
            depends_on = pickup.provider_task_id
    driver = ctx.dbsession.get(Driver, task.driver_id) if task.driver_id else None
    return TaskRequest(
        reference=str(task.id),
        kind="pickup" if task.kind == TaskKind.PICKUP else "dropoff",
        booking_number=booking.number,
        place=_place(task),
        recipient_name=task.recipient_name,
        recipient_phone=task.recipient_phone,
        complete_after=task.complete_after,
        complete_before=task.complete_before,
        notes=(booking.notes or "")[:500],
        depends_on=depends_on,
        driver_id=driver.provider_id if driver is not None else None,
    )


def dispatch_task(ctx: Context, task_id: str) -> None:
    """Send one task to the dispatcher (the ``logistics.dispatch`` task). Retried with backoff
    while the provider is unreachable; the periodic :func:`redispatch` picks up what ran out of
    retries, so an outage delays dispatch and loses nothing."""
    task = ctx.dbsession.get(DeliveryTask, uuid.UUID(task_id), with_for_update=True)
    if task is None or task.provider_task_id is not None or task.status not in OPEN:
        return  # gone, sent already (a second delivery of this task), or no longer wanted
    booking = ctx.dbsession.get(Booking, task.booking_id)
    if booking is None or booking.status not in (
        BookingStatus.CONFIRMED,
        BookingStatus.IN_PROGRESS,
    ):
        return
    reason = hold_reasons(ctx, booking)
    if reason:
        task.held_reason = reason[:2000]
        return
    provider = dispatcher(ctx)
    try:
        found = provider.find_task(str(task.id), task.created_at - LOOKBACK)
    except DispatcherError as exc:
        # Looking refuses nothing of ours: whatever it says, try again later.
        raise DispatcherError(str(exc), permanent=False, retry_after=exc.retry_after) from exc
    try:
        sent = found or provider.create_task(request_of(ctx, task, booking))
    except DispatcherError as exc:
        if not exc.permanent:
            raise  # retried with backoff, then by redispatch
        # Sending it again cannot help (a bad address, a refused field): it fails, for staff to
        # correct and reschedule from the board. Internal: the customer is not emailed.
        log.error("the dispatcher refused task %s of %s: %s", task.id, booking.number, exc)
        task.status = TaskStatus.FAILED
        task.failed_at = ctx.now()
        task.failure_reason = f"The dispatcher refused this task: {exc}"[:2000]
        add_update(
            ctx,
            task,
            key=f"refused:{task.id}",
            kind="failed",
            at=ctx.now(),
            message="",
            raw={"error": str(exc)[:500]},
        )
        return
    record_sent(ctx, task, booking, provider.name, sent)


def record_sent(
    ctx: Context, task: DeliveryTask, booking: Booking, provider: str, sent: ProviderTask
) -> None:
    """Store what the provider answered; the timeline says the task is scheduled."""
    task.provider = provider
    task.provider_task_id = sent.provider_id
    task.tracking_url = sent.tracking_url or ""
    task.dispatched_at = ctx.now()
    task.held_reason = ""
    what = "pickup" if task.kind == TaskKind.PICKUP else "delivery"
    if task.driver_id is not None and task.assignment == 0:
        # Assigned by staff before it was sent: the provider took it with its driver, and no
        # provider event will say "assigned" for a driver we already have.
        task.assignment = 1
        if task.status == TaskStatus.CREATED:
            task.status = TaskStatus.ASSIGNED
        ctx.call_hook(
            "totetaxi_delivery_updated",
            task=task,
            booking=booking,
            status="assigned",
            key=f"assigned:{task.id}:1",
        )
    add_update(
        ctx,
        task,
        key=f"dispatched:{task.id}",
        kind="dispatched",
        at=ctx.now(),
        message=f"Your {what} is scheduled with our fleet.",
        raw={"provider": provider, "provider_task_id": sent.provider_id},
    )


def cancel_at_provider(ctx: Context, task_id: str) -> None:
    """Cancel one task at the provider (the ``logistics.cancel_at_provider`` task).

    Runs for every cancelled task that may have reached the provider: one whose id we never
    heard back (a send in flight when the booking was cancelled) is looked for by our id first.
    A refusal that cannot change (Onfleet will not delete a task its driver has finished) is
    recorded for staff and not retried.
    """
    task = ctx.dbsession.get(DeliveryTask, uuid.UUID(task_id), with_for_update=True)
    if task is None or not task.cancel_pending:
        return
    provider = dispatcher(ctx)
    try:
        provider_id = task.provider_task_id
        if provider_id is None:
            found = provider.find_task(str(task.id), task.created_at - LOOKBACK)
            provider_id = found.provider_id if found is not None else None
        if provider_id is not None:
            provider.cancel_task(provider_id)
    except DispatcherError as exc:
        if not exc.permanent:
            raise  # retried with backoff, then by redispatch
        log.error("the dispatcher refused to cancel task %s: %s", task.id, exc)
        add_update(
            ctx,
            task,
            key=f"cancel-refused:{task.id}",
            kind="cancelled",
            at=ctx.now(),
            message="",
            raw={"error": str(exc)[:500]},
        )
    task.cancel_pending = False


def cancel_task(ctx: Context, task: DeliveryTask, message: str) -> None:
    """Take ``task`` off the road: ``cancelled`` here now, at the provider after commit (even
    when no provider id is stored yet: a send may be in flight)."""
    if task.is_final:
        return
    task.status = TaskStatus.CANCELLED
    task.held_reason = ""
    task.cancel_pending = True
    ctx.enqueue(CANCEL_AT_PROVIDER, str(task.id))
    add_update(
        ctx,
        task,
        key=f"cancelled:{task.id}",
        kind="cancelled",
        at=ctx.now(),
        message=message,
    )


def redispatch(ctx: Context) -> int:
    """Queue again every open task that should have been sent and was not (the periodic
    ``logistics.redispatch``): a dispatcher outage longer than a task's retries, a release
    whose send was lost. Returns how many were queued."""
    # Rows are stamped with the real time (utcnow), whatever the app's clock says.
    stale = utcnow() - dt.timedelta(minutes=2)
    rows: list[Any] = list(
        ctx.dbsession.scalars(
            select(DeliveryTask.id)
            .join(Booking, Booking.id == DeliveryTask.booking_id)
            .where(
                DeliveryTask.provider_task_id.is_(None),
                DeliveryTask.status.in_(OPEN),
                DeliveryTask.held_reason == "",
                DeliveryTask.created_at < stale,
                Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.IN_PROGRESS)),
            )
            .limit(500)
        )
    )
    for task_id in rows:
        ctx.enqueue(DISPATCH, str(task_id))
    cancels = list(
        ctx.dbsession.scalars(
            select(DeliveryTask.id)
            .where(DeliveryTask.cancel_pending.is_(True), DeliveryTask.updated_at < stale)
            .limit(500)
        )
    )
    for task_id in cancels:
        ctx.enqueue(CANCEL_AT_PROVIDER, str(task_id))
    # A hold lifts through its own event (a COI approved); asking again here also catches one
    # that lifted some other way (a booking edited below the high-value line).
    # (The held bookings' ids first: PostgreSQL has no DISTINCT over a booking's JSON columns.)
    held_ids = (
        select(DeliveryTask.booking_id)
        .where(
            DeliveryTask.held_reason != "",
            DeliveryTask.status.in_(OPEN),
            DeliveryTask.provider_task_id.is_(None),
        )
        .distinct()
    )
    held = list(
        ctx.dbsession.scalars(
            select(Booking)
            .where(
                Booking.id.in_(held_ids),
                Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.IN_PROGRESS)),
            )
            .order_by(Booking.id)
            .limit(200)
        )
    )
    released = sum(release(ctx, booking) for booking in held)
    return len(rows) + len(cancels) + released
