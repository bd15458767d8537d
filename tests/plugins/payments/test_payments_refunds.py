"""Refunds: staff (or an admin) request one, full or partial with a reason, and its amount is
held against the payment at once; an admin approves (the gateway refunds) or rejects (the hold
is released). Never more than the refundable remainder, also under concurrent requests on
PostgreSQL. Every step is in the core audit log and in the payment audit.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import support.payments as payments_support
from sqlalchemy import event, select
from support.payments import (
    CARD_DECLINED,
    PETITE,
    REFUNDS,
    actions,
    audit_rows,
    book_as_guest,
    booking_status,
    client,
    count,
    customer,
    error_named,
    event_payload,
    fetch,
    mock_confirm,
    mock_object,
    outbox,
    paid_booking,
    pay,
    payment,
    post_webhook,
    race,
    refunds,
    run,
    snapshot,
    spy_on,
    staff_member,
)
from totetaxi_payments.adapters.mock import DELIVER_TASK, MockGateway, MockObject
from totetaxi_payments.interfaces import GatewayError
from totetaxi_payments.models import PaymentAudit, Refund
from webtest import TestApp

from totetaxi_core.api.idempotency import HEADER, REPLAYED_HEADER
from totetaxi_core.audit import AuditRecord
from totetaxi_core.bookings.models import BookingEvent

app = payments_support.app  # the fixture: pricing + payments_mock, clock on NOW
pg_app = payments_support.pg_app_fixture  # PostgreSQL, a connection per racer

REASON = "Van arrived two hours late"


def request_refund(
    app: TestApp,
    headers: dict[str, str],
    payment_id: str,
    amount: int,
    reason: str = REASON,
    status: int = 201,
    **extra: Any,
) -> Any:
    return (
        client(app)
        .post_json(
            REFUNDS,
            {"payment_id": payment_id, "amount_cents": amount, "reason": reason},
            headers=headers,
            status=status,
            **extra,
        )
        .json
    )


def decide(
    app: TestApp,
    headers: dict[str, str],
    refund_id: str,
    verb: str = "approve",
    note: str | None = None,
    status: int = 200,
) -> Any:
    body = {} if note is None else {"note": note}
    return (
        client(app)
        .post_json(f"{REFUNDS}/{refund_id}/{verb}", body, headers=headers, status=status)
        .json
    )


def core_audit(app: TestApp, action_prefix: str = "payments.") -> list[AuditRecord]:
    return fetch(
        app,
        select(AuditRecord)
        .where(AuditRecord.action.startswith(action_prefix))
        .order_by(AuditRecord.at),
    )


def refund_actions(app: TestApp, refund_id: str) -> list[str]:
    return actions(app, PaymentAudit.refund_id == uuid.UUID(refund_id))


def booking_messages(app: TestApp, booking_id: str) -> list[str]:
    return [
        row.message
        for row in fetch(
            app,
            select(BookingEvent)
            .where(BookingEvent.booking_id == uuid.UUID(booking_id))
            .order_by(BookingEvent.at),
        )
    ]


@pytest.fixture
def paid(app) -> dict[str, Any]:
    """A guest booking paid with 4242, a staff member and an admin (with bearer headers)."""
    created, started = paid_booking(app)
    staff, staff_headers = staff_member(app, "staff")
    admin, admin_headers = staff_member(app, "admin")
    return {
        "booking": created,
        "payment_id": started["payment_id"],
        "staff": staff,
        "staff_headers": staff_headers,
        "admin": admin,
        "admin_headers": admin_headers,
    }


# --- the whole way -------------------------------------------------------------------------------


def test_staff_request_a_partial_refund_and_an_admin_approves_it(app, paid):
    spy = spy_on(app)
    payment_id = paid["payment_id"]
    requested = request_refund(app, paid["staff_headers"], payment_id, 20000)
    assert requested["status"] == "requested" and requested["amount_cents"] == 20000
    assert requested["reason"] == REASON
    assert requested["requested_by"] == str(paid["staff"].id)
    assert requested["decided_by"] is None and requested["completed_at"] is None
    row = payment(app, payment_id)
    assert (row.refund_held_cents, row.refunded_cents, row.refundable_cents) == (
        20000,
        0,
        PETITE - 20000,
    )
    [stored] = refunds(app)
    assert str(stored.id) == requested["id"] and stored.status == "requested"
    assert str(stored.booking_id) == paid["booking"]["id"]
    assert stored.gateway_refund_id is None
    assert mock_object(app, row.gateway_intent_id).get("amount_refunded", 0) == 0
    assert spy.refunded == []
    # The approval queue shows it, to viewers too.
    _, viewer = staff_member(app, "viewer")
    queue = client(app).get(REFUNDS, params={"status": "requested"}, headers=viewer).json
    assert [item["id"] for item in queue["items"]] == [requested["id"]]

    approved = decide(app, paid["admin_headers"], requested["id"], note="Agreed")
    assert approved["status"] == "succeeded" and approved["decided_by"] == str(paid["admin"].id)
    assert approved["decision_note"] == "Agreed" and approved["completed_at"] is not None
    [stored] = refunds(app)
    assert stored.status == "succeeded" and stored.gateway_refund_id.startswith("re_mock_")
    assert stored.decided_by == paid["admin"].id and stored.decided_at is not None
    row = payment(app, payment_id)
    assert (row.status, row.refunded_cents, row.refund_held_cents) == ("succeeded", 20000, 20000)
    assert row.refundable_cents == PETITE - 20000
    assert mock_object(app, row.gateway_intent_id)["amount_refunded"] == 20000
    assert mock_object(app, stored.gateway_refund_id)["amount"] == 20000
    assert booking_messages(app, paid["booking"]["id"])[-1] == "Refund of $200.00 issued."
    assert booking_status(app, paid["booking"]["id"]) == "confirmed"
    assert spy.refunded == [
        {
            "refund": requested["id"],
            "payment": payment_id,
            "booking": paid["booking"]["id"],
            "amount": 20000,
            "status": "succeeded",
            "refunded_cents": 20000,
            "is_refund": True,
        }
    ]
    # Audited: the core log names who did what ...
    records = core_audit(app)
    assert [r.action for r in records] == ["payments.refund_requested", "payments.refund_approved"]
    assert [(r.actor_kind, r.actor_id) for r in records] == [
        ("staff", paid["staff"].id),
        ("staff", paid["admin"].id),
    ]
    assert all(r.target_type == "refund" and r.target_id == requested["id"] for r in records)
    assert records[0].changes["after"] == {
        "payment_id": payment_id,
        "amount_cents": 20000,
        "reason": REASON,
    }
    # ... and the payment audit every money movement.
    assert refund_actions(app, requested["id"]) == [
        "refund.requested",
        "refund.approved",
        "refund.succeeded",
    ]
    rows = audit_rows(app, PaymentAudit.refund_id == uuid.UUID(requested["id"]))
    assert all(r.amount_cents == 20000 and str(r.payment_id) == payment_id for r in rows)
    assert [r.actor_id for r in rows] == [paid["staff"].id, paid["admin"].id, paid["admin"].id]
    # The gateway's own refund.updated event arrives afterwards and changes nothing.
    [delivery] = [m for m in outbox(app, DELIVER_TASK) if "refund.updated" in m.args[0]]
    assert delivery.status == "done"
    assert len(spy.refunded) == 1 and payment(app, payment_id).refunded_cents == 20000


def test_a_full_refund_of_the_remainder_and_then_nothing_more(app, paid):
    spy = spy_on(app)
    first = request_refund(app, paid["staff_headers"], paid["payment_id"], 20000)
    decide(app, paid["admin_headers"], first["id"])
    rest = request_refund(
        app, paid["admin_headers"], paid["payment_id"], PETITE - 20000, reason="Customer cancelled"
    )
    assert decide(app, paid["admin_headers"], rest["id"])["status"] == "succeeded"
    row = payment(app, paid["payment_id"])
    assert (row.refunded_cents, row.refund_held_cents, row.refundable_cents) == (PETITE, PETITE, 0)
    assert mock_object(app, row.gateway_intent_id)["amount_refunded"] == PETITE
    assert [call["refunded_cents"] for call in spy.refunded] == [20000, PETITE]
    before = snapshot(app)
    error = error_named(
        request_refund(app, paid["staff_headers"], paid["payment_id"], 1, status=409),
        "amount_cents",
    )
    assert "0" in error["description"]
    assert snapshot(app) == before


def test_a_refund_over_the_remainder_is_409_and_writes_nothing(app, paid):
    before = snapshot(app)
    records = len(core_audit(app, ""))
    error = error_named(
        request_refund(app, paid["staff_headers"], paid["payment_id"], PETITE + 1, status=409),
        "amount_cents",
    )
    assert str(PETITE) in error["description"]
    assert snapshot(app) == before and len(core_audit(app, "")) == records
    # A held (not yet approved) request counts against the remainder too.
    request_refund(app, paid["staff_headers"], paid["payment_id"], 60000)
    before = snapshot(app)
    error = error_named(
        request_refund(
            app, paid["staff_headers"], paid["payment_id"], PETITE - 60000 + 1, status=409
        ),
        "amount_cents",
    )
    assert str(PETITE - 60000) in error["description"]
    assert snapshot(app) == before
    assert payment(app, paid["payment_id"]).refund_held_cents == 60000
    request_refund(app, paid["staff_headers"], paid["payment_id"], PETITE - 60000)
    assert payment(app, paid["payment_id"]).refundable_cents == 0


def test_rejecting_releases_the_hold(app, paid):
    spy = spy_on(app)
    requested = request_refund(app, paid["staff_headers"], paid["payment_id"], PETITE)
    assert payment(app, paid["payment_id"]).refundable_cents == 0
    rejected = decide(
        app, paid["admin_headers"], requested["id"], "reject", note="Delivery was on time"
    )
    assert rejected["status"] == "rejected" and rejected["decision_note"] == (
        "Delivery was on time"
    )
    row = payment(app, paid["payment_id"])
    assert (row.refund_held_cents, row.refunded_cents, row.refundable_cents) == (0, 0, PETITE)
    assert mock_object(app, row.gateway_intent_id).get("amount_refunded", 0) == 0
    assert count(app, MockObject, MockObject.kind == "refund") == 0
    assert spy.refunded == []
    assert refund_actions(app, requested["id"]) == ["refund.requested", "refund.rejected"]
    assert [r.action for r in core_audit(app)] == [
        "payments.refund_requested",
        "payments.refund_rejected",
    ]
    # Decided once: neither approving nor rejecting it again changes anything.
    before = snapshot(app)
    error_named(decide(app, paid["admin_headers"], requested["id"], status=409), "status")
    error_named(decide(app, paid["admin_headers"], requested["id"], "reject", status=409), "status")
    assert snapshot(app) == before
    # The whole amount can be requested again.
    request_refund(app, paid["staff_headers"], paid["payment_id"], PETITE)


@pytest.mark.both_databases
def test_approving_twice_is_409_and_refunds_once(app, paid):
    spy = spy_on(app)
    requested = request_refund(app, paid["staff_headers"], paid["payment_id"], 5000)
    decide(app, paid["admin_headers"], requested["id"])
    before = snapshot(app)
    error = error_named(decide(app, paid["admin_headers"], requested["id"], status=409), "status")
    assert "succeeded" in error["description"]
    error_named(decide(app, paid["admin_headers"], requested["id"], "reject", status=409), "status")
    assert snapshot(app) == before
    assert payment(app, paid["payment_id"]).refunded_cents == 5000
    assert count(app, MockObject, MockObject.kind == "refund") == 1 and len(spy.refunded) == 1


def test_a_refund_the_gateway_refuses_fails_and_releases_the_hold(app, paid):
    """The charge was refunded in the gateway's dashboard meanwhile: the approval answers a
    failed refund, the hold is released, nothing is counted as refunded."""
    spy = spy_on(app)
    requested = request_refund(app, paid["staff_headers"], paid["payment_id"], 5000)
    intent_id = payment(app, paid["payment_id"]).gateway_intent_id

    def refunded_elsewhere(ctx: Any) -> None:
        row = ctx.dbsession.get(MockObject, intent_id)
        row.data = {**row.data, "amount_refunded": row.data["amount_received"]}

    run(app, refunded_elsewhere)
    answer = decide(app, paid["admin_headers"], requested["id"])
    assert answer["status"] == "failed" and answer["failure_reason"]
    row = payment(app, paid["payment_id"])
    assert (row.refund_held_cents, row.refunded_cents) == (0, 0)
    assert spy.refunded == []
    assert refund_actions(app, requested["id"]) == [
        "refund.requested",
        "refund.approved",
        "refund.failed",
    ]
    assert count(app, MockObject, MockObject.kind == "refund") == 0
    error_named(decide(app, paid["admin_headers"], requested["id"], status=409), "status")


@pytest.mark.both_databases
def test_a_gateway_outage_at_approval_keeps_the_approval_and_a_task_retries(app, paid, monkeypatch):
    """The gateway may have refunded before the connection broke: the approval is kept
    (``pending``) and a task asks again with the same key, which can never refund twice."""
    from totetaxi_payments import tasks as payment_tasks

    spy = spy_on(app)
    requested = request_refund(app, paid["staff_headers"], paid["payment_id"], 5000)
    real_refund = MockGateway.refund

    def unreachable(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise GatewayError("api_connection_error", "Network trouble.", retryable=True)

    monkeypatch.setattr(MockGateway, "refund", unreachable)
    answer = decide(app, paid["admin_headers"], requested["id"])
    assert answer["status"] == "pending" and "retrying" in answer["failure_reason"]
    assert [r.status for r in refunds(app)] == ["pending"]
    assert payment(app, paid["payment_id"]).refunded_cents == 0 and spy.refunded == []
    [task] = [m for m in outbox(app) if m.task == payment_tasks.REFUND_TASK]
    assert task.status != "done"  # the eager run failed: it stays for the sweep
    # Approving again is refused: the decision is made.
    decide(app, paid["admin_headers"], requested["id"], status=409)

    monkeypatch.setattr(MockGateway, "refund", real_refund)
    done = run(app, lambda ctx: payment_tasks.refund_task(ctx, requested["id"]))
    assert done == "succeeded"
    assert [r.status for r in refunds(app)] == ["succeeded"]
    assert payment(app, paid["payment_id"]).refunded_cents == 5000 and len(spy.refunded) == 1


def pending_at_gateway(app: TestApp, refund_id: str, gateway_refund_id: str) -> None:
    """The refund as a gateway leaves it when it answers ``pending`` (approved, not done)."""

    def mark(ctx: Any) -> None:
        refund = ctx.dbsession.get(Refund, uuid.UUID(refund_id))
        refund.status, refund.gateway_refund_id = "pending", gateway_refund_id

    run(app, mark)


@pytest.mark.both_databases
def test_a_pending_refund_is_finished_by_the_gateways_event(app, paid):
    spy = spy_on(app)
    requested = request_refund(app, paid["staff_headers"], paid["payment_id"], 7000)
    pending_at_gateway(app, requested["id"], "re_pending_1")
    payload = event_payload(
        "refund.updated", {"id": "re_pending_1", "status": "succeeded", "amount": 7000}
    )
    assert post_webhook(app, payload).json["outcome"] == "refund succeeded"
    [stored] = refunds(app)
    assert stored.status == "succeeded" and stored.completed_at is not None
    row = payment(app, paid["payment_id"])
    assert (row.refunded_cents, row.refund_held_cents) == (7000, 7000)
    assert [call["refund"] for call in spy.refunded] == [requested["id"]]
    assert booking_messages(app, paid["booking"]["id"])[-1] == "Refund of $70.00 issued."
    # Replayed, or followed by an older "pending": nothing changes.
    before = snapshot(app)
    assert post_webhook(app, payload).json["outcome"] == "duplicate"
    late = event_payload("refund.updated", {"id": "re_pending_1", "status": "pending"})
    assert post_webhook(app, late).json["outcome"] == "refund already succeeded"
    assert {k: v for k, v in snapshot(app).items() if k != "events"} == {
        k: v for k, v in before.items() if k != "events"
    }
    assert payment(app, paid["payment_id"]).refunded_cents == 7000 and len(spy.refunded) == 1


def test_a_pending_refund_that_fails_at_the_gateway_releases_the_hold(app, paid):
    spy = spy_on(app)
    requested = request_refund(app, paid["staff_headers"], paid["payment_id"], 7000)
    pending_at_gateway(app, requested["id"], "re_pending_2")
    payload = event_payload(
        "refund.updated",
        {"id": "re_pending_2", "status": "failed", "failure_reason": "expired_or_canceled_card"},
    )
    assert post_webhook(app, payload).json["outcome"] == "refund failed"
    [stored] = refunds(app)
    assert (stored.status, stored.failure_reason) == ("failed", "expired_or_canceled_card")
    row = payment(app, paid["payment_id"])
    assert (row.refunded_cents, row.refund_held_cents, row.refundable_cents) == (0, 0, PETITE)
    assert spy.refunded == []
    assert refund_actions(app, requested["id"])[-1] == "refund.failed"


# --- who may -------------------------------------------------------------------------------------


def test_a_viewer_or_a_customer_cannot_request_a_refund(app, paid):
    _, viewer = staff_member(app, "viewer")
    _, customer_headers = customer(app)
    before = snapshot(app)
    for headers, status in ((viewer, 403), (customer_headers, 403), ({}, 401)):
        request_refund(app, headers, paid["payment_id"], 1000, status=status)
    assert snapshot(app) == before and core_audit(app) == []


@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_only_an_admin_decides(app, paid, verb):
    requested = request_refund(app, paid["staff_headers"], paid["payment_id"], 1000)
    _, viewer = staff_member(app, "viewer")
    _, customer_headers = customer(app)
    before = snapshot(app)
    for headers, status in (
        (paid["staff_headers"], 403),
        (viewer, 403),
        (customer_headers, 403),
        ({}, 401),
    ):
        decide(app, headers, requested["id"], verb, status=status)
    assert snapshot(app) == before
    assert [r.status for r in refunds(app)] == ["requested"]
    assert payment(app, paid["payment_id"]).refund_held_cents == 1000
    assert decide(app, paid["admin_headers"], requested["id"], verb)["status"] in (
        "succeeded",
        "rejected",
    )


def test_deciding_an_unknown_refund_is_404(app, paid):
    for refund_id in (str(uuid.uuid4()), "not-a-uuid"):
        decide(app, paid["admin_headers"], refund_id, status=404)
        decide(app, paid["admin_headers"], refund_id, "reject", status=404)


# --- what can be refunded ------------------------------------------------------------------------


def test_only_a_succeeded_payment_can_be_refunded(app):
    _, staff = staff_member(app, "staff")
    open_booking = book_as_guest(app)
    open_payment = pay(app, open_booking)
    failed_booking = book_as_guest(app)
    failed_payment = pay(app, failed_booking)
    for _ in range(3):
        mock_confirm(app, failed_payment["payment_id"], CARD_DECLINED, failed_booking)
    assert payment(app, failed_payment["payment_id"]).status == "canceled"
    before = snapshot(app)
    for payment_id, state in (
        (open_payment["payment_id"], "requires_payment_method"),
        (failed_payment["payment_id"], "canceled"),
    ):
        error = error_named(request_refund(app, staff, payment_id, 1000, status=409), "payment_id")
        assert state in error["description"]
    for payment_id in (str(uuid.uuid4()), "not-a-uuid"):
        error_named(request_refund(app, staff, payment_id, 1000, status=400), "payment_id")
    assert snapshot(app) == before and core_audit(app) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_cents": 0}, "amount_cents"),
        ({"amount_cents": -100}, "amount_cents"),
        ({"amount_cents": "100"}, "amount_cents"),
        ({"amount_cents": 10.5}, "amount_cents"),
        ({"reason": "no"}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 501}, "reason"),
    ],
)
def test_malformed_refund_requests_are_400_naming_the_field(app, paid, change, field):
    body = {"payment_id": paid["payment_id"], "amount_cents": 1000, "reason": REASON, **change}
    before = snapshot(app)
    answer = client(app).post_json(REFUNDS, body, headers=paid["staff_headers"], status=400)
    error_named(answer.json, field)
    assert snapshot(app) == before


def test_a_refund_request_with_unknown_keys_is_400(app, paid):
    body = {
        "payment_id": paid["payment_id"],
        "amount_cents": 1000,
        "reason": REASON,
        "status": "succeeded",
    }
    answer = client(app).post_json(REFUNDS, body, headers=paid["staff_headers"], status=400)
    assert any("status" in e["description"] for e in answer.json["errors"])
    assert refunds(app) == []


def test_the_refund_list_filters_by_status(app, paid):
    first = request_refund(app, paid["staff_headers"], paid["payment_id"], 1000)
    second = request_refund(app, paid["staff_headers"], paid["payment_id"], 2000)
    decide(app, paid["admin_headers"], first["id"])
    headers = paid["staff_headers"]
    assert [
        i["id"]
        for i in client(app)
        .get(REFUNDS, params={"status": "requested"}, headers=headers)
        .json["items"]
    ] == [second["id"]]
    assert [
        i["id"]
        for i in client(app)
        .get(REFUNDS, params={"status": "succeeded"}, headers=headers)
        .json["items"]
    ] == [first["id"]]
    error_named(
        client(app).get(REFUNDS, params={"status": "lost"}, headers=headers, status=400).json,
        "status",
    )


# --- Idempotency-Key -----------------------------------------------------------------------------


@pytest.mark.both_databases
def test_a_double_submitted_refund_request_with_one_key_is_one_refund(app, paid):
    key = str(uuid.uuid4())
    first = client(app).post_json(
        REFUNDS,
        {"payment_id": paid["payment_id"], "amount_cents": 30000, "reason": REASON},
        headers={**paid["staff_headers"], HEADER: key},
        status=201,
    )
    again = client(app).post_json(
        REFUNDS,
        {"payment_id": paid["payment_id"], "amount_cents": 30000, "reason": REASON},
        headers={**paid["staff_headers"], HEADER: key},
        status=201,
    )
    assert again.headers[REPLAYED_HEADER] == "true" and again.body == first.body
    assert len(refunds(app)) == 1
    assert payment(app, paid["payment_id"]).refund_held_cents == 30000
    assert [r.action for r in core_audit(app)] == ["payments.refund_requested"]
    assert actions(app, PaymentAudit.action == "refund.requested") == ["refund.requested"]


# --- concurrency (PostgreSQL) --------------------------------------------------------------------


@contextlib.contextmanager
def lingering_after(app: TestApp, prefix: str, seconds: float = 0.3) -> Iterator[None]:
    """Hold the transaction a moment after each statement starting with ``prefix``, so that
    the racers really meet on the row it locked (the second one waits for the first)."""
    engine = app.app.registry["dbengine"]

    def linger(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(prefix.upper()):
            time.sleep(seconds)

    event.listen(engine, "after_cursor_execute", linger)
    try:
        yield
    finally:
        event.remove(engine, "after_cursor_execute", linger)


@pytest.mark.postgresql
def test_two_concurrent_refund_requests_over_the_remainder_give_one_201_and_one_409(pg_app):
    _, started = paid_booking(pg_app)
    _, first = staff_member(pg_app, "staff")
    _, second = staff_member(pg_app, "admin")
    amount = 60000  # each fits, both together exceed 99 500

    def asker(headers: dict[str, str]) -> Any:
        return lambda own: own.post_json(
            REFUNDS,
            {"payment_id": started["payment_id"], "amount_cents": amount, "reason": REASON},
            headers=headers,
            expect_errors=True,
        )

    with lingering_after(pg_app, "UPDATE payments_payments"):
        answers = race(pg_app, [asker(first), asker(second)])
    assert sorted(status for status, _ in answers) == [201, 409], answers
    [refused] = [body for status, body in answers if status == 409]
    error_named(refused, "amount_cents")
    [stored] = refunds(pg_app)
    assert (stored.amount_cents, stored.status) == (amount, "requested")
    row = payment(pg_app, started["payment_id"])
    assert (row.refund_held_cents, row.refundable_cents) == (amount, PETITE - amount)
    assert [r.action for r in core_audit(pg_app)] == ["payments.refund_requested"]
    assert count(pg_app, PaymentAudit, PaymentAudit.action == "refund.requested") == 1


@pytest.mark.postgresql
def test_many_concurrent_small_refund_requests_never_exceed_the_payment(pg_app):
    _, started = paid_booking(pg_app)
    _, staff = staff_member(pg_app, "staff")
    amount, racers = 30000, 6  # three fit in 99 500

    def request(own):
        return own.post_json(
            REFUNDS,
            {"payment_id": started["payment_id"], "amount_cents": amount, "reason": REASON},
            headers=staff,
            expect_errors=True,
        )

    answers = race(pg_app, [request] * racers)
    assert sorted(status for status, _ in answers) == [201] * 3 + [409] * 3, answers
    assert payment(pg_app, started["payment_id"]).refund_held_cents == 3 * amount
    assert len(refunds(pg_app)) == 3


@pytest.mark.postgresql
def test_two_concurrent_approvals_refund_once(pg_app):
    spy = spy_on(pg_app)
    _, started = paid_booking(pg_app)
    _, staff = staff_member(pg_app, "staff")
    _, admin_one = staff_member(pg_app, "admin")
    _, admin_two = staff_member(pg_app, "admin")
    requested = request_refund(pg_app, staff, started["payment_id"], 25000)

    def approver(headers: dict[str, str]) -> Any:
        return lambda own: own.post_json(
            f"{REFUNDS}/{requested['id']}/approve", {}, headers=headers, expect_errors=True
        )

    with lingering_after(pg_app, "UPDATE payments_refunds"):
        answers = race(pg_app, [approver(admin_one), approver(admin_two)])
    assert sorted(status for status, _ in answers) == [200, 409], answers
    [won] = [body for status, body in answers if status == 200]
    assert won["status"] == "succeeded"
    [lost] = [body for status, body in answers if status == 409]
    error_named(lost, "status")
    row = payment(pg_app, started["payment_id"])
    assert (row.refunded_cents, row.refund_held_cents) == (25000, 25000)
    assert mock_object(pg_app, row.gateway_intent_id)["amount_refunded"] == 25000
    assert count(pg_app, MockObject, MockObject.kind == "refund") == 1
    assert len(spy.refunded) == 1
    assert [r.action for r in core_audit(pg_app)] == [
        "payments.refund_requested",
        "payments.refund_approved",
    ]
    assert refund_actions(pg_app, requested["id"]) == [
        "refund.requested",
        "refund.approved",
        "refund.succeeded",
    ]


def test_refunds_leave_the_payment_rows_consistent(app, paid):
    """After a mix of decisions: held = requested + pending + succeeded, refunded = succeeded."""
    amounts = {"a": 10000, "b": 20000, "c": 30000}
    ids = {
        name: request_refund(app, paid["staff_headers"], paid["payment_id"], cents)["id"]
        for name, cents in amounts.items()
    }
    decide(app, paid["admin_headers"], ids["a"])
    decide(app, paid["admin_headers"], ids["b"], "reject")
    row = payment(app, paid["payment_id"])
    assert row.refunded_cents == 10000
    assert row.refund_held_cents == 10000 + 30000
    assert run(
        app,
        lambda ctx: sorted(
            (r.status.value, r.amount_cents) for r in ctx.dbsession.scalars(select(Refund))
        ),
    ) == [("rejected", 20000), ("requested", 30000), ("succeeded", 10000)]
    # The refundable remainder is what the payment still allows.
    assert row.refundable_cents == PETITE - 40000
