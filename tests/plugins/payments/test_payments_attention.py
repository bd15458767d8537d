"""Payments needing attention: a staff edit re-prices a paid booking, the payment is flagged,
the attention page lists it with the difference, and staff mark it settled with a note (audited
twice); a viewer reads the page but cannot settle; the dashboard tile links here."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from support.bookings import NOW, set_clock
from support.console import audit_rows, csrf, staff_browser
from support.payments import repriced_after_payment
from totetaxi_payments.models import Payment, PaymentAudit
from webtest import TestApp

from totetaxi_core.testing import in_transaction

PAGE = "/console/payments/attention"


@pytest.fixture
def app(make_testapp) -> TestApp:
    testapp = make_testapp(**{"totetaxi.plugins": "pricing payments_mock"})
    set_clock(testapp, NOW)
    return testapp


def flag_of(app: TestApp, payment_id: str) -> bool:
    def read(ctx: Any) -> bool:
        return ctx.dbsession.get(Payment, uuid.UUID(payment_id)).needs_attention

    return in_transaction(app.app.registry, read)


def test_staff_see_the_difference_and_settle_it_once(app):
    booking, payment_id = repriced_after_payment(app)
    browser = staff_browser(app)
    page = browser.get(PAGE)
    assert page.html.find(attrs={"data-testid": "attention-count"}).text == "1"
    [row] = page.html.select("tbody tr")
    assert row["data-payment"] == payment_id
    assert booking["number"] in row.find(attrs={"data-testid": "booking-link"}).text
    assert row.find(attrs={"data-testid": "difference"}).text == "collect $149.25"
    # A note is required: 400 in the row, nothing changes.
    refused = browser.post(
        f"/console/payments/payments/{payment_id}/settle",
        {"csrf_token": csrf(browser), "note": " "},
        status=400,
    )
    assert "3 to 500" in refused.html.find(attrs={"data-testid": "error-note"}).text
    assert flag_of(app, payment_id) is True
    done = browser.post(
        f"/console/payments/payments/{payment_id}/settle",
        {"csrf_token": csrf(browser), "note": "Collected $149.25 by phone"},
        status=303,
    )
    after = browser.get(done.location)
    assert after.html.find(attrs={"data-testid": "flash"})
    assert after.html.find(attrs={"data-testid": "none-flagged"})
    assert flag_of(app, payment_id) is False
    [record] = audit_rows(app, "payments.attention_settled")
    assert record["changes"]["after"]["note"] == "Collected $149.25 by phone"

    def settled(ctx: Any) -> list[str]:
        rows = ctx.dbsession.query(PaymentAudit).filter_by(action="payment.attention_settled")
        return [r.note for r in rows]

    assert in_transaction(app.app.registry, settled) == ["Collected $149.25 by phone"]
    # A second click (or a colleague) finds nothing to settle: 409, nothing written twice.
    browser.post(
        f"/console/payments/payments/{payment_id}/settle",
        {"csrf_token": csrf(browser), "note": "Again"},
        status=409,
    )
    assert len(audit_rows(app, "payments.attention_settled")) == 1


def test_a_viewer_reads_but_cannot_settle(app):
    _, payment_id = repriced_after_payment(app)
    viewer = staff_browser(app, "viewer")
    page = viewer.get(PAGE)
    assert page.html.find(attrs={"data-testid": "read-only"})
    assert not page.html.find(attrs={"data-testid": "settle-form"})
    viewer.post(
        f"/console/payments/payments/{payment_id}/settle",
        {"csrf_token": csrf(viewer), "note": "Not mine to do"},
        status=403,
    )
    assert flag_of(app, payment_id) is True


@pytest.mark.parametrize("path", ["nope", "00000000-0000-4000-8000-000000000000"])
def test_an_unknown_payment_is_404(app, path):
    browser = staff_browser(app)
    browser.post(
        f"/console/payments/payments/{path}/settle",
        {"csrf_token": csrf(browser), "note": "Done"},
        status=404,
    )


def test_the_dashboard_tile_and_the_nav_lead_here(app):
    repriced_after_payment(app)
    home = staff_browser(app, "viewer").get("/console/")
    links = [a["href"] for a in home.html.select("a[href]")]
    assert any(href.endswith(PAGE) for href in links)
    money = home.html.find("li", attrs={"data-group": "Money"})
    assert [a.text.strip() for a in money.select("a")][:2] == ["Refunds", "Payment attention"]
