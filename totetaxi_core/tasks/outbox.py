"""The transactional outbox (DESIGN §6).

``ctx.enqueue`` writes an :class:`OutboxMessage` in the caller's transaction and registers an
after-commit hook. After a commit the hook relays the new rows: in ``eager`` mode it runs them
in-process, in ``broker`` mode it publishes them to Celery. A rolled-back transaction leaves no
row and sends nothing. If the broker is down at commit time the rows stay ``pending`` and the
periodic sweep publishes them later; nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pyramid.registry import Registry
from sqlalchemy import or_, select, update

from ..db import unit_of_work, utcnow
from .models import OutboxMessage, OutboxStatus
from .observability import REQUEST_ID_HEADER, observed
from .runner import TaskGaveUp, execute

if TYPE_CHECKING:
    from ..context import Context

log = logging.getLogger("totetaxi.outbox")

_PENDING_KEY = object()  # key of the per-transaction list of outbox ids to relay


def enqueue(ctx: Context, task: str, args: Iterable[Any], kwargs: dict[str, Any]) -> uuid.UUID:
    """See :meth:`totetaxi_core.context.Context.enqueue`."""
    tasks = ctx.registry.tasks
    if task not in tasks:
        raise LookupError(f"unknown task {task!r}; registered tasks: {', '.join(sorted(tasks))}")
    args = list(args)
    try:
        json.dumps([args, kwargs])
    except TypeError as exc:
        raise TypeError(f"arguments of task {task!r} must be JSON-serialisable: {exc}") from None
    message = OutboxMessage(
        id=uuid.uuid4(),
        task=task,
        args=args,
        kwargs=kwargs,
        status=OutboxStatus.PENDING,
        request_id=ctx.extra.get("request_id"),
    )
    ctx.dbsession.add(message)
    txn = ctx.transaction_manager.get()
    try:
        pending = txn.data(_PENDING_KEY)
    except KeyError:
        pending = []
        txn.set_data(_PENDING_KEY, pending)
        txn.addAfterCommitHook(_after_commit, args=(ctx.registry, pending))
    pending.append(message)
    return message.id


def _after_commit(success: bool, registry: Registry, messages: list[OutboxMessage]) -> None:
    # transaction swallows exceptions raised by after-commit hooks (PITFALLS 7): log them here.
    if not success:
        return
    try:
        if _eager(registry):
            relay(registry, [m.id for m in messages])
            if registry.settings["totetaxi.eager_sweep"]:
                maybe_sweep(registry)
        else:
            publish_committed(registry, messages)
    except Exception:
        log.exception(
            "relaying outbox messages %s failed; the sweep will retry", [m.id for m in messages]
        )


def _eager(registry: Registry) -> bool:
    return registry.settings["totetaxi.tasks_mode"] == "eager"


def maybe_sweep(registry: Registry) -> None:
    """Eager mode's beat: sweep at most once a period, and run the periodic tasks plugins put
    in beat's schedule (retries, purges) once theirs passed. Never raises (logged)."""
    try:
        _sweep_if_due(registry)
    except Exception:
        log.exception("the eager sweep failed; it runs again next period")


def _sweep_if_due(registry: Registry) -> None:
    now = time.monotonic()
    if (
        now - getattr(registry, "last_eager_sweep", 0.0)
        >= registry.settings["totetaxi.outbox_sweep_seconds"]
    ):
        registry.last_eager_sweep = now
        sweep(registry)
    run_due_periodic(registry, now)


def run_due_periodic(registry: Registry, now: float) -> list[str]:
    """Eager mode's beat: run each registered periodic task whose period has passed.

    Beat's schedule entries with a number of seconds as ``schedule`` and a task registered with
    ``config.add_task`` qualify; the first call only starts their clocks. Returns the names run.
    """
    last_runs: dict[str, float] = registry.__dict__.setdefault("eager_periodic_runs", {})
    ran = []
    for entry, spec in registry.celery.conf.beat_schedule.items():
        task, period = spec.get("task"), spec.get("schedule")
        if task not in registry.tasks or not isinstance(period, int | float):
            continue
        if entry not in last_runs:
            last_runs[entry] = now
            continue
        if now - last_runs[entry] < period:
            continue
        last_runs[entry] = now
        try:
            # A periodic run is not retried (the next period is another run): any error is a
            # failure.
            observed(
                task,
                lambda task=task, spec=spec: execute(
                    registry,
                    registry.tasks[task],
                    None,
                    spec.get("args", ()),
                    spec.get("kwargs", {}),
                ),
                Exception,
            )
            ran.append(entry)
        except Exception:
            log.exception("periodic task %s failed; it runs again next period", task)
    return ran


def relay(registry: Registry, ids: Iterable[uuid.UUID]) -> int:
    """Hand committed outbox rows on; stop at the first broker refusal (the sweep retries).

    Returns how many were handed on.
    """
    handed = 0
    for message_id in ids:
        if not hand_on(registry, message_id):
            if not _eager(registry):
                break  # the broker is down: don't make the caller wait once per message
            continue
        handed += 1
    return handed


def hand_on(registry: Registry, message_id: uuid.UUID) -> bool:
    """Run one outbox message now (eager mode) or publish it (broker mode)."""
    return run_now(registry, message_id) if _eager(registry) else publish(registry, message_id)


def _load(registry: Registry, message_id: uuid.UUID) -> OutboxMessage | None:
    with unit_of_work(registry["dbsession_factory"]) as (dbsession, _):
        message = dbsession.get(OutboxMessage, message_id)
        if message is not None:
            dbsession.expunge(message)
        return message


def _finished(message: OutboxMessage | None) -> bool:
    return message is None or message.status in (OutboxStatus.DONE, OutboxStatus.FAILED)


def run_now(registry: Registry, message_id: uuid.UUID) -> bool:
    """Run one outbox message in this process (eager mode); False when it failed or was done."""
    message = _load(registry, message_id)
    if _finished(message):
        return False
    spec = registry.tasks[message.task]
    try:
        # A failure stays pending for the sweep (a retry) until it is given up (a failure).
        return observed(
            spec.name,
            lambda: execute(registry, spec, message.id, message.args, message.kwargs),
            TaskGaveUp,
        )
    except Exception:
        log.exception("task %s %s failed; it stays pending for the sweep", message.task, message_id)
        return False


def publish(registry: Registry, message_id: uuid.UUID) -> bool:
    """Publish one outbox message to the broker; False (logged) when the broker refuses."""
    message = _load(registry, message_id)
    if _finished(message) or not _send(registry, message):
        return False
    _mark_sent(registry, [message_id])
    return True


def publish_committed(registry: Registry, messages: list[OutboxMessage]) -> int:
    """Publish the messages a transaction of this process has just committed, from what it
    wrote (no read back: nothing can have run them before they are published); the process's
    :class:`SentMarks` marks them sent. Stops at the first refusal: the rest stay ``pending``
    for the sweep. Returns how many were published."""
    sent = []
    for message in messages:
        if not _send(registry, message):
            break
        sent.append(message.id)
    if sent:
        sent_marks(registry).add(sent)
    return len(sent)


class SentMarks:
    """Marks published outbox rows ``sent`` off the request's thread, many in one statement.

    The mark only tells the sweep not to publish a row again; writing it inside the request
    cost every request that queued a task a second transaction (a pool checkout, the pre-ping,
    an UPDATE and a commit) after its own. A thread started on first use (after a fork too)
    writes the ids gathered since its last write. Rows whose mark is lost with the process stay
    ``pending`` and the sweep publishes them again after ``outbox_grace_seconds``; the task's
    done mark makes that second delivery a no-op.
    """

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._ids: list[uuid.UUID] = []
        self._lock = threading.Lock()
        # Held while a batch is written: a flush returns only once every mark gathered before it
        # is written, including a batch the thread took just before (a caller that flushes, say
        # at shutdown, must not see the thread's rows still pending).
        self._writing = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def add(self, ids: list[uuid.UUID]) -> None:
        with self._lock:
            self._ids.extend(ids)
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="totetaxi-outbox-marks", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def flush(self) -> int:
        """Write the marks gathered so far now; returns how many rows were asked for."""
        with self._writing:
            with self._lock:
                ids, self._ids = self._ids, []
            if ids:
                try:
                    _mark_sent(self._registry, ids)
                except Exception:
                    log.exception(
                        "marking %d outbox messages sent failed; the sweep may resend", len(ids)
                    )
            return len(ids)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            self.flush()


def sent_marks(registry: Registry) -> SentMarks:
    """The registry's :class:`SentMarks` (made on first use)."""
    marks = registry.__dict__.get("outbox_sent_marks")
    if marks is None:
        marks = registry.__dict__.setdefault("outbox_sent_marks", SentMarks(registry))
    return marks


def _send(registry: Registry, message: OutboxMessage) -> bool:
    try:
        registry.celery.send_task(
            message.task,
            args=message.args,
            kwargs=message.kwargs,
            task_id=str(message.id),
            queue=registry.settings["totetaxi.task_queue"],
            retry=False,
            headers={REQUEST_ID_HEADER: message.request_id} if message.request_id else None,
        )
    except Exception as exc:
        log.warning("broker refused outbox message %s (%s): %s", message.id, message.task, exc)
        return False
    return True


def _mark_sent(registry: Registry, ids: list[uuid.UUID]) -> None:
    with unit_of_work(registry["dbsession_factory"]) as (dbsession, _):
        # One conditional statement: a worker may already have marked a row done (or failed),
        # and that mark must never be overwritten with "sent".
        dbsession.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENT]),
            )
            .values(
                status=OutboxStatus.SENT,
                sent_at=utcnow(),
                sends=OutboxMessage.sends + 1,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )


def sweep(registry: Registry, *, limit: int = 500) -> int:
    """Re-send (or, in eager mode, re-run) what the after-commit relay did not finish.

    Picks ``pending`` rows older than ``totetaxi.outbox_grace_seconds`` (the relay of a fresh
    commit may still be running) and ``sent`` rows not done after
    ``totetaxi.outbox_resend_seconds`` (a broker restart may have lost them; a task that already
    ran is skipped by its done mark). Returns how many were handed on.
    """
    settings = registry.settings
    now = utcnow()
    pending_before = now - dt.timedelta(seconds=settings["totetaxi.outbox_grace_seconds"])
    sent_before = now - dt.timedelta(seconds=settings["totetaxi.outbox_resend_seconds"])
    with unit_of_work(registry["dbsession_factory"]) as (dbsession, _):
        ids = list(
            dbsession.scalars(
                select(OutboxMessage.id)
                .where(
                    or_(
                        (OutboxMessage.status == OutboxStatus.PENDING)
                        & (OutboxMessage.created_at <= pending_before),
                        (OutboxMessage.status == OutboxStatus.SENT)
                        & (OutboxMessage.sent_at <= sent_before),
                    )
                )
                .order_by(OutboxMessage.created_at)
                .limit(limit)
            )
        )
    handed = relay(registry, ids)
    if ids:
        log.info("outbox sweep handed on %d of %d messages", handed, len(ids))
    return handed
