"""The customer's tracking page ``/t/{number}``: the driver's trail moves, only for its owner."""

from __future__ import annotations

import re
from typing import Any

from support.logistics import paid_booking, run, tasks_of
from webtest import TestApp


def _step(app: TestApp, task_id: Any) -> None:
    from totetaxi_logistics.adapters.mock.fleet import advance
    from totetaxi_logistics.models import DeliveryTask

    run(app, lambda ctx: advance(ctx, ctx.dbsession.get(DeliveryTask, task_id)))


def _dot(page: str) -> tuple[str, str]:
    found = re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="7"', page)
    assert len(found) == 1, page
    return found[0]


def test_the_page_shows_the_driver_moving_and_refreshes_while_moving(app: TestApp) -> None:
    booking = paid_booking(app)
    url = f"/t/{booking['number']}?token={booking['tracking_token']}"
    page = app.get(url)
    assert booking["number"] in page.text
    assert "Confirmed" in page.text and "<svg" not in page.text
    assert 'http-equiv="refresh"' not in page.text  # nothing moving yet
    pickup = tasks_of(app, booking["id"])[0].id
    for _ in range(3):  # assigned, started, first leg
        _step(app, pickup)
    first = app.get(url)
    assert "Sam" in first.text or "Alex" in first.text or "Jordan" in first.text
    assert 'http-equiv="refresh" content="30"' in first.text
    assert "Expected" in first.text
    where = _dot(first.text)
    _step(app, pickup)  # the second leg
    assert _dot(app.get(url).text) != where
    assert first.headers["Cache-Control"] == "no-store"
    # The page is served under the console's Content-Security-Policy rules: no inline style.
    # Its only script is the core's live.js, a file (no inline script).
    assert "style=" not in first.text
    assert re.findall(r"<script[^>]*>", first.text) == [
        '<script src="/console/static/core/live.js" defer>'
    ]
    assert 'data-live="booking=' in first.text


def test_only_the_owner_sees_the_page(app: TestApp) -> None:
    booking = paid_booking(app)
    app.get(f"/t/{booking['number']}", status=404)
    app.get(f"/t/{booking['number']}?token=nope", status=404)
    app.get("/t/TT-999999?token=nope", status=404)
    app.get("/t/not-a-number", status=404)
