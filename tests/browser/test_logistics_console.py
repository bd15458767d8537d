"""The issue's "done when", in headless Chromium: a paid booking is driven to ``completed`` by
the mock fleet from the dispatch board while its tracking page shows the driver moving.

A guest books and pays over plain HTTP as the website would (the mock gateway's test card); a
staff member presses the board's "Advance one step" and "Complete" buttons; the guest's
tracking page (``/t/{number}?token=``, the link of their emails) is read between the steps.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from totetaxi_logistics.models import DeliveryTask

from totetaxi_core.testing import in_transaction, make_staff

from .site import paid_booking, sign_in, start

PLUGINS = "pricing payments_mock notifications mail_console logistics logistics_mock"
HAMPTONS = {"line1": "12 Dune Rd", "city": "Southampton", "state": "NY", "postal_code": "11968"}


@pytest.fixture
def live(make_live_server: Any) -> Any:
    return start(make_live_server, PLUGINS)


def _task_ids(live: Any, booking_id: str) -> dict[str, str]:
    def work(ctx: Any) -> dict[str, str]:
        tasks = ctx.dbsession.scalars(
            select(DeliveryTask).where(DeliveryTask.booking_id == uuid.UUID(booking_id))
        )
        return {str(t.kind): str(t.id) for t in tasks}

    return in_transaction(live.registry, work)


def _press(page: Any, task_id: str, button: str) -> None:
    with page.expect_navigation() as navigation:
        page.click(f"tr[data-task='{task_id}'] [data-testid={button}]")
    assert navigation.value.status == 200


def _dot(page: Any) -> tuple[str, str]:
    circle = page.locator("svg.trail circle[r='7']")
    return circle.get_attribute("cx"), circle.get_attribute("cy")


def test_the_mock_fleet_drives_a_paid_booking_to_completed_from_the_board(
    live: Any, page: Any, csp_violations: list[str]
) -> None:
    make_staff(live.registry, "staff", email="sam@totetaxi.test")
    booking = paid_booking(live, delivery=HAMPTONS)
    tasks = _task_ids(live, booking["id"])
    board = "/console/logistics?date=2026-12-03"
    sign_in(page, live, "sam@totetaxi.test", board)
    row = page.locator(f"tr[data-task='{tasks['pickup']}']")
    assert row.get_attribute("data-status") == "created"
    assert row.locator("[data-testid=booking-link]").inner_text() == booking["number"]

    for _ in range(3):  # a driver takes it, sets off, first leg
        _press(page, tasks["pickup"], "advance")
    assert page.locator(f"tr[data-task='{tasks['pickup']}']").get_attribute("data-status") == (
        "in_progress"
    )
    driver = page.locator(f"tr[data-task='{tasks['pickup']}'] [data-testid=driver]").inner_text()

    tracking = page.context.new_page()
    tracking.goto(f"{live.url}/t/{booking['number']}?token={booking['tracking_token']}")
    assert "In progress" in tracking.locator(".status").inner_text()
    assert driver.split()[0] in tracking.content()
    before = _dot(tracking)
    _press(page, tasks["pickup"], "advance")  # the second leg
    tracking.reload()
    assert _dot(tracking) != before

    _press(page, tasks["pickup"], "complete")
    for _ in range(3):  # the drop-off: assigned, started, first leg towards the Hamptons
        _press(page, tasks["dropoff"], "advance")
    tracking.reload()
    on_the_road = _dot(tracking)
    _press(page, tasks["dropoff"], "advance")
    tracking.reload()
    assert _dot(tracking) != on_the_road
    _press(page, tasks["dropoff"], "complete")
    assert page.locator(f"tr[data-task='{tasks['dropoff']}']").get_attribute("data-status") == (
        "completed"
    )

    tracking.reload()
    assert tracking.locator(".status").inner_text() == "Completed"
    assert tracking.locator("svg.trail").count() == 0  # nothing moving any more
    timeline = tracking.locator(".timeline").inner_text()
    assert "Your items were delivered." in timeline
    assert re.search(r"Your items were picked up\.", timeline)
    assert csp_violations == []
