"""The high-value gate: a COI approved and valid on the pickup date releases the booking; the
review's rules; the COI attention emails; clean-up; staff search."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from support.documents import (
    DAY,
    NOW,
    PDF,
    as_uuid,
    documents,
    files_in,
    guest_booking,
    high_value_booking,
    post_form,
    rows,
    run,
    start,
    upload,
)
from webtest import TestApp

REVIEW = "/api/v1/staff/documents/{}/review"
COVERING = {"valid_from": "2026-11-01", "valid_to": "2027-10-31", "insurer": "Chubb"}


def _tasks(app: TestApp, booking_id: str) -> list[Any]:
    from totetaxi_logistics.models import DeliveryTask

    return rows(app, select(DeliveryTask).where(DeliveryTask.booking_id == as_uuid(booking_id)))


def _emails(app: TestApp, booking_id: str, template: str) -> int:
    from totetaxi_notifications.models import Notification

    return run(
        app,
        lambda ctx: ctx.dbsession.scalar(
            select(func.count()).where(
                Notification.booking_id == as_uuid(booking_id),
                Notification.template_key == template,
            )
        ),
    )


def _requirement(app: TestApp, booking: dict[str, Any]) -> dict[str, Any]:
    token = f"?token={booking['tracking_token']}"
    return app.get(f"/api/v1/bookings/{booking['id']}/documents{token}").json["coi"]


@pytest.mark.both_databases
def test_an_approved_coi_releases_a_held_high_value_booking(
    app: TestApp, staff: dict[str, str]
) -> None:
    booking = high_value_booking(app)
    assert _requirement(app, booking)["required"] is True
    assert _requirement(app, booking)["satisfied"] is False
    # Logistics holds its tasks, and staff cannot start it.
    assert all(t.provider_task_id is None and t.held_reason for t in _tasks(app, booking["id"]))
    refused = app.post_json(
        f"/api/v1/staff/bookings/{booking['id']}/status",
        {"status": "in_progress"},
        headers=staff,
        status=409,
    ).json
    assert "certificate of insurance" in refused["errors"][0]["description"]
    # The customer's tracking says what is missing.
    tracked = app.get(f"/api/v1/track/{booking['number']}?token={booking['tracking_token']}")
    assert "certificate of insurance" in tracked.json["documents"]["coi"]["missing"]
    document = upload(app, booking)
    approved = app.post_json(
        REVIEW.format(document["id"]),
        {"decision": "approved", "note": "Building accepted", **COVERING},
        headers=staff,
    ).json
    assert approved["status"] == "approved" and approved["coi"]["insurer"] == "Chubb"
    assert _requirement(app, booking)["satisfied"] is True
    assert all(t.provider_task_id and not t.held_reason for t in _tasks(app, booking["id"]))
    app.post_json(
        f"/api/v1/staff/bookings/{booking['id']}/status",
        {"status": "in_progress"},
        headers=staff,
    )


def test_a_rejected_or_wrongly_dated_coi_keeps_the_hold(
    app: TestApp, staff: dict[str, str]
) -> None:
    from totetaxi_documents.models import ReviewDecision

    booking = high_value_booking(app)
    document = upload(app, booking)
    app.post_json(
        REVIEW.format(document["id"]),
        {"decision": "rejected", "note": "Wrong building name"},
        headers=staff,
    )
    assert _requirement(app, booking)["satisfied"] is False
    assert _emails(app, booking["id"], "coi_missing") == 1  # the customer is told why
    # Approved, but it ends before the move: still held.
    second = upload(app, booking)
    app.post_json(
        REVIEW.format(second["id"]),
        {"decision": "approved", "valid_from": "2026-01-01", "valid_to": "2026-11-25"},
        headers=staff,
    )
    assert _requirement(app, booking)["satisfied"] is False
    app.post_json(
        f"/api/v1/staff/bookings/{booking['id']}/status",
        {"status": "in_progress"},
        headers=staff,
        status=409,
    )
    decisions = rows(app, select(ReviewDecision).order_by(ReviewDecision.at))
    assert [d.decision for d in decisions] == ["rejected", "approved"]
    assert decisions[1].details["valid_to"] == "2026-11-25"


def test_review_rules_name_the_field(app: TestApp, staff: dict[str, str]) -> None:
    booking = high_value_booking(app)
    document = upload(app, booking)
    no_dates = app.post_json(
        REVIEW.format(document["id"]), {"decision": "approved"}, headers=staff, status=400
    ).json
    assert no_dates["errors"][0]["name"] == "valid_to"
    backwards = app.post_json(
        REVIEW.format(document["id"]),
        {"decision": "approved", "valid_from": "2027-01-01", "valid_to": "2026-01-01"},
        headers=staff,
        status=400,
    ).json
    assert backwards["errors"][0]["name"] == "valid_to"
    bad = app.post_json(
        REVIEW.format(document["id"]), {"decision": "maybe"}, headers=staff, status=400
    ).json
    assert bad["errors"][0]["name"] == "decision"
    pending = start(app, booking)
    app.post_json(
        REVIEW.format(pending["document_id"]),
        {"decision": "rejected"},
        headers=staff,
        status=409,
    )
    app.post_json(REVIEW.format(uuid.uuid4()), {"decision": "rejected"}, headers=staff, status=404)


def test_a_booking_below_the_line_needs_no_coi(app: TestApp) -> None:
    booking = guest_booking(app)
    assert _requirement(app, booking) == {"required": False, "satisfied": True, "missing": None}


def test_coi_attention_fires_once_each(app: TestApp, staff: dict[str, str]) -> None:
    from totetaxi_documents.services import sweep_attention

    booking = high_value_booking(app)
    # Sunday 10:00, pickup Thursday (its midnight): 86 hours away — nothing yet.
    app.app.registry.clock = lambda: NOW - dt.timedelta(days=1)
    assert run(app, sweep_attention) == 0
    app.app.registry.clock = lambda: NOW  # Monday 10:00: 62 hours
    assert run(app, sweep_attention) == 1
    assert run(app, sweep_attention) == 0
    assert _emails(app, booking["id"], "coi_missing") == 1
    # An approved COI that ends before the move: the expiring email, once.
    document = upload(app, booking)
    app.post_json(
        REVIEW.format(document["id"]),
        {"decision": "approved", "valid_from": "2026-01-01", "valid_to": "2026-11-25"},
        headers=staff,
    )
    assert run(app, sweep_attention) == 1
    assert run(app, sweep_attention) == 0
    assert _emails(app, booking["id"], "coi_expiring") == 1


def test_clean_up_expires_uploads_never_completed_and_old_files(app: TestApp, folder: Path) -> None:
    from totetaxi_documents.models import Document
    from totetaxi_documents.services import purge_due

    booking = guest_booking(app)
    started = start(app, booking)
    post_form(app, started["upload"], PDF, "application/pdf")  # never completed
    kept = upload(app, booking)
    assert len(files_in(folder)) == 2

    def age(ctx: Any, document_id: str, hours: int) -> None:
        document = ctx.dbsession.get(Document, as_uuid(document_id))
        document.expires_at = document.expires_at - dt.timedelta(hours=hours)

    run(app, lambda ctx: age(ctx, started["document_id"], 25))
    assert run(app, purge_due) == 1
    assert len(files_in(folder)) == 1
    by_id = {str(d.id): d for d in documents(app)}
    lapsed = by_id[started["document_id"]]
    assert lapsed.status == "expired" and lapsed.purge_reason == "upload never completed"
    # Past retention (two years after the pickup by default): the file goes, the row stays.
    run(app, lambda ctx: age(ctx, kept["id"], 24 * 800))
    assert run(app, purge_due) == 1
    assert files_in(folder) == []
    gone = {str(d.id): d for d in documents(app)}[kept["id"]]
    assert gone.status == "expired" and gone.purge_reason == "past retention"
    assert gone.sha256 and gone.filename == "certificate.pdf"  # its history stays
    token = f"?token={booking['tracking_token']}"
    app.get(f"/api/v1/documents/{kept['id']}/download{token}", status=409)
    assert DAY  # the booking's pickup date the retention counts from


def test_staff_search(app: TestApp, staff: dict[str, str]) -> None:
    first, second = guest_booking(app), high_value_booking(app)
    upload(app, first, category="invoice")
    upload(app, second)
    upload(app, second, category="receipt")
    search = "/api/v1/staff/documents"
    everything = app.get(search, headers=staff).json
    assert len(everything["items"]) == 3
    by_number = app.get(f"{search}?q={second['number']}", headers=staff).json
    assert {d["category"] for d in by_number["items"]} == {"coi", "receipt"}
    assert len(app.get(f"{search}?category=invoice", headers=staff).json["items"]) == 1
    assert len(app.get(f"{search}?status=uploaded&q=gale", headers=staff).json["items"]) == 3
    today = dt.datetime.now(dt.UTC).date()
    window = f"from={today - dt.timedelta(days=1)}&to={today + dt.timedelta(days=1)}"
    assert len(app.get(f"{search}?{window}", headers=staff).json["items"]) == 3
    page = app.get(f"{search}?limit=2", headers=staff).json
    rest = app.get(f"{search}?limit=2&cursor={page['next_cursor']}", headers=staff).json
    assert len(page["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert (
        app.get(f"{search}?category=nope", headers=staff, status=400).json["errors"][0]["name"]
        == "category"
    )
    app.get(f"{search}?from=2026-12-10&to=2026-12-01", headers=staff, status=400)


def test_attention_is_not_sent_for_a_covered_booking_and_again_after_a_move(
    app: TestApp, staff: dict[str, str]
) -> None:
    from totetaxi_documents.services import sweep_attention

    booking = high_value_booking(app)
    assert run(app, sweep_attention) == 1  # missing: 62 hours before Thursday
    ending = upload(app, booking)
    app.post_json(
        REVIEW.format(ending["id"]),
        {"decision": "approved", "valid_from": "2026-01-01", "valid_to": "2026-11-25"},
        headers=staff,
    )
    covering = upload(app, booking)
    app.post_json(
        REVIEW.format(covering["id"]), {"decision": "approved", **COVERING}, headers=staff
    )
    assert run(app, sweep_attention) == 0  # the second covers the day: no "expiring"
    assert _emails(app, booking["id"], "coi_expiring") == 0
    # Covered then rejected, and the booking moved: "missing" is told for the new day.
    app.post_json(
        REVIEW.format(covering["id"]), {"decision": "rejected", "note": "Void"}, headers=staff
    )
    app.post_json(
        f"/api/v1/bookings/{booking['id']}/reschedule",
        {"date": "2026-11-27"},
        headers=staff,
    )
    assert run(app, sweep_attention) == 1  # the first COI ends before the 27th: expiring
    assert _emails(app, booking["id"], "coi_expiring") == 1
    app.app.registry.clock = lambda: NOW + dt.timedelta(days=1)  # 62 hours before Friday
    assert run(app, sweep_attention) == 1  # missing, for the new day
    assert _emails(app, booking["id"], "coi_missing") == 3  # first sweep, the rejection, now


def test_closed_bookings_and_runaway_uploads_are_refused(
    app: TestApp, staff: dict[str, str]
) -> None:
    booking = guest_booking(app)
    for _ in range(10):
        start(app, booking)
    assert start(app, booking, status=429)["errors"][0]["name"] == "booking"
    cancelled = guest_booking(app)
    app.post_json(
        f"/api/v1/bookings/{cancelled['id']}/cancel?token={cancelled['tracking_token']}", {}
    )
    assert start(app, cancelled, status=409)["errors"][0]["name"] == "booking"


def test_dates_out_of_reach_name_the_field(app: TestApp, staff: dict[str, str]) -> None:
    booking = high_value_booking(app)
    document = upload(app, booking)
    far = app.post_json(
        REVIEW.format(document["id"]),
        {"decision": "approved", "valid_from": "2026-01-01", "valid_to": "9999-12-31"},
        headers=staff,
        status=400,
    ).json
    assert far["errors"][0]["name"] == "valid_to"
    for query, name in (("to=9999-12-31", "to"), ("from=0001-01-01", "from")):
        error = app.get(f"/api/v1/staff/documents?{query}", headers=staff, status=400).json
        assert error["errors"][0]["name"] == name
