"""Booking helpers shared by the bookings, console, payments and notifications tests.

The app runs with the pricing plugin and a fixed clock: Monday 2026-11-23 10:00 America/New_York
(``NOW``); bookings are for Thursday 2026-12-03 (``DAY``) unless a test says otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from webtest import TestApp

from totetaxi_core.hooks import hookimpl
from totetaxi_core.plugin_api import BUSINESS_TZ
from totetaxi_core.testing import (
    DELIVERY,
    GUEST,
    PICKUP,
    bearer,
    in_transaction,
    make_staff,
    register_customer,
)

NEW_YORK = BUSINESS_TZ
BOOKINGS = "/api/v1/bookings"
QUOTES = "/api/v1/quotes"
AVAILABILITY = "/api/v1/availability"


def ny(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A New York wall-clock time as the aware UTC datetime ``registry.clock`` returns."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(dt.UTC)


NOW = ny(2026, 11, 23, 10)  # Monday morning
DAY = dt.date(2026, 12, 3)  # Thursday, ten days ahead
OTHER_DAY = dt.date(2026, 12, 8)  # Tuesday
CANCEL_LIMIT = ny(2026, 12, 1, 0)  # 48 hours before DAY starts in New York

NUMBER = re.compile(r"^TT-\d{6}$")
MISSING_ID = "00000000-0000-4000-8000-000000000000"

STATUSES = ("pending_payment", "confirmed", "in_progress", "completed", "cancelled")
ALLOWED = {
    ("pending_payment", "confirmed"),
    ("pending_payment", "cancelled"),
    ("confirmed", "in_progress"),
    ("confirmed", "cancelled"),
    ("in_progress", "completed"),
}


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def app(make_testapp) -> TestApp:
    testapp = make_testapp(**{"totetaxi.plugins": "pricing"})
    set_clock(testapp, NOW)
    return testapp


def set_clock(app: TestApp, when: dt.datetime) -> None:
    app.app.registry.clock = lambda: when


def client(app: TestApp) -> TestApp:
    """A fresh client of the same app: no cookie, so anonymous unless it sends a bearer."""
    return TestApp(app.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})


def customer(app: TestApp) -> tuple[dict[str, Any], dict[str, str]]:
    """A new customer (registered on a throwaway client) and its bearer headers."""
    me = register_customer(client(app))  # that client is now signed in by cookie: dropped
    return me, bearer(client(app), me["email"])


def staff_headers(app: TestApp, role: str = "staff") -> dict[str, str]:
    member = make_staff(app.app.registry, role)
    return bearer(client(app), member.email, staff=True)


def save_address(app: TestApp, headers: dict[str, str], address: dict[str, Any]) -> str:
    body = {"label": "Saved", **address}
    answer = client(app).post_json("/api/v1/me/addresses", body, headers=headers, status=201)
    return answer.json["id"]


def quote_fields(day: dt.date = DAY, **extra: Any) -> dict[str, Any]:
    return {"service_type": "mini_move", "package": "petite", "date": day.isoformat(), **extra}


def guest_body(day: dt.date = DAY, **extra: Any) -> dict[str, Any]:
    return {
        **quote_fields(day),
        "pickup_address": PICKUP,
        "delivery_address": DELIVERY,
        "guest": GUEST,
        **extra,
    }


def customer_body(day: dt.date = DAY, **extra: Any) -> dict[str, Any]:
    return {**quote_fields(day), "pickup_address": PICKUP, "delivery_address": DELIVERY, **extra}


def book(
    app: TestApp, body: dict[str, Any], headers: dict[str, str] | None = None, status: int = 201
) -> dict[str, Any]:
    return client(app).post_json(BOOKINGS, body, headers=headers or {}, status=status).json


def book_as_guest(app: TestApp, day: dt.date = DAY, **extra: Any) -> dict[str, Any]:
    return book(app, guest_body(day, **extra))


def error_named(answer: dict[str, Any], field: str) -> dict[str, Any]:
    """The error of the API error body that names ``field`` (or a part of it: ``field.x``)."""
    assert answer["status"] == "error"
    named = [e for e in answer["errors"] if e["name"] == field or e["name"].startswith(field + ".")]
    assert named, f"no error names {field!r}: {answer['errors']}"
    assert named[0]["description"]
    return named[0]


def refused(
    app: TestApp,
    body: dict[str, Any],
    field: str,
    status: int = 400,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    return error_named(book(app, body, headers, status=status), field)


def remaining(app: TestApp, day: dt.date = DAY) -> int:
    params = {"start": day.isoformat(), "end": day.isoformat()}
    [info] = client(app).get(AVAILABILITY, params=params, status=200).json["days"]
    return info["remaining"]


def get_booking(
    app: TestApp,
    booking_id: str,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    return client(app).get(
        f"{BOOKINGS}/{booking_id}", params=params or {}, headers=headers or {}, status=status
    )


def cancel(
    app: TestApp,
    booking_id: str,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    status: int = 200,
) -> Any:
    path = f"{BOOKINGS}/{booking_id}/cancel"
    if params:
        path += "?" + urlencode(params)
    if body is None:
        return client(app).post(path, headers=headers or {}, status=status)
    return client(app).post_json(path, body, headers=headers or {}, status=status)


def track(
    app: TestApp,
    number: str,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    return client(app).get(
        f"/api/v1/track/{number}", params=params or {}, headers=headers or {}, status=status
    )


def token_of(booking: dict[str, Any]) -> dict[str, str]:
    return {"token": booking["tracking_token"]}


def plain(value: Any) -> Any:
    """A status as a plain string, whether it is a ``str`` or an ``Enum``."""
    return getattr(value, "value", value)


def run(app: TestApp, work: Any) -> Any:
    return in_transaction(app.app.registry, work)


class Objector:
    """A plugin with two business-rule objections."""

    @hookimpl
    def totetaxi_validate_booking(self, ctx, draft, quote, customer):
        return [
            {"name": "notes", "description": "Notes must mention the doorman."},
            {"name": "time_window", "description": "Mornings only for this building."},
        ]
