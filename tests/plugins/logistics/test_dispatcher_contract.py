"""The ``Dispatcher`` contract: one suite, run against every delivery provider.

Each provider joins through a *harness* (:class:`Harness`): the dispatcher, two driver ids the
provider knows, and a way to produce a webhook delivery the provider itself would send about a
task (``event``), plus ``sign`` for an arbitrary body. :class:`DispatcherContract` holds the
behaviours every provider must have; a provider runs them by subclassing with its own
``providers`` and :meth:`~totetaxi_core.testing.SlotContract.provide` yielding its harness.

* ``onfleet``: :class:`~totetaxi_logistics.adapters.onfleet.client.OnfleetDispatcher` against
  the local Onfleet stub (``support.onfleet_stub``).

Semantics fixed here (the protocol's docstrings leave them open):

* ``get_task`` after ``cancel_task`` answers ``None`` (the provider forgets a cancelled task);
  cancelling again is no error.
* ``assign(id, None)`` puts the task back to ``created`` with no driver.
* ``parse_webhook`` of the same delivery twice gives events with the same ``key``; two
  deliveries give different keys.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from support.onfleet_stub import OnfleetStub
from totetaxi_logistics.adapters.onfleet.client import OnfleetDispatcher
from totetaxi_logistics.interfaces import (
    Dispatcher,
    DispatcherError,
    Place,
    ProviderDriver,
    ProviderTask,
    TaskEvent,
    TaskRequest,
    WebhookRefused,
)

from totetaxi_core.testing import SlotContract


@dataclass
class Harness:
    """One provider under contract."""

    name: str
    dispatcher: Dispatcher
    #: Two drivers the provider knows (provider ids), for assignment.
    driver_ids: tuple[str, str]
    #: ``sign(body)`` -> the headers that make the provider's ``verify_webhook`` accept ``body``.
    sign: Callable[[bytes], dict[str, str]]
    #: ``event(kind, provider_task_id)`` -> ``(body, headers)``: a delivery the provider would
    #: send when its driver makes that move on the task (``kind``: ``started`` or
    #: ``completed``; the driver is assigned first when needed).
    event: Callable[[str, str], tuple[bytes, dict[str, str]]]


def _onfleet_harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    stub = OnfleetStub()
    dispatcher = OnfleetDispatcher(
        stub.api_key, stub.webhook_secret_hex, base_url=stub.url, sleep=lambda _s: None
    )
    drivers = stub.worker_ids

    def event(kind: str, task_id: str) -> tuple[bytes, dict[str, str]]:
        if stub.tasks[task_id]["state"] == 0:
            dispatcher.assign(task_id, drivers[0])
        if kind == "started":
            stub.start(task_id)
            return stub.webhook("taskStarted", task_id)
        if kind == "completed":
            stub.complete(task_id, notes="Left with the doorman", photo_upload_ids=("ph1",))
            return stub.webhook("taskCompleted", task_id)
        raise ValueError(kind)

    try:
        yield Harness(
            name="onfleet",
            dispatcher=dispatcher,
            driver_ids=(drivers[0], drivers[1]),
            sign=lambda body: {"X-Onfleet-Signature": stub.sign(body)},
            event=event,
        )
    finally:
        dispatcher.close()
        stub.close()


def _mock_harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """The simulated fleet, in one open unit of work on a migrated test database (its tasks
    are rows; its drivers the seeded ``mock-driver-1`` and ``-2``)."""
    from totetaxi_logistics.adapters.mock import MockDispatcher, MockFleetTask

    from totetaxi_core.db import unit_of_work
    from totetaxi_core.plugin_api import Context

    app = request.getfixturevalue("make_testapp")(
        **{"totetaxi.plugins": "logistics logistics_mock"}
    )
    registry = app.app.registry
    with unit_of_work(registry["dbsession_factory"]) as (dbsession, tm):
        dispatcher = MockDispatcher(
            Context(registry=registry, dbsession=dbsession, transaction_manager=tm)
        )

        def event(kind: str, task_id: str) -> tuple[bytes, dict[str, str]]:
            held = dispatcher.get_task(task_id)
            if held is not None and held.state == "created":
                dispatcher.assign(task_id, "mock-driver-1")
            # The driver moves at the provider (what the fleet does), then it tells us.
            dbsession.get(MockFleetTask, task_id).state = kind
            return dispatcher.signed(
                [
                    TaskEvent(
                        key=f"mock:{task_id}:{kind}",
                        kind=kind,  # type: ignore[arg-type]
                        at=dt.datetime.now(dt.UTC),
                        provider_task_id=task_id,
                        driver_id="mock-driver-1",
                        success=True if kind == "completed" else None,
                    )
                ]
            )

        yield Harness(
            name="mock",
            dispatcher=dispatcher,
            driver_ids=("mock-driver-1", "mock-driver-2"),
            sign=lambda body: dispatcher.signed_headers(body),
            event=event,
        )


HARNESSES: dict[str, Callable[[pytest.FixtureRequest], Iterator[Harness]]] = {
    "onfleet": _onfleet_harness,
    "mock": _mock_harness,
}


def task_request(reference: str | None = None, **changes: object) -> TaskRequest:
    """A drop-off tomorrow afternoon (aware UTC times), with a fresh reference."""
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
    values: dict[str, object] = {
        "reference": reference or f"task-{uuid.uuid4().hex}",
        "kind": "dropoff",
        "booking_number": "TT-1001",
        "place": Place(
            street="350 5th Ave",
            city="New York",
            state="NY",
            zip_code="10118",
            unit="Suite 3300",
            instructions="Ring the concierge",
            location=(40.7484, -73.9857),
        ),
        "recipient_name": "Grace Hopper",
        "recipient_phone": "+12125550123",
        "complete_after": start,
        "complete_before": start + dt.timedelta(hours=2),
        "notes": "3 totes, 1 garment bag",
    }
    values.update(changes)
    return TaskRequest(**values)  # type: ignore[arg-type]


def _recently() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)


class DispatcherContract(SlotContract):
    """What every provider of the ``dispatcher`` slot does (see the module's documentation).

    Not collected by itself (no ``Test`` prefix): subclass with ``providers`` to run it.
    """

    slot = "dispatcher"

    def provide(self, name: str, request: pytest.FixtureRequest) -> Iterator[Harness]:
        yield from HARNESSES[name](request)

    @pytest.fixture
    def dispatcher(self, harness: Harness) -> Dispatcher:
        return harness.dispatcher

    # --- the interface ------------------------------------------------------------------

    def test_implements_the_protocol(self, harness: Harness) -> None:
        assert isinstance(harness.dispatcher, Dispatcher)
        assert isinstance(harness.dispatcher.name, str) and harness.dispatcher.name
        assert harness.dispatcher.name == harness.name

    # --- tasks --------------------------------------------------------------------------

    def test_create_then_get(self, dispatcher: Dispatcher) -> None:
        request = task_request()
        created = dispatcher.create_task(request)
        assert isinstance(created, ProviderTask)
        assert created.provider_id
        assert created.reference == request.reference
        assert created.state == "created"
        assert created.driver_id is None
        assert dispatcher.get_task(created.provider_id) == created

    def test_two_creates_make_two_tasks(self, dispatcher: Dispatcher) -> None:
        first = dispatcher.create_task(task_request())
        second = dispatcher.create_task(task_request())
        assert first.provider_id != second.provider_id
        assert first.reference != second.reference

    def test_a_pickup_and_a_dropoff_depending_on_it(self, dispatcher: Dispatcher) -> None:
        pickup = dispatcher.create_task(task_request(kind="pickup"))
        dropoff = dispatcher.create_task(task_request(depends_on=pickup.provider_id))
        assert dispatcher.get_task(dropoff.provider_id) == dropoff

    def test_create_with_a_driver_assigns(self, harness: Harness) -> None:
        driver = harness.driver_ids[0]
        created = harness.dispatcher.create_task(task_request(driver_id=driver))
        assert created.state == "assigned"
        assert created.driver_id == driver

    def test_find_task_by_reference(self, dispatcher: Dispatcher) -> None:
        dispatcher.create_task(task_request())
        wanted = dispatcher.create_task(task_request())
        dispatcher.create_task(task_request())
        found = dispatcher.find_task(wanted.reference, _recently())
        assert found is not None
        assert found.provider_id == wanted.provider_id
        assert found.reference == wanted.reference

    def test_find_task_answers_none_for_an_unknown_reference(self, dispatcher: Dispatcher) -> None:
        dispatcher.create_task(task_request())
        assert dispatcher.find_task(f"task-{uuid.uuid4().hex}", _recently()) is None

    def test_get_a_task_the_provider_never_made_is_none(self, dispatcher: Dispatcher) -> None:
        assert dispatcher.get_task("zZ9zZ9zZ9zZ9zZ9zZ9zZ9zZ9") is None

    def test_cancel_then_get_is_none_and_cancel_twice_is_fine(self, dispatcher: Dispatcher) -> None:
        created = dispatcher.create_task(task_request())
        dispatcher.cancel_task(created.provider_id)
        assert dispatcher.get_task(created.provider_id) is None
        dispatcher.cancel_task(created.provider_id)
        assert dispatcher.find_task(created.reference, _recently()) is None

    # --- assignment ---------------------------------------------------------------------

    def test_assign_reassign_and_unassign(self, harness: Harness) -> None:
        dispatcher = harness.dispatcher
        first, second = harness.driver_ids
        created = dispatcher.create_task(task_request())

        assigned = dispatcher.assign(created.provider_id, first)
        assert (assigned.state, assigned.driver_id) == ("assigned", first)
        assert dispatcher.get_task(created.provider_id) == assigned

        moved = dispatcher.assign(created.provider_id, second)
        assert (moved.state, moved.driver_id) == ("assigned", second)
        assert dispatcher.get_task(created.provider_id) == moved

        back = dispatcher.assign(created.provider_id, None)
        assert (back.state, back.driver_id) == ("created", None)
        assert dispatcher.get_task(created.provider_id) == back

    def test_assign_an_unknown_driver_is_refused(self, dispatcher: Dispatcher) -> None:
        created = dispatcher.create_task(task_request())
        with pytest.raises(DispatcherError) as raised:
            dispatcher.assign(created.provider_id, "no-such-driver")
        assert raised.value.permanent

    def test_list_drivers(self, harness: Harness) -> None:
        drivers = harness.dispatcher.list_drivers()
        assert drivers and all(isinstance(d, ProviderDriver) for d in drivers)
        assert set(harness.driver_ids) <= {d.provider_id for d in drivers}
        for driver in drivers:
            assert driver.name
            assert isinstance(driver.on_duty, bool) and isinstance(driver.active, bool)

    # --- webhooks -----------------------------------------------------------------------

    def test_a_forged_signature_is_refused(self, harness: Harness) -> None:
        body, headers = harness.event(
            "started", harness.dispatcher.create_task(task_request()).provider_id
        )
        forged = {name: "0" * len(value) for name, value in headers.items()}
        with pytest.raises(WebhookRefused):
            harness.dispatcher.verify_webhook(forged, body)
        with pytest.raises(WebhookRefused):
            harness.dispatcher.verify_webhook(headers, body + b" ")

    def test_a_missing_signature_is_refused(self, harness: Harness) -> None:
        body, _headers = harness.event(
            "started", harness.dispatcher.create_task(task_request()).provider_id
        )
        with pytest.raises(WebhookRefused):
            harness.dispatcher.verify_webhook({"Content-Type": "application/json"}, body)

    def test_any_body_signed_the_providers_way_verifies(self, harness: Harness) -> None:
        body = b'{"hello": "world"}'
        harness.dispatcher.verify_webhook(harness.sign(body), body)

    def test_a_signed_event_parses_with_a_stable_key(self, harness: Harness) -> None:
        dispatcher = harness.dispatcher
        task = dispatcher.create_task(task_request())
        body, headers = harness.event("started", task.provider_id)
        dispatcher.verify_webhook(headers, body)
        [event] = dispatcher.parse_webhook(body)
        assert isinstance(event, TaskEvent)
        assert event.kind == "started"
        assert event.provider_task_id == task.provider_id
        assert event.driver_id in harness.driver_ids
        assert event.at.tzinfo is not None and event.at.utcoffset() == dt.timedelta(0)
        # A replay of the same delivery is the same event.
        assert [e.key for e in dispatcher.parse_webhook(body)] == [event.key]

        body2, headers2 = harness.event("completed", task.provider_id)
        dispatcher.verify_webhook(headers2, body2)
        [done] = dispatcher.parse_webhook(body2)
        assert done.kind == "completed" and done.success is True
        assert done.key != event.key
        assert dispatcher.get_task(task.provider_id).state == "completed"  # type: ignore[union-attr]

    def test_an_unreadable_body_is_refused(self, harness: Harness) -> None:
        with pytest.raises(WebhookRefused):
            harness.dispatcher.parse_webhook(b"not json at all")


class TestOnfleetProvider(DispatcherContract):
    """The contract against the Onfleet adapter on the local stub."""

    providers = ("onfleet",)


class TestMockProvider(DispatcherContract):
    """The same contract against the simulated fleet (``logistics_mock``)."""

    providers = ("mock",)
