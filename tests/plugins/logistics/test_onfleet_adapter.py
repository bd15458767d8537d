"""What only the Onfleet dispatcher has: the wire format, auth, rate limits, errors, webhooks.

The behaviour every provider shares is in ``test_dispatcher_contract.py``. Everything runs
against the local stub (``support.onfleet_stub``); nothing sleeps (``sleep`` is a recorder).
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support.onfleet_stub import OnfleetStub, rate_limit_headers
from totetaxi_logistics.adapters.onfleet import client as onfleet
from totetaxi_logistics.adapters.onfleet.client import OnfleetDispatcher
from totetaxi_logistics.interfaces import (
    DispatcherError,
    Place,
    TaskRequest,
    WebhookRefused,
)


class Sleeps(list[float]):
    """A ``sleep`` that records the delays asked for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def stub() -> Iterator[OnfleetStub]:
    with OnfleetStub() as server:
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make(stub: OnfleetStub, sleeps: Sleeps | None = None, **options: Any) -> OnfleetDispatcher:
    return OnfleetDispatcher(
        options.pop("api_key", stub.api_key),
        stub.webhook_secret_hex,
        base_url=stub.url,
        sleep=sleeps if sleeps is not None else Sleeps(),
        **options,
    )


@pytest.fixture
def dispatcher(stub: OnfleetStub, sleeps: Sleeps) -> Iterator[OnfleetDispatcher]:
    with make(stub, sleeps) as value:
        yield value


START = dt.datetime(2031, 5, 6, 14, 0, tzinfo=dt.UTC)
#: START in epoch milliseconds, as Onfleet writes times.
START_MS = 1_935_842_400_000


def task_request(**changes: Any) -> TaskRequest:
    values: dict[str, Any] = {
        "reference": f"task-{uuid.uuid4().hex}",
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
        "complete_after": START,
        "complete_before": START + dt.timedelta(hours=2),
        "notes": "3 totes",
    }
    values.update(changes)
    return TaskRequest(**values)


def recently() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


# --- the wire format --------------------------------------------------------------------------


def test_create_task_speaks_onfleets_task_json(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher
) -> None:
    pickup = dispatcher.create_task(task_request(kind="pickup"))
    driver = stub.worker_ids[0]
    request = task_request(depends_on=pickup.provider_id, driver_id=driver)
    created = dispatcher.create_task(request)

    first, second = stub.requests_to("POST", "/tasks")
    assert first.json["pickupTask"] is True
    assert "dependencies" not in first.json and "container" not in first.json
    body = second.json
    assert body["destination"] == {
        "address": {
            "unparsed": "350 5th Ave, New York, NY 10118, USA",
            "apartment": "Suite 3300",
        },
        "notes": "Ring the concierge",
        "location": [-73.9857, 40.7484],  # GeoJSON: longitude first
    }
    assert body["recipients"] == [{"name": "Grace Hopper", "phone": "+12125550123"}]
    assert body["notes"] == "3 totes"
    # Epoch milliseconds, exactly.
    assert body["completeAfter"] == START_MS
    assert body["completeBefore"] == START_MS + 2 * 3600 * 1000
    assert body["pickupTask"] is False
    assert body["dependencies"] == [pickup.provider_id]
    assert body["container"] == {"type": "WORKER", "worker": driver}
    assert body["metadata"] == [
        {
            "name": "totetaxi_task_id",
            "type": "string",
            "value": request.reference,
            "visibility": ["api"],
        },
        {"name": "totetaxi_booking", "type": "string", "value": "TT-1001", "visibility": ["api"]},
    ]
    assert second.headers["Content-Type"] == "application/json"

    stored = stub.tasks[created.provider_id]
    assert created.reference == request.reference
    assert created.tracking_url == stored["trackingURL"] and created.tracking_url
    assert (created.state, created.driver_id) == ("assigned", driver)


def test_basic_auth_with_the_key_and_an_empty_password(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher
) -> None:
    dispatcher.list_drivers()
    [request] = stub.requests_to("GET", "/workers")
    assert request.basic_auth == (stub.api_key, "")


def test_a_wrong_key_is_retried_not_given_up(stub: OnfleetStub) -> None:
    """A revoked or mistyped key is the operator's incident: tasks wait for the fix (retried),
    none fails for good."""
    with make(stub, api_key="not-the-key") as dispatcher, pytest.raises(DispatcherError) as raised:
        dispatcher.list_drivers()
    assert not raised.value.permanent
    assert "InvalidCredentials 1102" in str(raised.value)
    assert "The API key provided is invalid." in str(raised.value)


def test_timeouts_are_set_on_the_kept_client(stub: OnfleetStub) -> None:
    with make(stub) as default:
        assert default.client.timeout == httpx.Timeout(10.0)
    with make(stub, timeout=2.5) as short:
        timeout = short.client.timeout
        assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (2.5,) * 4


def test_ids_travel_as_one_path_segment(stub: OnfleetStub, dispatcher: OnfleetDispatcher) -> None:
    assert dispatcher.get_task("ab~cd*ef/../workers") is None
    [request] = [r for r in stub.requests if r.method == "GET"]
    assert request.path == "/tasks/ab~cd*ef%2F..%2Fworkers"


def test_naive_datetimes_are_refused(dispatcher: OnfleetDispatcher) -> None:
    with pytest.raises(ValueError, match="naive"):
        dispatcher.create_task(task_request(complete_after=dt.datetime(2031, 5, 6, 14, 0)))
    with pytest.raises(ValueError, match="naive"):
        dispatcher.find_task("task-x", dt.datetime(2031, 5, 6))


def test_the_webhook_secret_must_be_hex(stub: OnfleetStub) -> None:
    with pytest.raises(ValueError, match="hex"):
        OnfleetDispatcher(stub.api_key, "not hex at all")
    with pytest.raises(ValueError, match="empty"):
        OnfleetDispatcher(stub.api_key, "")

    with pytest.raises(ValueError, match="previous"):
        OnfleetDispatcher(stub.api_key, "ab" * 64, previous_webhook_secrets_hex=["zz"])


def test_during_a_rotation_the_previous_secret_still_verifies(
    stub: OnfleetStub, task_id: str
) -> None:
    old, new, other = "ab" * 64, "cd" * 64, "ef" * 64
    with OnfleetDispatcher(
        stub.api_key, new, previous_webhook_secrets_hex=[old], base_url=stub.url
    ) as rotating:
        for secret in (old, new):
            body, headers = stub.webhook("taskStarted", task_id, secret_hex=secret)
            rotating.verify_webhook(headers, body)
        body, headers = stub.webhook("taskStarted", task_id, secret_hex=other)
        with pytest.raises(WebhookRefused):
            rotating.verify_webhook(headers, body)
    # Once the overlap ends (the previous list emptied), the old secret is refused.
    with OnfleetDispatcher(stub.api_key, new, base_url=stub.url) as rotated:
        body, headers = stub.webhook("taskStarted", task_id, secret_hex=old)
        with pytest.raises(WebhookRefused):
            rotated.verify_webhook(headers, body)


# --- states and lookups -----------------------------------------------------------------------


def test_onfleet_states_map_to_ours(stub: OnfleetStub, dispatcher: OnfleetDispatcher) -> None:
    driver = stub.worker_ids[0]
    done = dispatcher.create_task(task_request(driver_id=driver))
    failed = dispatcher.create_task(task_request(driver_id=driver))

    stub.start(done.provider_id)
    active = dispatcher.get_task(done.provider_id)
    assert active is not None
    assert (active.state, active.driver_id) == ("in_progress", driver)
    estimate = stub.tasks[done.provider_id]["estimatedArrivalTime"]
    assert active.eta == dt.datetime.fromtimestamp(estimate / 1000, tz=dt.UTC)

    stub.complete(done.provider_id)
    completed = dispatcher.get_task(done.provider_id)
    assert completed is not None
    assert (completed.state, completed.driver_id, completed.eta) == ("completed", driver, None)

    stub.complete(failed.provider_id, success=False, failure_reason="NO_ANSWER")
    assert dispatcher.get_task(failed.provider_id).state == "failed"  # type: ignore[union-attr]


def test_find_task_walks_the_pages(stub: OnfleetStub, dispatcher: OnfleetDispatcher) -> None:
    stub.page_size = 2
    since = recently()
    created = [dispatcher.create_task(task_request()) for _ in range(5)]
    found = dispatcher.find_task(created[-1].reference, since)
    assert found == created[-1]
    pages = stub.requests_to("GET", "/tasks/all")
    assert [r.query.get("lastId", [None])[0] for r in pages] == [
        None,
        created[1].provider_id,
        created[3].provider_id,
    ]
    assert {r.query["from"][0] for r in pages} == {str(round(since.timestamp() * 1000))}

    stub.requests.clear()
    assert dispatcher.find_task("task-unknown", since) is None
    assert len(stub.requests_to("GET", "/tasks/all")) == 3


def test_find_task_sees_only_tasks_since(stub: OnfleetStub, dispatcher: OnfleetDispatcher) -> None:
    created = dispatcher.create_task(task_request())
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert dispatcher.find_task(created.reference, later) is None


def test_cancelling_an_active_task_is_refused(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher
) -> None:
    created = dispatcher.create_task(task_request(driver_id=stub.worker_ids[0]))
    stub.start(created.provider_id)
    with pytest.raises(DispatcherError) as raised:
        dispatcher.cancel_task(created.provider_id)
    assert raised.value.permanent


def test_unassign_goes_through_the_organizations_container(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher
) -> None:
    driver = stub.worker_ids[0]
    one = dispatcher.create_task(task_request(driver_id=driver))
    two = dispatcher.create_task(task_request(driver_id=driver))
    assert dispatcher.assign(one.provider_id, None).state == "created"
    assert dispatcher.assign(two.provider_id, None).state == "created"

    organization = stub.organization["id"]
    puts = [r for r in stub.requests if r.method == "PUT"]
    assert [r.path for r in puts] == [f"/containers/organizations/{organization}"] * 2
    assert [r.json for r in puts] == [
        {"tasks": [-1, one.provider_id]},
        {"tasks": [-1, two.provider_id]},
    ]
    # The organisation id is asked for once.
    assert len(stub.requests_to("GET", "/organization")) == 1
    assert stub.unassigned == [one.provider_id, two.provider_id]
    assert stub.workers[driver]["tasks"] == []


def test_assign_puts_a_worker_container(stub: OnfleetStub, dispatcher: OnfleetDispatcher) -> None:
    created = dispatcher.create_task(task_request())
    driver = stub.worker_ids[1]
    dispatcher.assign(created.provider_id, driver)
    [put] = stub.requests_to("PUT", f"/tasks/{created.provider_id}")
    assert put.json == {"container": {"type": "WORKER", "worker": driver}}


def test_list_drivers_maps_workers(stub: OnfleetStub, dispatcher: OnfleetDispatcher) -> None:
    ada, ben = dispatcher.list_drivers()
    assert (ada.name, ada.phone, ada.vehicle, ada.on_duty, ada.active) == (
        "Ada Driver",
        "+12125550101",
        "Blue Transit van",
        True,
        True,
    )
    # No description: the vehicle type.
    assert (ben.vehicle, ben.on_duty) == ("bicycle", False)


# --- errors and rate limits -------------------------------------------------------------------


def test_a_refused_task_is_permanent_with_onfleets_message(dispatcher: OnfleetDispatcher) -> None:
    with pytest.raises(DispatcherError) as raised:
        dispatcher.create_task(task_request(recipient_phone="12"))
    error = raised.value
    assert error.permanent and error.retry_after is None
    assert "Onfleet answered 400" in str(error)
    assert "InvalidContent 1010" in str(error)
    assert "Invalid phone '12'" in str(error)
    assert "request " in str(error)  # Onfleet's request id, for their support


def test_the_stub_validates_destination_and_recipients(stub: OnfleetStub) -> None:
    body = OnfleetDispatcher.task_body(task_request())
    auth = (stub.api_key, "")
    for missing in ("destination", "recipients"):
        partial = {k: v for k, v in body.items() if k != missing}
        answer = httpx.post(f"{stub.url}/tasks", json=partial, auth=auth)
        assert answer.status_code == 400
        assert answer.json()["code"] == "InvalidContent"
        assert answer.json()["message"]["error"] == 1000
    assert httpx.get(f"{stub.url}/tasks/nope", auth=auth).json()["code"] == "ResourceNotFound"
    assert httpx.get(f"{stub.url}/workers").status_code == 401


def test_a_server_error_is_not_permanent_and_not_retried(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher, sleeps: Sleeps
) -> None:
    stub.fail_next(503)
    with pytest.raises(DispatcherError) as raised:
        dispatcher.create_task(task_request())
    assert not raised.value.permanent
    assert len(stub.requests_to("POST", "/tasks")) == 1
    assert sleeps == []
    assert stub.tasks == {}


def test_a_429_is_retried_after_retry_after(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher, sleeps: Sleeps
) -> None:
    stub.fail_next(429, headers=rate_limit_headers(retry_after=2))
    created = dispatcher.create_task(task_request())
    assert sleeps == [2.0]
    assert len(stub.requests_to("POST", "/tasks")) == 2
    assert list(stub.tasks) == [created.provider_id]


def test_a_429_waits_for_the_rate_limit_reset(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher, sleeps: Sleeps
) -> None:
    reset = int(time.time()) + 3
    stub.fail_next(
        429,
        count=2,
        headers={
            "X-RateLimit-Limit": "20",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(reset),
        },
    )
    assert len(dispatcher.list_drivers()) == 2
    assert len(sleeps) == 2
    # Seconds until the reset, as the client computed it a moment later.
    assert all(1.5 < delay <= 3.0 for delay in sleeps)


def test_a_long_rate_limit_wait_is_capped(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher, sleeps: Sleeps
) -> None:
    stub.fail_next(429, headers=rate_limit_headers(retry_after=30))
    dispatcher.list_drivers()
    assert sleeps == [onfleet.MAX_RATE_LIMIT_SLEEP]


def test_a_persistent_429_is_not_permanent_with_retry_after(
    stub: OnfleetStub, sleeps: Sleeps
) -> None:
    stub.fail_next(429, count=10, headers=rate_limit_headers(retry_after=1.5))
    with make(stub, sleeps, max_rate_limit_retries=2) as dispatcher:
        with pytest.raises(DispatcherError) as raised:
            dispatcher.create_task(task_request())
    assert not raised.value.permanent
    assert raised.value.retry_after == 1.5
    assert sleeps == [1.5, 1.5]
    assert len(stub.requests_to("POST", "/tasks")) == 3
    assert "TooManyRequests" in str(raised.value)


def test_no_rate_limit_retries_when_told_so(stub: OnfleetStub, sleeps: Sleeps) -> None:
    stub.fail_next(429)  # X-RateLimit-Reset about a second away, no Retry-After
    with make(stub, sleeps, max_rate_limit_retries=0) as dispatcher:
        with pytest.raises(DispatcherError) as raised:
            dispatcher.list_drivers()
    assert sleeps == []
    assert raised.value.retry_after is not None and 0 <= raised.value.retry_after <= 2


def test_an_unreachable_onfleet_is_not_permanent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with OnfleetDispatcher(
        "key", "ab" * 32, base_url=f"http://127.0.0.1:{port}/api/v2", timeout=1.0
    ) as dispatcher:
        with pytest.raises(DispatcherError) as raised:
            dispatcher.list_drivers()
    assert not raised.value.permanent
    assert "unreachable" in str(raised.value)


def test_a_timeout_is_not_permanent() -> None:
    # A listening socket that never answers: the connection is made, the read times out.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        with OnfleetDispatcher(
            "key", "ab" * 32, base_url=f"http://127.0.0.1:{port}/api/v2", timeout=0.2
        ) as dispatcher:
            with pytest.raises(DispatcherError) as raised:
                dispatcher.list_drivers()
    assert not raised.value.permanent
    assert "timed out" in str(raised.value)


# --- webhooks ---------------------------------------------------------------------------------


@pytest.fixture
def task_id(stub: OnfleetStub, dispatcher: OnfleetDispatcher) -> str:
    """A task assigned to the first worker (Ada)."""
    return dispatcher.create_task(task_request(driver_id=stub.worker_ids[0])).provider_id


def parse(dispatcher: OnfleetDispatcher, delivery: tuple[bytes, dict[str, str]]) -> list[Any]:
    body, headers = delivery
    dispatcher.verify_webhook(headers, body)
    return dispatcher.parse_webhook(body)


def test_the_signature_header_is_found_in_any_case(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher, task_id: str
) -> None:
    body, headers = stub.webhook("taskStarted", task_id)
    signature = headers["X-Onfleet-Signature"]
    dispatcher.verify_webhook({"x-onfleet-signature": signature}, body)
    dispatcher.verify_webhook({"X-ONFLEET-SIGNATURE": signature.upper()}, body)


def test_a_signature_keyed_with_the_hex_text_is_refused(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher, task_id: str
) -> None:
    import hashlib
    import hmac

    body, _headers = stub.webhook("taskStarted", task_id)
    wrong = hmac.new(stub.webhook_secret_hex.encode(), body, hashlib.sha512).hexdigest()
    with pytest.raises(WebhookRefused):
        dispatcher.verify_webhook({"X-Onfleet-Signature": wrong}, body)
    with pytest.raises(WebhookRefused):
        dispatcher.verify_webhook({"X-Onfleet-Signature": "é" * 128}, body)
    other = stub.webhook("taskStarted", task_id, secret_hex="cd" * 64)
    with pytest.raises(WebhookRefused):
        dispatcher.verify_webhook(other[1], other[0])


def test_task_started(stub: OnfleetStub, dispatcher: OnfleetDispatcher, task_id: str) -> None:
    stub.start(task_id)
    ada = stub.worker_ids[0]
    [event] = parse(dispatcher, stub.webhook("taskStarted", task_id, at_ms=START_MS + 123))
    assert event.kind == "started"
    assert event.provider_task_id == task_id
    assert (event.driver_id, event.driver_name, event.driver_phone) == (
        ada,
        "Ada Driver",
        "+12125550101",
    )
    assert event.at == dt.datetime(2031, 5, 6, 14, 0, 0, 123000, tzinfo=dt.UTC)
    assert event.key == f"onfleet:taskStarted:{task_id}:1935842400123:{ada}"
    assert event.position == (40.7484, -73.9857)
    # data.task's estimate (epoch ms)
    estimate = stub.tasks[task_id]["estimatedArrivalTime"]
    assert event.eta == dt.datetime.fromtimestamp(estimate / 1000, tz=dt.UTC)
    assert event.raw["triggerName"] == "taskStarted"


def test_task_eta_with_the_position_in_lat_lng_order(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher, task_id: str
) -> None:
    stub.start(task_id)
    stub.move(stub.worker_ids[0], latitude=40.7128, longitude=-74.0060)
    delivery = stub.webhook("taskEta", task_id, at_ms=START_MS, eta_seconds=240)
    assert json.loads(delivery[0])["data"]["worker"]["location"] == [-74.0060, 40.7128]
    [event] = parse(dispatcher, delivery)
    assert event.kind == "eta"
    assert event.position == (40.7128, -74.0060)
    # etaSeconds counts from the delivery's time.
    assert event.eta == START + dt.timedelta(seconds=240)


def test_task_arrival(stub: OnfleetStub, dispatcher: OnfleetDispatcher, task_id: str) -> None:
    stub.start(task_id)
    [event] = parse(dispatcher, stub.webhook("taskArrival", task_id, distance=80))
    assert (event.kind, event.provider_task_id, event.message) == ("arrived", task_id, "80 m away")


def test_task_completed_with_proof(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher, task_id: str
) -> None:
    stub.complete(
        task_id,
        notes="Left with the doorman",
        photo_upload_ids=("ph1", "ph2"),
        signature_upload_id="sig1",
    )
    [event] = parse(dispatcher, stub.webhook("taskCompleted", task_id))
    assert (event.kind, event.success) == ("completed", True)
    assert (event.notes, event.photo_ref, event.signature_ref) == (
        "Left with the doorman",
        "ph1,ph2",
        "sig1",
    )
    assert event.failure_reason == ""


def test_task_completed_unsuccessfully_is_a_failure(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher, task_id: str
) -> None:
    stub.complete(
        task_id,
        success=False,
        failure_reason="NO_ANSWER",
        failure_notes="Nobody home",
        photo_upload_ids=("door",),
    )
    [event] = parse(dispatcher, stub.webhook("taskCompleted", task_id))
    assert (event.kind, event.success) == ("failed", False)
    assert event.failure_reason == "NO_ANSWER: Nobody home"
    assert event.photo_ref == "door"


def test_task_failed(stub: OnfleetStub, dispatcher: OnfleetDispatcher, task_id: str) -> None:
    stub.complete(task_id, success=False, failure_reason="CLOSED")
    [event] = parse(dispatcher, stub.webhook("taskFailed", task_id))
    assert (event.kind, event.success, event.failure_reason) == ("failed", False, "CLOSED")


def test_task_assigned_and_unassigned(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher, task_id: str
) -> None:
    ben = stub.worker_ids[1]
    dispatcher.assign(task_id, ben)
    [assigned] = parse(dispatcher, stub.webhook("taskAssigned", task_id))
    assert (assigned.kind, assigned.driver_id, assigned.driver_name) == (
        "assigned",
        ben,
        "Ben Rider",
    )
    dispatcher.assign(task_id, None)
    [unassigned] = parse(dispatcher, stub.webhook("taskUnassigned", task_id, worker_id=ben))
    assert (unassigned.kind, unassigned.provider_task_id) == ("unassigned", task_id)
    assert unassigned.driver_id == ben


def test_worker_duty(stub: OnfleetStub, dispatcher: OnfleetDispatcher) -> None:
    ben = stub.worker_ids[1]
    [on] = parse(dispatcher, stub.webhook("workerDuty", worker_id=ben))
    assert (on.kind, on.on_duty, on.driver_id, on.provider_task_id) == (
        "driver_duty",
        False,
        ben,
        None,
    )
    stub.set_duty(ben, True)
    [off] = parse(dispatcher, stub.webhook("workerDuty", worker_id=ben))
    assert off.on_duty is True
    # Without Onfleet's status, data.worker.onDuty says it.
    payload = json.loads(stub.webhook("workerDuty", worker_id=ben)[0])
    del payload["status"]
    [fallback] = dispatcher.parse_webhook(json.dumps(payload).encode())
    assert fallback.on_duty is True


def test_triggers_we_do_not_follow_are_left_out(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher, task_id: str
) -> None:
    for trigger in ("taskCreated", "taskUpdated", "taskDelayed"):
        assert parse(dispatcher, stub.webhook(trigger, task_id)) == []
    assert dispatcher.parse_webhook(b'{"triggerId": 99, "taskId": "x", "time": 1}') == []


def test_the_trigger_name_is_used_when_the_id_is_missing(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher, task_id: str
) -> None:
    payload = json.loads(stub.webhook("taskAssigned", task_id)[0])
    del payload["triggerId"]
    [event] = dispatcher.parse_webhook(json.dumps(payload).encode())
    assert event.kind == "assigned"


def test_keys_are_stable_per_delivery(
    stub: OnfleetStub, dispatcher: OnfleetDispatcher, task_id: str
) -> None:
    stub.start(task_id)
    first = stub.webhook("taskEta", task_id, at_ms=START_MS)
    later = stub.webhook("taskEta", task_id, at_ms=START_MS + 30_000)
    [a] = parse(dispatcher, first)
    [replayed] = parse(dispatcher, first)
    # The same delivery re-serialised (Onfleet's retry need not keep the bytes) keeps its key.
    [reordered] = dispatcher.parse_webhook(json.dumps(json.loads(first[0]), indent=1).encode())
    [b] = parse(dispatcher, later)
    assert a.key == replayed.key == reordered.key
    assert a.key != b.key


def test_garbage_is_refused(dispatcher: OnfleetDispatcher) -> None:
    for body in (b"", b"not json", b"\xff\xfe", b"[1, 2]", b'"taskStarted"'):
        with pytest.raises(WebhookRefused):
            dispatcher.parse_webhook(body)
