"""Shared fixtures and helpers of the payments plugin's tests (``test_payments_*.py``).

Not a test module of its own (it holds no tests): the flow, webhook, refund and saved-card
modules import the ``app`` fixture and the helpers from here. The app runs with the pricing
plugin and the mock gateway (``payments_mock``, which brings ``payments``), tasks eager, and the
fixed clock of ``support.bookings``: Monday 2026-11-23 10:00 New York, bookings for
Thursday ``DAY`` at the Petite price (99 500 cents).

With eager tasks, the mock's signed events are delivered through the outbox right after the
request that caused them commits, so a test sees the settled state as soon as the request
returns. Every helper that reads the database does so in a transaction of its own and returns
plain values or detached rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from totetaxi_payments import signatures
from totetaxi_payments.adapters.mock import (
    DELIVER_TASK,
    MockObject,
    webhook_secret,
)
from totetaxi_payments.models import (
    Payment,
    PaymentAudit,
    Refund,
    SavedMethod,
    WebhookEventRecord,
)
from totetaxi_pricing.models import CapacityDay
from webtest import TestApp

from support.bookings import (
    AVAILABILITY,
    BOOKINGS,
    DAY,
    NOW,
    book,
    book_as_guest,
    client,
    customer,
    customer_body,
    error_named,
    guest_body,
    plain,
    remaining,
    set_clock,
    token_of,
)
from totetaxi_core import make_app
from totetaxi_core.hooks import hookimpl
from totetaxi_core.platform import prepare
from totetaxi_core.tasks.models import OutboxMessage
from totetaxi_core.testing import base_settings, bearer, in_transaction, make_staff
from totetaxi_core.testing import race as kit_race

__all__ = [
    "AVAILABILITY",
    "BOOKINGS",
    "DAY",
    "NOW",
    "bearer",
    "book",
    "book_as_guest",
    "cheap_passwords",
    "client",
    "customer",
    "customer_body",
    "error_named",
    "guest_body",
    "in_transaction",
    "make_staff",
    "plain",
    "remaining",
    "set_clock",
    "token_of",
]

PLUGINS = "pricing payments_mock"
PETITE = 99500
CARD_OK = "4242 4242 4242 4242"
CARD_DECLINED = "4000 0000 0000 0002"
CARD_3DS = "4000 0025 0000 3155"
WEBHOOK = "/api/v1/payments/webhook"
MOCK_CONFIRM = "/api/v1/payments/mock/confirm"
MOCK_AUTHENTICATE = "/api/v1/payments/mock/authenticate"
METHODS = "/api/v1/me/payment-methods"
REFUNDS = "/api/v1/staff/refunds"
STAFF_BOOKINGS = "/api/v1/staff/bookings"
#: High login limits: the tests take many bearer tokens from 127.0.0.1.
APP_SETTINGS = {
    "totetaxi.plugins": PLUGINS,
    "totetaxi.login_limit_per_address": 10000,
    "totetaxi.reset_limit_per_address": 10000,
}


def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its lowest cost: these tests sign in many staff members and customers, and
    what they test does not depend on how passwords are hashed."""
    from argon2 import PasswordHasher

    from totetaxi_core.identity import passwords

    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def app(make_testapp, monkeypatch) -> TestApp:
    """Pricing + payments + the mock gateway on SQLite and on PostgreSQL, clock on ``NOW``."""
    cheap_passwords(monkeypatch)
    testapp = make_testapp(**APP_SETTINGS)
    set_clock(testapp, NOW)
    return testapp


# --- the database --------------------------------------------------------------------------------


def run(app: TestApp, work: Any) -> Any:
    return in_transaction(app.app.registry, work)


def fetch(app: TestApp, statement: Any) -> list[Any]:
    """The rows ``statement`` selects, loaded and detached."""

    def read(ctx: Any) -> list[Any]:
        found = list(ctx.dbsession.scalars(statement))
        for row in found:
            ctx.dbsession.expunge(row)
        return found

    return run(app, read)


def count(app: TestApp, model: Any, *where: Any) -> int:
    return run(
        app, lambda ctx: ctx.dbsession.scalar(select(func.count()).select_from(model).where(*where))
    )


def payments(app: TestApp, booking_id: str | None = None) -> list[Payment]:
    """Payments (of a booking), oldest first."""
    statement = select(Payment).order_by(Payment.created_at)
    if booking_id is not None:
        statement = statement.where(Payment.booking_id == uuid.UUID(booking_id))
    return fetch(app, statement)


def payment(app: TestApp, payment_id: str) -> Payment:
    [row] = fetch(app, select(Payment).where(Payment.id == uuid.UUID(payment_id)))
    return row


def refunds(app: TestApp) -> list[Refund]:
    return fetch(app, select(Refund).order_by(Refund.created_at))


def audit_rows(app: TestApp, *where: Any) -> list[PaymentAudit]:
    return fetch(app, select(PaymentAudit).where(*where).order_by(PaymentAudit.at))


def actions(app: TestApp, *where: Any) -> list[str]:
    return [row.action for row in audit_rows(app, *where)]


def saved_methods(app: TestApp) -> list[SavedMethod]:
    return fetch(app, select(SavedMethod).order_by(SavedMethod.created_at))


def events_seen(app: TestApp) -> list[WebhookEventRecord]:
    return fetch(app, select(WebhookEventRecord).order_by(WebhookEventRecord.received_at))


def intents_at_gateway(app: TestApp) -> int:
    """PaymentIntents the mock gateway stored."""
    return count(app, MockObject, MockObject.kind == "payment_intent")


def mock_object(app: TestApp, object_id: str) -> dict[str, Any]:
    [row] = fetch(app, select(MockObject).where(MockObject.id == object_id))
    return dict(row.data)


def outbox(app: TestApp, task: str | None = None) -> list[OutboxMessage]:
    statement = select(OutboxMessage).order_by(OutboxMessage.created_at)
    if task is not None:
        statement = statement.where(OutboxMessage.task == task)
    return fetch(app, statement)


def booking_status(app: TestApp, booking_id: str) -> str:
    from totetaxi_core.bookings.models import Booking

    return run(app, lambda ctx: plain(ctx.dbsession.get(Booking, uuid.UUID(booking_id)).status))


def vans_booked(app: TestApp, day: Any = DAY) -> int:
    value = run(
        app,
        lambda ctx: ctx.dbsession.scalar(select(CapacityDay.booked).where(CapacityDay.day == day)),
    )
    return value or 0


def snapshot(app: TestApp) -> dict[str, Any]:
    """What a refused request must leave untouched: payments, refunds, audit, events, the
    mock's objects and the outbox, as plain values."""

    def read(ctx: Any) -> dict[str, Any]:
        db = ctx.dbsession

        def plain_rows(model: Any, *names: str) -> list[tuple[Any, ...]]:
            return sorted(
                tuple(str(getattr(row, n)) for n in names) for row in db.scalars(select(model))
            )

        return {
            "payments": plain_rows(
                Payment,
                "id",
                "status",
                "attempts",
                "amount_received_cents",
                "refund_held_cents",
                "refunded_cents",
                "last_event_at",
            ),
            "refunds": plain_rows(Refund, "id", "status", "amount_cents"),
            "audit": db.scalar(select(func.count()).select_from(PaymentAudit)),
            "events": plain_rows(WebhookEventRecord, "event_id", "outcome"),
            "mock": sorted(
                (row.id, json.dumps(row.data, sort_keys=True))
                for row in db.scalars(select(MockObject))
            ),
            "outbox": db.scalar(select(func.count()).select_from(OutboxMessage)),
            "saved": plain_rows(SavedMethod, "id", "deleted_at"),
        }

    return run(app, read)


# --- the API -------------------------------------------------------------------------------------


def pay(
    app: TestApp,
    booking: dict[str, Any],
    headers: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    status: int = 201,
    guest: bool | None = None,
    **extra: Any,
) -> Any:
    """``POST /bookings/{id}/payments``; a guest booking sends its token unless ``guest`` is
    False. Answers the response's JSON."""
    path = f"{BOOKINGS}/{booking['id']}/payments"
    use_token = booking.get("tracking_token") and (guest is None or guest)
    if use_token:
        path += f"?token={booking['tracking_token']}"
    return (
        client(app)
        .post_json(
            path, body if body is not None else {}, headers=headers or {}, status=status, **extra
        )
        .json
    )


def mock_confirm(
    app: TestApp,
    payment_id: str,
    card: str = CARD_OK,
    booking: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    """Pay with a test card through the mock (a guest passes its booking for the token)."""
    path = MOCK_CONFIRM
    if booking is not None and booking.get("tracking_token"):
        path += f"?token={booking['tracking_token']}"
    return (
        client(app)
        .post_json(
            path,
            {"payment_id": payment_id, "card_number": card},
            headers=headers or {},
            status=status,
        )
        .json
    )


def mock_authenticate(
    app: TestApp,
    payment_id: str,
    succeed: bool,
    booking: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    path = MOCK_AUTHENTICATE
    if booking is not None and booking.get("tracking_token"):
        path += f"?token={booking['tracking_token']}"
    return (
        client(app)
        .post_json(
            path,
            {"payment_id": payment_id, "succeed": succeed},
            headers=headers or {},
            status=status,
        )
        .json
    )


def paid_booking(app: TestApp, headers: dict[str, str] | None = None) -> tuple[dict, dict]:
    """A booking paid with 4242 (a guest's, or a customer's with ``headers``): (booking,
    payment as the API answers it after settling)."""
    created = book(app, customer_body() if headers else guest_body(), headers)
    started = pay(app, created, headers)
    assert mock_confirm(app, started["payment_id"], CARD_OK, created, headers)["status"] == (
        "succeeded"
    )
    assert booking_status(app, created["id"]) == "confirmed"
    return created, started


def staff_member(app: TestApp, role: str = "staff") -> tuple[Any, dict[str, str]]:
    member = make_staff(app.app.registry, role)
    return member, bearer(client(app), member.email, staff=True)


def repriced_after_payment(app: TestApp) -> tuple[dict[str, Any], str]:
    """A guest's booking paid with the mock, then moved by staff to Saturday 2026-12-05 (+15%):
    its payment needs attention. Returns the booking and the payment's id."""
    created = book_as_guest(app)
    started = pay(app, created)
    mock_confirm(app, started["payment_id"], CARD_OK, created)
    _, staff = staff_member(app)
    client(app).patch_json(
        f"{STAFF_BOOKINGS}/{created['id']}", {"date": "2026-12-05"}, headers=staff
    )
    return created, started["payment_id"]


def secret(app: TestApp) -> str:
    return webhook_secret(app.app.registry.settings)


def event_payload(
    event_type: str, obj: dict[str, Any], event_id: str | None = None, created: int | None = None
) -> bytes:
    """A Stripe-shaped event as raw bytes."""
    return json.dumps(
        {
            "id": event_id or f"evt_test_{uuid.uuid4().hex[:16]}",
            "object": "event",
            "type": event_type,
            "created": created or int(time.time()),
            "data": {"object": obj},
        }
    ).encode()


def post_webhook(
    app: TestApp, payload: bytes, signature: str | None = None, status: int = 200, sign: bool = True
) -> Any:
    """POST raw bytes to the webhook, signed with the mock's secret unless told otherwise."""
    headers = {"Content-Type": "application/json"}
    if signature is None and sign:
        signature = signatures.sign(payload, secret(app))
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return client(app).post(WEBHOOK, payload, headers=headers, status=status)


class PaymentSpy:
    """Records the payments plugin's hooks with the objects they were called with (as plain
    values taken at the time of the call)."""

    def __init__(self) -> None:
        self.succeeded: list[dict[str, Any]] = []
        self.failed: list[dict[str, Any]] = []
        self.refunded: list[dict[str, Any]] = []

    @hookimpl
    def totetaxi_payment_succeeded(self, ctx, payment, booking):
        self.succeeded.append(
            {
                "payment": str(payment.id),
                "booking": str(booking.id),
                "payment_status": plain(payment.status),
                "booking_status": plain(booking.status),
                "amount_received": payment.amount_received_cents,
                "is_payment": isinstance(payment, Payment),
            }
        )

    @hookimpl
    def totetaxi_payment_failed(self, ctx, payment, booking, reason, attempts_left):
        self.failed.append(
            {
                "payment": str(payment.id),
                "booking": str(booking.id),
                "attempts": payment.attempts,
                "reason": reason,
                "attempts_left": attempts_left,
                "booking_status": plain(booking.status),
            }
        )

    @hookimpl
    def totetaxi_refund_completed(self, ctx, refund, payment, booking):
        self.refunded.append(
            {
                "refund": str(refund.id),
                "payment": str(payment.id),
                "booking": str(booking.id),
                "amount": refund.amount_cents,
                "status": plain(refund.status),
                "refunded_cents": payment.refunded_cents,
                "is_refund": isinstance(refund, Refund),
            }
        )


def spy_on(app: TestApp) -> PaymentSpy:
    spy = PaymentSpy()
    app.app.registry.hooks.register(spy, f"payment-spy-{uuid.uuid4().hex[:6]}")
    return spy


@contextlib.contextmanager
def held_events(app: TestApp) -> Iterator[list[tuple[bytes, str]]]:
    """Keep the mock's events from reaching the handler: they are collected, already signed,
    as ``(payload, signature)``, for the test to post when and as often as it likes."""
    registry = app.app.registry
    original = registry.tasks[DELIVER_TASK]
    held: list[tuple[bytes, str]] = []

    def hold(ctx: Any, payload: str, signature: str) -> str:
        held.append((payload.encode(), signature))
        return "held"

    registry.tasks[DELIVER_TASK] = dataclasses.replace(original, func=hold)
    try:
        yield held
    finally:
        registry.tasks[DELIVER_TASK] = original


# --- racing on PostgreSQL ------------------------------------------------------------------


@pytest.fixture(name="pg_app")
def pg_app_fixture(pg_backend: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestApp]:
    """An app of its own on a fresh PostgreSQL database, with a connection for every racer."""
    cheap_passwords(monkeypatch)
    url = pg_backend.new_url()
    settings = base_settings(url, **APP_SETTINGS, **{"sqlalchemy.pool_size": "10"})
    application = make_app(prepare(settings, environ={}))
    application.registry.clock = lambda: NOW
    yield TestApp(application, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    application.registry["dbengine"].dispose()
    pg_backend.drop(url)


def race(app: TestApp, requests: list[Any]) -> list[tuple[int, Any]]:
    """Each ``request(own_client)`` in a thread of its own, all released together: the
    ``(status, json)`` answers in the order given."""

    def racer(request: Any) -> tuple[int, Any]:
        answer = request(TestApp(app.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"}))
        return answer.status_int, answer.json

    return kit_race(*[(lambda r=request: racer(r)) for request in requests])
