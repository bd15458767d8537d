"""The documents console: the COI review queue and its form, the document search, the booking
page's panel, the dashboard tiles and the menu.

Staff sign in through the console's login form (``console_sign_in``) and post the forms with the
page's CSRF token, as a browser does.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from support.documents import DAY, high_value_booking, pay, rows, run, upload
from webtest import TestApp

from totetaxi_core.plugin_api import local_today
from totetaxi_core.testing import console_sign_in, csrf_token_in, make_booking

QUEUE = "/console/documents/review"
SEARCH = "/console/documents"


def _signed_in(app: TestApp, role: str = "staff") -> TestApp:
    client = TestApp(app.app)
    console_sign_in(client, role)
    return client


def _review(
    client: TestApp, document_id: str, status: int = 303, back: str = "queue", **form: str
) -> Any:
    page = client.get(QUEUE)
    return client.post(
        f"/console/documents/{document_id}/review",
        {"csrf_token": csrf_token_in(page), "back": back, **form},
        status=status,
    )


DATES = {"valid_from": "2026-11-01", "valid_to": "2027-10-31"}


def _document(app: TestApp, document_id: str) -> Any:
    from totetaxi_documents.models import Document

    return rows(app, select(Document).where(Document.id == uuid.UUID(document_id)))[0]


def _tasks(app: TestApp, booking: dict[str, Any]) -> list[Any]:
    from totetaxi_logistics.models import DeliveryTask

    return rows(
        app,
        select(DeliveryTask).where(DeliveryTask.booking_id == uuid.UUID(booking["id"])),
    )


def _audit(app: TestApp, action: str) -> list[Any]:
    from totetaxi_core.audit import AuditRecord

    return rows(app, select(AuditRecord).where(AuditRecord.action == action))


def _emails(app: TestApp, booking: dict[str, Any], template: str) -> int:
    from totetaxi_notifications.models import Notification

    return run(
        app,
        lambda ctx: ctx.dbsession.scalar(
            select(func.count()).where(
                Notification.booking_id == uuid.UUID(booking["id"]),
                Notification.template_key == template,
            )
        ),
    )


def _later_booking(app: TestApp) -> dict[str, Any]:
    """A paid Full Mini Move a week after ``DAY``."""
    booking = make_booking(app, DAY + dt.timedelta(days=7), package="full")
    pay(app, booking)
    return booking


@pytest.mark.both_databases  # the queue's joins and the missing-COI subquery per backend
def test_the_queue_lists_uploaded_cois_soonest_pickup_first(app: TestApp) -> None:
    later = _later_booking(app)
    late_doc = upload(app, later)
    soon = high_value_booking(app)
    soon_doc = upload(app, soon, filename="soon.pdf")
    bare = high_value_booking(app)  # nothing uploaded
    client = _signed_in(app)
    page = client.get(QUEUE)
    queued = page.html.find_all(attrs={"data-testid": "queue-row"})
    assert [r["data-document"] for r in queued] == [soon_doc["id"], late_doc["id"]]
    first = queued[0]
    assert soon["number"] in first.text and "soon.pdf" in first.text
    assert first.find("a", attrs={"data-testid": "booking-link"})["href"] == (
        f"/console/bookings/{soon['id']}"
    )
    download = first.find("a", attrs={"data-testid": "download"})["href"]
    assert download == f"/api/v1/documents/{soon_doc['id']}/download"
    # The console's session reaches the API's download: a 302, audited.
    assert client.get(download, status=302).headers["Location"]
    assert len(_audit(app, "documents.downloaded")) == 1
    # Missing COIs: all three are confirmed, high value and without an approved certificate.
    missing = page.html.find(attrs={"data-testid": "missing"})
    assert {r["data-booking"] for r in missing.find_all(attrs={"data-testid": "missing-row"})} == {
        soon["id"],
        later["id"],
        bare["id"],
    }
    assert "nothing uploaded yet" in missing.text


def test_approving_a_coi_releases_the_held_booking(app: TestApp) -> None:
    from totetaxi_documents.models import ReviewDecision

    booking = high_value_booking(app)
    document = upload(app, booking)
    assert all(t.provider_task_id is None for t in _tasks(app, booking))  # held
    client = _signed_in(app)
    answer = _review(
        client,
        document["id"],
        decision="approved",
        insurer="Acme Mutual",
        policy_number="P-123",
        coverage="1,000,000",
        building_name="The Dakota",
        building_address="1 W 72nd St, New York, NY",
        note="Looks right.",
        **DATES,
    )
    assert "done=approved" in answer.headers["Location"]
    stored = _document(app, document["id"])
    assert stored.status == "approved"
    assert stored.coi.coverage_cents == 100_000_000
    assert stored.coi.valid_to == dt.date(2027, 10, 31)
    assert stored.coi.insurer == "Acme Mutual"
    decisions = rows(app, select(ReviewDecision))
    assert [d.decision for d in decisions] == ["approved"]
    assert decisions[0].details["valid_from"] == "2026-11-01"
    assert len(_audit(app, "documents.approved")) == 1
    tasks = _tasks(app, booking)
    assert tasks and all(t.provider_task_id for t in tasks)
    page = client.get(QUEUE + "?done=approved")
    assert page.html.find(attrs={"data-testid": "queue-empty"}) is not None
    assert "flash" in page.text
    assert page.html.find(attrs={"data-testid": "missing-row"}) is None


def test_rejecting_a_coi_emails_the_customer_and_keeps_the_hold(app: TestApp) -> None:
    booking = high_value_booking(app)
    document = upload(app, booking)
    client = _signed_in(app)
    # A rejection says why.
    refused = _review(client, document["id"], status=400, decision="rejected")
    assert refused.html.find(attrs={"data-testid": "error-note"}) is not None
    _review(client, document["id"], decision="rejected", note="The building is not named.")
    stored = _document(app, document["id"])
    assert stored.status == "rejected"
    assert stored.review_note == "The building is not named."
    assert _emails(app, booking, "coi_missing") == 1
    assert len(_audit(app, "documents.rejected")) == 1
    assert all(t.provider_task_id is None for t in _tasks(app, booking))
    page = client.get(f"/console/bookings/{booking['id']}")
    requirement = page.html.find(attrs={"data-testid": "coi-requirement"})
    assert requirement["data-satisfied"] == "false"


def test_approving_without_dates_is_400_naming_the_field(app: TestApp) -> None:
    from totetaxi_documents.models import ReviewDecision

    booking = high_value_booking(app)
    document = upload(app, booking)
    client = _signed_in(app)
    page = _review(
        client, document["id"], status=400, decision="approved", insurer="Acme", valid_to=""
    )
    assert "Valid from" in page.html.find(attrs={"data-testid": "error-valid_from"}).text
    assert page.html.find(attrs={"data-testid": "error-valid_to"}) is not None
    form = page.html.find("form", attrs={"data-document": document["id"]})
    assert form.find("input", attrs={"name": "insurer"})["value"] == "Acme"  # what was typed
    # Bad values are named too; nothing was stored.
    page = _review(
        client, document["id"], status=400, decision="approved", coverage="lots", **DATES
    )
    assert page.html.find(attrs={"data-testid": "error-coverage"}) is not None
    bad = {"valid_from": "2027-01-01", "valid_to": "2026-01-01"}
    page = _review(client, document["id"], status=400, decision="approved", **bad)
    assert page.html.find(attrs={"data-testid": "error-valid_to"}) is not None
    assert _document(app, document["id"]).status == "uploaded"
    assert rows(app, select(ReviewDecision)) == []


def test_a_viewer_sees_the_queue_but_cannot_decide(app: TestApp) -> None:
    booking = high_value_booking(app)
    document = upload(app, booking)
    viewer = _signed_in(app, "viewer")
    page = viewer.get(QUEUE)
    assert booking["number"] in page.text
    assert page.html.find(attrs={"data-testid": "review-form"}) is None
    assert page.html.find(attrs={"data-testid": "read-only"}) is not None
    token = csrf_token_in(viewer.get("/console/"))
    viewer.post(
        f"/console/documents/{document['id']}/review",
        {"csrf_token": token, "decision": "approved", **DATES},
        status=403,
    )
    # Staff without the CSRF token are refused too.
    staff = _signed_in(app)
    staff.post(
        f"/console/documents/{document['id']}/review",
        {"decision": "approved", **DATES},
        status=403,
    )
    assert _document(app, document["id"]).status == "uploaded"


@pytest.mark.both_databases  # the search's filters and day bounds per backend
def test_search_by_number_category_status_and_dates(app: TestApp) -> None:
    first = high_value_booking(app)
    coi = upload(app, first)
    other = high_value_booking(app)
    receipt = upload(app, other, filename="receipt.pdf", category="receipt")
    client = _signed_in(app)

    def found(query: str, status: int = 200) -> list[str]:
        page = client.get(f"{SEARCH}?{query}", status=status)
        return [r["data-document"] for r in page.html.find_all(attrs={"data-testid": "result"})]

    assert set(found("")) == {coi["id"], receipt["id"]}
    assert found(f"q={first['number']}") == [coi["id"]]
    assert found("category=receipt") == [receipt["id"]]
    assert found("status=uploaded&category=coi") == [coi["id"]]
    assert found("status=approved") == []
    # The day a document was added (New York), from its row: created_at is the real clock's.
    day = local_today(_document(app, coi["id"]).created_at)
    after, before = day + dt.timedelta(days=1), day - dt.timedelta(days=1)
    assert set(found(f"from={day}&to={day}")) == {coi["id"], receipt["id"]}
    assert found(f"from={after}") == []
    assert found(f"to={before}") == []
    # Keyset pages: one a page, the next link carries the filters.
    page = client.get(f"{SEARCH}?limit=1&category=coi")
    assert page.html.find(attrs={"data-testid": "next-page"}) is None
    page = client.get(f"{SEARCH}?limit=1")
    link = page.html.find("a", attrs={"data-testid": "next-page"})["href"]
    second = client.get(link)
    assert len(second.html.find_all(attrs={"data-testid": "result"})) == 1
    # Bad filters: 400 naming the field.
    bad = client.get(f"{SEARCH}?from=2026-13-01", status=400)
    assert bad.html.find(attrs={"data-testid": "error-from"}) is not None
    bad = client.get(f"{SEARCH}?to=tomorrow", status=400)
    assert bad.html.find(attrs={"data-testid": "error-to"}) is not None
    bad = client.get(f"{SEARCH}?from=2026-11-24&to=2026-11-23", status=400)
    assert bad.html.find(attrs={"data-testid": "error-from"}) is not None
    bad = client.get(f"{SEARCH}?status=lost", status=400)
    assert bad.html.find(attrs={"data-testid": "error-status"}) is not None


def test_the_booking_panel_shows_the_missing_coi_and_reviews_it(app: TestApp) -> None:
    booking = high_value_booking(app)
    client = _signed_in(app)
    page = client.get(f"/console/bookings/{booking['id']}")
    requirement = page.html.find(attrs={"data-testid": "coi-requirement"})
    assert requirement["data-satisfied"] == "false"
    assert "missing" in requirement.text and "Thu Nov 26, 2026" in requirement.text
    assert page.html.find(attrs={"data-testid": "no-documents"}) is not None
    document = upload(app, booking)
    page = client.get(f"/console/bookings/{booking['id']}")
    panel = page.html.find(attrs={"data-testid": "documents-panel"})
    assert "certificate.pdf" in panel.text
    assert panel.find(attrs={"data-testid": "review-form"}) is not None
    # A refusal answers the booking page again, the panel's form showing it.
    token = csrf_token_in(page)
    path = f"/console/documents/{document['id']}/review"
    refused = client.post(
        path, {"csrf_token": token, "back": "booking", "decision": "approved"}, status=400
    )
    panel = refused.html.find(attrs={"data-testid": "documents-panel"})
    assert panel.find(attrs={"data-testid": "error-valid_from"}) is not None
    done = client.post(
        path,
        {"csrf_token": token, "back": "booking", "decision": "approved", **DATES},
        status=303,
    )
    assert done.headers["Location"].endswith(f"/console/bookings/{booking['id']}#documents")
    page = client.get(f"/console/bookings/{booking['id']}")
    requirement = page.html.find(attrs={"data-testid": "coi-requirement"})
    assert requirement["data-satisfied"] == "true"
    assert (
        page.html.find(attrs={"data-testid": "documents-panel"}).find(
            attrs={"data-testid": "review-form"}
        )
        is None
    )


@pytest.mark.both_databases  # SQL aggregates per backend
def test_dashboard_tiles_and_menu(app: TestApp) -> None:
    first = high_value_booking(app)
    upload(app, first)
    high_value_booking(app)  # Thursday: within 72 hours of Monday 10:00, nothing approved
    _later_booking(app)  # a week later: not yet
    client = _signed_in(app, "viewer")
    home = client.get("/console/")
    tiles = {tile.find(class_="t").text.strip(): tile for tile in home.html.find_all(class_="tile")}
    assert tiles["COIs to review"].find(class_="v").text.strip() == "1"
    assert "alert" in tiles["COIs to review"]["class"]
    assert tiles["COIs to review"].find("a")["href"] == QUEUE
    assert tiles["Missing COIs"].find(class_="v").text.strip() == "2"
    assert "alert" in tiles["Missing COIs"]["class"]
    nav = home.html.find("nav", class_="main").text
    assert "COI review" in nav and "Documents" in nav
