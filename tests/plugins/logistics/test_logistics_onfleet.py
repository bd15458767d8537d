"""The app with ``logistics_onfleet`` instead of the mock: only the settings change.

Onfleet is the local stub (``support.onfleet_stub``): a paid booking's tasks are created there
with our id in their metadata, its signed webhooks drive the booking, its workers become
drivers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select
from support.logistics import NOW, paid_booking, rows, run, tasks_of
from support.onfleet_stub import OnfleetStub
from webtest import TestApp

PLUGINS = "pricing payments_mock notifications mail_console logistics logistics_onfleet"


@pytest.fixture
def stub() -> Iterator[OnfleetStub]:
    with OnfleetStub() as onfleet:
        yield onfleet


@pytest.fixture
def app(make_testapp: Callable[..., TestApp], stub: OnfleetStub, db_url: str) -> TestApp:
    """The platform with Onfleet: installed by ``totetaxi migrate`` as ops would, then served."""
    from totetaxi_core.db import make_engine
    from totetaxi_core.migrate import migrate
    from totetaxi_core.platform import prepare
    from totetaxi_core.testing import base_settings

    settings = {
        "totetaxi.plugins": PLUGINS,
        "logistics_onfleet.api_key": stub.api_key,
        "logistics_onfleet.webhook_secret": stub.webhook_secret_hex,
        "logistics_onfleet.api_base": stub.url,
    }
    platform = prepare(base_settings(db_url, **settings), environ={})
    engine = make_engine(platform.settings)
    try:
        assert "installed logistics_onfleet 1.0.0" in migrate(platform, engine)
    finally:
        engine.dispose()
    testapp = make_testapp(**settings)
    testapp.app.registry.clock = lambda: NOW
    return testapp


def _post(app: TestApp, delivery: tuple[bytes, dict[str, str]], status: int = 200) -> dict:
    body, headers = delivery
    headers = {**headers, "Content-Type": "application/json"}
    return app.post("/api/v1/logistics/webhook", body, headers=headers, status=status).json


def test_a_booking_is_dispatched_to_onfleet_and_driven_by_its_webhooks(
    app: TestApp, stub: OnfleetStub
) -> None:
    booking = paid_booking(app)
    pickup, dropoff = tasks_of(app, booking["id"])
    assert pickup.provider == "onfleet" and pickup.provider_task_id in stub.tasks
    held = stub.tasks[pickup.provider_task_id]
    assert {"name": "totetaxi_task_id", "type": "string", "value": str(pickup.id)}.items() <= {
        k: v for m in held["metadata"] if m["name"] == "totetaxi_task_id" for k, v in m.items()
    }.items()
    assert held["pickupTask"] is True
    assert stub.tasks[dropoff.provider_task_id]["dependencies"] == [pickup.provider_task_id]
    # Onfleet's creation check, then its signed events.
    assert app.get("/api/v1/logistics/webhook?check=xyz").text == "xyz"
    worker = stub.worker_ids[0]
    stub.start(pickup.provider_task_id, worker)
    assert _post(app, stub.webhook("taskStarted", pickup.provider_task_id))["applied"] == 1
    stub.complete(pickup.provider_task_id, notes="Collected")
    _post(app, stub.webhook("taskCompleted", pickup.provider_task_id))
    stub.start(dropoff.provider_task_id, worker)
    _post(app, stub.webhook("taskStarted", dropoff.provider_task_id))
    stub.complete(dropoff.provider_task_id, notes="Left with the doorman", photo_upload_ids=("p1",))
    delivery = stub.webhook("taskCompleted", dropoff.provider_task_id)
    _post(app, delivery)
    assert _post(app, delivery)["applied"] == 0  # Onfleet retries: nothing twice
    tracked = app.get(
        f"/api/v1/bookings/{booking['id']}/tracking?token={booking['tracking_token']}"
    ).json
    assert tracked["status"] == "completed"
    assert tracked["tasks"][1]["proof_of_delivery"]["notes"] == "Left with the doorman"
    # A forged delivery is refused.
    body, _ = stub.webhook("taskStarted", pickup.provider_task_id)
    forged = stub.sign(body, secret_hex="ab" * 32)
    _post(app, (body, {"X-Onfleet-Signature": forged}), status=401)


def test_workers_are_synced_into_drivers(app: TestApp, stub: OnfleetStub) -> None:
    from totetaxi_logistics.adapters.onfleet.tasks import sync_drivers
    from totetaxi_logistics.models import Driver

    listed = run(app, sync_drivers)
    drivers = rows(app, select(Driver).where(Driver.provider == "onfleet"))
    assert listed == len(stub.worker_ids) == len(drivers)
    assert {d.provider_id for d in drivers} == set(stub.worker_ids)
    assert uuid.UUID(str(drivers[0].id))


def test_a_previous_webhook_secret_that_is_not_hex_stops_start_up(stub: OnfleetStub) -> None:
    from totetaxi_core.errors import StartupError
    from totetaxi_core.platform import prepare
    from totetaxi_core.testing import base_settings

    settings = {
        "totetaxi.plugins": PLUGINS,
        "logistics_onfleet.api_key": stub.api_key,
        "logistics_onfleet.webhook_secret": stub.webhook_secret_hex,
        "logistics_onfleet.previous_webhook_secrets": "abcd, not-hex",
    }
    with pytest.raises(StartupError, match="previous_webhook_secrets"):
        prepare(base_settings("sqlite://", **settings), environ={})
