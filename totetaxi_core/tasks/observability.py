"""What a task run tells the logs and the metrics, in a Celery worker and in eager mode.

* **Request id.** The outbox row keeps the id of the request that queued it, and the message
  carries it in its headers (:data:`REQUEST_ID_HEADER`): every record logged while the task runs
  has ``request_id`` (and ``task``, ``task_id``) in its log context, Celery's own lines included.
* **Metrics.** In a worker, Celery's ``task_prerun`` / ``task_postrun`` signals time each run
  and count its outcome from the state Celery reports (``SUCCESS`` → ``success``, ``RETRY`` →
  ``retry``, ``FAILURE`` → ``failure``). Eager mode runs tasks without Celery: the outbox runner
  calls :func:`observed` instead (a failure the sweep will run again is a ``retry``, one given
  up is a ``failure``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from ..ops import log_context
from ..ops.metrics import mark_process_dead, observe_task

#: The message header carrying the request id (a custom header: Celery passes it to
#: ``task.request`` untouched).
REQUEST_ID_HEADER = "totetaxi_request_id"

_OUTCOMES = {"SUCCESS": "success", "RETRY": "retry", "FAILURE": "failure"}
_runs: dict[str, tuple[float, Any]] = {}  # task id -> (start, log context token)
_runs_lock = threading.Lock()
_connected = False


def _prerun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    request = getattr(task, "request", None)
    token = log_context.bind(
        request_id=getattr(request, REQUEST_ID_HEADER, None),
        task=getattr(task, "name", None),
        task_id=task_id,
    )
    with _runs_lock:
        _runs[str(task_id)] = (time.perf_counter(), token)


def _postrun(task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any):
    with _runs_lock:
        started, token = _runs.pop(str(task_id), (None, None))
    outcome = _OUTCOMES.get(state or "")
    if outcome is not None and task is not None:
        seconds = time.perf_counter() - started if started is not None else None
        observe_task(task.name, outcome, seconds)
    if token is not None:
        try:
            log_context.unbind(token)
        except ValueError:  # made in another context (a thread pool switching): nothing to undo
            pass


def _process_shutdown(**_: Any) -> None:
    mark_process_dead(os.getpid())


def connect_celery_signals() -> None:
    """Time and count every task a Celery worker of this process runs (once per process)."""
    global _connected
    if _connected:
        return
    from celery.signals import task_postrun, task_prerun, worker_process_shutdown

    # weak=False: module functions live anyway, but be explicit (Celery's default is weak).
    task_prerun.connect(_prerun, weak=False)
    task_postrun.connect(_postrun, weak=False)
    worker_process_shutdown.connect(_process_shutdown, weak=False)
    _connected = True


def observed(name: str, run: Callable[[], bool], gave_up: type[BaseException]) -> bool:
    """Eager mode: ``run()`` one task, counting its outcome and time; re-raises its error.

    ``run`` returns False when the task had nothing to do (already done): not counted.
    """
    started = time.perf_counter()
    try:
        ran = run()
    except gave_up:
        observe_task(name, "failure", time.perf_counter() - started)
        raise
    except Exception:
        observe_task(name, "retry", time.perf_counter() - started)
        raise
    if ran:
        observe_task(name, "success", time.perf_counter() - started)
    return ran
