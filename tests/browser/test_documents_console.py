"""The documents console in headless Chromium: a guest's paid Full Mini Move ($2,490) is held
for its certificate of insurance; the guest uploads one over plain HTTP (the two-step upload
through the local storage's signed form); a staff member approves it from the COI review queue,
which releases the booking: its delivery tasks are sent and it may move to ``in_progress``.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from totetaxi_logistics.models import DeliveryTask

from totetaxi_core.testing import in_transaction, make_staff

from .site import api, paid_booking, sign_in, start

PLUGINS = (
    "pricing payments_mock notifications mail_console logistics logistics_mock "
    "documents storage_local"
)
PDF = b"%PDF-1.7\n" + b"x" * 2000 + b"\n%%EOF\n"


@pytest.fixture
def live(make_live_server: Any, tmp_path: Path) -> Any:
    return start(make_live_server, PLUGINS, **{"storage_local.folder": str(tmp_path / "files")})


def _tasks(live: Any, booking_id: str) -> list[tuple[str, str | None]]:
    def work(ctx: Any) -> list[tuple[str, str | None]]:
        tasks = ctx.dbsession.scalars(
            select(DeliveryTask).where(DeliveryTask.booking_id == uuid.UUID(booking_id))
        )
        return [(str(t.kind), t.provider_task_id) for t in tasks]

    return in_transaction(live.registry, work)


def _upload_coi(live: Any, booking: dict[str, Any]) -> str:
    """What the website does: start the upload, post the file to the signed form, complete."""
    token = booking["tracking_token"]
    base = f"/api/v1/bookings/{booking['id']}/documents"
    started = api(
        live,
        "POST",
        f"{base}/uploads?token={token}",
        {
            "category": "coi",
            "filename": "certificate.pdf",
            "content_type": "application/pdf",
            "size": len(PDF),
            "sha256": hashlib.sha256(PDF).hexdigest(),
        },
    )
    form = started["upload"]
    url = form["url"] if form["url"].startswith("http") else live.url + form["url"]
    posted = httpx.post(
        url,
        data=form["fields"],
        files={"file": ("certificate.pdf", PDF, "application/pdf")},
        timeout=10,
    )
    assert posted.status_code in (200, 201, 204), posted.text
    done = api(live, "POST", f"{base}/{started['document_id']}/complete?token={token}")
    assert done["status"] == "uploaded"
    return started["document_id"]


def test_a_coi_approved_in_the_queue_releases_the_held_booking(
    live: Any, page: Any, csp_violations: list[str]
) -> None:
    make_staff(live.registry, "staff", email="sam@totetaxi.test")
    booking = paid_booking(live, package="full")
    assert _tasks(live, booking["id"]) and all(p is None for _, p in _tasks(live, booking["id"]))
    document_id = _upload_coi(live, booking)

    sign_in(page, live, "sam@totetaxi.test", "/console/documents/review")
    row = page.locator(f"tr[data-document='{document_id}']")
    assert row.locator("[data-testid=booking-link]").inner_text() == booking["number"]
    assert "certificate.pdf" in row.inner_text()
    assert page.locator("[data-testid=missing-row]").count() == 1  # still missing: not approved
    # Approving without the dates is refused, the field named.
    with page.expect_navigation() as navigation:
        row.locator("[data-testid=approve]").click()
    assert navigation.value.status == 400
    row = page.locator(f"tr[data-document='{document_id}']")
    assert row.locator("[data-testid=error-valid_from]").is_visible()
    row.locator("input[name=insurer]").fill("Acme Mutual")
    row.locator("input[name=coverage]").fill("1,000,000")
    row.locator("input[name=valid_from]").fill("2026-11-01")
    row.locator("input[name=valid_to]").fill("2027-10-31")
    row.locator("input[name=building_name]").fill("The Dakota")
    with page.expect_navigation() as navigation:
        row.locator("[data-testid=approve]").click()
    assert navigation.value.status == 200
    assert page.locator("[data-testid=flash]").is_visible()
    assert page.locator("[data-testid=queue-empty]").is_visible()
    assert page.locator("[data-testid=missing-row]").count() == 0

    # The booking page: the COI satisfied; the tasks were dispatched.
    page.goto(f"{live.url}/console/bookings/{booking['id']}")
    requirement = page.locator("[data-testid=coi-requirement]")
    assert requirement.get_attribute("data-satisfied") == "true"
    assert "satisfied" in requirement.inner_text()
    assert "approved" in page.locator("[data-testid=documents-panel]").inner_text()
    assert all(provider_id for _, provider_id in _tasks(live, booking["id"]))
    # Nothing holds it now: the status form moves it to in_progress.
    page.select_option("#status-form select[name=status]", "in_progress")
    with page.expect_navigation() as navigation:
        page.click("#status-form button[type=submit]")
    assert navigation.value.status == 200
    assert "In progress" in page.locator("[data-testid=booking-status]").inner_text()
    assert csp_violations == []
