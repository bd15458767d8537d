"""The whole delivery: pay → tasks created and sent → the mock fleet drives them → completed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from support.logistics import NOW, paid_booking, rows, run, tasks_of
from webtest import TestApp


def _advance_all(app: TestApp, kind: str) -> None:
    from totetaxi_logistics.adapters.mock.fleet import run_to_completion
    from totetaxi_logistics.models import DeliveryTask

    def work(ctx: Any) -> None:
        for task in ctx.dbsession.scalars(
            select(DeliveryTask).where(
                DeliveryTask.kind == kind, DeliveryTask.status != "completed"
            )
        ):
            run_to_completion(ctx, task)

    run(app, work)


@pytest.mark.both_databases
def test_paid_booking_is_driven_to_completed(app: TestApp) -> None:
    from totetaxi_notifications.models import Notification

    booking = paid_booking(app)
    token = booking["tracking_token"]
    tasks = tasks_of(app, booking["id"])
    assert [(t.kind, t.status, t.attempt) for t in tasks] == [
        ("pickup", "created", 1),
        ("dropoff", "created", 1),
    ]
    assert all(t.provider == "mock" and t.provider_task_id for t in tasks)

    _advance_all(app, "pickup")
    assert app.get(f"/api/v1/bookings/{booking['id']}?token={token}").json["status"] == (
        "in_progress"
    )
    _advance_all(app, "dropoff")
    tracked = app.get(f"/api/v1/bookings/{booking['id']}/tracking?token={token}").json
    assert tracked["status"] == "completed"
    assert [(t["kind"], t["status"]) for t in tracked["tasks"]] == [
        ("pickup", "completed"),
        ("dropoff", "completed"),
    ]
    dropoff = tracked["tasks"][1]
    assert dropoff["proof_of_delivery"]["signature"].startswith("mock-signature-")
    assert dropoff["driver"]["first_name"] in {"Sam", "Alex", "Jordan"}
    kinds = [entry["kind"] for entry in tracked["timeline"]]
    for step in ("dispatched", "assigned", "started", "eta", "arrived", "completed"):
        assert kinds.count(step) >= 2, (step, kinds)
    sent = {
        n.template_key
        for n in rows(
            app, select(Notification).where(Notification.booking_id == uuid.UUID(booking["id"]))
        )
    }
    assert {
        "delivery_assigned",
        "delivery_picked_up",
        "delivery_delivered",
        "booking_completed",
    } <= sent
    public = app.get(f"/api/v1/track/{booking['number']}?token={token}").json
    assert public["status"] == "completed"
    assert [t["status"] for t in public["delivery"]["tasks"]] == ["completed", "completed"]
    assert NOW  # the fixed clock the fleet ran on
