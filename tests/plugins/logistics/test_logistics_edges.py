"""The edges: cancelling while a send is in flight, refusals that must not loop, late
assignment events, a driver chosen before sending, a pickup that fails under way, dates out of
reach."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from support.logistics import (
    DAY,
    NOW,
    Holder,
    emails,
    paid_booking,
    post_events,
    provider_event,
    rows,
    run,
    tasks_of,
)
from webtest import TestApp

from totetaxi_core.testing import console_sign_in, make_staff

API = "/api/v1/logistics/tasks"


def test_a_task_cancelled_before_its_id_came_back_is_cancelled_at_the_provider(
    app: TestApp, staff: dict[str, str]
) -> None:
    from totetaxi_logistics.adapters.mock import MockFleetTask
    from totetaxi_logistics.models import DeliveryTask

    booking = paid_booking(app)
    pickup = tasks_of(app, booking["id"])[0]

    def lose_the_answer(ctx: Any) -> None:  # the provider has it; we never stored its id
        ctx.dbsession.get(DeliveryTask, pickup.id).provider_task_id = None

    run(app, lose_the_answer)
    app.post_json(
        f"/api/v1/staff/bookings/{booking['id']}/status",
        {"status": "cancelled", "reason": "Customer called"},
        headers=staff,
    )
    held = rows(app, select(MockFleetTask).where(MockFleetTask.reference == str(pickup.id)))
    assert [t.state for t in held] == ["cancelled"]
    assert not any(t.cancel_pending for t in tasks_of(app, booking["id"]))


def test_a_cancel_the_provider_refuses_for_good_is_not_retried(
    app: TestApp, staff: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from totetaxi_logistics.adapters.mock import MockDispatcher
    from totetaxi_logistics.interfaces import DispatcherError
    from totetaxi_logistics.services import redispatch

    calls: list[str] = []

    def refuse(self: Any, provider_id: str) -> None:
        calls.append(provider_id)
        raise DispatcherError("the task is active and cannot be deleted", permanent=True)

    monkeypatch.setattr(MockDispatcher, "cancel_task", refuse)
    booking = paid_booking(app)
    pickup = tasks_of(app, booking["id"])[0]
    app.post_json(f"{API}/{pickup.id}/fail", {"reason": "Driver called in"}, headers=staff)
    # The pickup, and its drop-off (nothing to deliver now): each asked once.
    assert sorted(calls) == sorted(t.provider_task_id for t in tasks_of(app, booking["id"]))
    pickup, dropoff = tasks_of(app, booking["id"])
    assert (pickup.status, dropoff.status) == ("failed", "cancelled")
    assert not pickup.cancel_pending and not dropoff.cancel_pending
    run(app, redispatch)
    assert len(calls) == 2


def test_late_assignment_events_never_undo_a_newer_one(app: TestApp) -> None:
    booking = paid_booking(app)
    pickup = tasks_of(app, booking["id"])[0]
    first, second = NOW, NOW + dt.timedelta(minutes=5)
    post_events(
        app,
        provider_event(pickup, "assigned", second, driver_id="mock-driver-2", driver_name="Alex"),
    )
    # Onfleet retries the older assignment (another key), then the older unassignment.
    post_events(
        app, provider_event(pickup, "assigned", first, driver_id="mock-driver-1", driver_name="Sam")
    )
    post_events(app, provider_event(pickup, "unassigned", first, driver_id="mock-driver-1"))
    task = tasks_of(app, booking["id"])[0]
    assert (task.status, task.assignment) == ("assigned", 1)
    assert task.driver.provider_id == "mock-driver-2"
    assert emails(app, booking["id"], "delivery_assigned") == 1
    # A start whose assignment never arrived gives the task its driver.
    dropoff = tasks_of(app, booking["id"])[1]
    post_events(
        app,
        provider_event(dropoff, "started", second, driver_id="mock-driver-1", driver_name="Sam"),
    )
    assert tasks_of(app, booking["id"])[1].driver.provider_id == "mock-driver-1"


def test_a_driver_chosen_before_sending_goes_with_the_task_and_is_announced(
    app: TestApp, staff: dict[str, str]
) -> None:
    from totetaxi_logistics.adapters.mock import MockFleetTask
    from totetaxi_logistics.models import Driver
    from totetaxi_logistics.services import release

    holder = Holder()
    app.app.registry.hooks.register(holder, "fake-documents")
    booking = paid_booking(app)
    pickup = tasks_of(app, booking["id"])[0]
    alex = rows(app, select(Driver).where(Driver.provider_id == "mock-driver-2"))[0]
    app.post_json(f"{API}/{pickup.id}/assign", {"driver_id": str(alex.id)}, headers=staff)
    assert emails(app, booking["id"], "delivery_assigned") == 0  # not sent yet
    holder.holding = False
    from totetaxi_core.plugin_api import Booking

    run(app, lambda ctx: release(ctx, ctx.dbsession.get(Booking, uuid.UUID(booking["id"]))))
    task = tasks_of(app, booking["id"])[0]
    assert (task.status, task.assignment) == ("assigned", 1)
    at_provider = rows(app, select(MockFleetTask).where(MockFleetTask.reference == str(task.id)))
    assert at_provider[0].driver_id == "mock-driver-2"
    assert emails(app, booking["id"], "delivery_assigned") == 1


def test_a_pickup_that_fails_under_way_stops_the_dropoff_and_can_be_rescheduled(
    app: TestApp, staff: dict[str, str]
) -> None:
    booking = paid_booking(app)
    pickup = tasks_of(app, booking["id"])[0]
    post_events(
        app, provider_event(pickup, "started", NOW, driver_id="mock-driver-1", driver_name="Sam")
    )
    post_events(app, provider_event(pickup, "failed", NOW, failure_reason="Building closed"))
    tasks = tasks_of(app, booking["id"])
    assert [(t.kind, t.status) for t in tasks] == [("pickup", "failed"), ("dropoff", "cancelled")]
    new_day = DAY + dt.timedelta(days=1)
    again = app.post_json(
        f"{API}/{pickup.id}/reschedule",
        {"date": new_day.isoformat(), "time_window": "morning"},
        headers=staff,
        status=201,
    ).json
    assert (again["kind"], again["attempt"]) == ("pickup", 2)
    tasks = tasks_of(app, booking["id"])
    assert [(t.kind, t.attempt, t.status) for t in tasks] == [
        ("pickup", 1, "failed"),
        ("pickup", 2, "created"),
        ("dropoff", 1, "cancelled"),
        ("dropoff", 2, "created"),
    ]
    assert all(t.provider_task_id for t in tasks if t.status == "created")


def test_days_out_of_reach_are_refused_naming_the_field(
    app: TestApp, staff: dict[str, str]
) -> None:
    for day in ("9999-12-31", "0001-01-01"):
        error = app.get(f"{API}?date={day}", headers=staff, status=400).json
        assert error["errors"][0]["name"] == "date"
    member = make_staff(app.app.registry, "staff")
    console_sign_in(app, member)
    app.get("/console/logistics?date=9999-12-31", status=400)
    app.get("/console/logistics?date=0001-01-01", status=400)
    app.get("/console/logistics/analytics?from=9999-12-01&to=9999-12-31", status=400)


def test_a_driver_of_another_fleet_or_a_refusal_is_a_clear_answer(
    app: TestApp, staff: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from totetaxi_logistics.adapters.mock import MockDispatcher
    from totetaxi_logistics.interfaces import DispatcherError
    from totetaxi_logistics.models import Driver

    booking = paid_booking(app)
    pickup = tasks_of(app, booking["id"])[0]

    def elsewhere(ctx: Any) -> Any:
        driver = Driver(provider="onfleet", provider_id="w1", name="Onfleet Olga")
        ctx.dbsession.add(driver)
        return driver

    olga = run(app, elsewhere)
    error = app.post_json(
        f"{API}/{pickup.id}/assign", {"driver_id": str(olga.id)}, headers=staff, status=400
    ).json
    assert error["errors"][0]["name"] == "driver_id"

    def refuse(self: Any, provider_id: str, driver_id: str | None) -> Any:
        raise DispatcherError("the task is completed", permanent=True)

    monkeypatch.setattr(MockDispatcher, "assign", refuse)
    sam = rows(app, select(Driver).where(Driver.provider_id == "mock-driver-1"))[0]
    error = app.post_json(
        f"{API}/{pickup.id}/assign", {"driver_id": str(sam.id)}, headers=staff, status=409
    ).json
    assert error["errors"][0]["name"] == "dispatcher"
