"""Data factories: customers, staff and bookings, bound to an app's registry (plain functions).

Rows made outside a request go through the core's services in a committed transaction of their
own (:func:`~totetaxi_core.testing.in_transaction`), so they are audited and validated exactly
as in production; bookings go through the API, as a customer's would, because a booking is
priced and checked by every enabled plugin's hooks (a quote provider such as ``pricing`` must
be enabled).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

from .identity import STRONG_PASSWORD, in_transaction

if TYPE_CHECKING:
    from webtest import TestApp

BOOKINGS = "/api/v1/bookings"
#: Addresses and a guest contact every validation rule accepts.
PICKUP = {
    "line1": "200 E 62nd St",
    "line2": "Apt 5B",
    "city": "New York",
    "state": "NY",
    "postal_code": "10065",
}
DELIVERY = {"line1": "12 Dune Rd", "city": "Southampton", "state": "NY", "postal_code": "11968"}
GUEST = {
    "first_name": "Gale",
    "last_name": "Guest",
    "email": "gale@example.com",
    "phone": "+1 646 555 0199",
}


def make_customer(
    registry: Any, email: str | None = None, password: str = STRONG_PASSWORD, **fields: Any
) -> Any:
    """A customer account made through the identity service; returns the detached row."""
    from ..identity.services import register_customer

    email = email or f"c-{uuid.uuid4().hex[:6]}@example.com"
    values = {"first_name": "Casey", "last_name": "Client", "phone": "+1 212 555 0100", **fields}
    return in_transaction(
        registry, lambda ctx: register_customer(ctx, email=email, password=password, **values)
    )


def booking_body(day: dt.date, *, guest: bool = True, **extra: Any) -> dict[str, Any]:
    """A valid ``POST /api/v1/bookings`` body: a Petite Mini Move on ``day``.

    ``guest=False`` leaves out the guest block (for a signed-in customer); ``extra`` keys replace
    or add fields.
    """
    body: dict[str, Any] = {
        "service_type": "mini_move",
        "package": "petite",
        "date": day.isoformat(),
        "pickup_address": PICKUP,
        "delivery_address": DELIVERY,
    }
    if guest:
        body["guest"] = GUEST
    body.update(extra)
    return body


def create_booking(
    app: TestApp, body: dict[str, Any], headers: dict[str, str] | None = None, status: int = 201
) -> dict[str, Any]:
    """Post ``body`` as a fresh anonymous client (or with ``headers``); the API's answer."""
    from webtest import TestApp

    client = TestApp(app.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    return client.post_json(BOOKINGS, body, headers=headers or {}, status=status).json


def make_booking(
    app: TestApp, day: dt.date, headers: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    """A booking on ``day`` through the API: a guest's, or the customer's whose ``headers``
    (bearer) are given."""
    return create_booking(app, booking_body(day, guest=headers is None, **extra), headers)
