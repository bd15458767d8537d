"""The permission matrix: every endpoint by every kind of caller, with the expected status.

A new endpoint that is not in MATRIX fails ``test_every_endpoint_is_in_the_matrix``: whoever adds
an endpoint decides, here, who may call it.
"""

from __future__ import annotations

import uuid

import pytest
from webtest import TestApp

from totetaxi_core.testing import STRONG_PASSWORD, bearer, make_staff, register_customer

CALLERS = ("anonymous", "customer_a", "customer_b", "viewer", "staff", "admin")
PUBLIC = dict.fromkeys(CALLERS, 200)
ADDRESS = {"label": "Home", "line1": "1 Main St", "city": "New York", "state": "NY",
           "postal_code": "10001"}


def row(anonymous, customer_a, customer_b, viewer, staff, admin):
    return dict(zip(CALLERS, (anonymous, customer_a, customer_b, viewer, staff, admin),
                    strict=True))


STAFF_PAGE = row(302, 403, 403, 200, 200, 200)
STAFF_API_READ = row(401, 403, 403, 200, 200, 200)


def admin_post(admin_status: int) -> dict[str, int]:
    return row(302, 403, 403, 403, 403, admin_status)


#: (method, path pattern) -> (concrete path, JSON body or None, {caller: status})
#: ``{address}`` is customer A's saved address; ``{staff}`` a viewer staff user; ``{booking}``
#: customer A's booking (cancelled by the rows before the staff API's edit); ``{customer}``
#: customer A.
MATRIX = {
    ("GET", "/healthz"): ("/healthz", None, PUBLIC),
    ("GET", "/readyz"): ("/readyz", None, PUBLIC),
    ("GET", "/api/v1/openapi.json"): ("/api/v1/openapi.json", None, PUBLIC),
    # Token callers need no CSRF token, and asking for one must not touch a cookie session.
    ("GET", "/api/v1/auth/csrf"): ("/api/v1/auth/csrf", None, row(200, 400, 400, 400, 400, 400)),
    # Public endpoints validate first: an empty body is 400 for everyone.
    ("POST", "/api/v1/auth/register"): ("/api/v1/auth/register", {}, row(*[400] * 6)),
    ("POST", "/api/v1/auth/login"): ("/api/v1/auth/login", {}, row(*[400] * 6)),
    ("POST", "/api/v1/auth/token"): ("/api/v1/auth/token", {}, row(*[400] * 6)),
    ("POST", "/api/v1/staff/auth/token"): ("/api/v1/staff/auth/token", {}, row(*[400] * 6)),
    ("POST", "/api/v1/auth/password-reset"): (
        "/api/v1/auth/password-reset", {"email": "nobody@example.com"}, row(*[202] * 6)),
    ("POST", "/api/v1/auth/password-reset/confirm"): (
        "/api/v1/auth/password-reset/confirm",
        {"token": "x" * 40, "password": "Some-Strong-Pass-1"}, row(*[400] * 6)),
    ("POST", "/api/v1/auth/logout"): ("/api/v1/auth/logout", None, row(*[204] * 6)),
    # Customer self-service: 401 before sign-in, 403 for staff.
    ("GET", "/api/v1/me"): ("/api/v1/me", None, row(401, 200, 200, 403, 403, 403)),
    ("PATCH", "/api/v1/me"): ("/api/v1/me", {}, row(401, 200, 200, 403, 403, 403)),
    ("POST", "/api/v1/me/password"): ("/api/v1/me/password", {},
                                      row(401, 400, 400, 403, 403, 403)),
    ("GET", "/api/v1/me/addresses"): ("/api/v1/me/addresses", None,
                                      row(401, 200, 200, 403, 403, 403)),
    ("POST", "/api/v1/me/addresses"): ("/api/v1/me/addresses", {},
                                       row(401, 400, 400, 403, 403, 403)),
    # Someone's object: 404 to every non-staff caller but its owner (no probing by id);
    # staff are told plainly that their role does not reach it.
    ("GET", "/api/v1/me/addresses/{id}"): ("/api/v1/me/addresses/{address}", None,
                                           row(404, 200, 404, 403, 403, 403)),
    ("PATCH", "/api/v1/me/addresses/{id}"): ("/api/v1/me/addresses/{address}", {},
                                             row(404, 200, 404, 403, 403, 403)),
    ("DELETE", "/api/v1/me/addresses/{id}"): ("/api/v1/me/addresses/{address}", None,
                                              row(404, 204, 404, 403, 403, 403)),
    # The console: anonymous callers are sent to the login page; customers are refused.
    ("GET", "/console"): ("/console", None, row(*[301] * 6)),
    ("GET", "/console/"): ("/console/", None, row(302, 403, 403, 200, 200, 200)),
    ("GET", "/console/login"): ("/console/login", None, PUBLIC),
    ("POST", "/console/login"): ("/console/login", {}, row(*[401] * 6)),
    ("POST", "/console/logout"): ("/console/logout", {}, row(*[303] * 6)),
    ("GET", "/console/staff"): ("/console/staff", None, row(302, 403, 403, 403, 403, 200)),
    ("POST", "/console/staff"): ("/console/staff", {}, row(302, 403, 403, 403, 403, 400)),
    ("POST", "/console/staff/{id}/role"): ("/console/staff/{staff}/role", {"role": "staff"},
                                           row(302, 403, 403, 403, 403, 303)),
    ("POST", "/console/staff/{id}/active"): ("/console/staff/{staff}/active", {"active": "0"},
                                             row(302, 403, 403, 403, 403, 303)),
    # Bookings: anyone may book (validation first); a booking is its owner's (404 to others,
    # readable by staff, cancellable by staff and admins); tracking is for owner or token.
    ("POST", "/api/v1/bookings"): ("/api/v1/bookings", {}, row(*[400] * 6)),
    ("GET", "/api/v1/bookings/{id}"): ("/api/v1/bookings/{booking}", None,
                                       row(404, 200, 404, 200, 200, 200)),
    ("POST", "/api/v1/bookings/{id}/cancel"): ("/api/v1/bookings/{booking}/cancel", {},
                                               row(404, 200, 404, 403, 200, 200)),
    ("GET", "/api/v1/me/bookings"): ("/api/v1/me/bookings", None,
                                     row(401, 200, 200, 403, 403, 403)),
    ("GET", "/api/v1/me/dashboard"): ("/api/v1/me/dashboard", None,
                                      row(401, 200, 200, 403, 403, 403)),
    ("GET", "/api/v1/track/{number}"): ("/api/v1/track/{number}", None,
                                        row(404, 200, 404, 404, 404, 404)),
    # The staff API: viewers read, staff and admins write; customers are refused (403).
    ("GET", "/api/v1/staff/bookings"): ("/api/v1/staff/bookings", None, STAFF_API_READ),
    ("GET", "/api/v1/staff/bookings/{id}"): ("/api/v1/staff/bookings/{booking}", None,
                                             STAFF_API_READ),
    # (The cancel row above has cancelled the booking, so an edit reaches the 409 of the
    # lifecycle: past the permission check.)
    ("PATCH", "/api/v1/staff/bookings/{id}"): ("/api/v1/staff/bookings/{booking}", {},
                                               row(401, 403, 403, 403, 409, 409)),
    ("POST", "/api/v1/staff/bookings/{id}/status"): ("/api/v1/staff/bookings/{booking}/status",
                                                     {}, row(401, 403, 403, 403, 400, 400)),
    ("GET", "/api/v1/staff/customers"): ("/api/v1/staff/customers", None, STAFF_API_READ),
    ("GET", "/api/v1/staff/customers/{id}"): ("/api/v1/staff/customers/{customer}", None,
                                              STAFF_API_READ),
    # The console's bookings and customers pages: every staff role reads, staff and admins
    # change. The booking is cancelled by now: an empty edit reaches the 409 of a booking that
    # can no longer be edited, an empty status or cancel form the 400 of its missing fields.
    ("GET", "/console/bookings"): ("/console/bookings", None, STAFF_PAGE),
    ("GET", "/console/bookings/{id}"): ("/console/bookings/{booking}", None, STAFF_PAGE),
    ("POST", "/console/bookings/{id}/edit"): ("/console/bookings/{booking}/edit", {},
                                              row(302, 403, 403, 403, 409, 409)),
    ("POST", "/console/bookings/{id}/status"): ("/console/bookings/{booking}/status", {},
                                                row(302, 403, 403, 403, 400, 400)),
    ("POST", "/console/bookings/{id}/cancel"): ("/console/bookings/{booking}/cancel", {},
                                                row(302, 403, 403, 403, 400, 400)),
    ("GET", "/console/customers"): ("/console/customers", None, STAFF_PAGE),
    ("GET", "/console/customers/{id}"): ("/console/customers/{customer}", None, STAFF_PAGE),
    # The pricing plugin: the API is public; console pages read for staff, write for admins.
    ("GET", "/api/v1/services"): ("/api/v1/services", None, PUBLIC),
    ("POST", "/api/v1/quotes"): ("/api/v1/quotes", {}, row(*[400] * 6)),
    ("GET", "/api/v1/availability"): ("/api/v1/availability", None, row(*[400] * 6)),
    ("GET", "/console/pricing/catalog"): ("/console/pricing/catalog", None, STAFF_PAGE),
    ("GET", "/console/pricing/surcharges"): ("/console/pricing/surcharges", None, STAFF_PAGE),
    ("GET", "/console/pricing/capacity"): ("/console/pricing/capacity", None, STAFF_PAGE),
    ("POST", "/console/pricing/catalog/packages/{code}"): (
        "/console/pricing/catalog/packages/petite", {}, admin_post(303)),
    ("POST", "/console/pricing/catalog/specialty/{code}"): (
        "/console/pricing/catalog/specialty/crib", {}, admin_post(303)),
    ("POST", "/console/pricing/catalog/rates"): ("/console/pricing/catalog/rates", {},
                                                 admin_post(303)),
    ("POST", "/console/pricing/surcharges/rules/{code}"): (
        "/console/pricing/surcharges/rules/weekend", {}, admin_post(303)),
    ("POST", "/console/pricing/surcharges/peaks"): ("/console/pricing/surcharges/peaks", {},
                                                    admin_post(400)),
    ("POST", "/console/pricing/surcharges/peaks/{id}/remove"): (
        "/console/pricing/surcharges/peaks/00000000-0000-4000-8000-000000000000/remove", {},
        admin_post(404)),
    ("POST", "/console/pricing/capacity/days"): ("/console/pricing/capacity/days", {},
                                                 admin_post(400)),
    ("POST", "/console/pricing/capacity/defaults"): ("/console/pricing/capacity/defaults", {},
                                                     admin_post(303)),
    # The payments plugin (with its mock gateway). Paying is for whoever may act on the
    # booking (owner, guest token, staff, admins; a viewer only reads: 403); by now the booking
    # is cancelled (409). Unknown ids reach the 404 past the permission check; the webhook
    # is 400 without a signature, the mock's card forms 400 without a card.
    ("POST", "/api/v1/bookings/{id}/payments"): ("/api/v1/bookings/{booking}/payments", {},
                                                 row(404, 409, 404, 403, 409, 409)),
    ("GET", "/api/v1/bookings/{id}/payments"): ("/api/v1/bookings/{booking}/payments", None,
                                                row(404, 200, 404, 200, 200, 200)),
    ("POST", "/api/v1/payments/webhook"): ("/api/v1/payments/webhook", {}, row(*[400] * 6)),
    ("GET", "/api/v1/me/payment-methods"): ("/api/v1/me/payment-methods", None,
                                            row(401, 200, 200, 403, 403, 403)),
    ("POST", "/api/v1/me/payment-methods"): ("/api/v1/me/payment-methods", {},
                                             row(401, 201, 201, 403, 403, 403)),
    ("DELETE", "/api/v1/me/payment-methods/{id}"): (
        "/api/v1/me/payment-methods/00000000-0000-4000-8000-000000000000", None,
        row(*[404] * 6)),
    ("GET", "/api/v1/staff/refunds"): ("/api/v1/staff/refunds", None, STAFF_API_READ),
    ("POST", "/api/v1/staff/refunds"): ("/api/v1/staff/refunds", {},
                                        row(401, 403, 403, 403, 400, 400)),
    ("POST", "/api/v1/staff/refunds/{id}/approve"): (
        "/api/v1/staff/refunds/00000000-0000-4000-8000-000000000000/approve", {},
        row(401, 403, 403, 403, 403, 404)),
    ("POST", "/api/v1/staff/refunds/{id}/reject"): (
        "/api/v1/staff/refunds/00000000-0000-4000-8000-000000000000/reject", {},
        row(401, 403, 403, 403, 403, 404)),
    ("POST", "/api/v1/payments/mock/confirm"): ("/api/v1/payments/mock/confirm", {},
                                                row(*[400] * 6)),
    ("POST", "/api/v1/payments/mock/authenticate"): ("/api/v1/payments/mock/authenticate", {},
                                                     row(*[400] * 6)),
    # Its console: every staff role reads the refunds queue, staff and admins request a refund,
    # admins decide.
    ("GET", "/console/payments/refunds"): ("/console/payments/refunds", None, STAFF_PAGE),
    ("POST", "/console/payments/refunds/{id}/approve"): (
        "/console/payments/refunds/00000000-0000-4000-8000-000000000000/approve", {},
        admin_post(404)),
    ("POST", "/console/payments/refunds/{id}/reject"): (
        "/console/payments/refunds/00000000-0000-4000-8000-000000000000/reject", {},
        admin_post(404)),
    ("POST", "/console/payments/payments/{id}/refunds"): (
        "/console/payments/payments/00000000-0000-4000-8000-000000000000/refunds", {},
        row(302, 403, 403, 403, 404, 404)),
    # The notifications plugin (with the console mailer). A customer's own emails: 401 before
    # sign-in, 403 for staff (as every /me endpoint).
    ("GET", "/api/v1/me/notifications"): ("/api/v1/me/notifications", None,
                                          row(401, 200, 200, 403, 403, 403)),
    # Its console: every staff role reads the log, an email and the templates, and previews a
    # template (saving nothing); staff and admins resend, release and save. Unknown emails reach
    # the 404 past the permission check; an empty save form is a 400 (its version is missing).
    ("GET", "/console/notifications"): ("/console/notifications", None, STAFF_PAGE),
    ("GET", "/console/notifications/{id}"): (
        "/console/notifications/00000000-0000-4000-8000-000000000000", None,
        row(302, 403, 403, 404, 404, 404)),
    ("POST", "/console/notifications/{id}/resend"): (
        "/console/notifications/00000000-0000-4000-8000-000000000000/resend", {},
        row(302, 403, 403, 403, 404, 404)),
    ("POST", "/console/notifications/{id}/release"): (
        "/console/notifications/00000000-0000-4000-8000-000000000000/release", {},
        row(302, 403, 403, 403, 404, 404)),
    ("GET", "/console/notifications/templates"): ("/console/notifications/templates", None,
                                                  STAFF_PAGE),
    ("GET", "/console/notifications/templates/{key}"): (
        "/console/notifications/templates/booking_received", None, STAFF_PAGE),
    ("POST", "/console/notifications/templates/{key}"): (
        "/console/notifications/templates/booking_received", {},
        row(302, 403, 403, 403, 400, 400)),
    ("POST", "/console/notifications/templates/{key}/preview"): (
        "/console/notifications/templates/booking_received/preview", {},
        row(302, 403, 403, 200, 200, 200)),
    # The console mailer's Mailbox (development only): every staff role reads it.
    ("GET", "/console/mailbox"): ("/console/mailbox", None, STAFF_PAGE),
    ("GET", "/console/mailbox/{id}"): ("/console/mailbox/console-" + "0" * 32, None,
                                       row(302, 403, 403, 404, 404, 404)),
    # The example plugin (tests only) declares its routes public.
    ("GET", "/api/v1/example/hello"): ("/api/v1/example/hello", None, PUBLIC),
    ("GET", "/api/v1/example/notes"): ("/api/v1/example/notes", None, PUBLIC),
    ("POST", "/api/v1/example/notes"): ("/api/v1/example/notes", {}, row(*[400] * 6)),
    ("POST", "/api/v1/example/counters/{name}"): ("/api/v1/example/counters/x", {},
                                                  PUBLIC),
}


def endpoints(registry) -> set[tuple[str, str]]:
    """Every (method, route pattern) the app serves, from Pyramid's introspector."""
    introspector = registry.introspector
    patterns = {i["introspectable"]["name"]: i["introspectable"]["pattern"]
                for i in introspector.get_category("routes")}
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
    return make_testapp(**{"totetaxi.plugins": "example pricing payments_mock notifications "
                                               "mail_console",
                           "mail_console.folder": str(tmp_path / "mail")})


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
        customer = register_customer(TestApp(testapp.app),
                                     f"{name}-{uuid.uuid4().hex[:6]}@example.com")
        customers[name] = customer["id"]
        headers[name] = bearer(TestApp(testapp.app), customer["email"])
    for role in ("viewer", "staff", "admin"):
        member = make_staff(registry, role)
        headers[role] = bearer(TestApp(testapp.app), member.email, STRONG_PASSWORD, staff=True)
    address = TestApp(testapp.app).post_json("/api/v1/me/addresses", ADDRESS,
                                headers=headers["customer_a"]).json["id"]
    import datetime as dt

    day = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=12)).isoformat()
    place = {"line1": "1 Main St", "city": "New York", "state": "NY", "postal_code": "10001"}
    booked = TestApp(testapp.app).post_json("/api/v1/bookings", {
        "service_type": "mini_move", "package": "petite", "date": day,
        "pickup_address": place, "delivery_address": place}, headers=headers["customer_a"]).json
    target = make_staff(registry, "viewer")
    make_staff(registry, "admin")  # so that no change below touches the last admin
    return headers, {"address": address, "staff": str(target.id), "booking": booked["id"],
                     "number": booked["number"], "customer": customers["customer_a"]}


@pytest.mark.parametrize("caller", CALLERS)
def test_permission_matrix(testapp, callers, caller):
    headers, objects = callers
    wrong = []
    # Logout revokes the caller's token: run it last.
    ordered = sorted(MATRIX.items(), key=lambda kv: kv[0][1] == "/api/v1/auth/logout")
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
