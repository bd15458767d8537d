"""The CRM's live event: whatever moves a dashboard figure publishes ``dashboard.changed`` to
the console, once per transaction (open dashboards read their figures again)."""

from __future__ import annotations

from support.bookings import book, client, guest_body
from support.live import published_types
from webtest import TestApp


def test_a_change_that_moves_a_figure_tells_open_dashboards_once(
    app: TestApp, staff: dict[str, str]
) -> None:
    registry = app.app.registry
    booking = book(app, guest_body())
    assert published_types(registry) == ["booking.created", "dashboard.changed"]
    client(app).post_json(
        f"/api/v1/staff/bookings/{booking['id']}/status", {"status": "cancelled"}, headers=staff
    )
    assert published_types(registry)[2:] == ["booking.status", "dashboard.changed"]
    # the customer's streams never carry the console's events
    assert "dashboard.changed" not in published_types(registry, f"booking:{booking['id']}")
