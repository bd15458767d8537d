"""The payments console in headless Chromium: a staff member asks for a partial refund on the
booking page, an admin approves it in the refunds queue, and the booking's payments panel shows
it refunded.

A guest books and pays over plain HTTP (urllib, no cookie) as the website would, with Stripe's
test card 4242 4242 4242 4242 on the mock gateway. The app's clock is fixed at Monday 2026-11-23
10:00 New York time; the booking (a Petite Mini Move, $995.00) is for Thursday 2026-12-03.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from totetaxi_payments.models import Payment, PaymentAudit, Refund

from totetaxi_core.audit.models import AuditRecord
from totetaxi_core.testing import in_transaction, make_staff

from .site import paid_booking, sign_in, start


@pytest.fixture
def live(make_live_server: Any) -> Any:
    return start(make_live_server, "pricing payments_mock")


def sign_out(page: Any) -> None:
    with page.expect_navigation():
        page.click("button:has-text('Sign out')")
    assert "/console/login" in page.url


def stored(live: Any) -> dict[str, Any]:
    def work(ctx):
        refunds = [(r.amount_cents, str(r.status)) for r in ctx.dbsession.scalars(select(Refund))]
        payment = ctx.dbsession.scalars(select(Payment)).one()
        audit = list(
            ctx.dbsession.scalars(
                select(AuditRecord.action)
                .where(AuditRecord.action.like("payments.%"))
                .order_by(AuditRecord.at)
            )
        )
        trail = list(
            ctx.dbsession.scalars(
                select(PaymentAudit.action)
                .where(PaymentAudit.action.like("refund.%"))
                .order_by(PaymentAudit.at)
            )
        )
        return {
            "refunds": refunds,
            "refunded": payment.refunded_cents,
            "held": payment.refund_held_cents,
            "audit": audit,
            "trail": trail,
        }

    return in_transaction(live.registry, work)


def test_staff_request_a_partial_refund_and_an_admin_approves_it(
    live, page, tmp_path, csp_violations
):
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
        "Amount: at most 2 decimals (whole cents)."
    )
    assert page.locator(f"{form}-reason").input_value() == "Crew arrived two hours late"
    assert stored(live)["refunds"] == []

    page.fill(f"{form}-amount", "120.50")
    with page.expect_navigation() as navigation:
        page.click(f"{form} button:has-text('Request refund')")
    assert navigation.value.status == 200
    assert page.url == live.url + booking_path + "?done=refund_requested#payments"
    assert panel.locator("[data-testid=payments-flash]").inner_text().startswith("Refund requested")
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
        "Refund approved: the gateway has refunded the money."
    )
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
    assert csp_violations == []  # the panel and the refunds page, styled from a file

    shot = tmp_path / "payments.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
