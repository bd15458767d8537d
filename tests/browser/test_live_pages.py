"""Live pages in Chromium: the development server (the web app and the live app on one port,
``totetaxi_core.live.server.one_origin``), a staff member in one browser and a guest in
another.

The guest's tracking page (``/t/{number}?token=``) shows a status change staff make in the
console, and the console's bookings list shows a booking made meanwhile, without a reload (a
marker set in the page before the change is still there after it). Each test waits for the
change, bounded by a few seconds; none measures how fast it came.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from support.live import serve

from totetaxi_core import make_app
from totetaxi_core.live.server import one_origin
from totetaxi_core.platform import prepare
from totetaxi_core.testing import base_settings, make_staff

from .site import NOW, api, paid_booking, sign_in

PLUGINS = "pricing payments_mock notifications mail_console logistics logistics_mock"
WAIT_MS = 5000


@pytest.fixture
def site(browser_db_url: str) -> Any:
    settings = base_settings(browser_db_url, **{"totetaxi.plugins": PLUGINS})
    app = make_app(prepare(settings, environ={}))
    app.registry.clock = lambda: NOW
    served = serve(app, one_origin(app, threads=4))
    yield SimpleNamespace(url=served.url, registry=app.registry, app=app)
    served.stop()
    app.registry["dbengine"].dispose()


def live_now(page: Any) -> None:
    """The page's live script is connected (its root says so)."""
    page.wait_for_selector("[data-live-state=live]", state="attached", timeout=WAIT_MS)
    page.evaluate("window.notReloaded = true")


def test_a_status_changed_in_the_console_shows_on_the_guests_tracking_page(
    site: Any, page: Any, browser: Any, csp_violations: list[str]
) -> None:
    booking = paid_booking(site)
    guest = browser.new_context().new_page()
    try:
        guest.goto(f"{site.url}/t/{booking['number']}?token={booking['tracking_token']}")
        assert guest.locator(".status").inner_text() == "Confirmed"
        live_now(guest)

        make_staff(site.registry, "staff", email="sam@totetaxi.test")
        sign_in(page, site, "sam@totetaxi.test", f"/console/bookings/{booking['id']}")
        page.select_option("#status-status", "in_progress")
        with page.expect_navigation():
            page.click("button:has-text('Change status')")
        assert page.locator("[data-testid=booking-status]").inner_text() == "In progress"

        guest.wait_for_function(
            "document.querySelector('.status').textContent.trim() === 'In progress'",
            timeout=WAIT_MS,
        )
        assert guest.evaluate("window.notReloaded") is True  # no reload: the live script
    finally:
        guest.context.close()
    assert csp_violations == []


def test_the_console_bookings_list_shows_a_new_booking_without_a_reload(
    site: Any, page: Any, csp_violations: list[str]
) -> None:
    first = paid_booking(site)
    make_staff(site.registry, "staff", email="sam@totetaxi.test")
    sign_in(page, site, "sam@totetaxi.test", "/console/bookings")
    rows = page.locator("[data-testid=bookings-table] tbody tr")
    assert rows.count() == 1
    live_now(page)

    second = api(
        site,
        "POST",
        "/api/v1/bookings",
        {
            "service_type": "mini_move",
            "package": "petite",
            "date": "2026-12-08",
            "pickup_address": {
                "line1": "1 Main St",
                "city": "New York",
                "state": "NY",
                "postal_code": "10001",
            },
            "delivery_address": {
                "line1": "12 Dune Rd",
                "city": "Southampton",
                "state": "NY",
                "postal_code": "11968",
            },
            "guest": {
                "first_name": "Robin",
                "last_name": "Guest",
                "email": "robin@example.com",
                "phone": "+1 646 555 0100",
            },
        },
    )
    page.wait_for_selector(f"tr[data-number='{second['number']}']", timeout=WAIT_MS)
    assert rows.count() == 2 and page.evaluate("window.notReloaded") is True
    assert first["number"] in page.locator("[data-testid=bookings-table]").inner_text()
    assert csp_violations == []
