"""Failures and rescheduling (staff API), cancellation, and concurrent webhook deliveries."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from support.logistics import DAY, NOW, emails, paid_booking, rows, run, tasks_of
from webtest import TestApp

from totetaxi_core.testing import make_booking, race

API = "/api/v1/logistics/tasks"
DAY2 = DAY + dt.timedelta(days=1)
DAY3 = DAY + dt.timedelta(days=2)


def _booking(app: TestApp, booking: dict[str, Any]) -> dict[str, Any]:
    return app.get(f"/api/v1/bookings/{booking['id']}?token={booking['tracking_token']}").json


def _fill(app: TestApp, day: dt.date) -> None:
    """Take every van of ``day`` (four by default) with unpaid bookings."""
    for _ in range(4):
        make_booking(app, day)


def _complete_pickup(app: TestApp, booking_id: str) -> None:
    from totetaxi_logistics.adapters.mock.fleet import run_to_completion
    from totetaxi_logistics.models import DeliveryTask

    pickup_id = tasks_of(app, booking_id)[0].id
    run(app, lambda ctx: run_to_completion(ctx, ctx.dbsession.get(DeliveryTask, pickup_id)))


def test_a_failed_pickup_is_rescheduled_by_moving_the_booking(
    app: TestApp, staff: dict[str, str]
) -> None:
    from totetaxi_logistics.adapters.mock import MockFleetTask

    booking = paid_booking(app)
    pickup, dropoff = tasks_of(app, booking["id"])
    failed = app.post_json(
        f"{API}/{pickup.id}/fail", {"reason": "Customer not home"}, headers=staff
    ).json
    assert failed["status"] == "failed" and failed["failure_reason"] == "Customer not home"
    assert emails(app, booking["id"], "delivery_failed") == 1
    moved = app.post_json(
        f"{API}/{pickup.id}/reschedule",
        {"date": DAY2.isoformat(), "time_window": "afternoon"},
        headers=staff,
        status=201,
    ).json
    assert moved["attempt"] == 2 and moved["status"] == "created"
    assert _booking(app, booking)["pickup_date"] == DAY2.isoformat()
    tasks = tasks_of(app, booking["id"])
    assert [(t.kind, t.attempt, t.status) for t in tasks] == [
        ("pickup", 1, "failed"),
        ("pickup", 2, "created"),
        ("dropoff", 1, "cancelled"),
        ("dropoff", 2, "created"),
    ]
    assert tasks[0].superseded_by == tasks[1].id
    # The new attempts went to the fleet; the old ones were cancelled there.
    assert tasks[1].provider_task_id and tasks[3].provider_task_id
    at_provider = {r.reference: r.state for r in rows(app, select(MockFleetTask))}
    assert at_provider[str(dropoff.id)] == "cancelled"
    assert at_provider[str(pickup.id)] == "cancelled"
    # The window is the afternoon's, in New York time.
    assert tasks[1].complete_after.astimezone(dt.UTC).hour == 17  # 12:00 EST
    # One email for the move: the core's reschedule sends it.
    assert emails(app, booking["id"], "booking_rescheduled") == 1
    # Rescheduling the superseded attempt again is refused.
    app.post_json(
        f"{API}/{pickup.id}/reschedule",
        {"date": DAY2.isoformat(), "time_window": "morning"},
        headers=staff,
        status=409,
    )


def test_a_full_day_refuses_the_reschedule_and_nothing_changes(
    app: TestApp, staff: dict[str, str]
) -> None:
    booking = paid_booking(app)
    pickup = tasks_of(app, booking["id"])[0]
    app.post_json(f"{API}/{pickup.id}/fail", {"reason": "Van broke down"}, headers=staff)
    _fill(app, DAY2)
    refused = app.post_json(
        f"{API}/{pickup.id}/reschedule",
        {"date": DAY2.isoformat(), "time_window": "morning"},
        headers=staff,
        status=409,
    ).json
    assert refused["status"] == "error"
    assert _booking(app, booking)["pickup_date"] == DAY.isoformat()
    assert len(tasks_of(app, booking["id"])) == 2


def test_a_failed_dropoff_gets_a_new_delivery_and_a_van_on_its_day(
    app: TestApp, staff: dict[str, str]
) -> None:
    booking = paid_booking(app)
    _complete_pickup(app, booking["id"])
    assert _booking(app, booking)["status"] == "in_progress"
    dropoff = tasks_of(app, booking["id"])[1]
    app.post_json(f"{API}/{dropoff.id}/fail", {"reason": "Gate locked"}, headers=staff)
    again = app.post_json(
        f"{API}/{dropoff.id}/reschedule",
        {"date": DAY2.isoformat(), "time_window": "morning"},
        headers=staff,
        status=201,
    ).json
    assert again["kind"] == "dropoff" and again["attempt"] == 2
    assert _booking(app, booking)["pickup_date"] == DAY.isoformat()  # the pickup happened
    assert emails(app, booking["id"], "delivery_rescheduled") == 1
    availability = app.get(
        f"/api/v1/availability?start={DAY2.isoformat()}&end={DAY2.isoformat()}"
    ).json
    assert availability["days"][0]["remaining"] == 3  # the re-delivery took a van
    # A second failure: the same day again keeps its van (none taken twice) ...
    new_id = again["id"]
    app.post_json(f"{API}/{new_id}/fail", {"reason": "Gate locked again"}, headers=staff)
    third = app.post_json(
        f"{API}/{new_id}/reschedule",
        {"date": DAY2.isoformat(), "time_window": "afternoon"},
        headers=staff,
        status=201,
    ).json
    assert _remaining(app, DAY2) == 3
    # ... another day takes a van there and gives DAY2's back; a full day refuses.
    app.post_json(f"{API}/{third['id']}/fail", {"reason": "Gate locked"}, headers=staff)
    _fill_rest(app, DAY3)
    app.post_json(
        f"{API}/{third['id']}/reschedule",
        {"date": DAY3.isoformat(), "time_window": "morning"},
        headers=staff,
        status=409,
    )
    assert _remaining(app, DAY2) == 3
    day4 = DAY3 + dt.timedelta(days=1)
    app.post_json(
        f"{API}/{third['id']}/reschedule",
        {"date": day4.isoformat(), "time_window": "morning"},
        headers=staff,
        status=201,
    )
    assert (_remaining(app, DAY2), _remaining(app, day4)) == (4, 3)
    # Not before the pickup, not in the past, not beyond the horizon.
    latest = tasks_of(app, booking["id"])[-1]
    app.post_json(f"{API}/{latest.id}/fail", {"reason": "Closed"}, headers=staff)
    for day in (DAY - dt.timedelta(days=1), NOW.date() - dt.timedelta(days=3), dt.date(2030, 1, 1)):
        error = app.post_json(
            f"{API}/{latest.id}/reschedule",
            {"date": day.isoformat(), "time_window": "morning"},
            headers=staff,
            status=400,
        ).json
        assert error["errors"][0]["name"] == "date"


def _remaining(app: TestApp, day: dt.date) -> int:
    answer = app.get(f"/api/v1/availability?start={day.isoformat()}&end={day.isoformat()}")
    return answer.json["days"][0]["remaining"]


def _fill_rest(app: TestApp, day: dt.date) -> None:
    while True:
        answer = app.get(f"/api/v1/availability?start={day.isoformat()}&end={day.isoformat()}")
        if answer.json["days"][0]["remaining"] == 0:
            return
        make_booking(app, day)


def test_bad_input_names_the_field(app: TestApp, staff: dict[str, str]) -> None:
    booking = paid_booking(app)
    pickup = tasks_of(app, booking["id"])[0]
    for body, field in (
        ({}, "reason"),
        ({"reason": "x"}, "reason"),
    ):
        error = app.post_json(f"{API}/{pickup.id}/fail", body, headers=staff, status=400).json
        assert error["errors"][0]["name"] == field
    error = app.post_json(
        f"{API}/{pickup.id}/reschedule", {"date": "tomorrow"}, headers=staff, status=400
    ).json
    assert {e["name"] for e in error["errors"]} >= {"date"}
    app.post_json(f"{API}/{uuid.uuid4()}/fail", {"reason": "Nobody"}, headers=staff, status=404)
    error = app.post_json(
        f"{API}/{pickup.id}/assign", {"driver_id": str(uuid.uuid4())}, headers=staff, status=400
    ).json
    assert error["errors"][0]["name"] == "driver_id"


def test_staff_assign_and_the_board_api(app: TestApp, staff: dict[str, str]) -> None:
    from totetaxi_logistics.models import Driver

    booking = paid_booking(app)
    pickup = tasks_of(app, booking["id"])[0]
    alex = rows(app, select(Driver).where(Driver.provider_id == "mock-driver-2"))[0]
    assigned = app.post_json(
        f"{API}/{pickup.id}/assign", {"driver_id": str(alex.id)}, headers=staff
    ).json
    assert assigned["status"] == "assigned" and assigned["driver"]["name"] == "Alex Chen"
    assert emails(app, booking["id"], "delivery_assigned") == 1
    board = app.get(f"{API}?date={DAY.isoformat()}", headers=staff).json
    assert {item["booking_number"] for item in board["items"]} == {booking["number"]}
    assert {item["kind"] for item in board["items"]} == {"pickup", "dropoff"}


def test_a_cancelled_booking_cancels_its_tasks_at_the_provider(
    app: TestApp, staff: dict[str, str]
) -> None:
    from totetaxi_logistics.adapters.mock import MockFleetTask

    booking = paid_booking(app)
    app.post_json(
        f"/api/v1/staff/bookings/{booking['id']}/status",
        {"status": "cancelled", "reason": "Customer called"},
        headers=staff,
    )
    assert [t.status for t in tasks_of(app, booking["id"])] == ["cancelled", "cancelled"]
    assert {r.state for r in rows(app, select(MockFleetTask))} == {"cancelled"}
    assert not any(t.cancel_pending for t in tasks_of(app, booking["id"]))


def test_the_schedule_moves_due_tasks_one_step(app: TestApp) -> None:
    from totetaxi_logistics.adapters.mock.fleet import advance_due

    booking = paid_booking(app)
    # Thursday 8:30 in New York: the morning window is open.
    app.app.registry.clock = lambda: NOW + dt.timedelta(days=3, hours=-1, minutes=-30)
    for _ in range(9):
        run(app, advance_due)
    pickup, dropoff = tasks_of(app, booking["id"])
    assert pickup.status == "completed"
    assert dropoff.status != "created"  # its turn came once the pickup was done
    for _ in range(8):
        run(app, advance_due)
    assert _booking(app, booking)["status"] == "completed"


@pytest.mark.postgresql
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_concurrent_deliveries_of_one_event_apply_once(app: TestApp) -> None:
    from totetaxi_logistics.adapters.mock import MockDispatcher
    from totetaxi_logistics.interfaces import TaskEvent
    from totetaxi_logistics.models import TrackingUpdate

    booking = paid_booking(app)
    pickup = tasks_of(app, booking["id"])[0]
    event = TaskEvent(
        key="race-1",
        kind="assigned",
        at=NOW,
        provider_task_id=pickup.provider_task_id,
        driver_id="mock-driver-1",
        driver_name="Sam Rivera",
    )
    body, headers = run(app, lambda ctx: MockDispatcher(ctx).signed([event]))
    headers["Content-Type"] = "application/json"
    clients = [TestApp(app.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"}) for _ in range(2)]
    answers = race(
        *[
            (lambda c=c: c.post("/api/v1/logistics/webhook", body, headers=headers).json)
            for c in clients
        ]
    )
    assert sorted(a["applied"] for a in answers) == [0, 1]
    keys = rows(app, select(TrackingUpdate).where(TrackingUpdate.event_key == "race-1"))
    assert len(keys) == 1
    assert emails(app, booking["id"], "delivery_assigned") == 1
    assert tasks_of(app, booking["id"])[0].assignment == 1
