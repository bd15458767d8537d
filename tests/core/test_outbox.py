"""The transactional outbox in eager mode (tasks run in-process after commit)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import transaction
from sqlalchemy import func, select
from totetaxi_example.models import ExampleNote, ExampleTaskRun

from totetaxi_core.context import Context
from totetaxi_core.db import get_tm_session
from totetaxi_core.tasks import OutboxMessage, OutboxStatus, TaskSpec, sweep

# Every test here depends on the database: run on SQLite and PostgreSQL.
pytestmark = pytest.mark.both_databases


def _session(app):
    return app.app.registry["dbsession_factory"]()


def _runs(app, label=None):
    with _session(app) as s:
        q = select(func.count()).select_from(ExampleTaskRun)
        if label:
            q = q.where(ExampleTaskRun.label == label)
        return s.scalar(q)


def _outbox(app):
    with _session(app) as s:
        return list(s.scalars(select(OutboxMessage)))


def test_committed_request_runs_its_task_once(testapp):
    note = testapp.post_json("/api/v1/example/notes", {"text": "hello"}, status=201).json
    with _session(testapp) as s:
        runs = list(s.scalars(select(ExampleTaskRun)))
    assert [(str(r.note_id), r.label) for r in runs] == [(note["id"], "created")]
    [message] = _outbox(testapp)
    assert message.task == "example.record_note"
    assert message.status == OutboxStatus.DONE
    assert message.attempts == 1
    assert message.completed_at is not None and message.completed_at.tzinfo is not None


def test_rolled_back_request_sends_nothing(testapp):
    testapp.post_json(
        "/api/v1/example/notes", {"text": "doomed", "fail_after_enqueue": True}, status=500
    )
    assert _outbox(testapp) == []
    assert _runs(testapp) == 0
    items = testapp.get("/api/v1/example/notes").json["items"]
    assert "doomed" not in [i["text"] for i in items]


def test_an_error_answer_commits_nothing(testapp):
    answer = testapp.post_json(
        "/api/v1/example/notes", {"text": "refused", "refuse_after_enqueue": True}, status=422
    )
    assert answer.json["errors"][0]["name"] == "text"
    assert _outbox(testapp) == []
    assert _runs(testapp) == 0
    texts = [i["text"] for i in testapp.get("/api/v1/example/notes").json["items"]]
    assert "refused" not in texts


def test_request_id_is_kept_on_the_outbox_row(testapp):
    testapp.post_json(
        "/api/v1/example/notes", {"text": "traced"}, headers={"X-Request-ID": "req-trace-42"}
    )
    [message] = _outbox(testapp)
    assert message.request_id == "req-trace-42"


def test_failing_task_stays_pending_and_the_sweep_runs_it_later(make_testapp):
    testapp = make_testapp(**{"totetaxi.outbox_grace_seconds": 0})
    # flaky fails twice in this process, then succeeds.
    testapp.post_json("/api/v1/example/notes", {"text": "flaky", "flaky_times": 2}, status=201)
    [message] = _outbox(testapp)
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 1
    assert "flaky failure 1 of 2" in message.last_error
    registry = testapp.app.registry
    assert sweep(registry) == 0  # ran, failed again
    assert _outbox(testapp)[0].attempts == 2
    assert _runs(testapp, "flaky") == 0
    assert sweep(registry) == 1
    [message] = _outbox(testapp)
    assert message.status == OutboxStatus.DONE
    assert message.attempts == 3
    assert _runs(testapp, "flaky") == 1
    # Done messages are never run again.
    assert sweep(registry) == 0
    assert _runs(testapp, "flaky") == 1


def test_a_task_gives_up_after_the_maximum_attempts(make_testapp):
    app = make_testapp(**{"totetaxi.outbox_max_attempts": 2, "totetaxi.outbox_grace_seconds": 0})
    app.post_json("/api/v1/example/notes", {"text": "x", "flaky_times": 5}, status=201)
    sweep(app.app.registry)
    [message] = _outbox(app)
    assert message.status == OutboxStatus.FAILED
    assert message.attempts == 2
    assert sweep(app.app.registry) == 0


def test_the_sweep_leaves_fresh_pending_rows_to_the_relay(testapp):
    registry = testapp.app.registry
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        session = get_tm_session(registry["dbsession_factory"], tm)
        session.add(OutboxMessage(task="example.record_note", args=[str(uuid.uuid4())], kwargs={}))
    # Written without the after-commit relay (as if the process died right after commit).
    assert sweep(registry) == 0  # younger than the grace period


def _ctx(registry, tm):
    return Context(
        registry=registry,
        dbsession=get_tm_session(registry["dbsession_factory"], tm),
        transaction_manager=tm,
    )


def test_enqueue_refuses_unknown_tasks_and_unserialisable_arguments(testapp):
    registry = testapp.app.registry
    tm = transaction.TransactionManager(explicit=True)
    tm.begin()
    ctx = _ctx(registry, tm)
    with pytest.raises(LookupError, match=r"unknown task 'example\.nope'"):
        ctx.enqueue("example.nope")
    with pytest.raises(TypeError, match="JSON-serialisable"):
        ctx.enqueue("example.record_note", object())
    tm.abort()


def test_a_duplicate_delivery_does_the_work_once(testapp):
    from totetaxi_core.tasks import execute

    testapp.post_json("/api/v1/example/notes", {"text": "once"}, status=201)
    [message] = _outbox(testapp)
    registry = testapp.app.registry
    spec = registry.tasks[message.task]
    assert execute(registry, spec, str(message.id), message.args, message.kwargs) is False
    assert _runs(testapp) == 1


def test_beat_schedules_the_sweep_from_the_settings(make_testapp):
    from totetaxi_core.tasks import SWEEP_TASK

    app = make_testapp(**{"totetaxi.outbox_sweep_seconds": 7})
    celery = app.app.registry.celery
    entry = celery.conf.beat_schedule["outbox-sweep"]
    assert entry == {"task": SWEEP_TASK, "schedule": 7.0}
    assert SWEEP_TASK in celery.tasks
    assert "example.record_note" in celery.tasks  # plugin tasks are bound to the worker's app


def test_the_sweep_task_hands_on_stuck_messages(testapp):
    from totetaxi_core.tasks import SWEEP_TASK

    registry = testapp.app.registry
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        session = get_tm_session(registry["dbsession_factory"], tm)
        note_id = session.scalars(select(ExampleNote.id)).one()
        old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        session.add(
            OutboxMessage(
                task="example.record_note",
                args=[str(note_id)],
                kwargs={},
                created_at=old,
                updated_at=old,
            )
        )
    # Written without the after-commit relay, as if the process died right after commit.
    assert registry.celery.tasks[SWEEP_TASK]() == 1
    assert _runs(testapp) == 1
    assert _outbox(testapp)[0].status == OutboxStatus.DONE


def test_a_task_may_queue_another_task(testapp):
    registry = testapp.app.registry

    def chain(ctx, note_id):
        ctx.enqueue("example.record_note", note_id, label="chained")

    registry.tasks["example.chain"] = TaskSpec(name="example.chain", func=chain)
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        ctx = _ctx(registry, tm)
        note_id = ctx.dbsession.scalars(select(ExampleNote.id)).one()
        ctx.enqueue("example.chain", str(note_id))
    assert _runs(testapp, "chained") == 1
    assert sorted(m.task for m in _outbox(testapp)) == ["example.chain", "example.record_note"]
    assert {m.status for m in _outbox(testapp)} == {OutboxStatus.DONE}


def test_eager_mode_runs_beat_periodic_tasks_once_per_period(make_testapp):
    """Development has no beat: its periodic entries run from the request path instead."""
    from totetaxi_core.tasks.outbox import run_due_periodic

    app = make_testapp()
    registry = app.app.registry
    calls = []
    registry.tasks["test.tick"] = TaskSpec(
        name="test.tick", func=lambda ctx, label: calls.append(label)
    )
    registry.celery.conf.beat_schedule["test-tick"] = {
        "task": "test.tick",
        "schedule": 60.0,
        "args": ("tick",),
    }
    assert run_due_periodic(registry, 1000.0) == []  # the first call starts the clock
    assert run_due_periodic(registry, 1030.0) == []
    assert run_due_periodic(registry, 1060.0) == ["test-tick"]
    assert run_due_periodic(registry, 1100.0) == []
    assert run_due_periodic(registry, 1121.0) == ["test-tick"]
    assert calls == ["tick", "tick"]


def test_in_eager_mode_any_request_lets_the_periodic_tasks_run(make_testapp):
    """Not only a request that queued a task: a plain GET runs what is due, after it ends."""
    app = make_testapp(**{"totetaxi.eager_sweep": "true"})
    registry = app.app.registry
    calls = []
    registry.tasks["test.tick"] = TaskSpec(name="test.tick", func=lambda ctx: calls.append(1))
    registry.celery.conf.beat_schedule["test-tick"] = {"task": "test.tick", "schedule": 0.0}
    app.get("/healthz")  # starts the clocks
    assert calls == []
    app.get("/healthz")
    app.get("/healthz")
    assert calls == [1, 1]


def test_without_the_eager_sweep_a_request_runs_no_periodic_task(make_testapp):
    app = make_testapp()  # the suite switches the eager sweep off
    registry = app.app.registry
    calls = []
    registry.tasks["test.tick"] = TaskSpec(name="test.tick", func=lambda ctx: calls.append(1))
    registry.celery.conf.beat_schedule["test-tick"] = {"task": "test.tick", "schedule": 0.0}
    for _ in range(3):
        app.get("/healthz")
    assert calls == []
