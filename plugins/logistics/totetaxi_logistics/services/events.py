"""Provider events applied to tasks and bookings: one code path for Onfleet's webhooks, the mock
fleet's moves and the console's staff actions.

The rules that make duplicates and disorder harmless:

* each event is recorded once (its key is unique; :func:`.timeline.add_update`): a replay, a
  retry or a concurrent second delivery applies nothing;
* the task row is locked while an event is applied, so two events of one task never interleave;
* a final state (completed, failed, cancelled) never moves back, and a live state never moves
  back along created → assigned → in_progress (except an unassignment, which is one);
* an ETA or position older than the newest one applied is kept in the timeline, not applied.

The booking follows its tasks: the pickup started (or done) → ``in_progress``; the drop-off
done → ``completed``, whose status change sends the final email.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from totetaxi_core.plugin_api import (
    Booking,
    BookingStatus,
    Context,
    TransitionRefused,
    booking_event,
    can_transition,
    insert_for,
    publish_live,
    transition,
    utcnow,
)

from ..interfaces import TaskEvent
from ..models import FINAL, RANK, DeliveryTask, Driver, TaskKind, TaskStatus
from .reading import task_json
from .timeline import add_update

log = logging.getLogger("totetaxi.logistics")


@dataclass(frozen=True)
class Outcome:
    """What applying one event did: ``applied``, ``duplicate``, ``stale`` (recorded, changed
    nothing), ``unknown_task`` or ``driver``."""

    result: str
    task: DeliveryTask | None = None


def _driver(ctx: Context, provider: str, event: TaskEvent) -> Driver | None:
    """The driver an event names, made on first sight (Onfleet's workers also sync). Two
    events naming a new driver at once both succeed: the insert does nothing on conflict."""
    if not event.driver_id:
        return None
    find = select(Driver).where(Driver.provider == provider, Driver.provider_id == event.driver_id)
    driver = ctx.dbsession.scalars(find).first()
    if driver is None:
        now = utcnow()
        ctx.dbsession.execute(
            insert_for(ctx.dbsession, Driver)
            .values(
                id=uuid.uuid4(),
                provider=provider,
                provider_id=event.driver_id[:100],
                name=(event.driver_name or "Driver")[:120],
                phone=(event.driver_phone or "")[:40],
                vehicle="",
                active=True,
                on_duty=False,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["provider", "provider_id"])
        )
        driver = ctx.dbsession.scalars(find).one()
    if event.position is not None and (driver.position_at is None or event.at > driver.position_at):
        driver.latitude, driver.longitude = event.position
        driver.position_at = event.at
    return driver


MESSAGES = {
    ("assigned", TaskKind.PICKUP): "A driver is assigned to your pickup.",
    ("assigned", TaskKind.DROPOFF): "A driver is assigned to your delivery.",
    ("unassigned", TaskKind.PICKUP): "Your pickup is waiting for a driver.",
    ("unassigned", TaskKind.DROPOFF): "Your delivery is waiting for a driver.",
    ("started", TaskKind.PICKUP): "Your driver is on the way to pick up your items.",
    ("started", TaskKind.DROPOFF): "Your items are on the way to their destination.",
    ("eta", TaskKind.PICKUP): "New arrival estimate for your pickup.",
    ("eta", TaskKind.DROPOFF): "New arrival estimate for your delivery.",
    ("arrived", TaskKind.PICKUP): "Your driver has arrived for the pickup.",
    ("arrived", TaskKind.DROPOFF): "Your driver has arrived with your items.",
    ("completed", TaskKind.PICKUP): "Your items were picked up.",
    ("completed", TaskKind.DROPOFF): "Your items were delivered.",
    ("failed", TaskKind.PICKUP): "We could not complete your pickup; our team will contact you.",
    ("failed", TaskKind.DROPOFF): "We could not complete your delivery; our team will contact you.",
}


def _effect(task: DeliveryTask, event: TaskEvent) -> TaskStatus | bool | None:
    """The status ``event`` moves ``task`` to; ``None`` to keep it, ``False`` when the event
    changes nothing (final task, older than what was applied, a step back)."""
    status = TaskStatus(task.status)
    if status in FINAL:
        return False
    kind = event.kind
    older = task.last_event_at is not None and event.at < task.last_event_at
    if kind == "assigned":
        if older:
            return False  # a retried old assignment must not undo a newer one
        return TaskStatus.ASSIGNED if status == TaskStatus.CREATED else None
    if kind == "unassigned":
        current = task.driver.provider_id if task.driver is not None else None
        if older or (event.driver_id and event.driver_id != current):
            return False  # an earlier driver's unassignment, arriving after the new one's
        return TaskStatus.CREATED if status == TaskStatus.ASSIGNED else False
    if kind == "started":
        return TaskStatus.IN_PROGRESS if RANK[status] < RANK[TaskStatus.IN_PROGRESS] else False
    if kind in ("eta", "arrived"):
        return False if older else None  # an estimate older than the one we have
    if kind == "completed":
        return TaskStatus.COMPLETED if event.success is not False else TaskStatus.FAILED
    if kind == "failed":
        return TaskStatus.FAILED
    return False


def apply_event(ctx: Context, provider: str, event: TaskEvent) -> Outcome:
    """Apply one provider event; see the module's rules."""
    if event.kind == "driver_duty":
        driver = _driver(ctx, provider, event)
        if driver is not None and event.on_duty is not None:
            driver.on_duty = event.on_duty
        return Outcome("driver")
    task = ctx.dbsession.scalars(
        select(DeliveryTask)
        .where(
            DeliveryTask.provider == provider,
            DeliveryTask.provider_task_id == event.provider_task_id,
        )
        .with_for_update()
    ).first()
    if task is None:
        log.info("event %s names no task of ours (%s); ignored", event.key, event.provider_task_id)
        return Outcome("unknown_task")
    effect = _effect(task, event)
    kind_of_task = TaskKind(task.kind)
    driver = _driver(ctx, provider, event) if event.kind != "unassigned" else None
    new_status = task.status if effect is None or effect is False else effect
    failure = event.kind == "failed" or (event.kind == "completed" and event.success is False)
    event_kind = "failed" if failure else event.kind
    message = event.message or MESSAGES.get((event_kind, kind_of_task), "")
    recorded = add_update(
        ctx,
        task,
        key=event.key,
        kind=event_kind,
        at=event.at,
        message=message,
        status=str(new_status),
        eta=event.eta,
        position=event.position,
        driver_id=driver.id if driver is not None else None,
        applied=effect is not False,
        raw=event.raw,
    )
    if not recorded:
        return Outcome("duplicate", task)
    if effect is False:
        return Outcome("stale", task)
    _apply(ctx, task, event, new_status, driver)
    return Outcome("applied", task)


def _apply(
    ctx: Context,
    task: DeliveryTask,
    event: TaskEvent,
    new_status: TaskStatus,
    driver: Driver | None,
) -> None:
    booking = ctx.dbsession.get(Booking, task.booking_id)
    assert booking is not None
    if task.last_event_at is None or event.at > task.last_event_at:
        task.last_event_at = event.at
    if event.eta is not None:
        task.eta = event.eta
    fired: list[tuple[str, str]] = []
    if event.kind == "assigned" and driver is not None and driver.id != task.driver_id:
        task.driver_id = driver.id
        task.driver = driver
        task.assignment += 1
        fired.append(("assigned", f"assigned:{task.id}:{task.assignment}"))
    elif event.kind == "unassigned" and task.driver_id is not None:
        task.driver_id = None
        task.driver = None
        fired.append(("unassigned", f"unassigned:{task.id}:{task.assignment}"))
    elif event.kind == "assigned" and driver is None:
        return
    elif driver is not None and task.driver_id is None and event.kind != "unassigned":
        # The assignment's own event is late or lost: the driver doing the task is its driver.
        task.driver_id = driver.id
        task.driver = driver
        task.assignment += 1
    if new_status == TaskStatus.IN_PROGRESS and task.status != TaskStatus.IN_PROGRESS:
        task.started_at = event.at
        fired.append(("started", f"started:{task.id}"))
    if event.kind == "arrived":
        task.arrived_at = event.at
        fired.append(("arrived", f"arrived:{task.id}"))
    if event.kind == "eta":
        fired.append(("eta", event.key))
    if new_status == TaskStatus.COMPLETED:
        task.completed_at = event.at
        task.proof_photo = event.photo_ref[:500]
        task.proof_signature = event.signature_ref[:500]
        task.proof_notes = event.notes[:2000]
        done = "picked_up" if task.kind == TaskKind.PICKUP else "delivered"
        fired.append((done, f"{done}:{task.id}"))
    if new_status == TaskStatus.FAILED:
        task.failed_at = event.at
        task.failure_reason = (event.failure_reason or event.notes or "No reason given.")[:2000]
        task.proof_notes = event.notes[:2000]
        fired.append(("failed", f"failed:{task.id}"))
    task.status = new_status
    ctx.dbsession.flush()
    if new_status == TaskStatus.FAILED and task.kind == TaskKind.PICKUP:
        _cancel_dropoff(ctx, task)
    for status, key in fired:
        ctx.call_hook(
            "totetaxi_delivery_updated", task=task, booking=booking, status=status, key=key
        )
    _booking_follows(ctx, task, booking)
    # The tracking page, the customer's app and the dispatch board move with it (after commit):
    # the task as its customer may see it (first name, ETA, position while in progress).
    publish_live(
        ctx,
        booking_event("tracking.update", booking, {"event": event.kind, "task": task_json(task)}),
    )


def _cancel_dropoff(ctx: Context, pickup: DeliveryTask) -> None:
    """Nothing was picked up: the open drop-off must not send a driver with empty hands. It is
    made again when the pickup is rescheduled."""
    from .dispatching import cancel_task  # dispatching imports this module's neighbours

    dropoff = ctx.dbsession.scalars(
        select(DeliveryTask)
        .where(
            DeliveryTask.booking_id == pickup.booking_id,
            DeliveryTask.kind == TaskKind.DROPOFF,
            DeliveryTask.superseded_by.is_(None),
        )
        .with_for_update()
    ).first()
    if dropoff is not None and not dropoff.is_final:
        cancel_task(ctx, dropoff, "Waiting for the pickup to be rescheduled.")


def _move(ctx: Context, booking: Booking, status: BookingStatus) -> None:
    if not can_transition(booking.status, status):
        return
    try:
        transition(ctx, booking, status)
    except TransitionRefused as exc:
        # A hold (no approved COI) appeared after dispatch: the task's facts are recorded, the
        # booking waits; staff see both.
        log.warning("booking %s stays %s: %s", booking.number, booking.status, exc)


def _booking_follows(ctx: Context, task: DeliveryTask, booking: Booking) -> None:
    status = TaskStatus(task.status)
    if task.kind == TaskKind.PICKUP and status in (TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED):
        _move(ctx, booking, BookingStatus.IN_PROGRESS)
    elif task.kind == TaskKind.DROPOFF and status == TaskStatus.COMPLETED:
        # A drop-off done means the pickup was done, even if its events are still on the way.
        _move(ctx, booking, BookingStatus.IN_PROGRESS)
        _move(ctx, booking, BookingStatus.COMPLETED)
