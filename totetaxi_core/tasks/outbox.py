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
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import transaction
from pyramid.registry import Registry
from sqlalchemy import or_, select

from ..db import get_tm_session, utcnow
from .models import OutboxMessage, OutboxStatus
from .runner import execute

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
        request_id=ctx.extra.get("request_id") or getattr(ctx.request, "request_id", None),
    )
    ctx.dbsession.add(message)
    txn = ctx.transaction_manager.get()
    try:
        pending = txn.data(_PENDING_KEY)
    except KeyError:
        pending = []
        txn.set_data(_PENDING_KEY, pending)
        txn.addAfterCommitHook(_after_commit, args=(ctx.registry, pending))
    pending.append(message.id)
    return message.id


def _after_commit(success: bool, registry: Registry, ids: list[uuid.UUID]) -> None:
    # transaction swallows exceptions raised by after-commit hooks (PITFALLS 7): log them here.
    if not success:
        return
    try:
        relay(registry, ids)
    except Exception:
        log.exception("relaying outbox messages %s failed; the sweep will retry", ids)


def relay(registry: Registry, ids: Iterable[uuid.UUID]) -> None:
    """Hand committed outbox rows over: run them (eager) or publish them (broker)."""
    for message_id in ids:
        if registry.settings["totetaxi.tasks_mode"] == "eager":
            run_now(registry, message_id)
        else:
            publish(registry, message_id)


def _load(registry: Registry, message_id: uuid.UUID) -> OutboxMessage | None:
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        dbsession = get_tm_session(registry["dbsession_factory"], tm)
        message = dbsession.get(OutboxMessage, message_id)
        if message is not None:
            dbsession.expunge(message)
        return message


def run_now(registry: Registry, message_id: uuid.UUID) -> None:
    """Run one outbox message in this process (eager mode), logging a failure."""
    message = _load(registry, message_id)
    if message is None or message.status in (OutboxStatus.DONE, OutboxStatus.FAILED):
        return
    spec = registry.tasks[message.task]
    try:
        execute(registry, spec, message.id, message.args, message.kwargs)
    except Exception:
        log.exception("task %s %s failed; it stays pending for the sweep", message.task, message_id)


def publish(registry: Registry, message_id: uuid.UUID) -> bool:
    """Publish one outbox message to the broker; return False (and log) when the broker refuses."""
    message = _load(registry, message_id)
    if message is None or message.status in (OutboxStatus.DONE, OutboxStatus.FAILED):
        return False
    try:
        registry.celery.send_task(
            message.task,
            args=message.args,
            kwargs=message.kwargs,
            task_id=str(message.id),
            queue=registry.settings["totetaxi.task_queue"],
            retry=False,
        )
    except Exception as exc:
        log.warning("broker refused outbox message %s (%s): %s", message_id, message.task, exc)
        return False
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        dbsession = get_tm_session(registry["dbsession_factory"], tm)
        row = dbsession.get(OutboxMessage, message_id)
        if row is not None and row.status == OutboxStatus.PENDING:
            row.status = OutboxStatus.SENT
        if row is not None:
            row.sent_at = utcnow()
            row.sends += 1
    return True


def sweep(
    registry: Registry,
    *,
    pending_grace: dt.timedelta = dt.timedelta(seconds=10),
    sent_stale: dt.timedelta = dt.timedelta(minutes=15),
    limit: int = 500,
) -> int:
    """Re-send (or, in eager mode, re-run) what the after-commit relay did not finish.

    ``pending`` rows older than ``pending_grace`` (the relay of a fresh commit may still be
    running) and ``sent`` rows not done after ``sent_stale`` (a broker restart may have lost
    them; a task that already ran is skipped by its done mark). Returns how many were handed on.
    """
    now = utcnow()
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        dbsession = get_tm_session(registry["dbsession_factory"], tm)
        ids = list(
            dbsession.scalars(
                select(OutboxMessage.id)
                .where(
                    or_(
                        (OutboxMessage.status == OutboxStatus.PENDING)
                        & (OutboxMessage.created_at <= now - pending_grace),
                        (OutboxMessage.status == OutboxStatus.SENT)
                        & (OutboxMessage.sent_at <= now - sent_stale),
                    )
                )
                .order_by(OutboxMessage.created_at)
                .limit(limit)
            )
        )
    handed = 0
    for message_id in ids:
        if registry.settings["totetaxi.tasks_mode"] == "eager":
            run_now(registry, message_id)
            handed += 1
        elif publish(registry, message_id):
            handed += 1
    if ids:
        log.info("outbox sweep handed on %d of %d messages", handed, len(ids))
    return handed
