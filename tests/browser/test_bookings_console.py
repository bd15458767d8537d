"""The bookings console in headless Chromium: staff find a booking by its number, confirm it and
move it to a Saturday (the weekend surcharge re-prices it); a move to a full day is refused next
to the date and the booking is then cancelled; a viewer reads the same page without forms.

Bookings are made through the public API over plain HTTP (urllib, no cookie), as the website
would. The app's clock is fixed at Monday 2026-11-23 10:00 New York time; Thursday 2026-12-03
has no surcharge (Petite: $995.00), Saturday 2026-12-05 adds 15% ($1,144.25).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from totetaxi_core.audit.models import AuditRecord
from totetaxi_core.testing import in_transaction, make_staff

from .site import PLACE, api, sign_in, start

THURSDAY, SATURDAY, TUESDAY = "2026-12-03", "2026-12-05", "2026-12-08"
BEACH = {"line1": "12 Dune Rd", "city": "Southampton", "state": "NY", "postal_code": "11968"}


@pytest.fixture
def live(make_live_server: Any) -> Any:
    return start(make_live_server, "pricing")


def book(live: Any, day: str, first_name: str = "Gale") -> dict[str, Any]:
    return api(
        live,
        "POST",
        "/api/v1/bookings",
        {
            "service_type": "mini_move",
            "package": "petite",
            "date": day,
            "pickup_address": PLACE,
            "delivery_address": BEACH,
            "guest": {
                "first_name": first_name,
                "last_name": "Guest",
                "email": f"{first_name.lower()}@example.com",
                "phone": "+1 646 555 0199",
            },
        },
    )


def submit(page: Any, button: str) -> Any:
    with page.expect_navigation() as navigation:
        page.click(button)
    return navigation.value


def booking_actions(live: Any) -> list[str]:
    return in_transaction(
        live.registry,
        lambda ctx: list(
            ctx.dbsession.scalars(
                select(AuditRecord.action)
                .where(AuditRecord.action.like("booking.%"))
                .order_by(AuditRecord.at)
            )
        ),
    )


def test_staff_find_a_booking_confirm_it_and_move_it_to_saturday(
    live, page, tmp_path, csp_violations
):
    book(live, THURSDAY, "Robin")
    wanted = book(live, THURSDAY)
    book(live, TUESDAY, "Sasha")
    make_staff(live.registry, "staff", email="sam@totetaxi.test")
    sign_in(page, live, "sam@totetaxi.test", "/console/bookings")
    assert page.locator("nav.main a.active").inner_text() == "Bookings"
    assert page.locator("[data-testid=bookings-table] tbody tr").count() == 3

    # Search by the number, as typed on the phone ("tt" and no zeros).
    page.fill("#f-q", "tt" + wanted["number"][-1])
    submit(page, "button:has-text('Search')")
    rows = page.locator("[data-testid=bookings-table] tbody tr")
    assert rows.count() == 1
    assert "Gale Guest" in rows.inner_text() and "$995.00" in rows.inner_text()
    submit(page, f"a:has-text('{wanted['number']}')")
    assert page.url == f"{live.url}/console/bookings/{wanted['id']}"
    assert page.locator("[data-testid=booking-status]").inner_text() == "Pending payment"
    assert page.locator("[data-testid=booking-total]").inner_text() == "$995.00"

    # Confirm it.
    page.select_option("#status-status", "confirmed")
    page.fill("#status-reason", "Paid by phone")
    answer = submit(page, "button:has-text('Change status')")
    assert answer.status == 200 and page.url.endswith("?done=status_changed")
    assert page.locator("[data-testid=flash]").inner_text() == "Status changed."
    assert page.locator("[data-testid=booking-status]").inner_text() == "Confirmed"
    assert "Paid by phone" in page.locator("[data-testid=history]").inner_text()

    # Move it to Saturday: the weekend surcharge re-prices it.
    page.fill("#edit-date", SATURDAY)
    page.select_option("#edit-time_window", "afternoon")
    answer = submit(page, "button:has-text('Save changes')")
    assert answer.status == 200 and page.url.endswith("?done=booking_repriced")
    assert "priced again" in page.locator("[data-testid=flash]").inner_text()
    assert page.locator("[data-testid=booking-total]").inner_text() == "$1,144.25"
    assert page.locator("[data-testid=booking-pickup]").inner_text() == (
        "Sat Dec 5, 2026, afternoon"
    )
    assert "Weekend +15%" in page.locator("[data-testid=quote]").inner_text()
    assert page.locator("#edit-date").input_value() == SATURDAY
    assert booking_actions(live) == ["booking.status_changed", "booking.updated"]
    # The list, the booking page and its plugins' panels, with their stylesheets (files), ran
    # under the console's Content-Security-Policy without a refusal.
    assert page.locator("link[rel=stylesheet]").count() >= 1
    assert csp_violations == []

    shot = tmp_path / "booking.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_full_day_is_refused_at_the_date_then_staff_cancel_and_a_viewer_only_reads(
    live, page, browser
):
    wanted = book(live, THURSDAY)
    for name in ("Ana", "Ben", "Cy", "Di"):
        book(live, TUESDAY, name)
    make_staff(live.registry, "staff", email="sam@totetaxi.test")
    path = f"/console/bookings/{wanted['id']}"
    sign_in(page, live, "sam@totetaxi.test", path)

    page.fill("#edit-date", TUESDAY)
    answer = submit(page, "button:has-text('Save changes')")
    assert answer.status == 409
    assert page.locator("[data-testid=error-edit-date]").inner_text() == (
        "2026-12-08 is fully booked: no van left."
    )
    assert page.locator("#edit-date").get_attribute("aria-invalid") == "true"
    assert page.locator("[data-testid=booking-pickup]").inner_text() == "Thu Dec 3, 2026, morning"
    assert booking_actions(live) == []

    # Cancelling needs the box ticked.
    page.fill("#cancel-reason", "Customer called")
    answer = submit(page, "button:has-text('Cancel booking')")
    assert answer.status == 400
    assert "Tick the box" in page.locator("[data-testid=error-cancel-confirm]").inner_text()
    page.check("#cancel-confirm")
    answer = submit(page, "button:has-text('Cancel booking')")
    assert answer.status == 200 and page.url.endswith("?done=booking_cancelled")
    assert page.locator("[data-testid=booking-status]").inner_text() == "Cancelled"
    assert page.locator("form#edit-form").count() == 0
    assert booking_actions(live) == ["booking.status_changed"]

    # A viewer reads the same page: no form but the header's sign-out.
    make_staff(live.registry, "viewer", email="val@totetaxi.test")
    context = browser.new_context()
    try:
        viewer = context.new_page()
        sign_in(viewer, live, "val@totetaxi.test", path)
        assert viewer.locator("[data-testid=read-only]").is_visible()
        actions = viewer.eval_on_selector_all("form[method=post]", "fs => fs.map(f => f.action)")
        assert actions == [live.url + "/console/logout"]
        assert "Customer called" in viewer.locator("[data-testid=history]").inner_text()
    finally:
        context.close()
