"""``Idempotency-Key`` on unsafe API requests (totetaxi_core.api.idempotency).

A retry with the same key, method, path and body gets the first answer (and does the work once);
the same key for another request is 409 naming the header; refused answers are not kept; keys are
scoped to the caller, expire, and are purged. Every check looks at the database as well as at the
answer: a booking row, the TT counter, the van reserved, the idempotency records.

The app and its helpers are those of ``test_bookings`` (pricing plugin, clock fixed on Monday
2026-11-23 10:00 New York, bookings for Thursday ``DAY``). The records themselves are stamped with
the real time (``totetaxi_core.db.utcnow``), not with the app's clock, so expiry is simulated by
moving ``expires_at`` rather than the clock.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import Any

import pytest
import support.bookings as bookings_support
from pyramid.request import Request
from sqlalchemy import event, func, select, update
from support.bookings import (
    AVAILABILITY,
    BOOKINGS,
    DAY,
    GUEST,
    NOW,
    OTHER_DAY,
    PICKUP,
    Objector,
    client,
    customer,
    customer_body,
    error_named,
    get_booking,
    guest_body,
    remaining,
    run,
    save_address,
    set_clock,
    staff_headers,
    token_of,
)
from totetaxi_pricing import services as pricing
from totetaxi_pricing.models import CapacityDay
from webtest import TestApp

from totetaxi_core.api.idempotency import (
    HEADER,
    PURGE_TASK,
    REPLAYED_HEADER,
    IdempotencyRecord,
    fingerprint,
    key_digest,
    purge_expired,
    seal,
    unseal,
)
from totetaxi_core.bookings.models import Booking, BookingEvent
from totetaxi_core.bookings.services import numbers_drawn
from totetaxi_core.hooks import hookimpl
from totetaxi_core.identity.models import ApiToken
from totetaxi_core.testing import (
    STRONG_PASSWORD,
    bearer,
    in_transaction,
    make_staff,
    race,
    register_customer,
)

# Every test here depends on the database: run on SQLite and PostgreSQL.
pytestmark = pytest.mark.both_databases

app = bookings_support.app  # the fixture: pricing plugin, clock on NOW, SQLite and PostgreSQL

# --- helpers -------------------------------------------------------------------------------------


def keyed(key: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {**(headers or {}), HEADER: key}


def new_key() -> str:
    return str(uuid.uuid4())


def post_booking(
    app: TestApp,
    body: dict[str, Any],
    key: str | None,
    headers: dict[str, str] | None = None,
    status: int = 201,
) -> Any:
    """The whole answer (status, headers, raw body) of ``POST /bookings``."""
    sent = keyed(key, headers) if key is not None else dict(headers or {})
    return client(app).post_json(BOOKINGS, body, headers=sent, status=status)


def count(app: TestApp, model: Any) -> int:
    return run(app, lambda ctx: ctx.dbsession.scalar(select(func.count()).select_from(model)))


def counter(app: TestApp) -> int:
    """The last TT number handed out."""
    return run(app, lambda ctx: numbers_drawn(ctx.dbsession))


def vans_booked(app: TestApp, day: dt.date = DAY) -> int:
    value = run(
        app,
        lambda ctx: ctx.dbsession.scalar(select(CapacityDay.booked).where(CapacityDay.day == day)),
    )
    return value or 0


def records(app: TestApp) -> list[dict[str, Any]]:
    """Every idempotency record, as plain values, oldest first."""

    def read(ctx: Any) -> list[dict[str, Any]]:
        rows = ctx.dbsession.scalars(
            select(IdempotencyRecord).order_by(IdempotencyRecord.created_at)
        )
        return [
            {
                name: getattr(row, name)
                for name in (
                    "scope",
                    "key",
                    "fingerprint",
                    "method",
                    "path",
                    "status_code",
                    "content_type",
                    "body",
                    "created_at",
                    "expires_at",
                )
            }
            for row in rows
        ]

    return run(app, read)


def expire(app: TestApp, key: str) -> None:
    """Make the record of ``key`` expire a second ago (real time, as the records are stamped)."""
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    run(
        app,
        lambda ctx: ctx.dbsession.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == key_digest(key))
            .values(expires_at=past)
        ),
    )


def header_error(answer: Any) -> dict[str, Any]:
    """The error of an answer that names the ``Idempotency-Key`` header."""
    error = error_named(answer.json, HEADER)
    assert error["location"] == "header", error
    return error


def nothing_booked(app: TestApp) -> None:
    assert count(app, Booking) == 0
    assert counter(app) == 0
    assert remaining(app) == 4


# --- a retry gets the first answer ---------------------------------------------------------------


def test_a_retry_gets_the_first_answer_and_books_once(app):
    key = new_key()
    first = post_booking(app, guest_body(), key)
    assert REPLAYED_HEADER not in first.headers
    assert first.json["number"] == "TT-000001"
    for _ in range(2):
        again = post_booking(app, guest_body(), key)
        assert again.status_int == 201
        assert again.headers[REPLAYED_HEADER] == "true"
        assert again.body == first.body  # byte for byte: same id, number, tracking token
        assert again.content_type == first.content_type == "application/json"
        assert again.json["tracking_token"] == first.json["tracking_token"]
    # The work was done once: one booking, one number, one van.
    assert count(app, Booking) == 1
    assert counter(app) == 1
    assert vans_booked(app) == 1 and remaining(app) == 3
    assert count(app, BookingEvent) == 1
    [record] = records(app)
    assert (record["scope"], record["key"], record["method"], record["path"]) == (
        "anonymous",
        key_digest(key),
        "POST",
        BOOKINGS,
    )
    assert record["status_code"] == 201 and unseal(key, bytes(record["body"])) == first.body
    # At rest neither the key nor the answer (with the guest's tracking token) can be read.
    assert first.json["tracking_token"].encode() not in bytes(record["body"])
    # The replayed token is the real one, and the next booking takes the next number.
    read = get_booking(app, first.json["id"], params=token_of(first.json)).json
    assert read["number"] == "TT-000001"
    assert post_booking(app, guest_body(), None).json["number"] == "TT-000002"


def test_a_customer_retry_with_another_token_is_the_same_caller(app):
    me, headers = customer(app)
    other_token = bearer(client(app), me["email"])
    key = new_key()
    first = post_booking(app, customer_body(), key, headers)
    again = post_booking(app, customer_body(), key, other_token)
    assert again.headers[REPLAYED_HEADER] == "true"
    assert again.body == first.body and again.json["customer_id"] == me["id"]
    assert count(app, Booking) == 1 and counter(app) == 1 and remaining(app) == 3
    assert [r["scope"] for r in records(app)] == [f"customer:{me['id']}"]


def test_the_same_json_in_another_order_and_spacing_is_the_same_request(app):
    key = new_key()
    first = post_booking(app, guest_body(), key)
    body = guest_body()
    reordered = {name: body[name] for name in reversed(list(body))}
    reordered["guest"] = dict(reversed(list(GUEST.items())))
    raw = json.dumps(reordered, indent=4, separators=(" ,  ", " :  ")) + "\n\n"
    assert raw.encode() != json.dumps(body).encode()
    again = client(app).post(
        BOOKINGS, raw, headers=keyed(key), content_type="application/json", status=201
    )
    assert again.headers[REPLAYED_HEADER] == "true"
    assert again.body == first.body
    assert count(app, Booking) == 1 and counter(app) == 1


def test_the_retention_follows_the_setting(app, make_testapp):
    def retention(testapp: TestApp) -> dt.timedelta:
        key = new_key()
        post_booking(testapp, guest_body(), key)
        [record] = [r for r in records(testapp) if r["key"] == key_digest(key)]
        assert record["created_at"] <= dt.datetime.now(dt.UTC) <= record["expires_at"]
        return record["expires_at"] - record["created_at"]

    assert retention(app) == dt.timedelta(hours=24)
    short = make_testapp(**{"totetaxi.plugins": "pricing", "totetaxi.idempotency_hours": 2})
    set_clock(short, NOW)
    assert retention(short) == dt.timedelta(hours=2)


# --- the same key for another request ------------------------------------------------------------


def test_the_same_key_with_another_body_is_409_and_writes_nothing(app):
    key = new_key()
    first = post_booking(app, guest_body(), key)
    [before] = records(app)
    for body in (guest_body(notes="Ring twice."), guest_body(OTHER_DAY), {}):
        answer = post_booking(app, body, key, status=409)
        assert "different request" in header_error(answer)["description"]
        assert REPLAYED_HEADER not in answer.headers
    assert count(app, Booking) == 1 and counter(app) == 1
    assert vans_booked(app) == 1 and vans_booked(app, OTHER_DAY) == 0
    assert records(app) == [before]  # the first request's record is untouched
    # ... and still answers its own retry.
    assert post_booking(app, guest_body(), key).body == first.body


def test_the_same_key_on_another_path_is_409(app):
    key = new_key()
    created = post_booking(app, guest_body(), key).json
    path = f"{BOOKINGS}/{created['id']}/cancel?token={created['tracking_token']}"
    answer = client(app).post_json(path, {}, headers=keyed(key), status=409)
    header_error(answer)
    assert get_booking(app, created["id"], params=token_of(created)).json["status"] == (
        "pending_payment"
    )
    assert remaining(app) == 3
    # With a key of its own the cancel goes through, and its retry gets that answer again
    # (instead of "cannot go from cancelled to cancelled"), having cancelled once.
    cancel_key = new_key()
    done = client(app).post_json(path, {}, headers=keyed(cancel_key), status=200)
    again = client(app).post_json(path, {}, headers=keyed(cancel_key), status=200)
    assert again.headers[REPLAYED_HEADER] == "true" and again.body == done.body
    assert done.json["status"] == "cancelled"
    assert count(app, BookingEvent) == 2  # created, cancelled: not cancelled twice
    assert remaining(app) == 4
    # The query string is part of the request too.
    header_error(
        client(app).post_json(path + "&again=1", {}, headers=keyed(cancel_key), status=409)
    )
    assert count(app, BookingEvent) == 2


def test_the_same_key_with_another_method_is_409(app):
    _, headers = customer(app)
    address_id = save_address(app, headers, PICKUP)
    path = f"/api/v1/me/addresses/{address_id}"
    key = new_key()
    patched = client(app).patch_json(path, {"label": "Home"}, headers=keyed(key, headers))
    assert patched.json["label"] == "Home"
    answer = client(app).delete(path, headers=keyed(key, headers), status=409)
    header_error(answer)
    assert client(app).get(path, headers=headers).json["label"] == "Home"  # not deleted
    assert len(records(app)) == 1


# --- scope ---------------------------------------------------------------------------------------


def test_keys_are_scoped_to_the_caller(app):
    alice, alice_headers = customer(app)
    bob, bob_headers = customer(app)
    key = "order-1"
    first = post_booking(app, customer_body(), key, alice_headers).json
    second = post_booking(app, customer_body(), key, bob_headers)
    assert REPLAYED_HEADER not in second.headers
    assert second.json["id"] != first["id"]
    assert (first["customer_id"], second.json["customer_id"]) == (alice["id"], bob["id"])
    # An anonymous guest with that key is not given a customer's answer: the customer's very
    # body is refused (a guest block is needed), a guest body books anew.
    refused = post_booking(app, customer_body(), key, status=400)
    assert REPLAYED_HEADER not in refused.headers
    error_named(refused.json, "guest")
    guest = post_booking(app, guest_body(), key)
    assert REPLAYED_HEADER not in guest.headers
    assert guest.json["customer_id"] is None and "tracking_token" in guest.json
    # Staff have a scope of their own too: the key is free for a staff cancel.
    path = f"{BOOKINGS}/{first['id']}/cancel"
    staff = staff_headers(app)
    assert client(app).post_json(path, {}, headers=keyed(key, staff)).json["status"] == (
        "cancelled"
    )
    assert count(app, Booking) == 3 and counter(app) == 3
    assert vans_booked(app) == 2  # three booked, one cancelled by staff
    scopes = sorted(r["scope"] for r in records(app))
    staff_scope = next(s for s in scopes if s.startswith("staff:"))
    assert scopes == sorted(
        [f"customer:{alice['id']}", f"customer:{bob['id']}", "anonymous", staff_scope]
    )
    assert {r["key"] for r in records(app)} == {key_digest(key)}


# --- refused requests are not kept --------------------------------------------------------------


def test_a_full_day_is_not_kept_and_the_key_works_once_there_is_room(app):
    run(app, lambda ctx: pricing.set_capacity(ctx, DAY, 0, None, "Closed"))
    key = new_key()
    for _ in range(2):  # the refusal is given again, not replayed
        answer = post_booking(app, guest_body(), key, status=409)
        error_named(answer.json, "date")
        assert REPLAYED_HEADER not in answer.headers
    assert records(app) == [] and count(app, Booking) == 0 and counter(app) == 0
    run(app, lambda ctx: pricing.set_capacity(ctx, DAY, None, None))
    booked = post_booking(app, guest_body(), key)
    assert REPLAYED_HEADER not in booked.headers and booked.json["number"] == "TT-000001"
    assert post_booking(app, guest_body(), key).body == booked.body
    assert count(app, Booking) == 1 and vans_booked(app) == 1
    assert [r["status_code"] for r in records(app)] == [201]


def test_an_invalid_body_is_not_kept_and_the_fixed_body_may_use_the_key(app):
    key = new_key()
    bad = guest_body(total_cents=1)
    for _ in range(2):
        answer = post_booking(app, bad, key, status=400)
        assert REPLAYED_HEADER not in answer.headers
        assert any("total_cents" in e["description"] for e in answer.json["errors"])
    assert records(app) == []
    nothing_booked(app)
    fixed = post_booking(app, guest_body(), key)  # another body, but nothing was kept
    assert REPLAYED_HEADER not in fixed.headers
    assert count(app, Booking) == 1 and counter(app) == 1
    # Now the key is taken: the bad body is another request.
    header_error(post_booking(app, bad, key, status=409))


def test_a_rule_refusal_is_not_kept(app):
    app.app.registry.hooks.register(Objector(), "objector")
    key = new_key()
    for _ in range(2):
        answer = post_booking(app, guest_body(), key, status=422)
        error_named(answer.json, "notes")
        assert REPLAYED_HEADER not in answer.headers
    assert records(app) == []
    nothing_booked(app)
    app.app.registry.hooks.pm.unregister(name="objector")
    assert post_booking(app, guest_body(), key).json["number"] == "TT-000001"
    assert len(records(app)) == 1


# --- the key itself ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["", "two words", "x" * 256, "clé", "tab\there", " lead"],
    ids=["empty", "space", "256-chars", "non-ascii", "tab", "leading-space"],
)
def test_a_malformed_key_is_400_naming_the_header(app, key):
    answer = post_booking(app, guest_body(), key, status=400)
    assert "255" in header_error(answer)["description"]
    assert records(app) == []
    nothing_booked(app)


@pytest.mark.parametrize(
    "key",
    ["k" * 255, "a", "!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"],
    ids=["255-chars", "one-char", "punctuation"],
)
def test_any_1_to_255_visible_ascii_characters_are_a_key(app, key):
    first = post_booking(app, guest_body(), key)
    again = post_booking(app, guest_body(), key)
    assert again.headers[REPLAYED_HEADER] == "true" and again.body == first.body
    assert [r["key"] for r in records(app)] == [key_digest(key)]
    assert count(app, Booking) == 1


# --- where the header does nothing ---------------------------------------------------------------


def test_without_the_header_every_post_is_a_new_booking(app):
    first = post_booking(app, guest_body(), None)
    second = post_booking(app, guest_body(), None)
    assert REPLAYED_HEADER not in second.headers
    assert (first.json["number"], second.json["number"]) == ("TT-000001", "TT-000002")
    assert count(app, Booking) == 2 and counter(app) == 2 and remaining(app) == 2
    assert records(app) == []


def test_safe_methods_ignore_the_header(app):
    created = post_booking(app, guest_body(), None).json
    key = new_key()
    for _ in range(2):
        read = get_booking(app, created["id"], headers=keyed(key), params=token_of(created))
        assert REPLAYED_HEADER not in read.headers
        client(app).get(
            AVAILABILITY,
            params={"start": DAY.isoformat(), "end": DAY.isoformat()},
            headers=keyed(key),
            status=200,
        )
        client(app).head(
            f"{BOOKINGS}/{created['id']}", params=token_of(created), headers=keyed(key), status=200
        )
    # Even a malformed key is no concern of a GET.
    get_booking(app, created["id"], headers=keyed("not a key"), params=token_of(created))
    assert records(app) == []
    # The key is still free for an unsafe request.
    assert post_booking(app, guest_body(), key).json["number"] == "TT-000002"


def test_sign_in_endpoints_ignore_the_header(app):
    me = register_customer(client(app))
    credentials = {"email": me["email"], "password": STRONG_PASSWORD}
    key = new_key()
    tokens = [
        client(app).post_json("/api/v1/auth/token", credentials, headers=keyed(key), status=200)
        for _ in range(2)
    ]
    assert all(REPLAYED_HEADER not in answer.headers for answer in tokens)
    assert tokens[0].json["token"] != tokens[1].json["token"]
    assert count(app, ApiToken) == 2
    # Other opted-out views: the same key for different bodies is no conflict.
    client(app).post_json(
        "/api/v1/auth/register",
        {
            "email": f"c-{uuid.uuid4().hex[:6]}@example.com",
            "password": STRONG_PASSWORD,
            "first_name": "Casey",
            "last_name": "Client",
            "phone": "+1 212 555 0100",
        },
        headers=keyed(key),
        status=201,
    )
    logins = [
        client(app).post_json("/api/v1/auth/login", credentials, headers=keyed(key), status=200)
        for _ in range(2)
    ]
    cookies = [answer.headers.get("Set-Cookie") for answer in logins]
    assert all(cookies) and cookies[0] != cookies[1]
    for email in (me["email"], "nobody@example.com"):
        client(app).post_json(
            "/api/v1/auth/password-reset", {"email": email}, headers=keyed(key), status=202
        )
    for answer in tokens:  # two sign-outs with one key: both tokens are revoked
        client(app).post(
            "/api/v1/auth/logout",
            headers=keyed(key, {"Authorization": f"Bearer {answer.json['token']}"}),
            status=204,
        )
    for answer in tokens:
        client(app).get(
            "/api/v1/me", headers={"Authorization": f"Bearer {answer.json['token']}"}, status=401
        )
    assert records(app) == []


def test_staff_token_ignores_the_header(app):
    member = make_staff(app.app.registry, "staff")
    key = new_key()
    answers = [
        client(app).post_json(
            "/api/v1/staff/auth/token",
            {"email": member.email, "password": STRONG_PASSWORD},
            headers=keyed(key),
            status=200,
        )
        for _ in range(2)
    ]
    assert answers[0].json["token"] != answers[1].json["token"]
    assert all(REPLAYED_HEADER not in answer.headers for answer in answers)
    assert records(app) == []


def test_a_password_change_ignores_the_header(app):
    browser = client(app)
    me = register_customer(browser)
    new_password = STRONG_PASSWORD + "-2"
    key = new_key()
    changed = browser.post_json(
        "/api/v1/me/password",
        {
            "current_password": STRONG_PASSWORD,
            "new_password": new_password,
        },
        headers=keyed(key, {"X-CSRF-Token": me["csrf"]}),
        status=204,
    )
    # Back again with the same key and another body: not a conflict, and not a replay.
    browser.post_json(
        "/api/v1/me/password",
        {
            "current_password": new_password,
            "new_password": STRONG_PASSWORD,
        },
        headers=keyed(key, {"X-CSRF-Token": changed.headers["X-CSRF-Token"]}),
        status=204,
    )
    client(app).post_json(
        "/api/v1/auth/token", {"email": me["email"], "password": STRONG_PASSWORD}, status=200
    )
    assert records(app) == []


def test_a_forbidden_request_is_answered_so_even_with_a_used_key(app):
    created = post_booking(app, guest_body(), None).json
    path = f"{BOOKINGS}/{created['id']}/cancel"
    key = new_key()
    client(app).post_json(f"{path}?token={created['tracking_token']}", {}, headers=keyed(key))
    # Authorization comes first: a wrong token is the usual 404, not a key conflict.
    answer = client(app).post_json(f"{path}?token=wrong-token", {}, headers=keyed(key), status=404)
    error_named(answer.json, "path")
    assert len(records(app)) == 1


# --- answers without a body ----------------------------------------------------------------------


def test_a_stored_answer_without_content_type_is_replayed(app):
    """A 2xx answer without a body (a 202 or 204 of some view) is kept with no content type."""
    raw = json.dumps(guest_body()).encode()
    print_ = fingerprint(Request.blank(BOOKINGS, method="POST", body=raw))
    key = new_key()
    now = dt.datetime.now(dt.UTC)
    run(
        app,
        lambda ctx: ctx.dbsession.add(
            IdempotencyRecord(
                id=uuid.uuid4(),
                scope="anonymous",
                key=key_digest(key),
                fingerprint=print_,
                method="POST",
                path=BOOKINGS,
                status_code=202,
                content_type="",
                headers="{}",
                body=seal(key, b""),
                created_at=now,
                expires_at=now + dt.timedelta(hours=1),
            )
        ),
    )
    answer = client(app).post(
        BOOKINGS, raw, headers=keyed(key), content_type="application/json", status=202
    )
    assert answer.headers[REPLAYED_HEADER] == "true"
    assert answer.body == b"" and "Content-Type" not in answer.headers
    nothing_booked(app)


def test_a_retried_delete_of_a_gone_object_is_404(app):
    """Documented limit: the object's context answers before the key is looked up, so a
    retried DELETE learns that the object is gone (404) rather than getting its 204 again."""
    _, headers = customer(app)
    address_id = save_address(app, headers, PICKUP)
    path = f"/api/v1/me/addresses/{address_id}"
    key = new_key()
    client(app).delete(path, headers=keyed(key, headers), status=204)
    assert [r["status_code"] for r in records(app)] == [204]
    again = client(app).delete(path, headers=keyed(key, headers), status=404)
    assert REPLAYED_HEADER not in again.headers


# --- expiry --------------------------------------------------------------------------------------


def test_an_expired_key_may_be_used_again(app):
    key = new_key()
    first = post_booking(app, guest_body(), key)
    expire(app, key)
    # Another body is no conflict once the key expired; it is a new request.
    second = post_booking(app, guest_body(OTHER_DAY), key)
    assert REPLAYED_HEADER not in second.headers
    assert second.json["number"] == "TT-000002" and second.json["id"] != first.json["id"]
    [record] = records(app)  # the old record was replaced, not duplicated
    assert unseal(key, bytes(record["body"])) == second.body
    assert record["expires_at"] > dt.datetime.now(dt.UTC)
    assert post_booking(app, guest_body(OTHER_DAY), key).body == second.body
    # The first body with the key again is now the other request.
    header_error(post_booking(app, guest_body(), key, status=409))
    assert count(app, Booking) == 2 and counter(app) == 2


def test_purge_removes_only_expired_records(app):
    registry = app.app.registry
    keys = [new_key() for _ in range(3)]
    for key in keys:
        post_booking(app, guest_body(), key)
    # The purge compares with the app's clock: run it at the real time, as in production.
    set_clock(app, dt.datetime.now(dt.UTC))
    assert in_transaction(registry, purge_expired) == 0
    expire(app, keys[0])
    assert in_transaction(registry, purge_expired) == 1
    assert sorted(r["key"] for r in records(app)) == sorted(key_digest(k) for k in keys[1:])
    assert in_transaction(registry, purge_expired) == 0
    # The task the beat runs hourly does the same.
    assert registry.tasks[PURGE_TASK].func is purge_expired
    expire(app, keys[1])
    registry.celery.tasks[PURGE_TASK]()
    assert [r["key"] for r in records(app)] == [key_digest(keys[2])]
    schedule = registry.celery.conf.beat_schedule["idempotency-purge"]
    assert schedule["task"] == PURGE_TASK and schedule["schedule"] == 3600.0
    assert count(app, Booking) == 3  # only the records went


# --- concurrency ---------------------------------------------------------------------------------

TWINS = 8


class Slow:
    """Makes the booking view take a while, so that twins surely arrive while it runs."""

    @hookimpl
    def totetaxi_validate_booking(self, ctx, draft, quote, customer):
        time.sleep(0.5)
        return []


@pytest.fixture
def race_app(make_testapp):
    """The bookings app with a connection for every racer and the claim failures counted."""

    def factory(**overrides: Any) -> TestApp:
        testapp = make_testapp(
            **{"totetaxi.plugins": "pricing", "sqlalchemy.pool_size": "20", **overrides}
        )
        set_clock(testapp, NOW)
        testapp.claim_failures = failures = []

        def on_error(context: Any) -> None:
            if "idempotency_records" in str(context.statement or ""):
                failures.append(type(context.original_exception).__name__)

        event.listen(testapp.app.registry["dbengine"], "handle_error", on_error)
        return testapp

    return factory


def race_bookings(
    app: TestApp,
    requests: list[tuple[dict[str, Any], dict[str, str]]],
) -> tuple[list[Any], list[BaseException]]:
    """Send the ``(body, headers)`` bookings at once, one thread each: the answers, and the
    exceptions that escaped the app (a 500 from a real server)."""

    def racer(body: dict[str, Any], headers: dict[str, str]) -> Any:
        own = TestApp(app.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
        return own.post_json(BOOKINGS, body, headers=headers, expect_errors=True)

    outcomes = race(
        *[(lambda r=request: racer(*r)) for request in requests], return_exceptions=True
    )
    crashes = [o for o in outcomes if isinstance(o, BaseException)]
    return [o for o in outcomes if not isinstance(o, BaseException)], crashes


@pytest.mark.parametrize("reused", [False, True], ids=["new-key", "expired-key"])
def test_concurrent_twins_book_once_and_all_get_the_answer(race_app, reused):
    app = race_app()
    key = new_key()
    if reused:  # the twins first delete the expired record of the key, then claim it anew
        post_booking(app, guest_body(OTHER_DAY), key)
        expire(app, key)
    app.app.registry.hooks.register(Slow(), "slow")
    answers, crashes = race_bookings(app, [(guest_body(), keyed(key))] * TWINS)
    # The work was done once ...
    expected = 2 if reused else 1
    assert count(app, Booking) == expected and counter(app) == expected
    assert vans_booked(app) == 1 and remaining(app) == 3
    assert len(records(app)) == 1
    # ... the twins met the winner's claim on the unique index ...
    assert len(app.claim_failures) >= 1, app.claim_failures
    # ... and, retried, all got its answer.
    assert crashes == []
    statuses = [answer.status_int for answer in answers]
    assert statuses == [201] * TWINS, [(a.status_int, a.json) for a in answers]
    assert len({answer.body for answer in answers}) == 1
    fresh = [answer for answer in answers if REPLAYED_HEADER not in answer.headers]
    assert len(fresh) == 1


def test_concurrent_twins_without_retries_are_told_to_retry(race_app):
    app = race_app(**{"retry.attempts": "1"})
    app.app.registry.hooks.register(Slow(), "slow")
    key = new_key()
    answers, crashes = race_bookings(app, [(guest_body(), keyed(key))] * TWINS)
    assert count(app, Booking) == 1 and counter(app) == 1 and vans_booked(app) == 1
    assert crashes == []
    done = [a for a in answers if a.status_int == 201]
    waiting = [a for a in answers if a.status_int != 201]
    assert len([a for a in done if REPLAYED_HEADER not in a.headers]) == 1
    assert len({a.body for a in done}) == 1
    assert waiting, "no twin arrived while the first one ran"
    for answer in waiting:
        assert answer.status_int == 409 and answer.headers["Retry-After"] == "1"
        assert "still being processed" in header_error(answer)["description"]
    # A client that follows Retry-After gets the answer.
    again = post_booking(app, guest_body(), key)
    assert again.headers[REPLAYED_HEADER] == "true" and again.body == done[0].body


def test_concurrent_requests_with_different_keys_all_book(race_app):
    app = race_app()
    run(app, lambda ctx: pricing.set_capacity(ctx, DAY, TWINS, None))
    answers, crashes = race_bookings(app, [(guest_body(), keyed(new_key())) for _ in range(TWINS)])
    assert crashes == []
    assert [answer.status_int for answer in answers] == [201] * TWINS
    assert all(REPLAYED_HEADER not in answer.headers for answer in answers)
    numbers = sorted(answer.json["number"] for answer in answers)
    assert numbers == [f"TT-{n:06d}" for n in range(1, TWINS + 1)]
    assert count(app, Booking) == TWINS and counter(app) == TWINS
    assert vans_booked(app) == TWINS and len(records(app)) == TWINS
    assert app.claim_failures == []
