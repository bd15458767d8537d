"""The simulated fleet: drivers take tasks, drive, arrive and finish, one step at a time.

Each step is a provider event (:class:`~totetaxi_logistics.interfaces.TaskEvent`) applied by
``services.apply_event``, the function Onfleet's webhooks go through. Steps come from the
periodic ``logistics_mock.advance`` (every ``logistics_mock.step_seconds``, for tasks whose
window has opened) or from the console's buttons. A step's event key is the task's and the
step's, so a step taken twice (two workers, a double click) is applied once.

Route: a pickup starts at the depot, a drop-off at its pickup's address; the driver's position
moves along the straight line in four legs, with an ETA at 50 km/h.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select
from totetaxi_core.plugin_api import Booking, Context

from ...interfaces import TaskEvent
from ...models import OPEN, DeliveryTask, Driver, TaskKind, TaskStatus
from ...services import apply_event, current_tasks
from .dispatcher import NAME
from .geography import DEPOT, along, kilometres, locate
from .models import MockFleetTask

#: The steps of a task at the mock provider, in order.
STEPS = ("created", "assigned", "started", "leg1", "leg2", "leg3", "arrived", "completed")
SPEED_KMH = 50.0


class NoDriver(Exception):
    """No active, on-duty mock driver to take the task."""


def _route(ctx: Context, task: DeliveryTask) -> tuple[tuple[float, float], tuple[float, float]]:
    end = locate(task.address or {})
    if task.kind == TaskKind.DROPOFF:
        pickup = current_tasks(ctx, task.booking_id).get(TaskKind.PICKUP)
        start = locate(pickup.address) if pickup is not None else DEPOT
    else:
        start = DEPOT
    return start, end


def _least_busy_driver(ctx: Context) -> Driver:
    busy = (
        select(DeliveryTask.driver_id, func.count().label("n"))
        .where(DeliveryTask.status.in_(OPEN))
        .group_by(DeliveryTask.driver_id)
        .subquery()
    )
    row = ctx.dbsession.execute(
        select(Driver)
        .outerjoin(busy, busy.c.driver_id == Driver.id)
        .where(Driver.provider == NAME, Driver.active.is_(True))
        .order_by(func.coalesce(busy.c.n, 0), Driver.on_duty.desc(), Driver.name)
        .limit(1)
    ).first()
    if row is None:
        raise NoDriver("No active driver in the mock fleet; add one on the drivers page.")
    return row[0]


def advance(ctx: Context, task: DeliveryTask, *, fail_reason: str = "") -> str:
    """Take ``task`` one step further at the mock provider; returns the step reached.

    ``fail_reason`` fails it instead (the driver could not finish). Raises :class:`NoDriver`
    when a task must be assigned and the fleet has nobody.
    """
    if task.provider != NAME or task.provider_task_id is None or task.status not in OPEN:
        return str(task.status)
    row = ctx.dbsession.get(MockFleetTask, task.provider_task_id, with_for_update=True)
    if row is None or row.state in ("cancelled", "completed", "failed"):
        return row.state if row is not None else "unknown"
    now = ctx.now()
    if fail_reason:
        row.state = "failed"
        _emit(ctx, row, task, "failed", now, failure_reason=fail_reason)
        return row.state
    step = (
        STEPS[min(STEPS.index(row.state) + 1, len(STEPS) - 1)]
        if row.state in STEPS
        else "completed"
    )
    if step == "assigned" or (row.driver_id is None and step != "completed"):
        driver = _least_busy_driver(ctx)
        row.driver_id = driver.provider_id
        if not driver.on_duty:
            driver.on_duty = True
        row.state = "assigned"
        _emit(ctx, row, task, "assigned", now)
        return row.state
    row.state = step
    start, end = _route(ctx, task)
    hours = kilometres(start, end) / SPEED_KMH
    share = {"started": 0.0, "leg1": 0.25, "leg2": 0.5, "leg3": 0.75, "arrived": 1.0}.get(step)
    if step == "completed":
        _emit(
            ctx,
            row,
            task,
            "completed",
            now,
            position=end,
            success=True,
            photo_ref=f"mock-photo-{row.provider_id}",
            signature_ref=f"mock-signature-{row.provider_id}",
            notes="Left with the customer.",
        )
    else:
        assert share is not None
        remaining = dt.timedelta(hours=hours * (1 - share))
        kind = {"started": "started", "arrived": "arrived"}.get(step, "eta")
        _emit(ctx, row, task, kind, now, position=along(start, end, share), eta=now + remaining)
    return row.state


def _emit(
    ctx: Context, row: MockFleetTask, task: DeliveryTask, kind: str, at: dt.datetime, **facts: Any
) -> None:
    driver = None
    if row.driver_id:
        driver = ctx.dbsession.scalars(
            select(Driver).where(Driver.provider == NAME, Driver.provider_id == row.driver_id)
        ).first()
    row.steps += 1
    event = TaskEvent(
        key=f"mock:{row.provider_id}:{row.steps}:{row.state}",
        kind=kind,  # type: ignore[arg-type]
        at=at,
        provider_task_id=row.provider_id,
        driver_id=row.driver_id,
        driver_name=driver.name if driver is not None else "",
        driver_phone=driver.phone if driver is not None else "",
        raw={"source": "mock fleet", "step": row.state},
        **facts,
    )
    apply_event(ctx, NAME, event)


def due_tasks(ctx: Context, now: dt.datetime, limit: int = 200) -> list[DeliveryTask]:
    """Open mock tasks whose window opens within the hour (what the schedule advances)."""
    return list(
        ctx.dbsession.scalars(
            select(DeliveryTask)
            .join(Booking, Booking.id == DeliveryTask.booking_id)
            .where(
                DeliveryTask.provider == NAME,
                DeliveryTask.provider_task_id.is_not(None),
                DeliveryTask.status.in_(OPEN),
                DeliveryTask.complete_after <= now + dt.timedelta(hours=1),
            )
            # A fixed order (never the random ids): a pickup moves before its own drop-off, so
            # the drop-off can follow in the same run, and the same bookings always get the
            # same drivers (``totetaxi demo`` replays a month exactly).
            .order_by(
                DeliveryTask.complete_after,
                Booking.number,
                case((DeliveryTask.kind == TaskKind.PICKUP, 0), else_=1),
                DeliveryTask.attempt,
            )
            .limit(limit)
        )
    )


def advance_due(ctx: Context) -> int:
    """One step for every due task (the periodic ``logistics_mock.advance``). A drop-off waits
    until its pickup is done, as a van would. Returns how many moved."""
    moved = 0
    for task in due_tasks(ctx, ctx.now()):
        if task.kind == TaskKind.DROPOFF:
            pickup = current_tasks(ctx, task.booking_id).get(TaskKind.PICKUP)
            if pickup is not None and pickup.status != TaskStatus.COMPLETED:
                continue
        try:
            advance(ctx, task)
        except NoDriver:
            return moved
        moved += 1
    return moved


def run_to_completion(ctx: Context, task: DeliveryTask) -> None:
    """Every remaining step of ``task`` now (the console's "complete" button)."""
    for _ in STEPS:
        if task.status not in OPEN:
            return
        advance(ctx, task)
