"""Delivery: the send task, retries with exponential backoff on provider errors, giving up after
``notifications.max_attempts`` (a staff alert on the dashboard), permanent refusals, templates
that cannot render, held addresses, staff resends, the periodic retry sweep, and on PostgreSQL
the same event or the same send racing itself.

The provider is the console mailer of ``support.notifications``'s app; a failing provider
is that mailer's ``send`` wrapped to raise :class:`MailerError` a given number of times. Time
moves with the app clock only (``set_clock``): the backoff is ``notifications.backoff_seconds``
(60) × 2ⁿ after the n+1-th failure.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import support.notifications as notifications_support
from sqlalchemy import delete, select, text
from support.bookings import GUEST
from support.live import published
from support.notifications import (
    NOW,
    FlakyMailer,
    app_settings,
    cheap_passwords,
    count,
    edit_template,
    emails,
    fetch,
    flaky,
    held,
    hold,
    logs,
    mailer,
    notification,
    notifications,
    run,
    send_due,
    send_now,
    set_clock,
)
from support.payments import book_as_guest, client, staff_member
from totetaxi_notifications import hooks, services
from totetaxi_notifications.models import EmailTemplate, Notification
from webtest import TestApp

from totetaxi_core.audit import AuditRecord
from totetaxi_core.identity.models import StaffUser
from totetaxi_core.tasks import OutboxMessage
from totetaxi_core.tasks.outbox import run_due_periodic
from totetaxi_core.testing import in_transaction, metric_value

app = notifications_support.app  # the fixture: pricing, payments_mock, mail_console
pg_app = notifications_support.pg_app  # PostgreSQL only, a connection per racer

BACKOFF = 60
ERROR = "Throttling: maximum send rate exceeded"


def at(seconds: int) -> dt.datetime:
    return NOW + dt.timedelta(seconds=seconds)


def only(app: TestApp) -> Notification:
    """The one notification of the test (the guest's booking_received)."""
    [row] = notifications(app)
    return row


def trail(app: TestApp, row: Any) -> list[tuple[str, str, dt.datetime]]:
    return [(log.kind, log.outcome, log.at) for log in logs(app, row.id)]


def sends(app: TestApp) -> int:
    return count(app, OutboxMessage, OutboxMessage.task == services.SEND_TASK)


# --- retries -------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_a_provider_failing_twice_then_succeeding_sends_exactly_one_email(app, monkeypatch):
    wrapper = flaky(app, monkeypatch, failures=2)
    created = book_as_guest(app)
    row = only(app)
    # Attempt 1 failed at once (after commit): retry in 60 s.
    assert (row.status, row.attempts, row.next_attempt_at) == ("retrying", 1, at(BACKOFF))
    assert row.last_error == f"{ERROR} (1)" and row.sent_at is None
    assert emails(app) == [] and len(wrapper.calls) == 1

    # Not due yet: neither the sweep nor a stray send task sends it.
    set_clock(app, at(BACKOFF - 1))
    assert send_due(app) == 0
    assert send_now(app, row.id) == "not due yet"
    assert len(wrapper.calls) == 1 and notification(app, row.id).attempts == 1

    # Attempt 2 at 60 s fails: the wait doubles (120 s).
    set_clock(app, at(BACKOFF))
    assert send_due(app) == 1
    row = notification(app, row.id)
    assert (row.status, row.attempts, row.next_attempt_at) == (
        "retrying",
        2,
        at(BACKOFF + 2 * BACKOFF),
    )
    assert row.last_error == f"{ERROR} (2)" and len(wrapper.calls) == 2

    set_clock(app, at(3 * BACKOFF - 1))
    assert send_due(app) == 0 and len(wrapper.calls) == 2
    # Attempt 3 at 180 s goes through.
    set_clock(app, at(3 * BACKOFF))
    assert send_due(app) == 1
    row = notification(app, row.id)
    assert (row.status, row.attempts, row.next_attempt_at, row.last_error) == ("sent", 3, None, "")
    assert row.sent_at == at(3 * BACKOFF)
    [mail] = emails(app)
    assert mail.to == GUEST["email"] and created["number"] in mail.subject
    assert mail.notification == str(row.id) and row.provider_message_id == mail.id
    assert len(wrapper.calls) == 3
    assert trail(app, row) == [
        ("attempt", "error", NOW),
        ("attempt", "error", at(BACKOFF)),
        ("attempt", "sent", at(3 * BACKOFF)),
    ]
    assert [log.detail for log in logs(app, row.id)] == [f"{ERROR} (1)", f"{ERROR} (2)", ""]
    # Nothing is due any more: the sweep and the task find nothing to send.
    set_clock(app, at(86400))
    assert send_due(app) == 0 and send_now(app, row.id) == "nothing to send"
    assert len(emails(app)) == 1


@pytest.mark.both_databases
def test_five_failures_fail_the_notification_and_alert_staff(app, monkeypatch):
    assert app.app.registry.settings["notifications.max_attempts"] == 5
    wrapper = flaky(app, monkeypatch, failures=99)
    book_as_guest(app)
    row = only(app)
    when = 0
    for attempt in range(1, 5):
        row = notification(app, row.id)
        wait = BACKOFF * 2 ** (attempt - 1)  # 60, 120, 240, 480
        assert (row.status, row.attempts, row.next_attempt_at) == (
            "retrying",
            attempt,
            at(when + wait),
        )
        when += wait
        set_clock(app, at(when))
        assert send_due(app) == 1
    row = notification(app, row.id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 5, None)
    assert row.last_error == f"{ERROR} (5)"
    assert len(wrapper.calls) == 5 and emails(app) == []
    assert [(kind, outcome) for kind, outcome, _ in trail(app, row)] == [("attempt", "error")] * 5
    assert [log.at for log in logs(app, row.id)] == [at(s) for s in (0, 60, 180, 420, 900)]
    # Failed for good: never picked up again.
    set_clock(app, at(86400))
    assert send_due(app) == 0 and send_now(app, row.id) == "nothing to send"
    assert len(wrapper.calls) == 5
    # The staff dashboard counts it.
    assert dashboard_tile(app, "Emails failed") == "1"
    tiles = run(app, lambda ctx: hooks.totetaxi_dashboard_tiles(SimpleNamespace(ctx=ctx), "day"))
    failed = next(t for t in tiles if t["title"] == "Emails failed")
    assert (failed["value"], failed["alert"]) == (1, True)


def dashboard_tile(app: TestApp, title: str) -> str:
    """The value the console's dashboard shows under ``title``."""
    _, headers = staff_member(app, "viewer")
    page = client(app).get("/console/", headers=headers, status=200).text
    found = re.search(
        r'<div class="t">(?:<a [^>]*>)?'
        + re.escape(title)
        + r'(?:</a>)?</div>\s*<div class="v">([^<]*)</div>',
        page,
    )
    assert found, f"no {title!r} tile on the dashboard"
    return found.group(1)


def test_the_dashboard_shows_no_failure_when_all_went_well(app):
    book_as_guest(app)
    assert only(app).status == "sent"
    assert dashboard_tile(app, "Emails failed") == "0"
    tiles = run(app, lambda ctx: hooks.totetaxi_dashboard_tiles(SimpleNamespace(ctx=ctx), "day"))
    failed = next(t for t in tiles if t["title"] == "Emails failed")
    assert (failed["value"], failed["alert"]) == (0, False)


@pytest.mark.both_databases
def test_the_attempts_and_backoff_follow_the_settings(make_testapp, monkeypatch, tmp_path):
    cheap_passwords(monkeypatch)
    other = make_testapp(
        **app_settings(
            tmp_path / "mail",
            **{"notifications.max_attempts": 2, "notifications.backoff_seconds": 10},
        )
    )
    set_clock(other, NOW)
    wrapper = flaky(other, monkeypatch, failures=99)
    book_as_guest(other)
    row = only(other)
    assert (row.status, row.attempts, row.next_attempt_at) == ("retrying", 1, at(10))
    set_clock(other, at(10))
    assert send_due(other) == 1
    row = notification(other, row.id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 2, None)
    assert len(wrapper.calls) == 2


def test_failed_attempts_are_counted_for_the_metrics(app, monkeypatch):
    def counted(outcome: str) -> float:
        return metric_value("totetaxi_email_failures_total", provider="console", outcome=outcome)

    retrying, failed = counted("retrying"), counted("failed")
    flaky(app, monkeypatch, failures=1)
    book_as_guest(app)
    assert only(app).status == "retrying"
    assert (counted("retrying"), counted("failed")) == (retrying + 1, failed)
    monkeypatch.undo()
    flaky(app, monkeypatch, failures=99, permanent=True)
    set_clock(app, at(3600))
    send_due(app)
    assert only(app).status == "failed"
    assert (counted("retrying"), counted("failed")) == (retrying + 1, failed + 1)


@pytest.mark.both_databases
def test_a_permanent_refusal_fails_at_the_first_attempt(app, monkeypatch):
    wrapper = flaky(app, monkeypatch, failures=99, permanent=True)
    book_as_guest(app)
    row = only(app)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 1, None)
    assert row.last_error == f"{ERROR} (1)"
    # the console's pending actions hear of it (live, after the task's commit)
    pending = [e.data for e in published(app.app.registry) if e.type == "actions.pending"]
    assert pending == [{"kind": "email_failed", "notification_id": str(row.id)}]
    assert trail(app, row) == [("attempt", "error", NOW)]
    set_clock(app, at(86400))
    assert send_due(app) == 0 and len(wrapper.calls) == 1 and emails(app) == []


@pytest.mark.both_databases
def test_an_error_that_is_not_a_mailer_error_counts_as_a_failed_attempt(app, monkeypatch):
    """A bug in a provider (not a MailerError) is logged and retried like a provider error."""
    calls = []

    def broken(message: Any) -> str:
        calls.append(message)
        raise RuntimeError("provider bug")

    monkeypatch.setattr(mailer(app), "send", broken)
    book_as_guest(app)
    row = only(app)
    assert (row.status, row.attempts) == ("retrying", 1)
    assert row.last_error == "RuntimeError: provider bug" and len(calls) == 1
    assert [(r.kind, r.outcome) for r in logs(app, row.id)] == [("attempt", "error")]
    [message] = fetch(app, select(OutboxMessage).where(OutboxMessage.task == services.SEND_TASK))
    assert message.status == "done"  # the retry is the notification's own, not the outbox's


# --- what is never sent ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "source", "why"),
    [
        ("text_body", "Hello {{ booking.nmuber }}", "no attribute 'nmuber'"),
        ("subject", "{{ ''.__class__.__mro__ }}", "not allowed"),
        ("html_body", "<p>{{ booking.total_cents / 0 }}</p>", "ZeroDivisionError"),
        ("text_body", "{% if booking.number %}unclosed", "end of template"),
        # Errors Jinja does not report as its own must fail the email too, never leave it queued.
        ("text_body", "{{ 'abc'|truncate(-1) }}", "AssertionError"),
        ("text_body", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "calls itself"),
    ],
)
def test_a_template_that_cannot_render_fails_without_calling_the_provider(
    app, monkeypatch, part, source, why
):
    edit_template(app, "booking_received", **{part: source})
    wrapper = flaky(app, monkeypatch, failures=0)
    book_as_guest(app)
    row = only(app)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 0, None)
    assert row.last_error.startswith(f"cannot render: {part}: ")
    assert why in row.last_error
    assert wrapper.calls == [] and emails(app) == []
    assert trail(app, row) == [("attempt", "error", NOW)]
    assert logs(app, row.id)[0].detail == row.last_error


def test_a_notification_whose_template_is_gone_fails_without_calling_the_provider(app, monkeypatch):
    run(
        app,
        lambda ctx: ctx.dbsession.execute(
            delete(EmailTemplate).where(EmailTemplate.key == "booking_received")
        ),
    )
    wrapper = flaky(app, monkeypatch, failures=0)
    book_as_guest(app)
    row = only(app)
    assert (row.status, row.last_error) == ("failed", "no email template 'booking_received'")
    assert wrapper.calls == [] and emails(app) == []


@pytest.mark.both_databases
def test_a_sealed_link_that_no_longer_opens_fails_without_calling_the_provider(app, monkeypatch):
    """The secret changed between the first attempt and the retry: the link cannot be opened,
    and an email without it (or with a wrong one) is never sent."""
    wrapper = flaky(app, monkeypatch, failures=1)
    book_as_guest(app)
    row = only(app)
    assert row.status == "retrying" and len(wrapper.calls) == 1
    monkeypatch.setitem(app.app.registry.settings, "totetaxi.secret", "another-secret-" + "x" * 40)
    set_clock(app, at(BACKOFF))
    assert send_due(app) == 1
    row = notification(app, row.id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 1, None)
    assert row.last_error == "cannot render: the secret changed since this email was queued"
    assert len(wrapper.calls) == 1 and emails(app) == []


def test_a_sealed_link_queued_before_a_rotation_opens_with_the_previous_secret(app, monkeypatch):
    """The secret was rotated between the first attempt and the retry, the old one kept in
    ``totetaxi.previous_secrets``: the queued email goes out with its link."""
    wrapper = flaky(app, monkeypatch, failures=1)
    created = book_as_guest(app)
    row = only(app)
    assert row.status == "retrying"
    settings = app.app.registry.settings
    monkeypatch.setitem(settings, "totetaxi.previous_secrets", [settings["totetaxi.secret"]])
    monkeypatch.setitem(settings, "totetaxi.secret", "rotated-secret-" + "y" * 40)
    set_clock(app, at(BACKOFF))
    assert send_due(app) == 1
    assert notification(app, row.id).status == "sent"
    [mail] = emails(app)
    assert f"token={created['tracking_token']}" in mail.text
    assert len(wrapper.calls) == 2


def test_a_held_address_is_not_sent_to(app, monkeypatch):
    hold(app, "  Gale@Example.COM ", "complaint")
    assert held(app) == [GUEST["email"]]
    wrapper = flaky(app, monkeypatch, failures=0)
    book_as_guest(app)
    row = only(app)
    assert (row.status, row.attempts) == ("held", 0)
    assert row.last_error == "address held after a complaint"
    assert wrapper.calls == [] and emails(app) == []
    assert [(log.kind, log.outcome, log.detail) for log in logs(app, row.id)] == [
        ("held", "held", "complaint: test")
    ]
    assert dashboard_tile(app, "Emails held") == "1"
    assert send_now(app, row.id) == "nothing to send" and wrapper.calls == []


# --- staff resends --------------------------------------------------------------------------


def resend(app: TestApp, notification_id: Any, staff: Any = None) -> None:
    def work(ctx: Any) -> None:
        if staff is not None:
            ctx.actor = ctx.dbsession.get(StaffUser, staff.id)
        services.resend(ctx, ctx.dbsession.get(Notification, uuid.UUID(str(notification_id))))

    run(app, work)


@pytest.mark.both_databases
def test_a_failed_notification_resent_by_staff_is_sent(app, monkeypatch):
    wrapper = flaky(app, monkeypatch, failures=1, permanent=True)
    book_as_guest(app)
    row = only(app)
    assert row.status == "failed"
    staff, _ = staff_member(app, "staff")
    set_clock(app, at(3600))
    resend(app, row.id, staff)
    row = notification(app, row.id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
    assert row.sent_at == at(3600)
    assert len(wrapper.calls) == 2 and len(emails(app)) == 1
    assert sorted(trail(app, row)) == [
        ("attempt", "error", NOW),
        ("attempt", "sent", at(3600)),
        ("resend", "queued", at(3600)),
    ]
    [resent] = [log for log in logs(app, row.id) if log.kind == "resend"]
    assert resent.detail == f"resent by {staff.email}"
    [record] = fetch(app, select(AuditRecord).where(AuditRecord.action == "notification.resent"))
    assert (record.actor_kind, record.actor_id, record.target_id) == (
        "staff",
        staff.id,
        str(row.id),
    )
    assert record.changes["before"] == {"status": "failed", "attempts": 1}
    assert sends(app) == 2
    # A sent notification cannot be resent (nor queued again by anything).
    with pytest.raises(services.NotResendable):
        resend(app, row.id)
    assert len(emails(app)) == 1 and sends(app) == 2


def test_a_held_notification_is_held_again_until_the_address_is_released(app, monkeypatch):
    hold(app, GUEST["email"])
    book_as_guest(app)
    row = only(app)
    resend(app, row.id)
    assert notification(app, row.id).status == "held" and emails(app) == []
    assert run(app, lambda ctx: services.release_address(ctx, GUEST["email"].upper())) is True
    assert held(app) == []
    resend(app, row.id)
    assert notification(app, row.id).status == "sent"
    assert [e.to for e in emails(app)] == [GUEST["email"]]


# --- the periodic sweep --------------------------------------------------------------------


def test_the_retry_sweep_is_in_beats_schedule_with_its_period(app, make_testapp, tmp_path):
    schedule = app.app.registry.celery.conf.beat_schedule
    assert schedule["notifications-retry"] == {"task": services.SEND_DUE_TASK, "schedule": 30.0}
    assert services.SEND_DUE_TASK in app.app.registry.tasks
    other = make_testapp(
        **app_settings(tmp_path / "other", **{"notifications.retry_sweep_seconds": 45})
    )
    assert other.app.registry.celery.conf.beat_schedule["notifications-retry"]["schedule"] == 45.0


@pytest.mark.both_databases
def test_eager_modes_beat_runs_due_retries(app, monkeypatch):
    registry = app.app.registry
    wrapper = flaky(app, monkeypatch, failures=1)
    book_as_guest(app)
    row = only(app)
    assert row.status == "retrying"
    assert run_due_periodic(registry, 1000.0) == []  # starts the periodic clocks
    set_clock(app, at(BACKOFF))
    assert run_due_periodic(registry, 1029.0) == []  # the sweep's period (30 s) has not passed
    assert notification(app, row.id).status == "retrying"
    assert run_due_periodic(registry, 1030.0) == ["notifications-retry"]
    assert notification(app, row.id).status == "sent"
    assert len(wrapper.calls) == 2 and len(emails(app)) == 1


# --- racing on PostgreSQL -------------------------------------------------------------------


def _waiting_on_a_lock(app: TestApp) -> bool:
    engine = app.app.registry["dbengine"]
    with engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
        )


def race_with_a_lock(app: TestApp, first: Any, second: Any) -> tuple[Any, Any]:
    """``first(ctx)`` runs in a transaction and stays open; ``second(ctx)`` starts in another
    one and must wait for the first's lock; only then does the first commit. Returns both
    results (each transaction committed)."""
    registry = app.app.registry
    started, release = threading.Event(), threading.Event()
    results: dict[str, Any] = {}
    crashes: list[BaseException] = []

    def one(ctx: Any) -> Any:
        value = first(ctx)
        ctx.dbsession.flush()
        started.set()
        assert release.wait(60)
        return value

    def two(ctx: Any) -> Any:
        assert started.wait(60)
        return second(ctx)

    def thread(name: str, work: Any) -> threading.Thread:
        def body() -> None:
            try:
                results[name] = in_transaction(registry, work)
            except BaseException as exc:
                crashes.append(exc)
                release.set()

        return threading.Thread(target=body)

    threads = [thread("first", one), thread("second", two)]
    for each in threads:
        each.start()
    assert started.wait(60)
    deadline = time.monotonic() + 60
    # The second transaction must be blocked by the first; if it finishes instead (nothing
    # locked), stop waiting: the caller's assertions on the results then fail.
    while not _waiting_on_a_lock(app) and "second" not in results and not crashes:
        assert time.monotonic() < deadline, "the second transaction neither waited nor ended"
    release.set()
    for each in threads:
        each.join(120)
    assert not any(each.is_alive() for each in threads)
    assert crashes == []
    return results["first"], results["second"]


@pytest.mark.postgresql
def test_the_same_event_fired_concurrently_queues_one_email(pg_app):
    def queue(ctx: Any) -> Any:
        return services.queue(
            ctx,
            unique_key="payment_confirmed:race",
            template_key="password_reset",
            recipient="racer@example.com",
            variables={
                "company": {
                    "name": "ToteTaxi",
                    "support_email": "s@example.com",
                    "url": "http://x",
                },
                "recipient": {"first_name": "Ray", "email": "racer@example.com"},
                "reset_minutes": 60,
            },
            secrets={"reset_url": "http://x/reset?token=abc"},
        )

    first, second = race_with_a_lock(pg_app, queue, queue)
    assert isinstance(first, uuid.UUID) and second is None
    [row] = notifications(pg_app)
    assert (row.id, row.status) == (first, "sent")
    assert [e.to for e in emails(pg_app)] == ["racer@example.com"]
    assert sends(pg_app) == 1


@pytest.mark.postgresql
def test_two_send_tasks_for_the_same_notification_send_one_email(pg_app, monkeypatch):
    wrapper = flaky(pg_app, monkeypatch, failures=1)
    book_as_guest(pg_app)
    row = only(pg_app)
    assert row.status == "retrying"
    set_clock(pg_app, at(BACKOFF))

    def send(ctx: Any) -> str:
        return services.send(ctx, str(row.id))

    first, second = race_with_a_lock(pg_app, send, send)
    assert (first, second) == ("sent", "nothing to send")
    assert len(wrapper.calls) == 2 and len(emails(pg_app)) == 1
    row = notification(pg_app, row.id)
    assert (row.status, row.attempts) == ("sent", 2)
    assert [(kind, outcome) for kind, outcome, _ in trail(pg_app, row)] == [
        ("attempt", "error"),
        ("attempt", "sent"),
    ]


def test_flaky_mailer_counts_and_delegates():
    """The test double itself: fails the first n calls, then hands over."""
    sent = []
    wrapper = FlakyMailer(lambda m: sent.append(m) or "id-1", failures=1)
    with pytest.raises(services.MailerError) as failure:
        wrapper("first")
    assert failure.value.permanent is False
    assert wrapper("second") == "id-1" and sent == ["second"]


def test_a_render_error_quoting_a_secret_link_keeps_no_link(app, monkeypatch):
    """An undefined-variable error quotes the value looked up: the reset link must not end up in
    the notification's error, its log row or the application log."""
    from support.bookings import customer

    edit_template(app, "password_reset", text_body="{{ company[reset_url] }}")
    me, _ = customer(app)
    sealed_urls = []
    original = services.sealing.opened

    def spy(context, secret):
        opened = original(context, secret)
        sealed_urls.append(opened["reset_url"])
        return opened

    monkeypatch.setattr(services.sealing, "opened", spy)
    client(app).post_json("/api/v1/auth/password-reset", {"email": me["email"]}, status=202)
    row = only(app)
    [url] = sealed_urls
    assert row.status == "failed" and "token=" in url
    assert url not in row.last_error and "[link removed after sending]" in row.last_error
    assert all(url not in log.detail for log in logs(app, row.id))


@pytest.mark.both_databases
def test_a_notification_whose_send_task_was_lost_is_sent_by_the_periodic_task(app, monkeypatch):
    """The outbox gave up, or a worker died: a row left ``queued`` is picked up after 15 min."""
    import dataclasses

    registry = app.app.registry
    original = registry.tasks[services.SEND_TASK]
    registry.tasks[services.SEND_TASK] = dataclasses.replace(original, func=lambda ctx, _id: None)
    book_as_guest(app)
    registry.tasks[services.SEND_TASK] = original
    assert only(app).status == "queued" and emails(app) == []
    set_clock(app, at(14 * 60))
    assert send_due(app) == 0 and emails(app) == []
    set_clock(app, at(16 * 60))
    assert send_due(app) == 1
    row = only(app)
    assert row.status == "sent" and len(emails(app)) == 1
    assert send_due(app) == 0 and len(emails(app)) == 1
