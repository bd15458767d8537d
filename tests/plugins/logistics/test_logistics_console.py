"""The logistics console: the dispatch board and its forms, the mock fleet's buttons and
drivers, the booking panel, the dashboard tiles and the delivery analytics.

Staff sign in through the console's login form (``console_sign_in``) and post the forms with the
page's CSRF token, as a browser does.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from support.logistics import DAY, NOW, paid_booking, rows, run, tasks_of
from webtest import TestApp

from totetaxi_core.plugin_api import hookimpl
from totetaxi_core.testing import console_sign_in, csrf_token_in

BOARD = "/console/logistics"
DRIVERS = "/console/logistics/drivers"
ANALYTICS = "/console/logistics/analytics"


def _signed_in(app: TestApp, role: str = "staff") -> TestApp:
    client = TestApp(app.app)
    console_sign_in(client, role)
    return client


def _board(client: TestApp, day: dt.date = DAY, status: int = 200) -> Any:
    return client.get(f"{BOARD}?date={day.isoformat()}", status=status)


def _post(client: TestApp, task: Any, action: str, status: int = 303, **form: str) -> Any:
    token = csrf_token_in(_board(client))
    return client.post(
        f"{BOARD}/tasks/{task.id}/{action}",
        {"csrf_token": token, "date": DAY.isoformat(), **form},
        status=status,
    )


def _task(app: TestApp, booking: dict[str, Any], kind: str) -> Any:
    return [t for t in tasks_of(app, booking["id"]) if t.kind == kind][-1]


def _audit(app: TestApp, action: str) -> list[Any]:
    from totetaxi_core.audit import AuditRecord

    return rows(app, select(AuditRecord).where(AuditRecord.action == action))


def _drivers(app: TestApp) -> list[Any]:
    from totetaxi_logistics.models import Driver

    return rows(app, select(Driver).order_by(Driver.name))


@pytest.mark.both_databases  # SQL aggregates and date arithmetic per backend
def test_the_board_lists_a_paid_bookings_tasks(app: TestApp) -> None:
    booking = paid_booking(app)
    client = _signed_in(app)
    page = _board(client)
    section = page.html.find(attrs={"data-testid": "section-created"})
    assert section is not None
    assert booking["number"] in section.text
    assert "pickup" in section.text and "dropoff" in section.text
    assert "attempt 1" in section.text
    link = section.find("a", attrs={"data-testid": "booking-link"})
    assert link["href"] == f"/console/bookings/{booking['id']}"
    assert "08:00" in section.text  # the morning window, New York time
    # Default day is today in New York; other days are one link away.
    today = client.get(BOARD)
    assert "Mon Nov 23, 2026" in today.text
    assert "no-tasks" in today.text
    assert f"date={(DAY - dt.timedelta(days=1)).isoformat()}" in page.text
    # A malformed date is a 400 naming the field, never a 500.
    bad = client.get(f"{BOARD}?date=26/11/2026", status=400)
    assert "Date: enter a date as YYYY-MM-DD." in bad.text


def test_assigning_a_driver_is_applied_and_audited(app: TestApp) -> None:
    booking = paid_booking(app)
    client = _signed_in(app)
    pickup = _task(app, booking, "pickup")
    driver = next(d for d in _drivers(app) if d.name == "Alex Chen")
    answer = _post(client, pickup, "assign", driver_id=str(driver.id))
    assert answer.location.endswith(f"date={DAY.isoformat()}&done=assigned#task-{pickup.id}")
    pickup = _task(app, booking, "pickup")
    assert pickup.status == "assigned"
    assert pickup.driver_id == driver.id
    records = _audit(app, "logistics.task_assigned")
    assert [str(r.target_id) for r in records] == [str(pickup.id)]
    page = _board(client)
    assigned = page.html.find(attrs={"data-testid": "section-assigned"})
    assert "Alex Chen" in assigned.text
    # An unknown driver: 400 with the field named, the board again, nothing changed.
    refused = _post(client, pickup, "assign", status=400, driver_id=str(uuid.uuid4()))
    assert "Driver: choose an active driver." in refused.text
    assert _task(app, booking, "pickup").driver_id == driver.id


def test_failing_a_task_shows_it_failed_with_its_reason(app: TestApp) -> None:
    booking = paid_booking(app)
    client = _signed_in(app)
    pickup = _task(app, booking, "pickup")
    short = _post(client, pickup, "fail", status=400, reason="")
    assert "Reason: this cannot be empty." in short.text
    _post(client, pickup, "fail", reason="Customer not home, no answer at the door")
    pickup = _task(app, booking, "pickup")
    assert pickup.status == "failed"
    assert pickup.failure_reason == "Customer not home, no answer at the door"
    failed = _board(client).html.find(attrs={"data-testid": "section-failed"})
    assert "Customer not home, no answer at the door" in failed.text
    assert _audit(app, "logistics.task_failed")
    # Failing it again: the service's 409, shown on the board.
    again = _post(client, pickup, "fail", status=409, reason="Twice")
    assert "This task is failed already." in again.text


def test_rescheduling_a_failed_pickup_moves_the_booking_and_a_full_day_refuses(
    app: TestApp,
) -> None:
    from totetaxi_pricing import services as pricing

    booking = paid_booking(app)
    client = _signed_in(app)
    pickup = _task(app, booking, "pickup")
    _post(client, pickup, "fail", reason="Van broke down")
    full = DAY + dt.timedelta(days=1)
    run(app, lambda ctx: pricing.set_capacity(ctx, full, 0, None, "Closed"))
    refused = _post(
        client, pickup, "reschedule", status=409, new_date=full.isoformat(), time_window="morning"
    )
    assert refused.html.find(attrs={"data-testid": "error-reschedule-new_date"}) is not None
    assert len(tasks_of(app, booking["id"])) == 2  # nothing changed
    bad = _post(client, pickup, "reschedule", status=400, new_date="soon", time_window="noon")
    assert "New date: enter a date as YYYY-MM-DD." in bad.text
    assert "Window: choose morning or afternoon." in bad.text
    later = DAY + dt.timedelta(days=2)
    _post(client, pickup, "reschedule", new_date=later.isoformat(), time_window="afternoon")
    attempts = [t for t in tasks_of(app, booking["id"]) if t.kind == "pickup"]
    assert [(t.attempt, t.status) for t in attempts] == [(1, "failed"), (2, "created")]
    assert attempts[0].superseded_by == attempts[1].id
    token = booking["tracking_token"]
    moved = app.get(f"/api/v1/bookings/{booking['id']}?token={token}").json
    assert moved["pickup_date"] == later.isoformat()
    assert _board(client).html.find(attrs={"data-testid": "section-failed"}) is None
    assert booking["number"] in _board(client, later).text


def test_the_mock_fleet_buttons_drive_a_task_to_completed(app: TestApp) -> None:
    booking = paid_booking(app)
    client = _signed_in(app)
    page = _board(client)
    assert page.html.find(attrs={"data-testid": "mock-buttons"}) is not None
    pickup = _task(app, booking, "pickup")
    _post(client, pickup, "advance")
    assert _task(app, booking, "pickup").status == "assigned"
    _post(client, pickup, "complete")
    pickup = _task(app, booking, "pickup")
    assert pickup.status == "completed"
    assert pickup.proof_signature.startswith("mock-signature-")
    assert _audit(app, "logistics.mock_completed")
    # A finished task has no buttons, and a stale button is a 409 with the reason.
    again = _post(client, pickup, "advance", status=409)
    assert "not open at the mock fleet" in again.text


def test_no_driver_in_the_mock_fleet_is_a_message(app: TestApp) -> None:
    from totetaxi_logistics.models import Driver

    booking = paid_booking(app)

    def retire(ctx: Any) -> None:
        for driver in ctx.dbsession.scalars(select(Driver)):
            driver.active = False

    run(app, retire)
    client = _signed_in(app)
    answer = _post(client, _task(app, booking, "pickup"), "advance", status=400)
    assert "No active driver in the mock fleet" in answer.text


class Holder:
    @hookimpl
    def totetaxi_booking_holds(self, booking: Any) -> list[dict[str, str]]:
        return [{"code": "coi_missing", "description": "No approved certificate of insurance."}]


def test_a_held_booking_is_shown_with_its_reason(app: TestApp) -> None:
    app.app.registry.hooks.register(Holder(), "fake-documents")
    booking = paid_booking(app)
    client = _signed_in(app)
    held = _board(client).html.find(attrs={"data-testid": "held"})
    assert booking["number"] in held.text
    assert "No approved certificate of insurance." in held.text
    panel = client.get(f"/console/bookings/{booking['id']}")
    assert "Held: No approved certificate of insurance." in panel.text
    tiles = client.get("/console/")
    assert "Held bookings" in tiles.text


def test_the_booking_panel_shows_tasks_and_timeline(app: TestApp) -> None:
    booking = paid_booking(app)
    client = _signed_in(app)
    _post(client, _task(app, booking, "pickup"), "complete")
    page = client.get(f"/console/bookings/{booking['id']}")
    panel = page.html.find(attrs={"data-testid": "delivery-panel"})
    assert panel is not None
    assert "Left with the customer." in panel.text  # proof of delivery
    timeline = panel.find(attrs={"data-testid": "delivery-timeline"})
    assert "dispatched" in timeline.text and "completed" in timeline.text


def test_the_drivers_page_adds_edits_and_deactivates_a_mock_driver(app: TestApp) -> None:
    client = _signed_in(app)
    page = client.get(DRIVERS)
    assert "Sam Rivera" in page.text
    token = csrf_token_in(page)
    empty = client.post(f"{DRIVERS}/new", {"csrf_token": token, "name": " "}, status=400)
    assert "Name: this cannot be empty." in empty.text
    client.post(
        f"{DRIVERS}/new",
        {"csrf_token": token, "name": "Riley Park", "phone": "+12125550199", "vehicle": "Van 9"},
        status=303,
    )
    riley = next(d for d in _drivers(app) if d.name == "Riley Park")
    assert riley.provider == "mock" and riley.provider_id.startswith("mock-driver-")
    assert riley.active
    client.post(
        f"{DRIVERS}/{riley.id}/edit",
        {"csrf_token": token, "name": "Riley Park", "phone": "", "vehicle": "Box truck"},
        status=303,
    )
    riley = next(d for d in _drivers(app) if d.name == "Riley Park")
    assert riley.vehicle == "Box truck" and not riley.on_duty
    client.post(f"{DRIVERS}/{riley.id}/active", {"csrf_token": token, "active": "0"}, status=303)
    riley = next(d for d in _drivers(app) if d.name == "Riley Park")
    assert not riley.active
    actions = {
        r.action
        for r in rows(
            app,
            select(__import__("totetaxi_core.audit", fromlist=["AuditRecord"]).AuditRecord),
        )
    }
    assert {
        "logistics.driver_added",
        "logistics.driver_changed",
        "logistics.driver_deactivated",
    } <= actions


def test_onfleet_drivers_are_read_only(app: TestApp) -> None:
    from totetaxi_logistics.models import Driver

    def add(ctx: Any) -> None:
        ctx.dbsession.add(Driver(provider="onfleet", provider_id="w1", name="Onfleet Olly"))

    run(app, add)
    olly = next(d for d in _drivers(app) if d.name == "Onfleet Olly")
    client = _signed_in(app)
    token = csrf_token_in(client.get(DRIVERS))
    answer = client.post(
        f"{DRIVERS}/{olly.id}/edit", {"csrf_token": token, "name": "X"}, status=409
    )
    assert "synced from the provider" in answer.text


def _known_set(app: TestApp) -> None:
    """Four final tasks on DAY: two completed on time, one 30 minutes late, one failed."""
    from totetaxi_logistics.models import DeliveryTask

    first, second = paid_booking(app), paid_booking(app)

    def settle(ctx: Any) -> None:
        tasks = {
            (str(t.booking_id), t.kind): t for t in ctx.dbsession.scalars(select(DeliveryTask))
        }
        for key in ((first["id"], "pickup"), (first["id"], "dropoff")):
            task = tasks[key]
            task.status, task.completed_at = "completed", task.complete_before
        late = tasks[(second["id"], "pickup")]
        late.status = "completed"
        late.completed_at = late.complete_before + dt.timedelta(minutes=30)
        failed = tasks[(second["id"], "dropoff")]
        failed.status, failed.failure_reason = "failed", "Building closed"

    run(app, settle)


@pytest.mark.both_databases  # SQL aggregates and date arithmetic per backend
def test_analytics_of_a_known_set(app: TestApp) -> None:
    _known_set(app)
    client = _signed_in(app)
    page = client.get(f"{ANALYTICS}?from={DAY.isoformat()}&to={DAY.isoformat()}")
    assert page.html.find(attrs={"data-testid": "completion-rate"}).text == "75.0%"
    assert page.html.find(attrs={"data-testid": "on-time-rate"}).text == "66.7%"
    assert page.html.find(attrs={"data-testid": "average-lateness"}).text == "30 min"
    reasons = page.html.find(attrs={"data-testid": "reasons"})
    assert "Building closed" in reasons.text
    # The default range (the last 30 days up to today) does not reach Thursday's tasks.
    assert "0 final tasks" in client.get(ANALYTICS).text
    # The day after is another day (cut at New York midnight).
    after = (DAY + dt.timedelta(days=1)).isoformat()
    assert "0 final tasks" in client.get(f"{ANALYTICS}?from={after}&to={after}").text


def test_bad_analytics_dates_are_400_naming_the_field(app: TestApp) -> None:
    client = _signed_in(app)
    bad = client.get(f"{ANALYTICS}?from=yesterday", status=400)
    assert bad.html.find(attrs={"data-testid": "error-from"}) is not None
    reversed_range = client.get(f"{ANALYTICS}?from=2026-11-20&to=2026-11-10", status=400)
    assert "From: the first day must not be after the last." in reversed_range.text
    bad_to = client.get(f"{ANALYTICS}?to=2026-13-01", status=400)
    assert bad_to.html.find(attrs={"data-testid": "error-to"}) is not None


def test_a_viewer_reads_the_pages_but_cannot_dispatch(app: TestApp) -> None:
    booking = paid_booking(app)
    viewer = _signed_in(app, "viewer")
    page = _board(viewer)
    assert booking["number"] in page.text
    assert page.html.find(attrs={"data-testid": "assign-form"}) is None
    assert "read-only" in page.text
    token = csrf_token_in(viewer.get("/console/"))  # the logout form's token
    pickup = _task(app, booking, "pickup")
    for action in ("assign", "fail", "reschedule", "advance", "complete"):
        viewer.post(f"{BOARD}/tasks/{pickup.id}/{action}", {"csrf_token": token}, status=403)
    viewer.get(DRIVERS)
    viewer.post(f"{DRIVERS}/new", {"csrf_token": token, "name": "Nope"}, status=403)
    viewer.get(ANALYTICS)
    # Staff without the CSRF token are refused too.
    staff = _signed_in(app)
    staff.post(f"{BOARD}/tasks/{pickup.id}/fail", {"reason": "No token"}, status=403)


@pytest.mark.both_databases  # SQL aggregates and date arithmetic per backend
def test_dashboard_tiles_and_menu(app: TestApp) -> None:
    booking = paid_booking(app)
    client = _signed_in(app)
    _post(client, _task(app, booking, "pickup"), "fail", reason="Customer not home")
    home = client.get("/console/")
    tiles = {tile.find(class_="t").text.strip(): tile for tile in home.html.find_all(class_="tile")}
    assert tiles["Failed deliveries"].find(class_="v").text.strip() == "1"
    assert "alert" in tiles["Failed deliveries"]["class"]
    assert tiles["Deliveries today"].find(class_="v").text.strip() == "0"  # Thursday's, not today
    assert tiles["Held bookings"].find(class_="v").text.strip() == "0"
    assert "alert" not in tiles["Held bookings"]["class"]
    for title in ("Dispatch board", "Drivers", "Delivery analytics"):
        assert title in home.html.find("nav", class_="main").text
    assert NOW  # the fixed clock: "today" is Monday 2026-11-23


def test_a_dispatcher_refusing_an_assignment_is_a_message_not_a_500(app: TestApp) -> None:
    from totetaxi_logistics.adapters.mock import MockFleetTask

    booking = paid_booking(app)
    pickup = _task(app, booking, "pickup")

    def lose(ctx: Any) -> None:
        ctx.dbsession.get(MockFleetTask, pickup.provider_task_id).state = "cancelled"

    run(app, lose)
    client = _signed_in(app)
    driver = _drivers(app)[0]
    answer = _post(client, pickup, "assign", status=503, driver_id=str(driver.id))
    assert "The dispatcher did not answer" in answer.text
    assert _task(app, booking, "pickup").driver_id is None
