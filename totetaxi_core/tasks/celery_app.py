"""The Celery application of one ToteTaxi app, configured from its settings."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from pyramid.registry import Registry

from .runner import TaskGaveUp, TaskSpec, execute

log = logging.getLogger("totetaxi.tasks")

SWEEP_TASK = "totetaxi.outbox_sweep"


def make_celery(settings: dict[str, Any]) -> Celery:
    """A Celery app for these settings (not set as Celery's global current app)."""
    app = Celery("totetaxi", set_as_current=False)
    broker_url = settings.get("totetaxi.broker_url") or "memory://"
    app.conf.update(
        broker_url=broker_url,
        task_default_queue=settings["totetaxi.task_queue"],
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        # A task is acknowledged after it ran, so a worker killed mid-task leaves it queued;
        # the outbox done-mark makes the second run a no-op.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        broker_transport_options={"socket_connect_timeout": 3, "socket_timeout": 5},
        worker_hijack_root_logger=False,
        enable_utc=True,
        timezone="UTC",
        beat_schedule={
            "outbox-sweep": {
                "task": SWEEP_TASK,
                "schedule": float(settings["totetaxi.outbox_sweep_seconds"]),
            }
        },
    )
    return app


def bind_task(celery: Celery, registry: Registry, spec: TaskSpec) -> None:
    """Expose ``spec`` to Celery workers under its name, with retries and backoff."""

    def run(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            execute(registry, spec, self.request.id, args, kwargs)
        except TaskGaveUp:
            raise  # the outbox row is failed: no more retries
        except Exception as exc:
            if self.request.retries >= spec.max_retries:
                raise
            raise self.retry(exc=exc, countdown=spec.countdown(self.request.retries)) from exc

    run.__name__ = spec.name.replace(".", "_")
    # shared=False: Celery would otherwise add the task to every app in the process, and an app
    # built later (tests, a second config) would run this registry's closure.
    celery.task(name=spec.name, bind=True, max_retries=spec.max_retries, shared=False)(run)


def bind_sweep(celery: Celery, registry: Registry) -> None:
    """The periodic outbox sweep, run by ``celery beat``."""
    from .outbox import sweep

    def run_sweep() -> int:
        return sweep(registry)

    celery.task(name=SWEEP_TASK, shared=False)(run_sweep)
