"""``POST /api/v1/payments/webhook``: signatures, replays, ordering, unknown objects.

Events are signed as Stripe signs them (``Stripe-Signature: t=...,v1=<HMAC-SHA256>``) with the
mock's secret, and posted as raw bytes. A refused event must leave everything as it was: no
``WebhookEventRecord`` (so the genuine delivery is not mistaken for a replay later), no payment
or booking change, no audit row, no outbox message, no hook.

Some tests hold the mock's own events back (:func:`held_events`) to deliver them later, in
another order, or twice, as Stripe may.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import support.payments as payments_support
from sqlalchemy import select
from support.payments import (
    APP_SETTINGS,
    BOOKINGS,
    CARD_3DS,
    CARD_DECLINED,
    CARD_OK,
    NOW,
    PETITE,
    REFUNDS,
    WEBHOOK,
    audit_rows,
    book,
    book_as_guest,
    booking_status,
    cheap_passwords,
    client,
    count,
    customer,
    customer_body,
    error_named,
    event_payload,
    events_seen,
    held_events,
    intents_at_gateway,
    mock_authenticate,
    mock_confirm,
    mock_object,
    outbox,
    pay,
    payment,
    post_webhook,
    remaining,
    run,
    secret,
    snapshot,
    spy_on,
    staff_member,
    vans_booked,
)
from totetaxi_payments import signatures
from totetaxi_payments.adapters.mock import DELIVER_TASK
from totetaxi_payments.models import Payment, PaymentAudit, WebhookEventRecord
from webtest import TestApp

from totetaxi_core import make_app
from totetaxi_core.bookings.models import Booking
from totetaxi_core.platform import prepare
from totetaxi_core.testing import base_settings, metric_value
from totetaxi_core.testing import race as kit_race

app = payments_support.app  # the fixture: pricing + payments_mock, clock on NOW

SIGNATURE = "Stripe-Signature"


def open_payment(app: TestApp) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A guest booking with an open payment: (booking, payment answer, the mock's intent)."""
    created = book_as_guest(app)
    started = pay(app, created)
    intent = mock_object(app, payment(app, started["payment_id"]).gateway_intent_id)
    return created, started, intent


def succeeded(intent: dict[str, Any]) -> dict[str, Any]:
    return {
        **intent,
        "status": "succeeded",
        "amount_received": intent["amount"],
        "payment_method": "pm_card_visa",
        "last_payment_error": None,
    }


def declined(intent: dict[str, Any]) -> dict[str, Any]:
    return {
        **intent,
        "status": "requires_payment_method",
        "payment_method": None,
        "last_payment_error": {
            "code": "card_declined",
            "decline_code": "generic_decline",
            "message": "Your card was declined.",
        },
    }


def outcome(answer: Any) -> str:
    assert answer.json["received"] is True
    return answer.json["outcome"]


# --- replays -------------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_a_replayed_event_changes_nothing(app):
    spy = spy_on(app)
    created, started, intent = open_payment(app)
    payload = event_payload("payment_intent.succeeded", succeeded(intent), event_id="evt_once")
    assert outcome(post_webhook(app, payload)) == "payment succeeded; booking confirmed"
    assert booking_status(app, created["id"]) == "confirmed"
    before = snapshot(app)
    for _ in range(2):  # the same bytes, signed again (a later retry of the delivery)
        assert outcome(post_webhook(app, payload)) == "duplicate"
    assert snapshot(app) == before
    [record] = events_seen(app)
    assert (record.event_id, record.type, record.gateway) == (
        "evt_once",
        "payment_intent.succeeded",
        "mock",
    )
    assert len(spy.succeeded) == 1
    assert payment(app, started["payment_id"]).amount_received_cents == PETITE


@pytest.mark.both_databases
def test_the_mocks_own_event_delivered_again_is_a_duplicate(app):
    spy = spy_on(app)
    created, started, _ = open_payment(app)
    mock_confirm(app, started["payment_id"], CARD_OK, created)
    [delivery] = outbox(app, DELIVER_TASK)
    payload, signature = delivery.args
    before = snapshot(app)
    answer = post_webhook(app, payload.encode(), signature)
    assert outcome(answer) == "duplicate"
    assert snapshot(app) == before and len(spy.succeeded) == 1


@pytest.mark.both_databases
def test_a_replayed_decline_is_counted_once(app):
    spy = spy_on(app)
    created, started, intent = open_payment(app)
    payload = event_payload("payment_intent.payment_failed", declined(intent))
    assert outcome(post_webhook(app, payload)) == "payment failed (1 of 3)"
    for _ in range(3):
        assert outcome(post_webhook(app, payload)) == "duplicate"
    assert payment(app, started["payment_id"]).attempts == 1
    assert booking_status(app, created["id"]) == "pending_payment"
    assert len(spy.failed) == 1


# --- signatures ----------------------------------------------------------------------------------


def _forged(payload: bytes, app: TestApp) -> str:
    return f"t={int(time.time())},v1={'0' * 64}"


def _other_secret(payload: bytes, app: TestApp) -> str:
    return signatures.sign(payload, "whsec_somebody_else")


def _stale(payload: bytes, app: TestApp) -> str:
    return signatures.sign(payload, secret(app), timestamp=int(time.time()) - 301)


def _very_stale(payload: bytes, app: TestApp) -> str:
    return signatures.sign(payload, secret(app), timestamp=int(time.time()) - 86400)


def _other_payload(payload: bytes, app: TestApp) -> str:
    return signatures.sign(payload.replace(b"succeeded", b"canceled"), secret(app))


def _v0_only(payload: bytes, app: TestApp) -> str:
    return signatures.sign(payload, secret(app)).replace("v1=", "v0=")


def _no_timestamp(payload: bytes, app: TestApp) -> str:
    return signatures.sign(payload, secret(app)).split(",", 1)[1]


def _bad_timestamp(payload: bytes, app: TestApp) -> str:
    return "t=yesterday," + signatures.sign(payload, secret(app)).split(",", 1)[1]


def _garbage(payload: bytes, app: TestApp) -> str:
    return "garbage"


def _empty(payload: bytes, app: TestApp) -> str:
    return ""


@pytest.mark.parametrize(
    "make_header",
    [
        None,
        _empty,
        _forged,
        _other_secret,
        _stale,
        _very_stale,
        _other_payload,
        _v0_only,
        _no_timestamp,
        _bad_timestamp,
        _garbage,
    ],
    ids=lambda f: "missing" if f is None else f.__name__.strip("_"),
)
def test_a_bad_signature_is_400_naming_the_header_and_writes_nothing(app, make_header):
    spy = spy_on(app)
    created, started, intent = open_payment(app)
    payload = event_payload("payment_intent.succeeded", succeeded(intent), event_id="evt_real")
    before = snapshot(app)
    if make_header is None:
        answer = post_webhook(app, payload, sign=False, status=400)
    else:
        answer = post_webhook(app, payload, make_header(payload, app), status=400)
    error = error_named(answer.json, SIGNATURE)
    assert error["location"] == "header"
    assert snapshot(app) == before
    assert count(app, WebhookEventRecord) == 0
    assert payment(app, started["payment_id"]).status == "requires_payment_method"
    assert booking_status(app, created["id"]) == "pending_payment"
    assert spy.succeeded == []
    # The genuine delivery of the same event id is then applied, not taken for a replay.
    assert outcome(post_webhook(app, payload)) == "payment succeeded; booking confirmed"
    assert booking_status(app, created["id"]) == "confirmed"


def test_refused_deliveries_are_counted_for_the_metrics(app):
    _, _, intent = open_payment(app)
    payload = event_payload("payment_intent.succeeded", succeeded(intent))
    failures = "totetaxi_webhook_failures_total"
    before = metric_value(failures, provider="payments_mock", reason="signature")
    post_webhook(app, payload, sign=False, status=400)
    post_webhook(app, payload, "t=1,v1=" + "0" * 64, status=400)
    assert metric_value(failures, provider="payments_mock", reason="signature") == before + 2
    accepted = metric_value(failures, provider="payments_mock", reason="signature")
    post_webhook(app, payload)  # a good delivery counts nothing
    assert metric_value(failures, provider="payments_mock", reason="signature") == accepted


def test_a_stale_signature_says_so(app):
    _, _, intent = open_payment(app)
    payload = event_payload("payment_intent.succeeded", succeeded(intent))
    answer = post_webhook(app, payload, _stale(payload, app), status=400)
    assert "older" in error_named(answer.json, SIGNATURE)["description"]


def test_a_recent_signature_and_one_good_v1_among_several_are_accepted(app):
    created, _started, intent = open_payment(app)
    payload = event_payload("payment_intent.succeeded", succeeded(intent))
    good = signatures.sign(payload, secret(app), timestamp=int(time.time()) - 60)
    rotated = good.replace("v1=", f"v1={'f' * 64},v1=")  # an old secret's signature first
    assert outcome(post_webhook(app, payload, rotated)) == "payment succeeded; booking confirmed"
    assert booking_status(app, created["id"]) == "confirmed"


def test_a_signed_body_that_is_not_an_event_is_400(app):
    before = snapshot(app)
    for body in (b"not json", json.dumps({"id": "evt_x"}).encode(), b"[]"):
        answer = post_webhook(app, body, status=400)
        error_named(answer.json, SIGNATURE)
    assert snapshot(app) == before


# --- ordering ------------------------------------------------------------------------------------


def test_a_failure_created_before_an_applied_success_changes_nothing(app):
    spy = spy_on(app)
    created, started, intent = open_payment(app)
    now = int(time.time())
    post_webhook(app, event_payload("payment_intent.succeeded", succeeded(intent), created=now))
    before = {k: v for k, v in snapshot(app).items() if k != "events"}
    late = event_payload("payment_intent.payment_failed", declined(intent), created=now - 10)
    assert outcome(post_webhook(app, late)).startswith("stale")
    assert {k: v for k, v in snapshot(app).items() if k != "events"} == before
    row = payment(app, started["payment_id"])
    assert (row.status, row.attempts, row.failure_code) == ("succeeded", 0, "")
    assert booking_status(app, created["id"]) == "confirmed"
    assert spy.failed == [] and len(spy.succeeded) == 1
    assert count(app, WebhookEventRecord) == 2  # recorded, so a replay is a duplicate


def test_a_failure_delivered_after_the_success_it_preceded_changes_nothing(app):
    """The mock's own events, delivered in the wrong order: decline, then 4242."""
    spy = spy_on(app)
    created, started, _ = open_payment(app)
    with held_events(app) as held:
        mock_confirm(app, started["payment_id"], CARD_DECLINED, created)
        mock_confirm(app, started["payment_id"], CARD_OK, created)
    assert payment(app, started["payment_id"]).status == "requires_payment_method"
    failed, success = held
    assert outcome(post_webhook(app, *success)) == "payment succeeded; booking confirmed"
    assert outcome(post_webhook(app, *failed)).startswith("stale")
    row = payment(app, started["payment_id"])
    assert (row.status, row.attempts) == ("succeeded", 0)
    assert booking_status(app, created["id"]) == "confirmed"
    assert spy.failed == []


def test_an_older_event_does_not_undo_a_newer_open_state(app):
    spy = spy_on(app)
    _created, started, intent = open_payment(app)
    now = int(time.time())
    action = {**intent, "status": "requires_action", "next_action": {"type": "use_stripe_sdk"}}
    assert (
        outcome(
            post_webhook(app, event_payload("payment_intent.requires_action", action, created=now))
        )
        == "payment requires_action"
    )
    older = event_payload("payment_intent.payment_failed", declined(intent), created=now - 30)
    # The failure happened (it counts towards the 3 attempts) but does not undo the newer state.
    assert outcome(post_webhook(app, older)) == (
        "stale: older than the state applied; payment failed (1 of 3)"
    )
    row = payment(app, started["payment_id"])
    assert (row.status, row.attempts, row.last_event_at) == ("requires_action", 1, now)
    assert row.failure_code == ""
    assert len(spy.failed) == 1
    newer = event_payload("payment_intent.payment_failed", declined(intent), created=now + 1)
    assert outcome(post_webhook(app, newer)) == "payment failed (2 of 3)"
    row = payment(app, started["payment_id"])
    assert (row.status, row.attempts) == ("requires_payment_method", 2)


def test_a_late_requires_action_after_the_success_changes_nothing(app):
    created, started, _ = open_payment(app)
    with held_events(app) as held:
        mock_confirm(app, started["payment_id"], CARD_3DS, created)
        mock_authenticate(app, started["payment_id"], True, created)
    action, success = held
    post_webhook(app, *success)
    assert outcome(post_webhook(app, *action)).startswith("stale")
    assert payment(app, started["payment_id"]).status == "succeeded"
    assert booking_status(app, created["id"]) == "confirmed"


# --- unknown and unhandled -----------------------------------------------------------------------


def test_an_event_for_an_unknown_intent_is_recorded_and_changes_nothing_else(app):
    _, _, intent = open_payment(app)
    before = snapshot(app)
    # Another system's intent on the same account: no booking of ours in its metadata.
    stranger = succeeded({**intent, "id": "pi_somebody_else", "metadata": {}})
    answer = post_webhook(
        app, event_payload("payment_intent.succeeded", stranger, event_id="evt_stranger")
    )
    assert answer.status_int == 200 and outcome(answer) == "unknown intent"
    after = snapshot(app)
    assert after["events"] == [("evt_stranger", "unknown intent")]
    assert {k: v for k, v in after.items() if k != "events"} == {
        k: v for k, v in before.items() if k != "events"
    }


def test_an_event_for_our_intent_not_yet_recorded_is_503_and_not_recorded(app):
    """The gateway can be faster than the commit of the request that created the intent: the
    event names one of our bookings, so it is refused for now and the gateway sends it again."""
    _, _, intent = open_payment(app)
    before = snapshot(app)
    early = succeeded({**intent, "id": "pi_not_committed_yet"})
    assert intent["metadata"]["booking_id"]  # ours
    answer = post_webhook(
        app, event_payload("payment_intent.succeeded", early, event_id="evt_early"), status=503
    )
    assert answer.headers["Retry-After"]
    assert snapshot(app) == before  # not even the event id: it must be applied when it returns


@pytest.mark.parametrize(
    "event_type", ["charge.dispute.created", "customer.created", "setup_intent.setup_failed"]
)
def test_an_event_of_an_unhandled_type_is_ignored(app, event_type):
    open_payment(app)
    before = snapshot(app)
    answer = post_webhook(app, event_payload(event_type, {"id": "obj_1"}, event_id="evt_other"))
    assert outcome(answer) == "ignored"
    after = snapshot(app)
    assert after["events"] == [("evt_other", "ignored")]
    assert {k: v for k, v in after.items() if k != "events"} == {
        k: v for k, v in before.items() if k != "events"
    }
    [record] = events_seen(app)
    assert record.type == event_type


@pytest.mark.parametrize(
    ("event_type", "obj", "expected"),
    [
        (
            "setup_intent.succeeded",
            {"id": "seti_nobody", "payment_method": "pm_x"},
            "unknown setup intent",
        ),
        ("refund.updated", {"id": "re_nobody", "status": "succeeded"}, "unknown refund"),
    ],
)
def test_events_for_unknown_setups_and_refunds_change_nothing(app, event_type, obj, expected):
    open_payment(app)
    before = snapshot(app)
    assert outcome(post_webhook(app, event_payload(event_type, obj))) == expected
    after = snapshot(app)
    assert {k: v for k, v in after.items() if k != "events"} == {
        k: v for k, v in before.items() if k != "events"
    }


# --- money taken for a booking cancelled meanwhile -----------------------------------------------


def test_a_success_for_a_booking_cancelled_meanwhile_needs_attention(app):
    """The customer's card is charged at the gateway while the guest cancels: the gateway's
    cancel comes too late, and the success arrives for a cancelled booking."""
    spy = spy_on(app)
    created, started, _ = open_payment(app)
    with held_events(app) as held:
        mock_confirm(app, started["payment_id"], CARD_OK, created)
        client(app).post_json(
            f"{BOOKINGS}/{created['id']}/cancel?token={created['tracking_token']}",
            {"reason": "Plans changed"},
            status=200,
        )
    assert booking_status(app, created["id"]) == "cancelled"
    assert vans_booked(app) == 0 and remaining(app) == 4
    assert payment(app, started["payment_id"]).status == "canceled"
    [success] = held  # the gateway refused to cancel a succeeded intent: no canceled event
    assert (
        mock_object(app, payment(app, started["payment_id"]).gateway_intent_id)["status"]
        == "succeeded"
    )

    answer = post_webhook(app, *success)
    assert "needs attention: the booking was cancelled" in outcome(answer)
    assert booking_status(app, created["id"]) == "cancelled"
    assert vans_booked(app) == 0 and remaining(app) == 4
    row = payment(app, started["payment_id"])
    assert (row.status, row.amount_received_cents) == ("succeeded", PETITE)
    [attention] = audit_rows(app, PaymentAudit.action == "payment.needs_attention")
    assert str(attention.payment_id) == started["payment_id"]
    assert str(attention.booking_id) == created["id"]
    assert attention.amount_cents == PETITE and "cancelled" in attention.note
    assert spy.succeeded == []  # nothing was confirmed: nobody is told "payment confirmed"
    # Staff can give the money back.
    _, staff = staff_member(app)
    refund = (
        client(app)
        .post_json(
            REFUNDS,
            {"payment_id": started["payment_id"], "amount_cents": PETITE, "reason": "Cancelled"},
            headers=staff,
            status=201,
        )
        .json
    )
    assert refund["status"] == "requested"


def test_a_forged_success_for_a_cancelled_booking_is_still_refused_without_a_signature(app):
    created, started, intent = open_payment(app)
    client(app).post_json(
        f"{BOOKINGS}/{created['id']}/cancel?token={created['tracking_token']}", {}, status=200
    )
    before = snapshot(app)
    payload = event_payload("payment_intent.succeeded", succeeded(intent))
    post_webhook(app, payload, _other_secret(payload, app), status=400)
    assert snapshot(app) == before
    assert payment(app, started["payment_id"]).status == "canceled"


# --- concurrency (PostgreSQL) --------------------------------------------------------------------


@pytest.fixture
def pg_app(pg_backend, monkeypatch):
    cheap_passwords(monkeypatch)
    url = pg_backend.new_url()
    settings = base_settings(url, **APP_SETTINGS, **{"sqlalchemy.pool_size": "10"})
    application = make_app(prepare(settings, environ={}))
    application.registry.clock = lambda: NOW
    yield TestApp(application, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    application.registry["dbengine"].dispose()
    pg_backend.drop(url)


@pytest.mark.postgresql
def test_the_same_event_delivered_concurrently_is_applied_once(pg_app):
    spy = spy_on(pg_app)
    created, started, intent = open_payment(pg_app)
    payload = event_payload("payment_intent.succeeded", succeeded(intent), event_id="evt_twice")
    header = signatures.sign(payload, secret(pg_app))
    racers = 4

    def racer() -> tuple[int, Any]:
        own = TestApp(pg_app.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
        answer = own.post(
            WEBHOOK,
            payload,
            headers={"Content-Type": "application/json", SIGNATURE: header},
            expect_errors=True,
        )
        return answer.status_int, answer.json

    answers = kit_race(*[racer] * racers)
    assert sorted(status for status, _ in answers) == [200] * racers, answers
    outcomes = sorted(body["outcome"] for _, body in answers)
    assert outcomes == ["duplicate"] * (racers - 1) + ["payment succeeded; booking confirmed"]
    assert count(pg_app, WebhookEventRecord) == 1
    assert len(spy.succeeded) == 1
    assert booking_status(pg_app, created["id"]) == "confirmed"
    assert [r.action for r in audit_rows(pg_app, PaymentAudit.action == "payment.captured")] == [
        "payment.captured"
    ]
    assert payment(pg_app, started["payment_id"]).status == "succeeded"


@pytest.mark.both_databases
def test_replacing_a_payment_paid_meanwhile_settles_it_instead_of_charging_twice(app):
    """The customer paid the open intent a moment ago (its event not in yet) and now asks to
    pay again with other terms: the old intent is cancelled at the gateway first, which
    reveals the payment; it is settled and no second intent is opened."""
    _, headers = customer(app)
    created = book(app, customer_body(), headers)
    started = pay(app, created, headers)
    with held_events(app) as held:
        mock_confirm(app, started["payment_id"], CARD_OK, headers=headers)
        again = pay(app, created, headers, body={"save_method": True})
    assert again["payment_id"] == started["payment_id"] and again["status"] == "succeeded"
    assert booking_status(app, created["id"]) == "confirmed"
    assert intents_at_gateway(app) == 1
    [success] = held
    assert outcome(post_webhook(app, *success)).startswith("stale")  # already settled


def test_a_success_that_confirms_nothing_is_flagged_for_staff(app):
    created, started, intent = open_payment(app)
    run(
        app,
        lambda ctx: setattr(
            ctx.dbsession.get(Booking, uuid.UUID(created["id"])), "total_cents", PETITE + 100
        ),
    )  # re-priced meanwhile: short
    post_webhook(app, event_payload("payment_intent.succeeded", succeeded(intent)))
    row = payment(app, started["payment_id"])
    assert (row.status, row.needs_attention) == ("succeeded", True)
    assert booking_status(app, created["id"]) == "pending_payment"
    from types import SimpleNamespace

    from totetaxi_payments import hooks as payment_hooks

    tiles = run(
        app,
        lambda ctx: payment_hooks.totetaxi_dashboard_tiles(
            SimpleNamespace(dbsession=ctx.dbsession), "day"
        ),
    )
    assert {"title": "Payments needing attention", "value": 1} in [
        {"title": t["title"], "value": t["value"]} for t in tiles
    ]


def test_an_old_event_for_an_intent_of_ours_never_recorded_is_adopted(app):
    """The request that created the intent rolled back after the gateway charged: ten minutes
    on, its event is no longer refused but taken in, so the money is never lost from sight."""
    created, _, intent = open_payment(app)
    orphan = succeeded({**intent, "id": "pi_orphan"})
    late = event_payload(
        "payment_intent.succeeded", orphan, event_id="evt_orphan", created=int(time.time()) - 700
    )
    assert outcome(post_webhook(app, late)) == "payment succeeded; booking confirmed"
    adopted = run(
        app,
        lambda ctx: ctx.dbsession.scalars(
            select(Payment).where(Payment.gateway_intent_id == "pi_orphan")
        ).one(),
    )
    assert (adopted.status, adopted.amount_received_cents) == ("succeeded", PETITE)
    assert adopted.needs_attention is False  # it covered the total
    assert booking_status(app, created["id"]) == "confirmed"
    assert [a.action for a in audit_rows(app, PaymentAudit.action == "payment.adopted")] == [
        "payment.adopted"
    ]
