"""The customer site's calls and the console sign-in, as the browser tests of the consoles drive
them.

* ``start(make_live_server, plugins, **settings)``: a live server with those plugins (and any
  further settings) whose clock is fixed at ``NOW``, Monday 2026-11-23 10:00 New York time.
* ``api(live, method, path, body)``: one JSON call to the public API over plain HTTP (urllib, no
  cookie), as the website would make it; returns the decoded answer.
* ``paid_booking(live)``: ``GUEST`` books a Petite Mini Move ($995.00; ``package="full"``: a
  Full one, $2,490, high value) at ``PLACE`` for Thursday 2026-12-03 and pays it with Stripe's
  test card 4242 4242 4242 4242 on the mock gateway (needs the ``pricing`` and
  ``payments_mock`` plugins); returns its ``id``, ``number``, ``payment_id`` and the guest's
  ``tracking_token``.
* ``sign_in(page, live, email, path)``: a staff member with ``STRONG_PASSWORD`` signs in to the
  console on the way to ``path``.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from typing import Any

from totetaxi_core.plugin_api import BUSINESS_TZ
from totetaxi_core.testing import STRONG_PASSWORD

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=BUSINESS_TZ).astimezone(dt.UTC)
PLACE = {"line1": "200 E 62nd St", "city": "New York", "state": "NY", "postal_code": "10065"}
GUEST = {
    "first_name": "Gale",
    "last_name": "Guest",
    "email": "gale@example.com",
    "phone": "+1 646 555 0199",
}
TEST_CARD = "4242 4242 4242 4242"


def start(make_live_server: Any, plugins: str, **settings: Any) -> Any:
    """A live server with ``totetaxi.plugins = plugins`` and ``settings``, its clock at ``NOW``."""
    server = make_live_server(**{"totetaxi.plugins": plugins, **settings})
    server.registry.clock = lambda: NOW
    return server


def api(live: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call the public API as the website would (JSON in and out, no cookie)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        live.url + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def paid_booking(
    live: Any, delivery: dict[str, str] = PLACE, package: str = "petite"
) -> dict[str, Any]:
    """``GUEST`` books a Mini Move of ``package`` (Petite; a Full one, $2,490, is high value)
    for 2026-12-03 (to ``delivery``) and pays it with the test card; returns its ``id``,
    ``number``, ``payment_id`` and the guest's ``tracking_token``."""
    booking = api(
        live,
        "POST",
        "/api/v1/bookings",
        {
            "service_type": "mini_move",
            "package": package,
            "date": "2026-12-03",
            "pickup_address": PLACE,
            "delivery_address": delivery,
            "guest": GUEST,
        },
    )
    token = booking["tracking_token"]
    payment = api(live, "POST", f"/api/v1/bookings/{booking['id']}/payments?token={token}", {})
    paid = api(
        live,
        "POST",
        f"/api/v1/payments/mock/confirm?token={token}",
        {"payment_id": payment["payment_id"], "card_number": TEST_CARD},
    )
    assert paid["status"] == "succeeded"
    return {
        "id": booking["id"],
        "number": booking["number"],
        "payment_id": payment["payment_id"],
        "tracking_token": token,
    }


def sign_in(page: Any, live: Any, email: str, path: str) -> Any:
    """Open ``path`` (anonymous: the login page), sign in, land back on ``path``.

    Returns the response of the navigation that followed the sign-in.
    """
    page.goto(live.url + path)
    assert "/console/login" in page.url
    page.fill("#email", email)
    page.fill("#password", STRONG_PASSWORD)
    with page.expect_navigation() as navigation:
        page.click("button:has-text('Sign in')")
    assert page.url == live.url + path
    return navigation.value
