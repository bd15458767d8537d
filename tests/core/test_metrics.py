"""``/metrics``: who may read it, what moves after requests and tasks, the outbox and pool gauges,
the request id in a task's log records, and several processes adding up (multiprocess mode).

Counters are process-wide (one set per process, as in production), so every test compares a
value before and after what it does.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
import sys
import textwrap

import pytest
from prometheus_client.parser import text_string_to_metric_families
from webtest import TestApp

from totetaxi_core import make_app
from totetaxi_core.errors import SettingsError
from totetaxi_core.ops import JsonFormatter, log_context
from totetaxi_core.ops.metrics import MULTIPROC_ENV
from totetaxi_core.platform import prepare
from totetaxi_core.tasks import OutboxMessage, OutboxStatus, sweep
from totetaxi_core.testing import base_settings, in_transaction

TOKEN = "m3tr1cs-T0ken-for-tests-0123456789abcdef"
REMOTE = {"REMOTE_ADDR": "203.0.113.7"}


def scrape(app, **kwargs) -> dict[tuple[str, frozenset], float]:
    """``{(sample name, labels): value}`` of one loopback scrape."""
    answer = app.get("/metrics", **kwargs)
    assert answer.content_type == "text/plain"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


# --- who may read it --------------------------------------------------------------------------


def test_metrics_answer_loopback_clients_and_the_token_holder_only(make_testapp):
    app = make_testapp(**{"totetaxi.metrics_token": TOKEN})
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    answer = app.get("/metrics")  # WebTest's client is 127.0.0.1
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "totetaxi_http_requests_total" in answer.text
    # From elsewhere: the same 404 page as a path that does not exist.
    refused = app.get("/metrics", extra_environ=REMOTE, status=404)
    unknown = app.get("/no-such-page", extra_environ=REMOTE, status=404)
    assert refused.content_type == unknown.content_type
    assert refused.text == unknown.text.replace("/no-such-page", "/metrics")
    # A forwarded request is not a loopback client, whatever the socket says (the local proxy).
    app.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"}, status=404)
    app.get("/metrics", headers={"Forwarded": "for=203.0.113.7"}, status=404)
    # The token opens it from anywhere; anything else does not.
    app.get("/metrics", headers=bearer, extra_environ=REMOTE, status=200)
    for wrong in (f"Bearer {TOKEN[:-1]}x", f"Basic {TOKEN}", TOKEN, "Bearer "):
        app.get("/metrics", headers={"Authorization": wrong}, extra_environ=REMOTE, status=404)


@pytest.mark.validation_only
def test_without_a_token_no_bearer_opens_the_metrics(make_testapp):
    app = make_testapp()
    for given in ("Bearer ", "Bearer", "Bearer None"):
        app.get("/metrics", headers={"Authorization": given}, extra_environ=REMOTE, status=404)


def test_a_weak_metrics_token_stops_start_up_naming_the_setting(db_url):
    with pytest.raises(SettingsError, match=r"totetaxi\.metrics_token"):
        prepare(base_settings(db_url, **{"totetaxi.metrics_token": "short"}), environ={})
    settings = prepare(base_settings(db_url), environ={"TOTETAXI_METRICS_TOKEN": TOKEN}).settings
    assert settings["totetaxi.metrics_token"] == TOKEN


# --- requests ---------------------------------------------------------------------------------


def test_requests_are_counted_and_timed_by_route_name_never_by_path(testapp):
    before = scrape(testapp)
    testapp.get("/healthz")
    testapp.get("/healthz")
    testapp.get("/api/v1/example/notes")
    testapp.get("/no/such/thing/1234", status=404)
    testapp.get("/no/such/thing/5678", status=404)
    # WebTest's lint refuses a method it does not know; a server passes it on.
    unlinted = TestApp(testapp.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"}, lint=False)
    unlinted.request("/healthz", method="BREW", status="*")
    after = scrape(testapp)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    ok = {"method": "GET", "status": "200", "status_class": "2xx"}
    assert moved("totetaxi_http_requests_total", route="healthz", **ok) == 2
    assert moved("totetaxi_http_requests_total", route="example_notes", **ok) == 1
    missing = {"method": "GET", "status": "404", "status_class": "4xx"}
    assert moved("totetaxi_http_requests_total", route="unmatched", **missing) == 2
    brewed = [
        k for k in after if k[0] == "totetaxi_http_requests_total" and ("method", "other") in k[1]
    ]
    assert brewed, "an unknown method is counted as 'other'"
    assert moved("totetaxi_http_request_duration_seconds_count", route="healthz", method="GET") == 2
    assert (
        moved(
            "totetaxi_http_request_duration_seconds_bucket",
            route="healthz",
            method="GET",
            le="+Inf",
        )
        == 2
    )
    # No label ever holds a path: no series per id.
    assert not [key for key in after if any("/no/such" in v for _, v in key[1])]


# --- tasks ------------------------------------------------------------------------------------


def test_eager_task_outcomes_and_durations_are_counted(make_testapp):
    app = make_testapp(**{"totetaxi.outbox_max_attempts": 2, "totetaxi.outbox_grace_seconds": 0})
    before = scrape(app)
    app.post_json("/api/v1/example/notes", {"text": "fine"}, status=201)
    # Fails at once (a retry: the sweep runs it again), then fails again and is given up.
    app.post_json("/api/v1/example/notes", {"text": "doomed", "flaky_times": 5}, status=201)
    sweep(app.app.registry)
    after = scrape(app)

    def moved(task, outcome):
        name = "totetaxi_task_runs_total"
        return value(after, name, task=task, outcome=outcome) - value(
            before, name, task=task, outcome=outcome
        )

    assert moved("example.record_note", "success") == 1
    assert moved("example.flaky", "retry") == 1
    assert moved("example.flaky", "failure") == 1
    assert moved("example.flaky", "success") == 0
    count = "totetaxi_task_duration_seconds_count"
    assert (
        value(after, count, task="example.flaky") - value(before, count, task="example.flaky") == 2
    )


def test_the_request_id_reaches_the_log_records_of_the_task_it_queued(make_testapp, caplog):
    app = make_testapp(**{"totetaxi.outbox_grace_seconds": 0})
    with caplog.at_level(logging.INFO, logger="totetaxi"):
        answer = app.post_json(
            "/api/v1/example/notes", {"text": "traced"}, headers={"X-Request-ID": "req-task-0001"}
        )
    assert answer.headers["X-Request-ID"] == "req-task-0001"
    done = [r for r in caplog.records if r.name == "totetaxi.tasks" and "done" in r.getMessage()]
    assert done, "the task logged its run"
    line = json.loads(JsonFormatter().format(done[0]))
    assert line["request_id"] == "req-task-0001"
    assert line["task"] == "example.record_note" and line["task_id"]

    # A task run later by the sweep (during another request) keeps the id of the one that
    # queued it.
    caplog.clear()
    app.post_json(
        "/api/v1/example/notes",
        {"text": "later", "flaky_times": 1},
        headers={"X-Request-ID": "req-task-0002"},
    )
    with (
        caplog.at_level(logging.INFO, logger="totetaxi"),
        log_context.log_fields(request_id="req-sweeper-9"),
    ):
        assert sweep(app.app.registry) == 1
    done = [r for r in caplog.records if r.name == "totetaxi.tasks" and "done" in r.getMessage()]
    assert [json.loads(JsonFormatter().format(r))["request_id"] for r in done] == ["req-task-0002"]


def test_log_lines_outside_any_request_or_task_have_no_request_id(caplog):
    with caplog.at_level(logging.INFO, logger="totetaxi"):
        logging.getLogger("totetaxi.test").info("plain")
    assert "request_id" not in json.loads(JsonFormatter().format(caplog.records[-1]))


# --- the outbox and the pool ------------------------------------------------------------------


def test_outbox_gauges_show_the_backlog_and_its_oldest_age(testapp):
    registry = testapp.app.registry
    assert value(scrape(testapp), "totetaxi_outbox_pending_messages") == 0
    assert value(scrape(testapp), "totetaxi_outbox_oldest_pending_age_seconds") == 0

    def backlog(ctx):
        old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
        for task in ("example.record_note", "example.record_note"):
            ctx.dbsession.add(OutboxMessage(task=task, args=["x"], kwargs={}))
        ctx.dbsession.flush()
        ctx.dbsession.query(OutboxMessage).first().created_at = old
        done = OutboxMessage(task="example.record_note", args=[], kwargs={})
        done.status = OutboxStatus.DONE
        ctx.dbsession.add(done)

    in_transaction(registry, backlog)
    samples = scrape(testapp)
    assert value(samples, "totetaxi_outbox_pending_messages") == 2  # the done one is not backlog
    assert 600 <= value(samples, "totetaxi_outbox_oldest_pending_age_seconds") < 700


def test_pool_gauges_follow_checkouts(testapp):
    engine = testapp.app.registry["dbengine"]
    testapp.get("/api/v1/example/notes")  # the pool has served a request
    idle = scrape(testapp)
    assert value(idle, "totetaxi_db_pool_size_connections") == engine.pool.size()
    with engine.connect():
        busy = scrape(testapp)
    checked_out = "totetaxi_db_pool_checked_out_connections"
    assert value(busy, checked_out) == value(idle, checked_out) + 1
    assert value(scrape(testapp), checked_out) == value(idle, checked_out)


# --- several processes ------------------------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import sys
    from totetaxi_core.ops import metrics
    metrics.use_directory(sys.argv[1])
    metrics.observe_request("healthz", "GET", 200, 0.01)
    metrics.observe_task("example.record_note", "success", 0.2)
    metrics.count_webhook_failure("stripe", "signature")
    metrics.metrics().pool_size.set(5)
    """
)


def test_processes_sharing_the_metrics_dir_add_up_at_any_scrape(testapp, tmp_path, monkeypatch):
    folder = tmp_path / "metrics"
    children = [subprocess.Popen([sys.executable, "-c", _CHILD, str(folder)]) for _ in range(2)]
    assert [child.wait(60) for child in children] == [0, 0]
    # This process answers the scrape from the files (as a web worker would in production).
    monkeypatch.setenv(MULTIPROC_ENV, str(folder))
    samples = scrape(testapp)
    ok = {"route": "healthz", "method": "GET", "status": "200", "status_class": "2xx"}
    assert value(samples, "totetaxi_http_requests_total", **ok) == 2
    runs = {"task": "example.record_note", "outcome": "success"}
    assert value(samples, "totetaxi_task_runs_total", **runs) == 2
    assert (
        value(samples, "totetaxi_webhook_failures_total", provider="stripe", reason="signature")
        == 2
    )
    # Gauges of processes that exited are dropped (gunicorn's child_exit, Celery's shutdown).
    assert value(samples, "totetaxi_db_pool_size_connections") == 10
    from prometheus_client import multiprocess

    for child in children:
        multiprocess.mark_process_dead(child.pid, str(folder))
    assert value(scrape(testapp), "totetaxi_db_pool_size_connections") == 0
    # The outbox gauges come from the database, whichever process answers.
    assert ("totetaxi_outbox_pending_messages", frozenset()) in samples


def test_a_metrics_dir_is_refused_once_the_process_counts_in_memory(db_url, tmp_path):
    from totetaxi_core.ops.metrics import metrics

    metrics()  # this process already counts in memory (any test before this one did too)
    settings = base_settings(db_url, **{"totetaxi.metrics_dir": str(tmp_path / "m")})
    with pytest.raises(SettingsError, match=r"totetaxi\.metrics_dir"):
        make_app(prepare(settings, environ={}))
