"""``GET /api/v1/me/notifications``: the emails sent to the signed-in customer (their own only,
newest first, keyset pages, ``?status=``), and the notifications of a booking in the staff API.
"""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import support.notifications as notifications_support
from support.notifications import (
    MY_NOTIFICATIONS,
    NOW,
    fire,
    flaky,
    notifications,
    set_clock,
)
from support.payments import (
    STAFF_BOOKINGS,
    book,
    client,
    customer,
    customer_body,
    error_named,
    guest_body,
    staff_member,
)
from totetaxi_notifications.models import Notification
from totetaxi_notifications.sealing import REDACTED
from webtest import TestApp

app = notifications_support.app  # the fixture: pricing, payments_mock, mail_console

CUSTOMER_FIELDS = {
    "id",
    "template",
    "recipient",
    "status",
    "subject",
    "text_body",
    "booking_id",
    "booking_number",
    "created_at",
    "sent_at",
}
STAFF_ONLY = {"attempts", "last_error", "provider", "provider_message_id", "next_attempt_at"}


def at(minutes: int) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


def mine(app: TestApp, headers: dict[str, str], expect: int = 200, **params: Any) -> Any:
    """The answer of ``GET /me/notifications`` with ``params`` as its query string."""
    return client(app).get(MY_NOTIFICATIONS, params=params, headers=headers, status=expect).json


@pytest.fixture
def emails_of_two(app, monkeypatch) -> dict[str, Any]:
    """Customer A: a booking (t0), a password reset (t3) and a delivery email that failed
    (t4); a guest using A's address (t1); customer B's booking (t2)."""
    alice, alice_headers = customer(app)
    bob, bob_headers = customer(app)
    set_clock(app, at(0))
    booked = book(app, customer_body(), alice_headers)
    set_clock(app, at(1))
    as_guest = book(
        app,
        guest_body(
            guest={
                "first_name": "Al",
                "last_name": "Ice",
                "email": alice["email"],
                "phone": "+1 646 555 0100",
            }
        ),
    )
    set_clock(app, at(2))
    bobs = book(app, customer_body(), bob_headers)
    set_clock(app, at(3))
    client(app).post_json("/api/v1/auth/password-reset", {"email": alice["email"]}, status=202)
    set_clock(app, at(4))
    flaky(app, monkeypatch, failures=1, permanent=True)
    fire(
        app,
        "totetaxi_delivery_updated",
        booked["id"],
        status="assigned",
        task=SimpleNamespace(id=uuid.uuid4(), driver_name="Sam", eta=None),
        key="assigned-1",
    )
    return {
        "alice": alice,
        "alice_headers": alice_headers,
        "bob": bob,
        "bob_headers": bob_headers,
        "booked": booked,
        "as_guest": as_guest,
        "bobs": bobs,
    }


@pytest.mark.both_databases
def test_a_customer_sees_their_own_emails_only_newest_first(app, emails_of_two):
    seen = mine(app, emails_of_two["alice_headers"])
    assert [(n["template"], n["status"]) for n in seen["items"]] == [
        ("delivery_assigned", "failed"),
        ("password_reset", "sent"),
        ("booking_received", "sent"),
    ]
    assert seen["next_cursor"] is None
    # Nothing of Bob's, and nothing of the guest booking made with Alice's address.
    ids = {n["id"] for n in seen["items"]}
    others = notifications(app, Notification.customer_id.is_(None)) + notifications(
        app, Notification.customer_id == uuid.UUID(emails_of_two["bob"]["id"])
    )
    assert len(others) == 2 and ids.isdisjoint(str(r.id) for r in others)
    assert {n["recipient"] for n in seen["items"]} == {emails_of_two["alice"]["email"]}
    assert {n["booking_id"] for n in seen["items"]} == {emails_of_two["booked"]["id"], None}
    bobs = mine(app, emails_of_two["bob_headers"])["items"]
    assert [(n["template"], n["booking_number"]) for n in bobs] == [
        ("booking_received", emails_of_two["bobs"]["number"])
    ]


def test_the_fields_of_an_email(app, emails_of_two):
    items = mine(app, emails_of_two["alice_headers"])["items"]
    for item in items:
        assert set(item) == CUSTOMER_FIELDS  # nothing of the staff's (errors, provider ids)
        assert not STAFF_ONLY & set(item)
    failed, reset, received = items
    number = emails_of_two["booked"]["number"]
    assert received["subject"] == f"We received your booking {number}"
    assert received["text_body"].startswith("Hello Casey,\n\nThank you for booking")
    assert f"Booking: {number}\n" in received["text_body"]
    assert (received["booking_number"], received["booking_id"]) == (
        number,
        emails_of_two["booked"]["id"],
    )
    assert received["sent_at"] == at(0).isoformat()
    assert received["created_at"] == at(0).isoformat()
    # The password reset shows with its link erased.
    assert reset["subject"] == "Reset your ToteTaxi password"
    assert REDACTED in reset["text_body"] and "token=" not in reset["text_body"]
    assert (reset["booking_number"], reset["booking_id"]) == (None, None)
    assert reset["sent_at"] == at(3).isoformat()
    # A failed one was never sent: no content, no sent time.
    assert (failed["subject"], failed["text_body"], failed["sent_at"]) == ("", "", None)
    assert failed["booking_number"] == number


@pytest.mark.both_databases
def test_pages_by_keyset(app, emails_of_two):
    headers = emails_of_two["alice_headers"]
    first = mine(app, headers, limit="2")
    assert [n["template"] for n in first["items"]] == ["delivery_assigned", "password_reset"]
    assert first["next_cursor"]
    rest = mine(app, headers, limit="2", cursor=first["next_cursor"])
    assert [n["template"] for n in rest["items"]] == ["booking_received"]
    assert rest["next_cursor"] is None
    error_named(mine(app, headers, expect=400, limit="0"), "limit")
    error_named(mine(app, headers, expect=400, cursor="not-a-cursor"), "cursor")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("sent", ["password_reset", "booking_received"]),
        ("failed", ["delivery_assigned"]),
        ("queued", []),
        ("retrying", []),
        ("held", []),
    ],
)
def test_the_status_filter(app, emails_of_two, status, expected):
    items = mine(app, emails_of_two["alice_headers"], status=status)["items"]
    assert [n["template"] for n in items] == expected
    assert {n["status"] for n in items} <= {status}


@pytest.mark.parametrize("bad", ["lost", "SENT", "sent ", "failed,sent"])
def test_a_bad_status_is_400_naming_it(app, emails_of_two, bad):
    error = error_named(mine(app, emails_of_two["alice_headers"], expect=400, status=bad), "status")
    assert error["location"] == "querystring"
    assert "queued, retrying, sent, failed, held" in error["description"]


def test_only_a_signed_in_customer_has_emails_of_their_own(app, emails_of_two):
    client(app).get(MY_NOTIFICATIONS, status=401)
    client(app).get(MY_NOTIFICATIONS, headers={"Authorization": "Bearer nope"}, status=401)
    for role in ("viewer", "staff", "admin"):
        _, headers = staff_member(app, role)
        client(app).get(MY_NOTIFICATIONS, headers=headers, status=403)


def test_a_customer_signed_in_by_cookie_sees_theirs_too(app):
    from totetaxi_core.testing import register_customer

    browser = TestApp(app.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    me = register_customer(browser)
    browser.post_json(
        "/api/v1/bookings", customer_body(), headers={"X-CSRF-Token": me["csrf"]}, status=201
    )
    items = browser.get(MY_NOTIFICATIONS).json["items"]
    assert [(n["template"], n["recipient"]) for n in items] == [("booking_received", me["email"])]


def test_the_staff_api_shows_a_bookings_notifications(app, emails_of_two):
    _, viewer = staff_member(app, "viewer")
    booked = emails_of_two["booked"]
    detail = client(app).get(f"{STAFF_BOOKINGS}/{booked['id']}", headers=viewer).json
    listed = detail["notifications"]
    assert [(n["template"], n["status"], n["recipient"]) for n in listed] == [
        ("booking_received", "sent", emails_of_two["alice"]["email"]),
        ("delivery_assigned", "failed", emails_of_two["alice"]["email"]),
    ]
    assert all(set(n) == CUSTOMER_FIELDS | STAFF_ONLY for n in listed)
    sent, failed = listed
    assert (sent["attempts"], sent["provider"], sent["last_error"]) == (1, "console", "")
    assert sent["provider_message_id"].startswith("console-")
    assert (failed["attempts"], failed["provider"], failed["next_attempt_at"]) == (
        1,
        "console",
        None,
    )
    assert failed["last_error"] == "Throttling: maximum send rate exceeded (1)"
    # The guest booking made with Alice's address lists its own email only.
    other = (
        client(app)
        .get(f"{STAFF_BOOKINGS}/{emails_of_two['as_guest']['id']}", headers=viewer)
        .json["notifications"]
    )
    assert [(n["template"], n["booking_id"]) for n in other] == [
        ("booking_received", emails_of_two["as_guest"]["id"])
    ]
    # Customers do not reach the staff API.
    client(app).get(
        f"{STAFF_BOOKINGS}/{booked['id']}", headers=emails_of_two["alice_headers"], status=403
    )
