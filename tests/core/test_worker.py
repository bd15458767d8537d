"""Background work through a real Redis broker and a real Celery worker process (PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select
from totetaxi_example.models import ExampleTaskRun
from webtest import TestApp

from totetaxi_core import make_app
from totetaxi_core.platform import prepare
from totetaxi_core.tasks import OutboxMessage, OutboxStatus, sweep
from totetaxi_core.testing import base_settings, free_port

pytestmark = [pytest.mark.postgresql, pytest.mark.redis, pytest.mark.worker]

WAIT_SECONDS = 40


def _write_ini(path: Path, settings: dict[str, str]) -> Path:
    lines = ["[app:main]", "use = egg:totetaxi-core"]
    lines += [f"{key} = {value}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


class Process:
    """A `totetaxi` sub-command in its own process, stopped by its pid."""

    def __init__(self, args: list[str], log: Path, ready_marker: str) -> None:
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOTETAXI_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "totetaxi_core.cli", *args],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + WAIT_SECONDS
        while ready_marker not in log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"{args[0]} did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class Worker(Process):
    """`totetaxi worker` with the solo pool (PITFALLS 12)."""

    def __init__(self, ini: Path, log: Path) -> None:
        super().__init__(
            [
                "worker",
                str(ini),
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            log,
            "ready.",
        )


class Beat(Process):
    """`totetaxi beat`: the periodic outbox sweep."""

    def __init__(self, ini: Path, log: Path, schedule: Path) -> None:
        super().__init__(["beat", str(ini), f"--schedule={schedule}"], log, "beat: Starting")


def _wait_for(predicate, what: str, worker: Worker | None = None):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    log = worker.log.read_text()[-3000:] if worker else ""
    pytest.fail(f"timed out waiting for {what}\n{log}")


@pytest.fixture
def pg_url(pg_backend):
    url = pg_backend.new_url()
    yield url
    pg_backend.drop(url)


@pytest.fixture
def queue(redis_url):
    name = f"tt-test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"*{name}*"):
        client.delete(key)


def _settings(db_url: str, broker_url: str, queue: str) -> dict[str, str]:
    return base_settings(
        db_url,
        **{
            "totetaxi.tasks_mode": "broker",
            "totetaxi.broker_url": broker_url,
            "totetaxi.task_queue": queue,
            "totetaxi.outbox_grace_seconds": 0,
        },
    )


def _app(settings) -> TestApp:
    return TestApp(make_app(prepare(settings, environ={})))


def _runs(app, label=None) -> int:
    with app.app.registry["dbsession_factory"]() as s:
        q = select(func.count()).select_from(ExampleTaskRun)
        if label:
            q = q.where(ExampleTaskRun.label == label)
        return s.scalar(q)


def _messages(app) -> list[OutboxMessage]:
    with app.app.registry["dbsession_factory"]() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))


def test_worker_runs_committed_tasks_and_never_rolled_back_ones(pg_url, redis_url, queue, tmp_path):
    settings = _settings(pg_url, redis_url, queue)
    worker = Worker(_write_ini(tmp_path / "worker.ini", settings), tmp_path / "worker.log")
    try:
        app = _app(settings)
        app.post_json(
            "/api/v1/example/notes", {"text": "doomed", "fail_after_enqueue": True}, status=500
        )
        note = app.post_json("/api/v1/example/notes", {"text": "kept"}, status=201).json
        [message] = _messages(app)
        assert message.args == [note["id"]]
        _wait_for(lambda: _runs(app) == 1, "the committed task to run", worker)
        _wait_for(lambda: _messages(app)[0].status == OutboxStatus.DONE, "the done mark", worker)
        # Give a wrongly sent doomed task every chance to show up, then check it never ran.
        app.post_json("/api/v1/example/notes", {"text": "barrier"}, status=201)
        _wait_for(lambda: _runs(app) == 2, "the barrier task", worker)
        assert len(_messages(app)) == 2
        with app.app.registry["dbsession_factory"]() as s:
            labels = [r.label for r in s.scalars(select(ExampleTaskRun))]
        assert labels == ["created", "created"]
        app.app.registry["dbengine"].dispose()
    finally:
        worker.stop()


def test_worker_retries_a_failing_task_with_backoff(pg_url, redis_url, queue, tmp_path):
    settings = _settings(pg_url, redis_url, queue)
    metrics_dir = tmp_path / "metrics"  # the worker counts in multiprocess mode
    worker_settings = {**settings, "totetaxi.metrics_dir": str(metrics_dir)}
    worker = Worker(_write_ini(tmp_path / "worker.ini", worker_settings), tmp_path / "worker.log")
    try:
        app = _app(settings)
        app.post_json("/api/v1/example/notes", {"text": "flaky", "flaky_times": 2}, status=201)
        _wait_for(lambda: _runs(app, "flaky") == 1, "the flaky task to succeed", worker)
        [message] = _messages(app)
        assert message.status == OutboxStatus.DONE
        assert message.attempts == 3  # two failures, then success
        assert "Retry in" in worker.log.read_text()
        # Celery's signals counted each run's outcome into the metrics folder.
        runs = _wait_for(
            lambda: (found := _task_runs(metrics_dir, "example.flaky")).get("success") and found,
            "the task's outcomes in the metrics folder",
            worker,
        )
        assert runs == {"retry": 2.0, "success": 1.0}
        app.app.registry["dbengine"].dispose()
    finally:
        worker.stop()


def _task_runs(folder: Path, task: str) -> dict[str, float]:
    """``{outcome: runs}`` of ``task`` as the multiprocess files in ``folder`` add them up."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(folder))
    return {
        sample.labels["outcome"]: sample.value
        for family in registry.collect()
        for sample in family.samples
        if sample.name == "totetaxi_task_runs_total" and sample.labels["task"] == task
    }


@pytest.fixture
def private_redis(tmp_path):
    """A Redis server of our own on a free port, started and stopped by the test."""
    binary = shutil.which("redis-server")
    if binary is None:
        from totetaxi_core.testing import service_unavailable

        service_unavailable("redis-server binary", "not on PATH")
    port = free_port()

    class Server:
        url = f"redis://127.0.0.1:{port}/0"
        process: subprocess.Popen | None = None

        def start(self):
            self.process = subprocess.Popen(
                [
                    binary,
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(tmp_path),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            client = redis.Redis(host="127.0.0.1", port=port)
            deadline = time.monotonic() + 10
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)

        def stop(self):
            if self.process and self.process.poll() is None:
                self.process.terminate()
                self.process.wait(10)

    server = Server()
    yield server
    server.stop()


def test_task_committed_while_the_broker_is_down_runs_once_it_is_back(
    pg_url, private_redis, tmp_path
):
    settings = _settings(pg_url, private_redis.url, "tt-outage")
    app = _app(settings)
    started = time.monotonic()
    note = app.post_json("/api/v1/example/notes", {"text": "during outage"}, status=201).json
    assert time.monotonic() - started < 15  # the request does not hang on the dead broker
    [message] = _messages(app)
    assert message.status == OutboxStatus.PENDING
    assert message.sends == 0

    private_redis.start()
    worker = Worker(_write_ini(tmp_path / "worker.ini", settings), tmp_path / "worker.log")
    try:
        assert _runs(app) == 0
        assert sweep(app.app.registry) == 1
        _wait_for(lambda: _runs(app) == 1, "the swept task to run", worker)
        [message] = _messages(app)
        assert message.status == OutboxStatus.DONE
        assert message.args == [note["id"]]
        app.app.registry["dbengine"].dispose()
    finally:
        worker.stop()


def test_beat_sweeps_what_was_committed_while_the_broker_was_down(pg_url, private_redis, tmp_path):
    settings = _settings(pg_url, private_redis.url, "tt-beat")
    settings["totetaxi.outbox_sweep_seconds"] = "1"
    app = _app(settings)
    app.post_json("/api/v1/example/notes", {"text": "during outage"}, status=201)
    assert _messages(app)[0].status == OutboxStatus.PENDING

    private_redis.start()
    ini = _write_ini(tmp_path / "beat.ini", settings)
    worker = Worker(ini, tmp_path / "worker.log")
    beat = Beat(ini, tmp_path / "beat.log", tmp_path / "beat-schedule")
    try:
        # Nobody calls sweep() here: beat schedules it, the worker runs it and then the task.
        _wait_for(lambda: _runs(app) == 1, "beat's sweep to hand the task on", worker)
        [message] = _messages(app)
        assert message.status == OutboxStatus.DONE
        assert message.sends >= 1
        assert "totetaxi.outbox_sweep" in worker.log.read_text()
        app.app.registry["dbengine"].dispose()
    finally:
        beat.stop()
        worker.stop()


def test_a_worker_shares_no_database_connection_with_its_pool_children(testapp):
    """`totetaxi worker` forks its pool after building the app: the main process drops its
    connections, and each child starts with a pool of its own (worker_process_init)."""
    from celery.signals import worker_process_init

    from totetaxi_core.tasks.celery_app import share_no_connection_across_forks

    engine = testapp.app.registry["dbengine"]
    testapp.get("/readyz", status=200)  # a connection used, then kept by the pool
    assert engine.pool.checkedin() >= 1
    share_no_connection_across_forks(testapp.app.registry)
    assert engine.pool.checkedin() == 0
    inherited = engine.pool
    worker_process_init.send(sender=None)  # what Celery sends in each new pool child
    assert engine.pool is not inherited
