"""The payments console in headless Chromium: a staff member asks for a partial refund on the
booking page, an admin approves it in the refunds queue, and the booking's payments panel shows
it refunded.

A guest books and pays over plain HTTP (urllib, no cookie) as the website would, with Stripe's
test card 4242 4242 4242 4242 on the mock gateway. The app's clock is fixed at Monday 2026-11-23
10:00 New York time; the booking (a Petite Mini Move, $995.00) is for Thursday 2026-12-03.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import STRONG_PASSWORD, in_transaction, make_staff
from sqlalchemy import select
from totetaxi_payments.models import Payment, PaymentAudit, Refund

from totetaxi_core.audit.models import AuditRecord

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("America/New_York")).astimezone(dt.UTC)
PLACE = {"line1": "200 E 62nd St", "city": "New York", "state": "NY", "postal_code": "10065"}
GUEST = {"first_name": "Gale", "last_name": "Guest", "email": "gale@example.com",
         "phone": "+1 646 555 0199"}


@pytest.fixture
def live(make_live_server: Any) -> Any:
    server = make_live_server(**{"totetaxi.plugins": "pricing payments_mock"})
    server.registry.clock = lambda: NOW
    return server


def api(live: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        live.url + path, data=data, method=method,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def paid_booking(live: Any) -> dict[str, Any]:
    booking = api(live, "POST", "/api/v1/bookings", {
        "service_type": "mini_move", "package": "petite", "date": "2026-12-03",
        "pickup_address": PLACE, "delivery_address": PLACE, "guest": GUEST})
    token = booking["tracking_token"]
    payment = api(live, "POST", f"/api/v1/bookings/{booking['id']}/payments?token={token}", {})
    paid = api(live, "POST", f"/api/v1/payments/mock/confirm?token={token}",
               {"payment_id": payment["payment_id"], "card_number": "4242 4242 4242 4242"})
    assert paid["status"] == "succeeded"
    return {"id": booking["id"], "number": booking["number"],
            "payment_id": payment["payment_id"]}


def sign_in(page: Any, live: Any, email: str, path: str) -> Any:
    """Open ``path`` (anonymous: the login page), sign in, land back on ``path``."""
    page.goto(live.url + path)
    assert "/console/login" in page.url
    page.fill("#email", email)
    page.fill("#password", STRONG_PASSWORD)
    with page.expect_navigation() as navigation:
        page.click("button:has-text('Sign in')")
    assert page.url == live.url + path
    return navigation.value


def sign_out(page: Any) -> None:
    with page.expect_navigation():
        page.click("button:has-text('Sign out')")
    assert "/console/login" in page.url


def stored(live: Any) -> dict[str, Any]:
    def work(ctx):
        refunds = [(r.amount_cents, str(r.status)) for r in ctx.dbsession.scalars(select(Refund))]
        payment = ctx.dbsession.scalars(select(Payment)).one()
        audit = list(ctx.dbsession.scalars(select(AuditRecord.action).where(
            AuditRecord.action.like("payments.%")).order_by(AuditRecord.at)))
        trail = list(ctx.dbsession.scalars(select(PaymentAudit.action).where(
            PaymentAudit.action.like("refund.%")).order_by(PaymentAudit.at)))
        return {"refunds": refunds, "refunded": payment.refunded_cents,
                "held": payment.refund_held_cents, "audit": audit, "trail": trail}

    return in_transaction(live.registry, work)


def test_staff_request_a_partial_refund_and_an_admin_approves_it(live, page, tmp_path):
    make_staff(live.registry, "staff", email="sam@totetaxi.test")
    make_staff(live.registry, "admin", email="dana@totetaxi.test")
    booking = paid_booking(live)
    booking_path = f"/console/bookings/{booking['id']}"
    form = f"#refund-{booking['payment_id']}"
    panel = page.locator("[data-testid=payments-panel]")

    # A staff member opens the booking: the payments panel shows the payment and the form.
    sign_in(page, live, "sam@totetaxi.test", booking_path)
    assert panel.locator("[data-testid=payment-status]").inner_text() == "succeeded"
    assert panel.locator("[data-testid=received]").inner_text() == "$995.00"
    assert panel.locator("[data-testid=refundable]").inner_text() == "$995.00"

    # A typo is refused next to the field, and nothing is requested.
    page.fill(f"{form}-amount", "120.505")
    page.fill(f"{form}-reason", "Crew arrived two hours late")
    with page.expect_navigation() as navigation:
        page.click(f"{form} button:has-text('Request refund')")
    assert navigation.value.status == 400
    assert page.locator(f"{form} [data-testid=error-amount]").inner_text() == (
        "Amount: at most 2 decimals (whole cents).")
    assert page.locator(f"{form}-reason").input_value() == "Crew arrived two hours late"
    assert stored(live)["refunds"] == []

    page.fill(f"{form}-amount", "120.50")
    with page.expect_navigation() as navigation:
        page.click(f"{form} button:has-text('Request refund')")
    assert navigation.value.status == 200
    assert page.url == live.url + booking_path + "?done=refund_requested#payments"
    assert panel.locator("[data-testid=payments-flash]").inner_text().startswith(
        "Refund requested")
    assert panel.locator("[data-testid=refund-status]").inner_text() == "requested"
    assert panel.locator("[data-testid=refundable]").inner_text() == "$874.50"
    assert stored(live)["refunds"] == [(12050, "requested")]
    sign_out(page)

    # An admin approves it in the queue.
    sign_in(page, live, "dana@totetaxi.test", "/console/payments/refunds")
    assert page.locator("nav.main a.active").inner_text() == "Refunds"
    assert page.locator("[data-testid=waiting]").inner_text() == "1"
    row = page.locator("#requested tr[data-status=requested]")
    assert row.locator("[data-testid=booking-link]").inner_text() == booking["number"]
    assert row.locator("[data-testid=amount]").inner_text() == "$120.50"
    assert "Staff Tester" in row.inner_text()
    row.locator("input[name=note]").first.fill("Goodwill for the delay")
    with page.expect_navigation() as navigation:
        row.locator("button:has-text('Approve $120.50')").click()
    assert navigation.value.status == 200
    assert page.locator("[data-testid=flash]").inner_text() == (
        "Refund approved: the gateway has refunded the money.")
    assert page.locator("[data-testid=none-waiting]").is_visible()
    decided = page.locator("#decided tr[data-status=succeeded]")
    assert "Goodwill for the delay" in decided.inner_text()
    assert "Admin Tester" in decided.inner_text()

    # The booking's panel shows the refund done.
    with page.expect_navigation():
        decided.locator("[data-testid=booking-link]").click()
    assert page.url == live.url + booking_path + "#payments"
    assert panel.locator("[data-testid=refund-status]").inner_text() == "succeeded"
    assert panel.locator("[data-testid=refunded]").inner_text() == "$120.50"
    assert panel.locator("[data-testid=refundable]").inner_text() == "$874.50"

    facts = stored(live)
    assert facts["refunds"] == [(12050, "succeeded")]
    assert facts["refunded"] == 12050 and facts["held"] == 12050
    assert facts["audit"] == ["payments.refund_requested", "payments.refund_approved"]
    assert facts["trail"] == ["refund.requested", "refund.approved", "refund.succeeded"]

    shot = tmp_path / "payments.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
