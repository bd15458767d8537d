"""Background work: tasks, the transactional outbox and Celery (DESIGN §6).

A plugin registers a task from ``includeme``::

    config.add_task(send_receipt, name="payments.send_receipt", max_retries=5)

where ``send_receipt(ctx, booking_id)`` runs in its own transaction with ``ctx.dbsession``.
Queue it from a request or a hook with ``ctx.enqueue("payments.send_receipt", str(booking.id))``
(``request.enqueue`` in a view). It runs only if the transaction commits.

A registered task runs every N seconds with ``config.add_periodic_task(name, every)``: ``celery
beat`` runs it in production, the request path in eager mode (development has no beat). Plugins
never write into Celery's configuration themselves.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from pyramid.config import Configurator
from pyramid.events import NewRequest
from pyramid.request import Request

from ..errors import RegistrationError
from .celery_app import SWEEP_TASK, bind_sweep, bind_task, make_celery
from .models import OutboxMessage, OutboxStatus
from .outbox import hand_on, maybe_sweep, publish, relay, sweep
from .runner import TaskFunction, TaskGaveUp, TaskSpec, execute

__all__ = [
    "SWEEP_TASK",
    "OutboxMessage",
    "OutboxStatus",
    "TaskFunction",
    "TaskGaveUp",
    "TaskSpec",
    "execute",
    "hand_on",
    "publish",
    "relay",
    "sweep",
]


def _add_task(
    config: Configurator,
    func: TaskFunction,
    name: str,
    max_retries: int = 5,
    backoff_seconds: int = 2,
) -> None:
    """``config.add_task(func, name=..., max_retries=5, backoff_seconds=2)``: register a task
    (see the module docstring); a name registered twice is a :class:`RegistrationError`."""
    registry = config.registry
    if name in registry.tasks:
        raise RegistrationError(f"Task {name!r} is registered twice.")
    spec = TaskSpec(name=name, func=func, max_retries=max_retries, backoff_seconds=backoff_seconds)
    registry.tasks[name] = spec
    bind_task(registry.celery, registry, spec)


def seconds_of(every: float | dt.timedelta, what: str) -> float:
    """``every`` (seconds, or a ``timedelta``) as a positive, finite number of seconds."""
    if isinstance(every, dt.timedelta):
        seconds = every.total_seconds()
    elif isinstance(every, int | float) and not isinstance(every, bool):
        seconds = float(every)
    else:
        raise RegistrationError(
            f"{what}: the period must be a number of seconds or a timedelta, not {every!r}."
        )
    if not math.isfinite(seconds) or seconds <= 0:
        raise RegistrationError(f"{what}: the period must be more than 0 seconds, not {every!r}.")
    return seconds


def _add_periodic_task(
    config: Configurator,
    name: str,
    every: float | dt.timedelta,
    *,
    entry: str | None = None,
) -> None:
    """``config.add_periodic_task(name, every, *, entry=None)``: run task ``name`` every
    ``every`` seconds (a number or a ``timedelta``).

    The task must be registered first with ``config.add_task`` (its retries and backoff apply);
    it runs with no arguments. ``entry`` names the schedule entry (default: the task's name); one
    entry is declared once. Celery beat runs it in production; in eager mode any request runs it
    after its own commit once the period has passed. Raises :class:`RegistrationError` for an
    unknown task, a period that is not a positive number of seconds, or an entry declared twice.
    """
    registry = config.registry
    entry = entry or name
    what = f"Periodic task {entry!r}"
    if name not in registry.tasks:
        raise RegistrationError(
            f"{what}: no task {name!r} is registered; call config.add_task first."
        )
    seconds = seconds_of(every, what)
    schedule = registry.celery.conf.beat_schedule
    if entry in schedule:
        raise RegistrationError(f"{what} is declared twice.")
    # beat reads this mapping; so does eager mode's run_due_periodic (tasks/outbox.py).
    schedule[entry] = {"task": name, "schedule": seconds}


def _enqueue(request: Request, task: str, *args: Any, **kwargs: Any) -> Any:
    return request.ctx.enqueue(task, *args, **kwargs)


def _sweep_when_finished(event: NewRequest) -> None:
    # Development has no beat: any request (not only one that queued a task) lets the sweep
    # and the periodic tasks run once their period passed, after the request's own commit.
    event.request.add_finished_callback(lambda request: maybe_sweep(request.registry))


def includeme(config: Configurator) -> None:
    registry = config.registry
    registry.tasks = {}
    registry.celery = make_celery(config.get_settings())
    bind_sweep(registry.celery, registry)
    config.add_directive("add_task", _add_task)
    config.add_directive("add_periodic_task", _add_periodic_task)
    config.add_request_method(_enqueue, "enqueue")
    settings = config.get_settings()
    if settings["totetaxi.tasks_mode"] == "eager" and settings["totetaxi.eager_sweep"]:
        config.add_subscriber(_sweep_when_finished, NewRequest)
