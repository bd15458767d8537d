"""The payments console: the refunds queue (request, approve, reject) and the booking page's
payments panel.

The app runs with the pricing plugin and the mock gateway, and the fixed clock of test_bookings:
Monday 2026-11-23 10:00 New York time; a guest books a Petite Mini Move ($995.00) for Thursday
2026-12-03 and pays it through the API with Stripe's test card 4242 4242 4242 4242.

Staff sign in with a cookie session (test_console's helpers) and post the page's own forms, which
carry the CSRF token.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from support.bookings import BOOKINGS, NOW, client, guest_body, set_clock
from support.console import audit_rows, csrf, staff_browser
from totetaxi_payments import console
from totetaxi_payments.adapters.mock import MockGateway
from totetaxi_payments.interfaces import GatewayError
from totetaxi_payments.models import Payment, PaymentAudit, Refund
from webtest import TestApp

from totetaxi_core.testing import in_transaction

QUEUE = "/console/payments/refunds"
PETITE = 99500
MISSING_ID = "00000000-0000-4000-8000-000000000000"


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def app(make_testapp) -> TestApp:
    testapp = make_testapp(**{"totetaxi.plugins": "pricing payments_mock"})
    set_clock(testapp, NOW)
    return testapp


def paid_booking(app: TestApp, card: str | None = "4242424242424242") -> dict[str, Any]:
    """A guest's booking paid through the API (``card=None``: the payment is only started)."""
    booking = client(app).post_json(BOOKINGS, guest_body(), status=201).json
    token = booking["tracking_token"]
    payment = (
        client(app)
        .post_json(f"{BOOKINGS}/{booking['id']}/payments?token={token}", {}, status=201)
        .json
    )
    if card is not None:
        client(app).post_json(
            f"/api/v1/payments/mock/confirm?token={token}",
            {"payment_id": payment["payment_id"], "card_number": card},
            status=200,
        )
    return {
        "id": booking["id"],
        "number": booking["number"],
        "token": token,
        "payment_id": payment["payment_id"],
    }


def booking_page(browser: TestApp, booking: dict[str, Any], status: int = 200) -> Any:
    return browser.get(f"/console/bookings/{booking['id']}", status=status)


def text_of(page: Any, name: str) -> str:
    """The text of the first element with ``data-testid=name`` (tags removed, spaces collapsed)."""
    match = re.search(
        rf'<(\w+)[^>]*data-testid="{re.escape(name)}"[^>]*>(.*?)</\1>', page.text, re.S
    )
    assert match, f"no data-testid={name!r} on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(2)).split())


def has(page: Any, name: str) -> bool:
    return f'data-testid="{name}"' in page.text


def row_of(page: Any, refund_id: str) -> str:
    match = re.search(rf'<tr id="refund-{refund_id}".*?</tr>', page.text, re.S)
    assert match, f"no row of refund {refund_id}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(0)).split())


def ask(
    browser: TestApp,
    booking: dict[str, Any],
    amount: str,
    reason: str = "Crew was late",
    status: int | str = 303,
) -> Any:
    """Fill and post the panel's refund form of the booking's payment."""
    page = booking_page(browser, booking)
    form = page.forms[f"refund-{booking['payment_id']}"]
    form["amount"] = amount
    form["reason"] = reason
    return form.submit(status=status)


def decide(
    browser: TestApp, refund_id: str, decision: str, note: str = "", status: int | str = 303
) -> Any:
    return browser.post(
        f"{QUEUE}/{refund_id}/{decision}",
        {"csrf_token": csrf(browser), "note": note},
        status=status,
    )


def refunds(app: TestApp) -> list[dict[str, Any]]:
    return in_transaction(
        app.app.registry,
        lambda ctx: [
            {
                "id": str(r.id),
                "amount": r.amount_cents,
                "status": str(r.status),
                "reason": r.reason,
                "note": r.decision_note,
                "requested_by": r.requested_by,
                "decided_by": r.decided_by,
            }
            for r in ctx.dbsession.scalars(select(Refund).order_by(Refund.created_at))
        ],
    )


def payment(app: TestApp, payment_id: str) -> dict[str, int]:
    def work(ctx):
        p = ctx.dbsession.get(Payment, uuid.UUID(payment_id))
        return {
            "received": p.amount_received_cents,
            "held": p.refund_held_cents,
            "refunded": p.refunded_cents,
            "refundable": p.refundable_cents,
        }

    return in_transaction(app.app.registry, work)


def payment_audit(app: TestApp) -> list[tuple[str, int | None, str]]:
    return in_transaction(
        app.app.registry,
        lambda ctx: [
            (a.action, a.amount_cents, a.actor_kind)
            for a in ctx.dbsession.scalars(
                select(PaymentAudit)
                .where(PaymentAudit.action.like("refund.%"))
                .order_by(PaymentAudit.at)
            )
        ],
    )


def refund_audit(app: TestApp) -> list[str]:
    return [r["action"] for r in audit_rows(app) if r["action"].startswith("payments.")]


def request_as(app: TestApp, booking: dict[str, Any], amount: str = "100.00") -> str:
    """A refund requested by a new staff member through the panel; its id."""
    ask(staff_browser(app, "staff"), booking, amount)
    return refunds(app)[-1]["id"]


# --- amounts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("25", 2500),
        ("25.5", 2550),
        ("25.50", 2550),
        ("0.29", 29),
        ("19.99", 1999),
        ("$1,234.56", 123456),
        (" 995.00 ", 99500),
        ("0.01", 1),
        ("100000", 10_000_000),
        ("7.", 700),
    ],
)
def test_amounts_are_read_exactly_into_cents(typed, cents):
    assert console.parse_amount(typed) == cents


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "enter the amount in dollars"),
        ("12.345", "at most 2 decimals"),
        ("0.001", "at most 2 decimals"),
        ("-5", "must not be negative"),
        ("$-5.00", "must not be negative"),
        ("abc", "enter the amount in dollars"),
        ("1e3", "enter the amount in dollars"),
        ("NaN", "enter the amount in dollars"),
        ("12,34", "enter the amount in dollars"),
        ("\u0661\u0662", "enter the amount in dollars"),  # Arabic-Indic digits are not dollars
        ("0", "at least $0.01"),
        ("0.00", "at least $0.01"),
        ("100000.01", "at most $100,000.00"),
        ("9" * 41, "enter the amount in dollars"),
    ],
)
def test_amounts_that_are_not_whole_cents_are_refused(typed, message):
    with pytest.raises(console.FieldError, match=re.escape(message)):
        console.parse_amount(typed)


# --- the panel -----------------------------------------------------------------------------------


def test_the_panel_shows_the_payment_and_the_request_form_to_staff(app):
    booking = paid_booking(app)
    page = booking_page(staff_browser(app, "staff"), booking)
    titles = re.findall(r'data-testid="panel">\s*<h2>([^<]+)</h2>', page.text)
    assert "Payments" in titles
    assert 'data-status="succeeded"' in page.text
    assert text_of(page, "received") == "$995.00"
    assert text_of(page, "refunded") == "$0.00"
    assert text_of(page, "refundable") == "$995.00"
    assert text_of(page, "attempts") == "0"
    form = page.forms[f"refund-{booking['payment_id']}"]
    assert form.action.endswith(
        f"/console/payments/payments/{booking['payment_id']}/refunds#payments"
    )
    assert form["csrf_token"].value
    assert "up to $995.00" in page.text


def test_a_declined_payment_shows_its_attempts_and_reason_and_no_form(app):
    booking = paid_booking(app, card="4000000000000002")
    page = booking_page(staff_browser(app, "admin"), booking)
    assert text_of(page, "attempts") == "1"
    assert "declined" in text_of(page, "failure-reason").lower()
    assert not has(page, "refund-form")


def test_a_booking_without_payment_says_so(app):
    booking = client(app).post_json(BOOKINGS, guest_body(), status=201).json
    page = staff_browser(app, "staff").get(f"/console/bookings/{booking['id']}")
    assert text_of(page, "no-payments") == "No payment yet."


# --- requesting ----------------------------------------------------------------------------------


def test_staff_request_a_partial_refund_from_the_panel(app):
    booking = paid_booking(app)
    browser = staff_browser(app, "staff")
    answer = ask(browser, booking, "120.50", "Crew arrived two hours late")
    assert answer.location == (
        f"http://localhost/console/bookings/{booking['id']}?done=refund_requested#payments"
    )
    page = answer.follow()
    assert text_of(page, "payments-flash").startswith("Refund requested")
    [refund] = refunds(app)
    assert refund["amount"] == 12050 and refund["status"] == "requested"
    assert refund["reason"] == "Crew arrived two hours late"
    assert refund["requested_by"] == browser.member.id
    row = row_of(page, refund["id"])
    assert "$120.50" in row and "requested" in row and "Staff Tester" in row
    assert text_of(page, "refundable") == "$874.50"  # the amount is held at once
    assert "refunds-waiting" in page.text
    assert payment(app, booking["payment_id"]) == {
        "received": PETITE,
        "held": 12050,
        "refunded": 0,
        "refundable": 87450,
    }
    assert refund_audit(app) == ["payments.refund_requested"]
    assert payment_audit(app) == [("refund.requested", 12050, "staff")]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("12.345", "Amount: at most 2 decimals (whole cents)."),
        ("-5", "Amount must not be negative."),
        ("ten dollars", "Amount: enter the amount in dollars, like 25.00."),
        ("", "Amount: enter the amount in dollars, like 25.00."),
        ("0", "Amount must be at least $0.01."),
    ],
)
def test_a_malformed_amount_is_refused_next_to_the_field(app, amount, message):
    booking = paid_booking(app)
    page = ask(staff_browser(app, "staff"), booking, amount, status=400)
    assert text_of(page, "error-amount") == message
    assert text_of(page, "booking-number") == booking["number"]  # the booking page again
    form = page.forms[f"refund-{booking['payment_id']}"]
    assert form["amount"].value == amount and form["reason"].value == "Crew was late"
    assert refunds(app) == [] and refund_audit(app) == [] and payment_audit(app) == []


def test_a_reason_is_required(app):
    booking = paid_booking(app)
    page = ask(staff_browser(app, "staff"), booking, "10", reason=" x ", status=400)
    assert text_of(page, "error-reason") == "Reason: at least 3 characters."
    page = ask(staff_browser(app, "staff"), booking, "10", reason="a\x07bc", status=400)
    assert text_of(page, "error-reason") == "Reason: control characters are not allowed."
    assert refunds(app) == []


def test_more_than_the_payment_has_left_is_409_and_nothing_is_written(app):
    booking = paid_booking(app)
    browser = staff_browser(app, "staff")
    page = ask(browser, booking, "995.01", status=409)
    assert text_of(page, "error-amount") == (
        "Amount: at most $995.00 of this payment can still be refunded."
    )
    assert refunds(app) == [] and refund_audit(app) == [] and payment_audit(app) == []
    assert payment(app, booking["payment_id"])["held"] == 0

    ask(browser, booking, "900")
    page = ask(browser, booking, "95.01", status=409)  # 95.00 is left
    assert text_of(page, "error-amount") == (
        "Amount: at most $95.00 of this payment can still be refunded."
    )
    assert text_of(page, "refundable") == "$95.00"
    assert [r["amount"] for r in refunds(app)] == [90000]
    assert payment(app, booking["payment_id"])["held"] == 90000
    ask(browser, booking, "95.00")  # exactly what is left
    assert payment(app, booking["payment_id"])["refundable"] == 0
    assert not has(booking_page(browser, booking), "refund-form")  # nothing left to refund


def test_a_payment_not_yet_succeeded_cannot_be_refunded(app):
    booking = paid_booking(app, card=None)
    browser = staff_browser(app, "staff")
    page = booking_page(browser, booking)
    assert not has(page, "refund-form")
    page = browser.post(
        f"/console/payments/payments/{booking['payment_id']}/refunds",
        {"csrf_token": csrf(browser), "amount": "10", "reason": "Changed mind"},
        status=409,
    )
    assert "Only a succeeded payment can be refunded" in text_of(page, "refund-refused")
    assert refunds(app) == []


def test_an_unknown_payment_is_404(app):
    browser = staff_browser(app, "staff")
    body = {"csrf_token": csrf(browser), "amount": "10", "reason": "Changed mind"}
    browser.post(f"/console/payments/payments/{MISSING_ID}/refunds", body, status=404)
    browser.post("/console/payments/payments/not-an-id/refunds", body, status=404)


# --- the queue -----------------------------------------------------------------------------------


def test_the_queue_lists_requested_refunds_with_their_booking(app):
    first, second = paid_booking(app), paid_booking(app)
    one = request_as(app, first, "100.00")
    two = request_as(app, second, "995")
    page = staff_browser(app, "viewer").get(QUEUE)
    assert text_of(page, "waiting") == "2"
    requested = re.findall(r'<tr id="refund-([0-9a-f-]+)"[^>]*data-status="requested"', page.text)
    assert requested == [one, two]  # oldest first
    row = row_of(page, one)
    assert first["number"] in row and "$100.00" in row and "Crew was late" in row
    assert "Staff Tester" in row
    assert f'href="http://localhost/console/bookings/{first["id"]}#payments"' in page.text
    assert "$995.00" in row_of(page, two)
    assert text_of(page, "none-decided") == "No refund has been decided yet."


def test_an_admin_approves_and_the_gateway_refunds(app):
    booking = paid_booking(app)
    refund_id = request_as(app, booking, "120.50")
    admin = staff_browser(app, "admin")
    form = admin.get(QUEUE).forms[f"approve-{refund_id}"]
    assert form.action == f"http://localhost{QUEUE}/{refund_id}/approve"
    form["note"] = "Goodwill"
    answer = form.submit(status=303)
    assert answer.location == (
        f"http://localhost{QUEUE}?done=refund_succeeded&refund={refund_id}#refund-{refund_id}"
    )
    page = answer.follow()
    assert text_of(page, "flash") == "Refund approved: the gateway has refunded the money."
    assert text_of(page, "none-waiting") == "No refund is waiting for approval."
    row = row_of(page, refund_id)
    assert "succeeded" in row and "Admin Tester" in row and "Goodwill" in row
    [refund] = refunds(app)
    assert refund["status"] == "succeeded" and refund["decided_by"] == admin.member.id
    assert payment(app, booking["payment_id"]) == {
        "received": PETITE,
        "held": 12050,
        "refunded": 12050,
        "refundable": 87450,
    }
    assert refund_audit(app) == ["payments.refund_requested", "payments.refund_approved"]
    assert [a for a, _, _ in payment_audit(app)] == [
        "refund.requested",
        "refund.approved",
        "refund.succeeded",
    ]

    panel = booking_page(admin, booking)
    assert "succeeded" in row_of(panel, refund_id)
    assert text_of(panel, "refunded") == "$120.50"
    assert text_of(panel, "refundable") == "$874.50"


def test_an_admin_rejects_and_the_amount_is_free_again(app):
    booking = paid_booking(app)
    refund_id = request_as(app, booking, "995.00")
    assert payment(app, booking["payment_id"])["refundable"] == 0
    admin = staff_browser(app, "admin")
    page = decide(admin, refund_id, "reject", "Already compensated").follow()
    assert text_of(page, "flash") == "Refund rejected; its amount can be refunded again."
    assert "rejected" in row_of(page, refund_id) and "Already compensated" in page.text
    [refund] = refunds(app)
    assert refund["status"] == "rejected" and refund["note"] == "Already compensated"
    assert payment(app, booking["payment_id"]) == {
        "received": PETITE,
        "held": 0,
        "refunded": 0,
        "refundable": PETITE,
    }
    assert refund_audit(app) == ["payments.refund_requested", "payments.refund_rejected"]
    assert has(booking_page(admin, booking), "refund-form")  # refundable again


def test_a_refund_is_decided_once(app):
    booking = paid_booking(app)
    refund_id = request_as(app, booking)
    admin = staff_browser(app, "admin")
    decide(admin, refund_id, "approve")
    page = decide(admin, refund_id, "reject", "Too late", status=409)
    assert text_of(page, "form-refused").startswith("The decision was not made")
    assert "This refund is already succeeded." in row_of(page, refund_id)
    page = decide(admin, refund_id, "approve", status=409)
    assert "This refund is already succeeded." in row_of(page, refund_id)
    assert [r["status"] for r in refunds(app)] == ["succeeded"]
    assert refund_audit(app) == ["payments.refund_requested", "payments.refund_approved"]


def test_a_gateway_that_does_not_answer_keeps_the_approval_and_retries(app, monkeypatch):
    from totetaxi_payments import tasks as payment_tasks

    booking = paid_booking(app)
    refund_id = request_as(app, booking)
    admin = staff_browser(app, "admin")

    def down(self, *args, **kwargs):
        raise GatewayError("api_connection_error", "timeout", retryable=True)

    monkeypatch.setattr(MockGateway, "refund", down)
    decide(admin, refund_id, "approve", "Goodwill")
    # The approval stands: the gateway may have refunded; a task asks again with the same key.
    [stored] = refunds(app)
    assert (stored["status"], stored["note"]) == ("pending", "Goodwill")
    assert refund_audit(app) == ["payments.refund_requested", "payments.refund_approved"]
    page = admin.get(QUEUE)
    assert "retrying" in row_of(page, refund_id)

    monkeypatch.undo()
    outcome = in_transaction(
        app.app.registry, lambda ctx: payment_tasks.refund_task(ctx, refund_id)
    )
    assert outcome == "succeeded"
    assert [r["status"] for r in refunds(app)] == ["succeeded"]


def test_a_note_too_long_is_refused_next_to_the_row(app):
    booking = paid_booking(app)
    refund_id = request_as(app, booking)
    page = decide(staff_browser(app, "admin"), refund_id, "reject", "n" * 501, status=400)
    assert text_of(page, "error-note") == "Note: at most 500 characters."
    assert [r["status"] for r in refunds(app)] == ["requested"]


def test_an_unknown_refund_is_404(app):
    admin = staff_browser(app, "admin")
    decide(admin, MISSING_ID, "approve", status=404)
    decide(admin, "not-an-id", "reject", status=404)


# --- who may do what -----------------------------------------------------------------------------


def test_staff_see_the_queue_without_buttons_and_may_not_decide(app):
    booking = paid_booking(app)
    refund_id = request_as(app, booking)
    browser = staff_browser(app, "staff")
    page = browser.get(QUEUE)
    assert refund_id in page.text
    assert not has(page, "approve-form") and not has(page, "reject-form")
    assert text_of(page, "read-only") == "Read only: admins approve or reject refunds."
    for decision in ("approve", "reject"):
        decide(browser, refund_id, decision, status=403)
    assert [r["status"] for r in refunds(app)] == ["requested"]
    assert refund_audit(app) == ["payments.refund_requested"]


def test_a_viewer_sees_the_pages_but_no_form(app):
    booking = paid_booking(app)
    refund_id = request_as(app, booking)
    viewer = staff_browser(app, "viewer")
    queue = viewer.get(QUEUE)
    assert refund_id in queue.text
    assert [f.action for f in queue.forms.values()] == ["http://localhost/console/logout"]
    page = booking_page(viewer, booking)
    assert has(page, "payments-panel") and not has(page, "refund-form")
    assert has(page, "payments-read-only")
    viewer.post(
        f"/console/payments/payments/{booking['payment_id']}/refunds",
        {"csrf_token": csrf(viewer), "amount": "1", "reason": "Just because"},
        status=403,
    )
    decide(viewer, refund_id, "approve", status=403)
    assert len(refunds(app)) == 1


@pytest.mark.both_databases
def test_the_navigation_has_refunds_for_every_staff_role(app):
    for role in ("viewer", "staff", "admin"):
        page = staff_browser(app, role).get(QUEUE)
        assert re.search(r'<a href="[^"]*/console/payments/refunds" class="active"', page.text)


def test_anonymous_callers_are_sent_to_the_login_page(app):
    answer = client(app).get(QUEUE, status=302)
    assert "/console/login" in answer.location


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_posts_without_the_right_csrf_token_are_refused(app, token):
    booking = paid_booking(app)
    refund_id = request_as(app, booking)
    body = {"note": "ok"} if token is None else {"note": "ok", "csrf_token": token}
    admin = staff_browser(app, "admin")
    page = admin.post(f"{QUEUE}/{refund_id}/approve", body, status=403)
    assert "did not come from this site" in page.text
    admin.post(f"{QUEUE}/{refund_id}/reject", body, status=403)
    staff = staff_browser(app, "staff")
    staff.post(
        f"/console/payments/payments/{booking['payment_id']}/refunds",
        {**body, "amount": "5", "reason": "Forged request"},
        status=403,
    )
    assert [r["status"] for r in refunds(app)] == ["requested"]
    assert refund_audit(app) == ["payments.refund_requested"]


def test_what_staff_typed_is_escaped(app):
    booking = paid_booking(app)
    ask(staff_browser(app, "staff"), booking, "5", reason='<script>alert("x")</script>')
    page = staff_browser(app, "admin").get(QUEUE)
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(" in page.text


@pytest.mark.both_databases
def test_the_same_refund_form_sent_twice_requests_once(app):
    """A double click (or a reload of the POST) sends the form's one-time token again: the
    second submission lands on the booking page without a second request or hold."""
    booking = paid_booking(app)
    browser = staff_browser(app, "staff")
    form = booking_page(browser, booking).forms[f"refund-{booking['payment_id']}"]
    form["amount"], form["reason"] = "100.00", "Crew was late"
    assert form["form_token"].value
    first = form.submit(status=303)
    again = form.submit(status=303)
    assert again.location == first.location
    assert [r["amount"] for r in refunds(app)] == [10000]
    # A fresh form (a new token) is a new request.
    ask(browser, booking, "50.00")
    assert sorted(r["amount"] for r in refunds(app)) == [5000, 10000]
