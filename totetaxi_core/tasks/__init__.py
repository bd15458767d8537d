"""Background work: tasks, the transactional outbox and Celery (DESIGN §6).

A plugin registers a task from ``includeme``::

    config.add_task(send_receipt, name="payments.send_receipt", max_retries=5)

where ``send_receipt(ctx, booking_id)`` runs in its own transaction with ``ctx.dbsession``.
Queue it from a request or a hook with ``ctx.enqueue("payments.send_receipt", str(booking.id))``
(``request.enqueue`` in a view). It runs only if the transaction commits.
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.events import NewRequest
from pyramid.request import Request

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
    registry = config.registry
    if name in registry.tasks:
        raise ValueError(f"task {name!r} is registered twice")
    spec = TaskSpec(name=name, func=func, max_retries=max_retries, backoff_seconds=backoff_seconds)
    registry.tasks[name] = spec
    bind_task(registry.celery, registry, spec)


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
    config.add_request_method(_enqueue, "enqueue")
    settings = config.get_settings()
    if settings["totetaxi.tasks_mode"] == "eager" and settings["totetaxi.eager_sweep"]:
        config.add_subscriber(_sweep_when_finished, NewRequest)
