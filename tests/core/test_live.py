"""Live updates (totetaxi_core.live): events published after commit, held WebSocket and
Server-Sent Events connections, who may read what, replay, back-pressure, the bound per
principal, and fan-out between live processes through Redis.

The live app runs on a real uvicorn server (``support.live.serve``) beside a WebTest client of
the same app (its registry: the in-process bus), so a staff member's change through the API
reaches the sockets as it would in ``make run``.
"""

from __future__ import annotations

import base64
import os
import socket
import uuid
from typing import Any

import pytest
import redis
import transaction
from support.bookings import NOW, book, client, customer, customer_body, guest_body, set_clock
from support.live import (
    frame,
    frames_until,
    next_event,
    published_types,
    refusal,
    serve,
    socket_to,
    sse,
)
from webtest import TestApp

from totetaxi_core.context import Context
from totetaxi_core.db import unit_of_work
from totetaxi_core.live import LiveEvent, publish_live, staff_event
from totetaxi_core.live.app import LiveApp
from totetaxi_core.live.hub import parse_id
from totetaxi_core.testing import bearer, make_staff

STATUS = "/api/v1/staff/bookings/{id}/status"


@pytest.fixture
def app(make_testapp: Any) -> TestApp:
    testapp = make_testapp(
        **{
            "totetaxi.plugins": "pricing",
            "totetaxi.login_limit_per_address": 1000,
            "totetaxi.reset_limit_per_address": 1000,
        }
    )
    set_clock(testapp, NOW)
    return testapp


@pytest.fixture
def live(app: TestApp):
    served = serve(app.app)
    yield served
    served.stop()


def staff_token(app: TestApp, role: str = "staff") -> dict[str, str]:
    member = make_staff(app.app.registry, role)
    return bearer(client(app), member.email, staff=True)


def move(app: TestApp, booking: dict[str, Any], status: str, headers: dict[str, str]) -> None:
    client(app).post_json(STATUS.format(id=booking["id"]), {"status": status}, headers=headers)


def token_query(headers: dict[str, str]) -> str:
    return "access_token=" + headers["Authorization"].split(" ", 1)[1]


# --- publishing: after commit only ---------------------------------------------------------------


def test_an_event_is_published_at_commit_once_and_never_on_abort(app: TestApp) -> None:
    registry = app.app.registry
    event = staff_event("test.thing", {"n": 1})
    with unit_of_work(registry["dbsession_factory"]) as (dbsession, tm):
        ctx = Context(registry=registry, dbsession=dbsession, transaction_manager=tm)
        publish_live(ctx, event)
        publish_live(ctx, staff_event("test.thing", {"n": 1}))  # the same again: sent once
        assert published_types(registry) == []  # not before commit
    assert published_types(registry) == ["test.thing"]

    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    ctx = Context(registry=registry, dbsession=None, transaction_manager=manager)  # type: ignore[arg-type]
    publish_live(ctx, staff_event("test.aborted"))
    manager.abort()
    assert published_types(registry) == ["test.thing"]


def test_event_data_must_be_json_ready(app: TestApp) -> None:
    with pytest.raises(TypeError, match=r"test\.bad"):
        publish_live(app.app.registry, LiveEvent("test.bad", {"when": object()}))


def test_a_refused_status_change_publishes_nothing(app: TestApp) -> None:
    staff = staff_token(app)
    booking = book(app, guest_body())
    client(app).post_json(
        STATUS.format(id=booking["id"]), {"status": "completed"}, headers=staff, status=409
    )
    stream = f"booking:{booking['id']}"
    assert published_types(app.app.registry, stream) == ["booking.created"]
    move(app, booking, "confirmed", staff)
    assert published_types(app.app.registry, stream) == ["booking.created", "booking.status"]


# --- who may connect -----------------------------------------------------------------------------


def test_handshakes_without_the_right_credentials_are_refused(app: TestApp, live) -> None:
    booking = book(app, guest_body())
    _, headers = customer(app)

    status, body = refusal(live)
    assert status == 401 and body["errors"][0]["name"] == "Authorization"
    status, body = refusal(live, "", {"Authorization": "Bearer not-a-token"})
    assert status == 401
    # a guest's booking needs its token: a wrong one is the API's 404
    status, body = refusal(live, f"booking={booking['number']}&token=wrong")
    assert status == 404 and body["errors"][0]["name"] == "booking"
    status, _ = refusal(live, f"booking={booking['number']}")
    assert status == 404
    # a customer reads neither another's booking nor the console's stream
    status, _ = refusal(live, f"booking={booking['number']}", headers)
    assert status == 404
    status, body = refusal(live, "subscribe=staff", headers)
    assert status == 403 and body["errors"][0]["name"] == "subscribe"
    status, body = refusal(live, "subscribe=everything", headers)
    assert status == 400 and body["errors"][0]["name"] == "subscribe"
    status, body = refusal(live, "last_event_id=yesterday", headers)
    assert status == 400 and body["errors"][0]["name"] == "last_event_id"
    # the right token opens it
    with socket_to(live, f"booking={booking['number']}&token={booking['tracking_token']}") as ws:
        assert frame(ws)["type"] == "hello"


def test_the_session_cookie_counts_only_from_a_trusted_origin(app: TestApp, live) -> None:
    browser = client(app)
    browser.post_json(
        "/api/v1/auth/register",
        {
            "email": f"c-{uuid.uuid4().hex[:6]}@example.com",
            "password": "Tote-Taxi-Strong-1",
            "first_name": "Casey",
            "last_name": "Client",
            "phone": "+1 212 555 0100",
        },
        status=201,
    )
    cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookiejar)
    status, body = refusal(live, "", {"Cookie": cookie, "Origin": "https://evil.example"})
    assert status == 403 and body["errors"][0] == {
        "location": "header",
        "name": "Origin",
        "description": "Pages from https://evil.example may not use this session.",
    }
    with socket_to(live, "", {"Cookie": cookie, "Origin": live.url}) as ws:
        assert frame(ws)["type"] == "hello"
    with socket_to(live, "", {"Cookie": cookie, "Origin": "http://127.0.0.1:6543"}) as ws:
        assert frame(ws)["type"] == "hello"  # totetaxi.public_url


def test_connections_per_principal_are_bounded(make_testapp: Any) -> None:
    app = make_testapp(
        **{"totetaxi.plugins": "pricing", "totetaxi.live_max_connections_per_principal": 2}
    )
    served = serve(app.app)
    try:
        staff = staff_token(app)
        with socket_to(served, "", staff), socket_to(served, "", staff):
            status, body = refusal(served, "", staff)
            assert status == 429 and body["errors"][0]["name"] == "connections"
            with socket_to(served, "", staff_token(app)):  # another member is not counted
                pass
        with socket_to(served, "", staff) as ws:  # closed ones are given back
            assert frame(ws)["type"] == "hello"
    finally:
        served.stop()


# --- what each receives --------------------------------------------------------------------------


def test_a_customer_socket_never_receives_another_customers_event(app: TestApp, live) -> None:
    staff = staff_token(app)
    _, alice = customer(app)
    _, bob = customer(app)
    alices = book(app, customer_body(), alice)
    bobs = book(app, customer_body(), bob)
    guests = book(app, guest_body())
    with (
        socket_to(live, token_query(alice)) as alice_ws,
        socket_to(live, "", staff) as staff_ws,
    ):
        move(app, bobs, "confirmed", staff)
        move(app, guests, "confirmed", staff)
        move(app, alices, "confirmed", staff)
        received = frames_until(alice_ws, lambda f: f["type"] == "booking.status")
        events = [f for f in received if f["type"] not in ("hello", "heartbeat")]
        assert [e["data"]["number"] for e in events] == [alices["number"]]
        assert events[0]["data"]["status"] == "confirmed"
        assert events[0]["data"]["old_status"] == "pending_payment"
        assert "streams" not in events[0]  # nobody learns whose streams an event went to
        # staff see all three, in order
        numbers = [next_event(staff_ws, "booking.status")["data"]["number"] for _ in range(3)]
        assert numbers == [bobs["number"], guests["number"], alices["number"]]


def test_a_guest_receives_their_booking_only(app: TestApp, live) -> None:
    staff = staff_token(app)
    mine, other = book(app, guest_body()), book(app, guest_body())
    query = f"booking={mine['number']}&token={mine['tracking_token']}"
    with socket_to(live, query) as ws:
        move(app, other, "confirmed", staff)
        move(app, mine, "cancelled", staff)
        event = next_event(ws)
        assert (event["type"], event["data"]["number"]) == ("booking.status", mine["number"])
        assert event["data"]["message"] == "Booking cancelled."  # never the staff's reason


def test_reconnecting_with_the_last_event_id_replays_what_was_missed(app: TestApp, live) -> None:
    staff = staff_token(app)
    _, alice = customer(app)
    first, second = book(app, customer_body(), alice), book(app, customer_body(), alice)
    with socket_to(live, token_query(alice)) as ws:
        move(app, first, "confirmed", staff)
        seen = next_event(ws)
    # disconnected: two changes happen meanwhile, and one of another customer's
    move(app, second, "confirmed", staff)
    move(app, book(app, guest_body()), "confirmed", staff)
    move(app, first, "cancelled", staff)
    query = f"{token_query(alice)}&last_event_id={seen['id']}"
    with socket_to(live, query) as ws:
        assert frame(ws)["type"] == "hello"
        replayed = [frame(ws), frame(ws)]
        assert [(e["data"]["number"], e["data"]["status"]) for e in replayed] == [
            (second["number"], "confirmed"),
            (first["number"], "cancelled"),
        ]
        assert parse_id(replayed[0]["id"]) > parse_id(seen["id"])
        move(app, second, "cancelled", staff)  # and then live again, nothing twice
        assert next_event(ws)["data"] == {**next_event_data(second, "cancelled")}


def next_event_data(booking: dict[str, Any], status: str) -> dict[str, Any]:
    return {
        "booking_id": booking["id"],
        "number": booking["number"],
        "status": status,
        "old_status": "confirmed",
        "message": "Booking cancelled.",
    }


def test_a_last_event_id_past_the_replay_window_asks_for_a_resync(app: TestApp, live) -> None:
    staff = staff_token(app)
    with socket_to(live, "last_event_id=1000-0", staff) as ws:  # 1970: long gone
        assert frame(ws)["type"] == "hello"
        assert frame(ws)["type"] == "resync"


def test_a_heartbeat_when_nothing_happens_carries_the_position(make_testapp: Any) -> None:
    app = make_testapp(**{"totetaxi.plugins": "pricing", "totetaxi.live_heartbeat_seconds": 1})
    set_clock(app, NOW)
    served = serve(app.app)
    try:
        staff = staff_token(app)
        move(app, book(app, guest_body()), "confirmed", staff)  # the bus has a position now
        with socket_to(served, "", staff) as ws:
            hello = frame(ws)
            assert hello["heartbeat_seconds"] == 1
            beat = frame(ws)
            assert beat["type"] == "heartbeat" and beat["id"] == hello["id"] is not None
    finally:
        served.stop()


# --- Server-Sent Events --------------------------------------------------------------------------


def test_server_sent_events_carry_the_same_events_and_resume(app: TestApp, live) -> None:
    staff = staff_token(app)
    mine = book(app, guest_body())
    query = f"booking={mine['number']}&token={mine['tracking_token']}"
    stream = sse(live, query)
    try:
        assert stream.status == 200
        assert stream.response.getheader("Content-Type").startswith("text/event-stream")
        move(app, mine, "confirmed", staff)
        event = stream.next()
        assert event["event"] == "booking.status" and event["data"]["data"]["status"] == "confirmed"
    finally:
        stream.close()
    move(app, mine, "cancelled", staff)
    again = sse(live, query, {"Last-Event-ID": event["id"]})  # as EventSource reconnects
    try:
        assert again.next()["data"]["data"]["status"] == "cancelled"
    finally:
        again.close()
    refused = sse(live, f"booking={mine['number']}&token=wrong")
    assert refused.status == 404 and refused.json()["errors"][0]["name"] == "booking"
    refused.close()


# --- back-pressure -------------------------------------------------------------------------------


def _unread_socket(served, headers: dict[str, str]) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads."""
    sock = socket.create_connection(("127.0.0.1", served.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        "GET /api/v1/live HTTP/1.1",
        f"Host: 127.0.0.1:{served.port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)
    assert answer.startswith(b"HTTP/1.1 101")
    return sock


def test_a_slow_client_is_dropped_and_never_stalls_the_others(make_testapp: Any) -> None:
    app = make_testapp(**{"totetaxi.plugins": "pricing", "totetaxi.live_queue_size": 4})
    served = serve(app.app)
    live_app: LiveApp = served.live
    try:
        staff = staff_token(app)
        slow = _unread_socket(served, staff)
        with socket_to(served, "", staff) as fast:
            assert frame(fast)["type"] == "hello"
            bulk = "x" * 32_000
            count = 400  # 12.8 MB: more than the slow socket's buffers hold
            received = []
            for n in range(count):  # at the pace of the fast client, whose queue stays short
                publish_live(app.app.registry, staff_event("test.bulk", {"n": n, "bulk": bulk}))
                received.append(next_event(fast, "test.bulk")["data"]["n"])
            assert received == list(range(count))
        assert live_app.hub.dropped == 1
        slow.close()
    finally:
        served.stop()


# --- Redis: several live processes ---------------------------------------------------------------


@pytest.fixture
def redis_prefix(redis_url: str):
    prefix = f"tt-live-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter(f"{prefix}:*"):
        connection.delete(key)


@pytest.mark.redis
def test_redis_fans_out_to_every_live_process_and_replays_in_any(
    make_testapp: Any, redis_url: str, redis_prefix: str
) -> None:
    settings = {
        "totetaxi.plugins": "pricing",
        "totetaxi.live_backend": "redis",
        "totetaxi.live_redis_url": redis_url,
        "totetaxi.live_prefix": redis_prefix,
    }
    web = make_testapp(**settings)
    set_clock(web, NOW)
    one, two = serve(make_testapp(**settings).app), serve(make_testapp(**settings).app)
    try:
        staff = staff_token(web)
        booking = book(web, guest_body())
        query = f"booking={booking['number']}&token={booking['tracking_token']}"
        with socket_to(one, query) as first, socket_to(two, "", staff) as second:
            move(web, booking, "confirmed", staff)
            a, b = next_event(first), next_event(second, "booking.status")
            assert a == b and a["data"]["status"] == "confirmed"
        move(web, booking, "cancelled", staff)
        # the client comes back to the other process: replayed from Redis
        with socket_to(two, f"{query}&last_event_id={a['id']}") as again:
            assert frame(again)["type"] == "hello"
            assert frame(again)["data"]["status"] == "cancelled"
        keys = redis.Redis.from_url(redis_url).keys(f"{redis_prefix}:s:*")
        assert {k.decode() for k in keys} == {
            f"{redis_prefix}:s:booking:{booking['id']}",
            f"{redis_prefix}:s:staff",
        }
    finally:
        one.stop()
        two.stop()


def test_development_serves_the_web_app_and_the_live_app_on_one_port(app: TestApp) -> None:
    import urllib.request

    from totetaxi_core.live.server import one_origin

    served = serve(app.app, one_origin(app.app, threads=2))
    try:
        with urllib.request.urlopen(served.url + "/healthz", timeout=10) as answer:
            assert answer.status == 200  # the Pyramid app
        with urllib.request.urlopen(served.url + "/api/v1/live/health", timeout=10) as answer:
            assert answer.status == 200  # the live app
        staff = staff_token(app)
        booking = book(app, guest_body())
        with socket_to(served, "", staff) as ws:
            # a change through this very server reaches the socket with no Redis
            request = urllib.request.Request(
                served.url + STATUS.format(id=booking["id"]),
                data=b'{"status": "confirmed"}',
                headers={"Content-Type": "application/json", **staff},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert answer.status == 200
            assert next_event(ws, "booking.status")["data"]["number"] == booking["number"]
    finally:
        served.stop()
