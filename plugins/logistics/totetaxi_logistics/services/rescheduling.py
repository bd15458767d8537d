"""What staff do with a task that went wrong, and what follows a booking's own changes.

* :func:`fail_task` — staff mark a task failed (the driver called in): the same event path as a
  provider's failure, then cancelled at the provider.
* :func:`reschedule` — a new date and window for a failed (or not yet started) task. Before the
  pickup, the booking itself moves (the core's reschedule: capacity through the pricing hooks,
  re-priced, ``totetaxi_booking_changed``, whose handler here makes the new attempts). After the
  pickup (a failed drop-off), only a new drop-off attempt is made, and a van is taken on its
  day through ``totetaxi_reserve_capacity`` (a full day refuses).
* :func:`booking_moved` / :func:`booking_cancelled` — the hooks' side: open tasks are cancelled
  at the provider and, for a move, new attempts are made and sent.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from totetaxi_core.plugin_api import (
    Booking,
    BookingStatus,
    Context,
    Refused,
    local_today,
    record_audit,
    reschedule_booking,
)

from ..interfaces import TaskEvent
from ..models import FINAL, OPEN, DeliveryTask, TaskKind, TaskStatus
from .dispatching import cancel_task
from .events import apply_event
from .planning import current_tasks, new_task, release


def fail_task(ctx: Context, task: DeliveryTask, reason: str) -> None:
    """Staff say the task failed; it is cancelled at the provider after commit."""
    if task.is_final:
        raise Refused(409, "status", f"This task is {task.status} already.")
    before = str(task.status)
    event = TaskEvent(
        key=f"staff-failed:{task.id}",
        kind="failed",
        at=ctx.now(),
        provider_task_id=task.provider_task_id,
        failure_reason=reason,
        raw={"by": "staff"},
    )
    if task.provider_task_id is None:
        # Never sent: nothing at a provider; fail it here through the same rules.
        task.provider = task.provider or "local"
        task.provider_task_id = f"local-{task.id}"
        event = TaskEvent(**{**event.__dict__, "provider_task_id": task.provider_task_id})
    else:
        task.cancel_pending = True
        ctx.enqueue("logistics.cancel_at_provider", str(task.id))
    apply_event(ctx, task.provider, event)
    record_audit(
        ctx,
        "logistics.task_failed",
        target_type="delivery_task",
        target_id=task.id,
        before={"status": before},
        after={"status": str(task.status), "reason": reason},
    )


#: How far ahead a task may be rescheduled: the booking rules' horizon (BUSINESS_RULES.md).
HORIZON_DAYS = 180


def check_day(ctx: Context, day: dt.date, not_before: dt.date | None = None) -> None:
    """Refuse (400, ``date``) a day in the past (New York), beyond the booking horizon, or
    before ``not_before``."""
    today = local_today(ctx.now())
    if day < today:
        raise Refused(400, "date", "The new date is in the past.")
    if day > today + dt.timedelta(days=HORIZON_DAYS):
        raise Refused(400, "date", f"The new date is more than {HORIZON_DAYS} days ahead.")
    if not_before is not None and day < not_before:
        raise Refused(400, "date", f"The new date is before the pickup ({not_before}).")


def reschedule(ctx: Context, task: DeliveryTask, day: dt.date, time_window: str) -> DeliveryTask:
    """Give ``task`` a new attempt on ``day`` in ``time_window``; returns the new attempt."""
    booking = ctx.dbsession.get(Booking, task.booking_id)
    assert booking is not None
    if task.status == TaskStatus.COMPLETED:
        raise Refused(409, "status", "This task is completed; there is nothing to reschedule.")
    if task.superseded_by is not None:
        raise Refused(409, "status", "This task was rescheduled already; see its new attempt.")
    if task.status == TaskStatus.IN_PROGRESS:
        raise Refused(409, "status", "The driver is on this task; fail it first to reschedule.")
    if booking.status == BookingStatus.CONFIRMED:
        check_day(ctx, day)
        # Nothing picked up: the booking moves, with everything a move means.
        reschedule_booking(ctx, booking, day, time_window, by_staff=True)
        moved = current_tasks(ctx, booking.id)[TaskKind(task.kind)]
        if moved.id == task.id:  # same date and window: the booking did not change
            moved = _new_attempt(ctx, booking, task, day, time_window)
            if task.kind == TaskKind.PICKUP:
                _dropoff_again(ctx, booking, day, time_window)
            release(ctx, booking)
        return moved
    if booking.status != BookingStatus.IN_PROGRESS:
        raise Refused(409, "status", f"A {booking.status} booking's tasks cannot be rescheduled.")
    # Under way (the pickup started, or was done): the booking keeps its date; this attempt
    # takes a van on its own day through the pricing plugin (a full day: 409).
    check_day(ctx, day, not_before=booking.pickup_date)
    _reserve(ctx, booking, task, day)
    attempt = _new_attempt(ctx, booking, task, day, time_window)
    attempt.reserved_date = day
    if task.kind == TaskKind.PICKUP:
        _dropoff_again(ctx, booking, day, time_window)
    release(ctx, booking)
    return attempt


def _capacity_of(booking: Booking, day: dt.date) -> SimpleNamespace:
    # What the capacity hooks read of a booking, on another day than its own.
    return SimpleNamespace(
        id=booking.id,
        pickup_date=day,
        service_type=booking.service_type,
        specialty_items=booking.specialty_items,
    )


def _reserve(ctx: Context, booking: Booking, task: DeliveryTask, day: dt.date) -> None:
    """A van on ``day`` for a new attempt; the one the old attempt took is given back."""
    if task.reserved_date == day:
        return  # the van of that day is this booking's already
    ctx.call_hook("totetaxi_reserve_capacity", booking=_capacity_of(booking, day))
    if task.reserved_date is not None:
        ctx.call_hook(
            "totetaxi_release_capacity", booking=_capacity_of(booking, task.reserved_date)
        )


def _dropoff_again(ctx: Context, booking: Booking, day: dt.date, time_window: str) -> None:
    """A rescheduled pickup needs its drop-off again (cancelled when the pickup failed)."""
    dropoff = current_tasks(ctx, booking.id).get(TaskKind.DROPOFF)
    if dropoff is None or dropoff.status == TaskStatus.COMPLETED:
        return
    if dropoff.status in OPEN:
        cancel_task(ctx, dropoff, "Rescheduled.")
    attempt = new_task(ctx, booking, TaskKind.DROPOFF, day, time_window, dropoff.attempt + 1)
    ctx.dbsession.flush()
    dropoff.superseded_by = attempt.id


def _new_attempt(
    ctx: Context, booking: Booking, task: DeliveryTask, day: dt.date, time_window: str
) -> DeliveryTask:
    if task.status in OPEN:
        cancel_task(ctx, task, "Rescheduled.")
    attempt = new_task(ctx, booking, TaskKind(task.kind), day, time_window, task.attempt + 1)
    ctx.dbsession.flush()
    task.superseded_by = attempt.id
    record_audit(
        ctx,
        "logistics.task_rescheduled",
        target_type="delivery_task",
        target_id=task.id,
        before={"window": task.complete_after.isoformat()},
        after={"task": str(attempt.id), "date": day.isoformat(), "time_window": time_window},
    )
    ctx.call_hook(
        "totetaxi_delivery_updated",
        task=attempt,
        booking=booking,
        status="rescheduled",
        key=f"rescheduled:{attempt.id}",
    )
    return attempt


MOVING_FIELDS = ("date", "time_window", "pickup_address", "delivery_address")


def booking_moved(ctx: Context, booking: Booking, changes: dict[str, Any]) -> None:
    """A booking's date, window or addresses changed: its tasks not done yet get new
    attempts (the old ones cancelled at the provider) and are sent again."""
    if not any(name in changes for name in MOVING_FIELDS):
        return
    tasks = current_tasks(ctx, booking.id)
    if not tasks:
        return  # not confirmed yet: its tasks are made at confirmation, with the new values
    for kind, task in tasks.items():
        if task.status == TaskStatus.COMPLETED or task.superseded_by is not None:
            continue
        if task.status not in FINAL:
            cancel_task(ctx, task, "Rescheduled.")
        attempt = new_task(
            ctx, booking, kind, booking.pickup_date, booking.time_window, task.attempt + 1
        )
        ctx.dbsession.flush()
        task.superseded_by = attempt.id
    release(ctx, booking)


def booking_cancelled(ctx: Context, booking: Booking) -> None:
    """A cancelled booking's open tasks are cancelled, here and at the provider."""
    for task in current_tasks(ctx, booking.id).values():
        cancel_task(ctx, task, "Booking cancelled.")


def assign(ctx: Context, task: DeliveryTask, driver: Any) -> None:
    """Staff give ``task`` to ``driver`` (``None``: back to the pool). A task already sent is
    assigned at the provider now (a staff action waits for it); one not sent yet carries the
    driver when it goes."""
    if task.is_final:
        raise Refused(409, "status", f"This task is {task.status}; it cannot be assigned.")
    before = str(task.driver_id) if task.driver_id else None
    if task.provider_task_id is None:
        task.driver_id = driver.id if driver is not None else None
        task.driver = driver
    else:
        from .dispatching import dispatcher

        provider = dispatcher(ctx)
        provider.assign(task.provider_task_id, driver.provider_id if driver else None)
        apply_event(
            ctx,
            task.provider,
            TaskEvent(
                key=f"staff-assign:{task.id}:{task.assignment}:{driver.id if driver else '-'}",
                kind="assigned" if driver is not None else "unassigned",
                at=ctx.now(),
                provider_task_id=task.provider_task_id,
                driver_id=driver.provider_id if driver is not None else None,
                driver_name=driver.name if driver is not None else "",
                raw={"by": "staff"},
            ),
        )
    record_audit(
        ctx,
        "logistics.task_assigned",
        target_type="delivery_task",
        target_id=task.id,
        before={"driver_id": before},
        after={"driver_id": str(driver.id) if driver is not None else None},
    )
