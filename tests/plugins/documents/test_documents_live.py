"""Documents' live events (after commit): an uploaded certificate is staff's pending action
(``actions.pending``) and the booking's ``document.uploaded``; a review is the booking's
``document.reviewed`` (the decision, never staff's note)."""

from __future__ import annotations

from support.documents import high_value_booking, upload
from support.live import published
from webtest import TestApp

REVIEW = "/api/v1/staff/documents/{}/review"


def test_a_coi_upload_waits_for_staff_and_its_review_reaches_the_booking(
    app: TestApp, staff: dict[str, str]
) -> None:
    booking = high_value_booking(app)
    document = upload(app, booking)
    registry = app.app.registry
    [pending] = [e.data for e in published(registry) if e.type == "actions.pending"]
    assert pending == {
        "document_id": document["id"],
        "category": "coi",
        "kind": "coi_review",
        "number": booking["number"],
    }
    app.post_json(
        REVIEW.format(document["id"]), {"decision": "rejected", "note": "Wrong name"}, headers=staff
    )
    events = published(registry, f"booking:{booking['id']}")
    uploaded, reviewed = [e for e in events if e.type.startswith("document.")]
    assert uploaded.data["document_id"] == document["id"]
    assert reviewed.data["decision"] == "rejected" and "note" not in reviewed.data
