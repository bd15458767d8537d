"""The permission matrix: every endpoint by every kind of caller, with the expected status.

The rows live with the code serving the endpoints: the core's in
:mod:`totetaxi_core.testing.permissions`, each plugin's in its own ``permission_rows`` module,
contributed through entry point group ``totetaxi.permission_rows``. A new endpoint without a row
fails ``test_every_endpoint_is_in_the_matrix``: whoever adds an endpoint decides, in its
plugin, who may call it.
"""

from __future__ import annotations

import uuid

import pytest
from webtest import TestApp

from totetaxi_core.testing import (
    STRONG_PASSWORD,
    bearer,
    make_staff,
    migrated_plugins,
    register_customer,
)
from totetaxi_core.testing.permissions import CALLERS, permission_matrix

ADDRESS = {
    "label": "Home",
    "line1": "1 Main St",
    "city": "New York",
    "state": "NY",
    "postal_code": "10001",
}
#: Every installed plugin the test databases hold (the mock and console variants of a slot),
#: enabled: the matrix covers all of their endpoints.
PLUGINS = migrated_plugins()
#: (method, path pattern) -> (concrete path, JSON body or None, {caller: status}): the core's
#: rows and each enabled plugin's, from the ``totetaxi.permission_rows`` entry points.
MATRIX = permission_matrix(PLUGINS)


def endpoints(registry) -> set[tuple[str, str]]:
    """Every (method, route pattern) the app serves, from Pyramid's introspector."""
    introspector = registry.introspector
    patterns = {
        i["introspectable"]["name"]: i["introspectable"]["pattern"]
        for i in introspector.get_category("routes")
    }
    found = set()
    for item in introspector.get_category("views"):
        view = item["introspectable"]
        name = view["route_name"]
        if name is None or getattr(view["callable"], "__name__", "") == "_fallback_view":
            continue  # Cornice's 405 answer for methods a service does not have
        methods = view["request_methods"] or ("GET",)
        for method in (methods,) if isinstance(methods, str) else methods:
            if method != "HEAD":
                found.add((method, patterns[name]))
    return found


@pytest.fixture
def testapp(make_testapp, tmp_path):
    """Every plugin the suite installs, enabled: the matrix covers all of their endpoints.
    (The console mailer writes the emails of the set-up to the test's own folder.)"""
    return make_testapp(
        **{"totetaxi.plugins": " ".join(PLUGINS), "mail_console.folder": str(tmp_path / "mail")}
    )


def test_every_endpoint_is_in_the_matrix(testapp):
    served = endpoints(testapp.app.registry)
    missing = sorted(served - set(MATRIX))
    assert missing == [], f"endpoints without a row in MATRIX (decide who may call them): {missing}"
    stale = sorted(set(MATRIX) - served)
    assert stale == [], f"MATRIX rows for endpoints that no longer exist: {stale}"


@pytest.fixture
def callers(testapp):
    """Bearer-token headers for each kind of caller, and the objects they own."""
    registry = testapp.app.registry
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    customers = {}
    for name in ("customer_a", "customer_b"):
        customer = register_customer(
            TestApp(testapp.app), f"{name}-{uuid.uuid4().hex[:6]}@example.com"
        )
        customers[name] = customer["id"]
        headers[name] = bearer(TestApp(testapp.app), customer["email"])
    for role in ("viewer", "staff", "admin"):
        member = make_staff(registry, role)
        headers[role] = bearer(TestApp(testapp.app), member.email, STRONG_PASSWORD, staff=True)
    address = (
        TestApp(testapp.app)
        .post_json("/api/v1/me/addresses", ADDRESS, headers=headers["customer_a"])
        .json["id"]
    )
    import datetime as dt

    day = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=12)).isoformat()
    place = {"line1": "1 Main St", "city": "New York", "state": "NY", "postal_code": "10001"}
    booked = (
        TestApp(testapp.app)
        .post_json(
            "/api/v1/bookings",
            {
                "service_type": "mini_move",
                "package": "petite",
                "date": day,
                "pickup_address": place,
                "delivery_address": place,
            },
            headers=headers["customer_a"],
        )
        .json
    )
    target = make_staff(registry, "viewer")
    make_staff(registry, "admin")  # so that no change below touches the last admin
    return headers, {
        "address": address,
        "staff": str(target.id),
        "booking": booked["id"],
        "number": booked["number"],
        "customer": customers["customer_a"],
    }


@pytest.mark.parametrize("caller", CALLERS)
def test_permission_matrix(testapp, callers, caller):
    headers, objects = callers
    wrong = []
    # Renewing and logout revoke the caller's token: run them last (logout after, as it answers
    # 204 to anyone).
    last = ("/api/v1/staff/auth/token/renew", "/api/v1/auth/logout")
    ordered = sorted(
        MATRIX.items(), key=lambda kv: last.index(kv[0][1]) + 1 if kv[0][1] in last else 0
    )
    for (method, _), (path, body, expected) in ordered:
        url = path.format(**objects)
        client = TestApp(testapp.app)  # no cookies: only the caller's token speaks
        kwargs = {"headers": headers[caller], "expect_errors": True}
        if method == "GET":
            answer = client.get(url, **kwargs)
        elif path.startswith("/console") and body is not None:
            answer = getattr(client, method.lower())(url, body, **kwargs)
        elif body is not None:
            answer = getattr(client, method.lower() + "_json")(url, body, **kwargs)
        else:
            answer = getattr(client, method.lower())(url, **kwargs)
        if answer.status_int != expected[caller]:
            wrong.append(f"{method} {url}: {answer.status_int}, expected {expected[caller]}")
    assert wrong == []
