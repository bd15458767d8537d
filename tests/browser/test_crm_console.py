"""The console a dispatcher works in, in headless Chromium (issue 17's browser test): a staff
member finds a booking by its customer's email, changes its status, requests a refund that an
admin then approves, and exports a report as CSV; a viewer sees the same pages without any
action and is refused when posting anyway.

A guest books and pays over plain HTTP as the website would (the mock gateway's test card).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from totetaxi_core.testing import make_staff

from .site import paid_booking, sign_in, start

PLUGINS = "pricing payments_mock notifications mail_console crm"


@pytest.fixture
def live(make_live_server: Any) -> Any:
    return start(make_live_server, PLUGINS)


def submit(page: Any, selector: str) -> Any:
    with page.expect_navigation() as navigation:
        page.click(selector)
    return navigation.value


def test_a_day_at_the_console_and_a_viewer_who_only_reads(
    live: Any, page: Any, browser: Any, csp_violations: list[str]
) -> None:
    make_staff(live.registry, "staff", email="sam@totetaxi.test")
    make_staff(live.registry, "admin", email="dana@totetaxi.test")
    make_staff(live.registry, "viewer", email="val@totetaxi.test")
    booking = paid_booking(live)
    path = f"/console/bookings/{booking['id']}"

    # Find it by the customer's email.
    sign_in(page, live, "sam@totetaxi.test", "/console/bookings")
    page.fill("#f-q", "gale@example.com")
    submit(page, "button:has-text('Search')")
    rows = page.locator("[data-testid=bookings-table] tbody tr")
    assert rows.count() == 1
    submit(page, f"a:has-text('{booking['number']}')")
    assert page.url == live.url + path

    # Change its status.
    page.select_option("#status-status", "in_progress")
    page.fill("#status-reason", "Crew on site")
    assert submit(page, "button:has-text('Change status')").status == 200
    assert page.locator("[data-testid=booking-status]").inner_text() == "In progress"

    # Request a partial refund.
    form = f"#refund-{booking['payment_id']}"
    page.fill(f"{form}-amount", "100.00")
    page.fill(f"{form}-reason", "Crew arrived late")
    assert submit(page, f"{form} button:has-text('Request refund')").status == 200
    assert page.locator("[data-testid=refund-status]").inner_text() == "requested"

    # Export the bookings report (rows are stamped with the real time; the app's clock is fixed
    # in November: the range says which days).
    today = dt.datetime.now(dt.UTC).date()
    page.goto(
        live.url + f"/console/reports/bookings?from=2026-11-01&to={today + dt.timedelta(days=1)}"
    )
    with page.expect_download() as download:
        page.click("[data-testid=export-csv]")
    exported = download.value.path().read_text()
    assert exported.splitlines()[0].startswith("number,")
    assert booking["number"] in exported
    submit(page, "button:has-text('Sign out')")

    # An admin approves the refund in the queue.
    sign_in(page, live, "dana@totetaxi.test", "/console/payments/refunds")
    row = page.locator("#requested tr[data-status=requested]")
    row.locator("input[name=note]").first.fill("Goodwill")
    assert submit(page, "button:has-text('Approve $100.00')").status == 200
    assert page.locator("[data-testid=none-waiting]").is_visible()

    # A viewer: the same pages, no action, and a post refused.
    context = browser.new_context()
    try:
        viewer = context.new_page()
        sign_in(viewer, live, "val@totetaxi.test", path)
        actions = viewer.eval_on_selector_all("form[method=post]", "fs => fs.map(f => f.action)")
        assert actions == [live.url + "/console/logout"]
        viewer.goto(live.url + "/console/reports/bookings")
        assert viewer.locator("[data-testid=export-csv]").count() == 0
        csrf = viewer.locator("header input[name=csrf_token]").input_value()
        refused = viewer.request.post(
            live.url + f"/console/bookings/{booking['id']}/status",
            form={"csrf_token": csrf, "status": "completed", "reason": "Sneaky"},
        )
        assert refused.status == 403
    finally:
        context.close()
    assert csp_violations == []
