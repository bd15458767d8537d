"""Running one task in its own transaction, the same way in-process and in a Celery worker."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyramid.registry import Registry

from ..context import Context
from ..db import unit_of_work, utcnow
from ..ops import log_context
from .models import OutboxMessage, OutboxStatus

log = logging.getLogger("totetaxi.tasks")

#: ``func(ctx, *args, **kwargs)``: a task body. It runs in a transaction of its own.
TaskFunction = Callable[..., Any]


@dataclass(frozen=True)
class TaskSpec:
    """A registered task: its name, body and retry policy."""

    name: str
    func: TaskFunction
    max_retries: int = 5
    backoff_seconds: int = 2

    def countdown(self, retries: int) -> int:
        """Exponential backoff before retry number ``retries + 1``."""
        return self.backoff_seconds * (2**retries)


class TaskGaveUp(Exception):
    """A task failed ``totetaxi.outbox_max_attempts`` times; its outbox row is ``failed``."""


def parse_message_id(value: Any) -> uuid.UUID | None:
    """The outbox id carried as a Celery task id, or ``None`` for a task sent without one."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def execute(
    registry: Registry, spec: TaskSpec, message_id: Any, args: Any, kwargs: dict[str, Any]
) -> bool:
    """Run ``spec`` once in a new transaction; return False when it must not run (again).

    When the task came from the outbox, its row is locked (on PostgreSQL) and marked done in the
    same transaction as the task's own writes, so a message delivered twice does its work once,
    and a message given up as failed is not run again. A failure is counted on the row in a
    separate transaction and re-raised for retry, or as :class:`TaskGaveUp` when it was the last.
    """
    outbox_id = parse_message_id(message_id)
    # The task's log records carry its name and id, and (_execute) the request id of its row.
    token = log_context.bind(task=spec.name, task_id=str(outbox_id) if outbox_id else None)
    try:
        return _execute(registry, spec, outbox_id, args, kwargs)
    finally:
        log_context.unbind(token)


def _execute(
    registry: Registry,
    spec: TaskSpec,
    outbox_id: uuid.UUID | None,
    args: Any,
    kwargs: dict[str, Any],
) -> bool:
    try:
        with unit_of_work(registry["dbsession_factory"]) as (dbsession, tm):
            message = None
            if outbox_id is not None:
                message = dbsession.get(OutboxMessage, outbox_id, with_for_update=True)
                if message is not None and message.status in (
                    OutboxStatus.DONE,
                    OutboxStatus.FAILED,
                ):
                    log.info("task %s %s is %s; skipped", spec.name, outbox_id, message.status)
                    return False
            ctx = Context(registry=registry, dbsession=dbsession, transaction_manager=tm)
            request_id = message.request_id if message is not None else None
            ctx.extra["request_id"] = request_id
            # The request that queued it, not whichever request runs it (an eager sweep); undone
            # with the task's own fields by execute (a reset restores the value before them).
            log_context.bind(request_id=request_id)
            spec.func(ctx, *args, **kwargs)
            if message is not None:
                message.status = OutboxStatus.DONE
                message.completed_at = utcnow()
                message.attempts += 1
                message.last_error = None
    except Exception as exc:
        if outbox_id is not None and record_failure(registry, outbox_id, exc):
            raise TaskGaveUp(f"task {spec.name} {outbox_id} gave up: {exc}") from exc
        raise
    log.info("task %s %s done", spec.name, outbox_id or "-")
    return True


def record_failure(registry: Registry, outbox_id: uuid.UUID, exc: BaseException) -> bool:
    """Count a failed run on the outbox row; return True when it is now given up as failed."""
    max_attempts = registry.settings["totetaxi.outbox_max_attempts"]
    try:
        with unit_of_work(registry["dbsession_factory"]) as (dbsession, _):
            message = dbsession.get(OutboxMessage, outbox_id, with_for_update=True)
            if message is None:
                return False
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= max_attempts:
                message.status = OutboxStatus.FAILED
                log.error("task %s %s failed for good: %s", message.task, outbox_id, exc)
                return True
    except Exception:
        log.exception("could not record the failure of outbox message %s", outbox_id)
    return False
