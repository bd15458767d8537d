"""Payments' live events (after commit): ``payment.result`` to the booking's readers and the
console — a decline with the attempts left, a success, a refund — and ``actions.pending`` to
the console when a refund waits for an admin."""

from __future__ import annotations

import support.payments as payments_support
from support.bookings import book, client, guest_body
from support.live import published
from support.payments import CARD_DECLINED, CARD_OK, mock_confirm, pay, staff_member
from webtest import TestApp

app = payments_support.app  # the fixture: pricing + payments_mock, clock on NOW


def _results(app: TestApp, booking: dict) -> list[dict]:
    events = published(app.app.registry, f"booking:{booking['id']}")
    return [dict(e.data) for e in events if e.type == "payment.result"]


def test_payment_results_and_pending_refunds_are_published(app: TestApp) -> None:
    booking = book(app, guest_body())
    started = pay(app, booking)
    mock_confirm(app, started["payment_id"], CARD_DECLINED, booking)
    mock_confirm(app, started["payment_id"], CARD_OK, booking)
    declined, paid = _results(app, booking)
    assert declined["result"] == "failed" and declined["attempts_left"] == 2
    assert declined["reason"] and declined["payment_id"] == started["payment_id"]
    assert paid["result"] == "succeeded" and paid["status"] == "confirmed"
    assert paid["amount_cents"] == booking["total_cents"]

    _, staff = staff_member(app, "staff")
    body = {"payment_id": started["payment_id"], "amount_cents": 10000, "reason": "Scratched"}
    refund = client(app).post_json("/api/v1/staff/refunds", body, headers=staff).json
    pending = [e for e in published(app.app.registry) if e.type == "actions.pending"]
    assert [e.data for e in pending] == [
        {"kind": "refund_approval", "refund_id": refund["id"], "booking_id": booking["id"]}
    ]
    # the customer's streams never hear of staff's queue
    assert "actions.pending" not in [
        e.type for e in published(app.app.registry, f"booking:{booking['id']}")
    ]
    _, admin = staff_member(app, "admin")
    client(app).post_json(f"/api/v1/staff/refunds/{refund['id']}/approve", {}, headers=admin)
    assert _results(app, booking)[-1]["result"] == "refunded"
