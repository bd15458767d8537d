"""Provider events: the signed webhook, duplicates and disorder, reassignment, holds, outages.

Events come through ``POST /api/v1/logistics/webhook`` signed by the mock fleet (the Onfleet
adapter's own signature and parsing are in ``test_dispatcher_contract.py``): the view, the
signature check and :func:`apply_event` are the provider-independent path under test here.
"""

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
    pay,
    post_events,
    provider_event,
    rows,
    run,
    tasks_of,
)
from webtest import TestApp

from totetaxi_core.testing import make_booking, metric_value

WEBHOOK = "/api/v1/logistics/webhook"


def _updates(app: TestApp, booking_id: str) -> list[Any]:
    from totetaxi_logistics.models import TrackingUpdate

    return rows(
        app,
        select(TrackingUpdate)
        .where(TrackingUpdate.booking_id == uuid.UUID(booking_id))
        .order_by(TrackingUpdate.received_at),
    )


def _status(app: TestApp, booking: dict[str, Any]) -> str:
    token = booking["tracking_token"]
    return app.get(f"/api/v1/bookings/{booking['id']}?token={token}").json["status"]


def test_the_check_is_echoed_as_plain_text(app: TestApp) -> None:
    answer = app.get(WEBHOOK + "?check=abc123")
    assert answer.text == "abc123"
    assert answer.content_type == "text/plain"
    app.get(WEBHOOK, status=400)


def test_a_forged_or_missing_signature_is_refused_and_changes_nothing(app: TestApp) -> None:
    booking = paid_booking(app)
    pickup = tasks_of(app, booking["id"])[0]
    from totetaxi_logistics.adapters.mock import MockDispatcher

    body, headers = run(
        app, lambda ctx: MockDispatcher(ctx).signed([provider_event(pickup, "started", NOW)])
    )
    before = len(_updates(app, booking["id"]))
    refused = metric_value(
        "totetaxi_webhook_failures_total", provider="logistics_mock", reason="signature"
    )
    json = {"Content-Type": "application/json"}
    forged = app.post(
        WEBHOOK, body, headers={**json, "X-Mock-Fleet-Signature": "0" * 64}, status=401
    ).json
    assert forged["errors"][0]["name"] == "signature"
    app.post(WEBHOOK, body, headers=json, status=401)
    tampered = body.replace(b"started", b"arrived")
    app.post(WEBHOOK, tampered, headers={**headers, **json}, status=401)
    assert len(_updates(app, booking["id"])) == before
    assert tasks_of(app, booking["id"])[0].status == "created"
    # /metrics counts the three refusals under the dispatcher's name.
    counted = metric_value(
        "totetaxi_webhook_failures_total", provider="logistics_mock", reason="signature"
    )
    assert counted == refused + 3


def test_a_replayed_event_is_applied_once(app: TestApp) -> None:
    booking = paid_booking(app)
    pickup = tasks_of(app, booking["id"])[0]
    assigned = provider_event(
        pickup, "assigned", NOW, driver_id="mock-driver-1", driver_name="Sam Rivera"
    )
    assert post_events(app, assigned).json == {"received": 1, "applied": 1}
    assert post_events(app, assigned).json == {"received": 1, "applied": 0}
    assert post_events(app, assigned, assigned).json["applied"] == 0
    keys = [u.event_key for u in _updates(app, booking["id"])]
    assert keys.count(assigned.key) == 1
    assert emails(app, booking["id"], "delivery_assigned") == 1


def test_a_reassignment_sends_the_assigned_email_again(app: TestApp) -> None:
    booking = paid_booking(app)
    pickup = tasks_of(app, booking["id"])[0]
    first = provider_event(
        pickup, "assigned", NOW, driver_id="mock-driver-1", driver_name="Sam Rivera"
    )
    second = provider_event(
        pickup,
        "assigned",
        NOW + dt.timedelta(minutes=5),
        driver_id="mock-driver-2",
        driver_name="Alex Chen",
    )
    # The same driver told again under another event key: no new email.
    again = provider_event(
        pickup, "assigned", NOW + dt.timedelta(minutes=9), driver_id="mock-driver-2"
    )
    post_events(app, first, second, again)
    task = tasks_of(app, booking["id"])[0]
    assert task.status == "assigned" and task.assignment == 2
    assert emails(app, booking["id"], "delivery_assigned") == 2
    tracked = app.get(
        f"/api/v1/bookings/{booking['id']}/tracking?token={booking['tracking_token']}"
    ).json
    assert tracked["tasks"][0]["driver"] == {"first_name": "Alex"}


def test_out_of_order_events_never_move_a_task_back(app: TestApp) -> None:
    booking = paid_booking(app)
    pickup, dropoff = tasks_of(app, booking["id"])
    later, earlier = NOW + dt.timedelta(hours=2), NOW + dt.timedelta(hours=1)
    # The pickup's completion arrives before its start, and a stale ETA after both.
    post_events(
        app, provider_event(pickup, "completed", later, success=True, driver_id="mock-driver-1")
    )
    post_events(app, provider_event(pickup, "started", earlier, driver_id="mock-driver-1"))
    stale_eta = earlier + dt.timedelta(minutes=30)
    post_events(app, provider_event(pickup, "eta", earlier, eta=stale_eta, position=(40.7, -73.9)))
    task = tasks_of(app, booking["id"])[0]
    assert task.status == "completed" and task.eta is None
    assert _status(app, booking) == "in_progress"
    # A drop-off's failure then a late "started": failed stays failed.
    post_events(app, provider_event(dropoff, "failed", later, failure_reason="Gate locked"))
    post_events(app, provider_event(dropoff, "started", earlier))
    post_events(
        app, provider_event(dropoff, "completed", later + dt.timedelta(minutes=1), success=True)
    )
    dropoff = tasks_of(app, booking["id"])[1]
    assert dropoff.status == "failed" and dropoff.failure_reason == "Gate locked"
    assert _status(app, booking) == "in_progress"
    applied = {(u.kind, u.applied) for u in _updates(app, booking["id"])}
    assert ("started", False) in applied and ("completed", False) in applied


def test_an_eta_moves_the_driver_and_customers_see_it_while_in_progress(app: TestApp) -> None:
    booking = paid_booking(app)
    pickup = tasks_of(app, booking["id"])[0]
    eta = NOW + dt.timedelta(minutes=40)
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
    public = app.get(f"/api/v1/track/{booking['number']}?token={booking['tracking_token']}").json[
        "delivery"
    ]
    task = public["tasks"][0]
    assert task["status"] == "in_progress"
    assert task["eta"] == eta.isoformat()
    assert task["driver_position"]["latitude"] == 40.75
    assert task["driver_position"]["longitude"] == -73.95
    assert "failure_reason" not in task and "provider_task_id" not in task
    app.get(f"/api/v1/track/{booking['number']}?token=wrong", status=404)
    app.get(f"/api/v1/bookings/{booking['id']}/tracking", status=404)


@pytest.mark.both_databases  # redispatch's query of held bookings differs on PostgreSQL
def test_a_held_booking_is_not_dispatched_until_its_coi_is_approved(app: TestApp) -> None:
    holder = Holder()
    app.app.registry.hooks.register(holder, "fake-documents")
    booking = paid_booking(app)
    tasks = tasks_of(app, booking["id"])
    assert all(t.provider_task_id is None for t in tasks)
    assert all("certificate of insurance" in t.held_reason for t in tasks)
    staff_view = app.get(
        f"/api/v1/bookings/{booking['id']}/tracking?token={booking['tracking_token']}"
    ).json
    assert all(t["held"] for t in staff_view["tasks"])
    # The periodic safety net does not send a held booking either.
    from totetaxi_logistics.services import redispatch

    run(app, redispatch)
    assert all(t.provider_task_id is None for t in tasks_of(app, booking["id"]))
    # The lifecycle refuses in_progress while held (the core consults the same hook).
    from totetaxi_core.plugin_api import Booking, BookingHeld, transition

    def start(ctx: Any) -> None:
        transition(ctx, ctx.dbsession.get(Booking, uuid.UUID(booking["id"])), "in_progress")

    with pytest.raises(BookingHeld, match="certificate of insurance"):
        run(app, start)
    # Approval: the documents plugin fires document_reviewed; logistics sends the tasks.
    holder.holding = False

    def approve(ctx: Any) -> None:
        ctx.call_hook(
            "totetaxi_document_reviewed",
            document=type("Coi", (), {"id": uuid.uuid4(), "category": "coi"})(),
            booking=ctx.dbsession.get(Booking, uuid.UUID(booking["id"])),
            decision="approved",
        )

    run(app, approve)
    tasks = tasks_of(app, booking["id"])
    assert all(t.provider_task_id and not t.held_reason for t in tasks)


def test_a_dispatcher_outage_delays_dispatch_and_loses_nothing(
    app: TestApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from totetaxi_logistics.adapters.mock import MockDispatcher
    from totetaxi_logistics.interfaces import DispatcherError

    from totetaxi_core.tasks.outbox import sweep

    def down(self: Any, request: Any) -> Any:
        raise DispatcherError("connection refused")

    monkeypatch.setattr(MockDispatcher, "create_task", down)
    booking = paid_booking(app)
    assert _status(app, booking) == "confirmed"  # the payment went through regardless
    assert all(t.provider_task_id is None for t in tasks_of(app, booking["id"]))
    monkeypatch.undo()
    from totetaxi_core.tasks.models import OutboxMessage

    def age(ctx: Any) -> None:  # past the sweep's grace period
        for message in ctx.dbsession.scalars(
            select(OutboxMessage).where(OutboxMessage.task == "logistics.dispatch")
        ):
            message.created_at -= dt.timedelta(minutes=10)

    run(app, age)
    sweep(app.app.registry)  # the outbox's periodic sweep sends the pending messages again
    tasks = tasks_of(app, booking["id"])
    assert all(t.provider_task_id for t in tasks)
    from totetaxi_logistics.adapters.mock import MockFleetTask

    at_provider = rows(app, select(MockFleetTask))
    assert sorted(t.reference for t in at_provider) == sorted(str(t.id) for t in tasks)


def test_a_retried_send_finds_the_task_instead_of_creating_another(app: TestApp) -> None:
    from totetaxi_logistics.adapters.mock import MockFleetTask
    from totetaxi_logistics.models import DeliveryTask
    from totetaxi_logistics.services import dispatch_task

    booking = paid_booking(app)
    pickup = tasks_of(app, booking["id"])[0]

    # The provider's answer was lost: our row never got its id, the provider has the task.
    def forget(ctx: Any) -> None:
        task = ctx.dbsession.get(DeliveryTask, pickup.id)
        task.provider_task_id = None

    run(app, forget)
    run(app, lambda ctx: dispatch_task(ctx, str(pickup.id)))
    assert tasks_of(app, booking["id"])[0].provider_task_id == pickup.provider_task_id
    assert (
        len(rows(app, select(MockFleetTask).where(MockFleetTask.reference == str(pickup.id)))) == 1
    )


def test_an_unconfirmed_booking_gets_no_tasks(app: TestApp) -> None:
    booking = make_booking(app, DAY)
    assert tasks_of(app, booking["id"]) == []
    pay(app, booking, card="4000 0000 0000 0002")  # declined
    assert tasks_of(app, booking["id"]) == []


def test_a_permanent_refusal_fails_the_task_for_staff_without_emailing(
    app: TestApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from totetaxi_logistics.adapters.mock import MockDispatcher
    from totetaxi_logistics.interfaces import DispatcherError

    def refuse(self: Any, request: Any) -> Any:
        raise DispatcherError("destination could not be geocoded", permanent=True)

    monkeypatch.setattr(MockDispatcher, "create_task", refuse)
    booking = paid_booking(app)
    tasks = tasks_of(app, booking["id"])
    assert {t.status for t in tasks} == {"failed"}
    assert all("could not be geocoded" in t.failure_reason for t in tasks)
    assert emails(app, booking["id"], "delivery_failed") == 0
    public = app.get(
        f"/api/v1/bookings/{booking['id']}/tracking?token={booking['tracking_token']}"
    ).json
    assert all(entry["kind"] != "failed" for entry in public["timeline"])
    assert "failure_reason" not in public["tasks"][0]
