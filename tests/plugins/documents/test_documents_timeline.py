"""Every plugin's entries in a booking's and its customer's timeline (core hook
``totetaxi_timeline``): payments, deliveries, documents and emails beside the audit and status
history."""

from __future__ import annotations

from support.documents import high_value_booking, upload
from webtest import TestApp


def test_a_bookings_timeline_gathers_every_plugin(app: TestApp, staff: dict[str, str]) -> None:
    booking = high_value_booking(app)
    document = upload(app, booking)
    app.post_json(
        f"/api/v1/staff/documents/{document['id']}/review",
        {"decision": "approved", "valid_from": "2026-11-01", "valid_to": "2027-10-31"},
        headers=staff,
    )
    items = app.get(f"/api/v1/staff/bookings/{booking['id']}/timeline", headers=staff).json["items"]
    sources = {item["source"] for item in items}
    assert {"payments", "logistics", "documents", "notifications"} <= sources
    titles = " | ".join(item["title"] for item in items)
    assert any(t.startswith("Payment $") and t.endswith(": succeeded") for t in titles.split(" | "))
    assert "certificate.pdf approved" in titles
    assert "Email booking_received" in titles
    assert [item["at"] for item in items] == sorted((item["at"] for item in items), reverse=True)
