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


def share_no_connection_across_forks(registry: Registry) -> None:
    """Before a worker forks its pool: no database connection may be shared by two processes.

    Building the app opens a connection in the worker's main process (the schema check), and
    Celery's prefork pool children are forks of it: two children talking over one inherited
    socket interleave PostgreSQL's protocol — rows of one query read as another's ("'confirmed'
    is not among the values of taskstatus", then ``IndexError`` at every later read, seen after
    a PostgreSQL restart under load). The main process keeps no connection (it runs no task),
    and each child starts with a pool of its own (SQLAlchemy's recipe: ``dispose(close=False)``
    leaves the parent's sockets to the parent), as gunicorn's workers do
    (:mod:`totetaxi_core.server`).
    """
    from celery.signals import worker_process_init

    engine = registry["dbengine"]
    engine.dispose()

    def fresh_pool(**_: Any) -> None:
        engine.dispose(close=False)

    # weak=False: the closure would otherwise be collected at once and never called.
    worker_process_init.connect(fresh_pool, weak=False)


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
