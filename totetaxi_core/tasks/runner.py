"""Running one task in its own transaction, the same way in-process and in a Celery worker."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import transaction
from pyramid.registry import Registry

from ..context import Context
from ..db import get_tm_session, utcnow
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


def _parse_id(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def execute(
    registry: Registry, spec: TaskSpec, message_id: Any, args: Any, kwargs: dict[str, Any]
) -> bool:
    """Run ``spec`` once in a new transaction; return False when it already ran.

    When the task came from the outbox, its row is locked (on PostgreSQL) and marked done in the
    same transaction as the task's own writes, so a message delivered twice does its work once.
    A failure is recorded on the row in a separate transaction and re-raised for retry.
    """
    outbox_id = _parse_id(message_id)
    tm = transaction.TransactionManager(explicit=True)
    try:
        with tm:
            dbsession = get_tm_session(registry["dbsession_factory"], tm)
            message = None
            if outbox_id is not None:
                message = dbsession.get(OutboxMessage, outbox_id, with_for_update=True)
                if message is not None and message.status == OutboxStatus.DONE:
                    log.info("task %s %s already done; skipped", spec.name, outbox_id)
                    return False
            ctx = Context(registry=registry, dbsession=dbsession, transaction_manager=tm)
            if message is not None:
                ctx.extra["request_id"] = message.request_id
            spec.func(ctx, *args, **kwargs)
            if message is not None:
                message.status = OutboxStatus.DONE
                message.completed_at = utcnow()
                message.attempts += 1
                message.last_error = None
    except Exception as exc:
        if outbox_id is not None:
            record_failure(registry, outbox_id, exc)
        raise
    log.info("task %s %s done", spec.name, outbox_id or "-")
    return True


def record_failure(registry: Registry, outbox_id: uuid.UUID, exc: BaseException) -> None:
    """Count a failed run on the outbox row; give it up after ``outbox_max_attempts``."""
    max_attempts = registry.settings["totetaxi.outbox_max_attempts"]
    tm = transaction.TransactionManager(explicit=True)
    try:
        with tm:
            dbsession = get_tm_session(registry["dbsession_factory"], tm)
            message = dbsession.get(OutboxMessage, outbox_id)
            if message is None:
                return
            message.attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= max_attempts:
                message.status = OutboxStatus.FAILED
                log.error("task %s %s failed for good: %s", message.task, outbox_id, exc)
    except Exception:
        log.exception("could not record the failure of outbox message %s", outbox_id)
