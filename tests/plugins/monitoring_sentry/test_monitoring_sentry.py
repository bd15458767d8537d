"""The Sentry plugin end to end: real envelopes over HTTP to a fake Sentry on loopback.

A view of the app fails during a request carrying a password, a bearer token, an email and a
card number; a background task fails, run in-process after commit and run by Celery (eagerly);
a worker process starts. Each time the event arrives at the stub, tagged with the release, and
none of those values is anywhere in the bytes that left. Without a DSN nothing leaves at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import metadata
from typing import Any

import pytest
import sentry_sdk
from celery import signals
from sentry_sdk.scope import should_send_default_pii
from support.sentry_stub import PLUGINS, SentryStub
from totetaxi_monitoring_sentry import client
from webtest import TestApp

from totetaxi_core.errors import StartupError
from totetaxi_core.testing import bearer, make_staff

NOTES = "/api/v1/example/notes"
RELEASE = f"totetaxi@{metadata.version('totetaxi-core')}"
CARD = "4242 4242 4242 4242"
EMAIL = "ann.lee@example.com"
#: What a customer or staff member typed, and what must never reach Sentry.
PASSWORD = "Hunter2-Sag-Harbor"
QUERY_TOKEN = "qt-5f1d9e0c7b"


def _staff_headers(app: TestApp) -> tuple[dict[str, str], str]:
    member = make_staff(app.app.registry, "staff")
    headers = bearer(app, member.email, staff=True)
    return headers, headers["Authorization"].split()[1]


def _assert_nothing_sensitive(sentry: SentryStub, *more: str) -> None:
    sent = sentry.everything()
    assert sent, "nothing reached the stub"
    for value in (PASSWORD, QUERY_TOKEN, EMAIL, CARD, CARD.replace(" ", ""), *more):
        assert value not in sent


def _exception(event: dict[str, Any]) -> tuple[str, str]:
    last = event["exception"]["values"][-1]
    return last["type"], last["value"]


def test_an_error_in_a_view_arrives_scrubbed(
    make_testapp: Callable[..., TestApp], sentry: SentryStub
) -> None:
    app = make_testapp(
        **{
            "totetaxi.plugins": PLUGINS,
            "monitoring_sentry.dsn": sentry.dsn,
            "monitoring_sentry.traces_sample_rate": "1",
            # The hardest case: every frame's locals (the view's body, the request) go too.
            "monitoring_sentry.include_local_variables": "true",
        }
    )
    headers, token = _staff_headers(app)
    body = {
        "text": f"Call {EMAIL} about card {CARD}",
        "fail_after_enqueue": True,
        "password": PASSWORD,
        "card": {"number": CARD, "cvc": "123", "exp_month": 12, "exp_year": 2031},
    }
    app.post_json(f"{NOTES}?token={QUERY_TOKEN}&page=2", body, headers=headers, status=500)
    sentry.flush()

    [event] = [e for e in sentry.events if _exception(e)[0] == "RuntimeError"]
    assert _exception(event) == ("RuntimeError", "failing on purpose after enqueue")
    assert event["release"] == RELEASE
    assert event["environment"] == "test"  # totetaxi.environment, by default
    assert not should_send_default_pii()
    assert "user" not in event  # no id, no IP address
    # What was sent, with the secrets taken out (so the request really was attached).
    request = event["request"]
    assert request["data"]["password"] == "[Filtered]"
    assert request["data"]["card"] == "[Filtered]"
    assert request["data"]["text"] == "Call [email] about card [card]"
    assert request["query_string"] == "token=[Filtered]&page=2"
    assert "Authorization" not in request.get("headers", {}) or (
        request["headers"]["Authorization"] == "[Filtered]"
    )
    frames = event["exception"]["values"][-1]["stacktrace"]["frames"]
    assert any(frame.get("vars") for frame in frames)
    # A trace of every request (the sign-in for the token included), scrubbed the same way.
    [transaction] = [t for t in sentry.items("transaction") if t["transaction"] == NOTES]
    assert transaction["release"] == RELEASE
    _assert_nothing_sensitive(sentry, token)


def test_an_error_in_a_task_run_after_commit_arrives_scrubbed(
    monitored_app: TestApp, sentry: SentryStub
) -> None:
    headers, token = _staff_headers(monitored_app)
    # Created (201); the task then fails in this process after the commit (eager mode) and is
    # left pending for the sweep, logged: the log record with its traceback is the event.
    monitored_app.post_json(
        f"{NOTES}?password={PASSWORD}",
        {"text": f"{EMAIL} {CARD}", "flaky_times": 2},
        headers=headers,
        status=201,
    )
    sentry.flush()
    [event] = sentry.events
    assert _exception(event) == ("RuntimeError", "flaky failure 1 of 2")
    assert event["logger"] == "totetaxi.outbox"  # "task ... failed; it stays pending"
    assert event["release"] == RELEASE
    _assert_nothing_sensitive(sentry, token)


def test_an_error_in_a_celery_task_arrives_scrubbed(
    make_testapp: Callable[..., TestApp], sentry: SentryStub
) -> None:
    app = make_testapp(
        **{
            "totetaxi.plugins": PLUGINS,
            "monitoring_sentry.dsn": sentry.dsn,
            "monitoring_sentry.include_local_variables": "true",  # the task's note_id goes too
        }
    )
    task = app.app.registry.celery.tasks["example.flaky"]
    # Celery runs it eagerly (apply): its retries too, then the last failure is raised. The
    # task's arguments travel in the event ("celery-job") and hold an email and a card.
    result = task.apply(args=[f"{EMAIL} {CARD}", 10])
    assert result.failed()
    sentry.flush()
    [event] = sentry.events
    assert _exception(event) == ("RuntimeError", "flaky failure 4 of 10")
    assert event["release"] == RELEASE
    # The SDK itself keeps a task's arguments back when personal data is off.
    assert event["extra"]["celery-job"] == {
        "task_name": "example.flaky",
        "args": "[Filtered]",
        "kwargs": "[Filtered]",
    }
    assert event["tags"]["celery_task_id"] == result.id
    [flaky] = [
        f
        for f in event["exception"]["values"][-1]["stacktrace"]["frames"]
        if f["function"] == "flaky"
    ]
    assert flaky["vars"]["note_id"] == "'[email] [card]'"
    _assert_nothing_sensitive(sentry)


def test_a_worker_process_gets_a_client_of_its_own(
    monitored_app: TestApp, sentry: SentryStub
) -> None:
    web_client = sentry_sdk.get_client()
    assert web_client.is_active()
    # What Celery sends in each prefork child as it starts (and worker_init in the main process).
    signals.worker_process_init.send(sender=None)
    worker_client = sentry_sdk.get_client()
    assert worker_client is not web_client and worker_client.is_active()
    sentry_sdk.capture_message(f"worker up for {EMAIL}")
    sentry.flush()
    [event] = sentry.events
    assert event["tags"]["process"] == "worker"
    assert event["release"] == RELEASE
    assert event["message"] == "worker up for [email]"


def test_breadcrumbs_are_scrubbed_as_they_are_recorded(monitored_app: TestApp) -> None:
    sentry_sdk.add_breadcrumb(category="mail", message=f"reset link sent to {EMAIL}")
    logging.getLogger("totetaxi.test").warning("card %s declined", CARD)
    crumbs = list(sentry_sdk.get_isolation_scope()._breadcrumbs)
    assert [c["message"] for c in crumbs[-2:]] == [
        "reset link sent to [email]",
        "card [card] declined",
    ]


def test_a_scrubber_that_fails_lets_nothing_through(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(value: Any) -> Any:
        raise RecursionError("too deep")

    monkeypatch.setattr(client, "scrub", broken)
    monkeypatch.setattr(client, "scrub_event", broken)
    event = {"message": f"login of {EMAIL}"}
    assert client.before_send(event, {}) is None
    assert client.before_send_transaction(event, {}) is None
    # Sentry keeps a breadcrumb as it was when the callback raises: it must not raise.
    assert client.before_breadcrumb({"message": EMAIL}, {}) is None


def test_without_a_dsn_nothing_is_sent(
    make_testapp: Callable[..., TestApp], sentry: SentryStub, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="totetaxi.monitoring_sentry"):
        app = make_testapp(**{"totetaxi.plugins": PLUGINS})
    said = [r for r in caplog.records if r.name == "totetaxi.monitoring_sentry"]
    assert [r.levelno for r in said] == [logging.INFO]
    assert "no DSN" in said[0].getMessage()
    assert not sentry_sdk.get_client().is_active()
    # The worker's signals do nothing either.
    signals.worker_process_init.send(sender=None)
    assert not sentry_sdk.get_client().is_active()

    app.post_json(NOTES, {"text": EMAIL, "fail_after_enqueue": True}, status=500)
    sentry.flush()
    assert sentry.raw == []


@pytest.mark.parametrize("where", ["SENTRY_DSN", "TOTETAXI_MONITORING_SENTRY__DSN"])
def test_the_dsn_from_the_environment(
    make_testapp: Callable[..., TestApp],
    sentry: SentryStub,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    if where == "SENTRY_DSN":  # Sentry's own variable, read from the process's environment
        monkeypatch.setenv("SENTRY_DSN", sentry.dsn)
        app = make_testapp(**{"totetaxi.plugins": PLUGINS})
    else:  # the settings' override of monitoring_sentry.dsn
        app = make_testapp(environ={where: sentry.dsn}, **{"totetaxi.plugins": PLUGINS})
    app.post_json(NOTES, {"text": "x", "fail_after_enqueue": True}, status=500)
    sentry.flush()
    [event] = sentry.events
    assert _exception(event) == ("RuntimeError", "failing on purpose after enqueue")


def test_the_environment_can_be_named(
    make_testapp: Callable[..., TestApp], sentry: SentryStub
) -> None:
    make_testapp(
        **{
            "totetaxi.plugins": PLUGINS,
            "monitoring_sentry.dsn": sentry.dsn,
            "monitoring_sentry.environment": "staging",
        }
    )
    sentry_sdk.capture_message("hello")
    sentry.flush()
    assert [e["environment"] for e in sentry.events] == ["staging"]


@pytest.mark.parametrize("rate", ["1.5", "-0.1", "half", "nan", "inf"])
def test_a_sample_rate_outside_0_to_1_stops_start_up(
    make_testapp: Callable[..., TestApp], rate: str
) -> None:
    with pytest.raises(StartupError) as refused:
        make_testapp(**{"totetaxi.plugins": PLUGINS, "monitoring_sentry.traces_sample_rate": rate})
    assert "Setting 'monitoring_sentry.traces_sample_rate' must be a number from 0 to 1" in str(
        refused.value
    )


def test_a_malformed_dsn_stops_start_up_without_quoting_it(
    make_testapp: Callable[..., TestApp],
) -> None:
    with pytest.raises(StartupError) as refused:
        make_testapp(**{"totetaxi.plugins": PLUGINS, "monitoring_sentry.dsn": "ftp://k3y@x/1"})
    assert "Setting 'monitoring_sentry.dsn' must be a Sentry DSN" in str(refused.value)
    assert "k3y" not in str(refused.value)


def test_a_malformed_sentry_dsn_variable_stops_start_up(
    make_testapp: Callable[..., TestApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTRY_DSN", "https://k3y@/1")
    with pytest.raises(StartupError) as refused:
        make_testapp(**{"totetaxi.plugins": PLUGINS})
    assert "Environment variable SENTRY_DSN must be a Sentry DSN" in str(refused.value)
    assert "k3y" not in str(refused.value)
