"""Logistics' live events: every applied provider event publishes ``tracking.update`` (after
commit) to the booking's readers and the console, with the task as its customer may see it —
status, ETA, the driver's first name and position while in progress."""

from __future__ import annotations

import datetime as dt

from support.live import published, published_types
from support.logistics import NOW, paid_booking, post_events, provider_event, tasks_of
from webtest import TestApp


def test_provider_events_publish_tracking_updates_for_the_booking(app: TestApp) -> None:
    booking = paid_booking(app)
    registry, stream = app.app.registry, f"booking:{booking['id']}"
    assert published_types(registry, stream)[:3] == [
        "booking.created",
        "booking.status",  # confirmed by the payment
        "payment.result",
    ]
    pickup = tasks_of(app, booking["id"])[0]
    eta = NOW + dt.timedelta(minutes=40)
    before = len(published(registry, stream))
    post_events(
        app,
        provider_event(
            pickup, "assigned", NOW, driver_id="mock-driver-1", driver_name="Sam Rivera"
        ),
        provider_event(pickup, "started", NOW + dt.timedelta(minutes=1), driver_id="mock-driver-1"),
        provider_event(
            pickup,
            "eta",
            NOW + dt.timedelta(minutes=2),
            eta=eta,
            position=(40.75, -73.95),
            driver_id="mock-driver-1",
        ),
    )
    events = published(registry, stream)[before:]
    updates = [e for e in events if e.type == "tracking.update"]
    assert [u.data["event"] for u in updates] == ["assigned", "started", "eta"]
    last = updates[-1].data["task"]
    assert last["status"] == "in_progress" and last["eta"] == eta.isoformat()
    assert last["driver"] == {"first_name": "Sam"}  # never the full name or the phone
    assert last["driver_position"]["latitude"] == 40.75
    # the booking followed its pickup, and the console got the same events
    assert "booking.status" in [e.type for e in events]
    assert [e.type for e in published(registry, "staff")].count("tracking.update") >= 3
    # a duplicate provider event applies nothing and publishes nothing
    count = len(published(registry, stream))
    post_events(
        app,
        provider_event(pickup, "started", NOW + dt.timedelta(minutes=1), driver_id="mock-driver-1"),
    )
    assert len(published(registry, stream)) == count
