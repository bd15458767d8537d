"""The permission matrix: every endpoint by every kind of caller, with the expected status.

The matrix is assembled from rows contributed through entry point group
``totetaxi.permission_rows``: each entry point is named after a plugin (``core`` for the core's
own routes) and names a callable ``rows(kit)`` that receives this module (its helpers
:func:`row`, :data:`PUBLIC`, :data:`STAFF_PAGE`, :data:`STAFF_API_READ`, :func:`admin_post`)
and returns ``{(method, route pattern): (concrete path, body or None, {caller: status})}``.
A plugin thus keeps the rows of its own endpoints next to them, importing nothing from the
kit, and a new endpoint without a row fails the completeness test of whatever suite runs the
matrix. Placeholders in the path: ``{booking}`` (customer A's booking, cancelled by the time
the staff rows run), ``{number}`` its number, ``{customer}`` customer A, ``{address}`` customer
A's saved address, ``{staff}`` a viewer staff user.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata
from typing import Any

ENTRY_POINT_GROUP = "totetaxi.permission_rows"
#: The kinds of caller, in the order of :func:`row`'s arguments.
CALLERS = ("anonymous", "customer_a", "customer_b", "viewer", "staff", "admin")
Rows = dict[tuple[str, str], tuple[str, Any, dict[str, int]]]


def row(
    anonymous: int, customer_a: int, customer_b: int, viewer: int, staff: int, admin: int
) -> dict[str, int]:
    """The expected status for each kind of caller."""
    return dict(
        zip(CALLERS, (anonymous, customer_a, customer_b, viewer, staff, admin), strict=True)
    )


#: Anyone gets a 200.
PUBLIC = dict.fromkeys(CALLERS, 200)
#: A console page every staff role reads (anonymous callers are sent to the login page).
STAFF_PAGE = row(302, 403, 403, 200, 200, 200)
#: A staff API read: every staff role; 401 without a token, 403 for customers.
STAFF_API_READ = row(401, 403, 403, 200, 200, 200)


def admin_post(admin_status: int) -> dict[str, int]:
    """A console form only admins may send (``admin_status`` is what an admin gets)."""
    return row(302, 403, 403, 403, 403, admin_status)


def core_rows(kit: Any = None) -> Rows:
    """The core's own endpoints (entry point ``core``)."""
    return {
        ("GET", "/healthz"): ("/healthz", None, PUBLIC),
        ("GET", "/readyz"): ("/readyz", None, PUBLIC),
        # No sign-in opens the metrics, an admin's neither: only a loopback client or the
        # metrics token (tests/core/test_metrics.py). The matrix's clients have no address.
        ("GET", "/metrics"): ("/metrics", None, row(*[404] * 6)),
        ("GET", "/api/v1/openapi.json"): ("/api/v1/openapi.json", None, PUBLIC),
        # Swagger UI over the document, and the files its page loads.
        ("GET", "/api/v1/docs"): ("/api/v1/docs", None, PUBLIC),
        ("GET", "/api/v1/docs/assets/{name}"): (
            "/api/v1/docs/assets/swagger-init.js",
            None,
            PUBLIC,
        ),
        # Token callers need no CSRF token, and asking for one must not touch a cookie session.
        ("GET", "/api/v1/auth/csrf"): (
            "/api/v1/auth/csrf",
            None,
            row(200, 400, 400, 400, 400, 400),
        ),
        # Public endpoints validate first: an empty body is 400 for everyone.
        ("POST", "/api/v1/auth/register"): ("/api/v1/auth/register", {}, row(*[400] * 6)),
        ("POST", "/api/v1/auth/login"): ("/api/v1/auth/login", {}, row(*[400] * 6)),
        ("POST", "/api/v1/auth/token"): ("/api/v1/auth/token", {}, row(*[400] * 6)),
        ("POST", "/api/v1/staff/auth/token"): ("/api/v1/staff/auth/token", {}, row(*[400] * 6)),
        ("POST", "/api/v1/auth/password-reset"): (
            "/api/v1/auth/password-reset",
            {"email": "nobody@example.com"},
            row(*[202] * 6),
        ),
        ("POST", "/api/v1/auth/password-reset/confirm"): (
            "/api/v1/auth/password-reset/confirm",
            {"token": "x" * 40, "password": "Some-Strong-Pass-1"},
            row(*[400] * 6),
        ),
        ("POST", "/api/v1/auth/logout"): ("/api/v1/auth/logout", None, row(*[204] * 6)),
        # Customer self-service: 401 before sign-in, 403 for staff.
        ("GET", "/api/v1/me"): ("/api/v1/me", None, row(401, 200, 200, 403, 403, 403)),
        ("PATCH", "/api/v1/me"): ("/api/v1/me", {}, row(401, 200, 200, 403, 403, 403)),
        ("POST", "/api/v1/me/password"): (
            "/api/v1/me/password",
            {},
            row(401, 400, 400, 403, 403, 403),
        ),
        ("GET", "/api/v1/me/addresses"): (
            "/api/v1/me/addresses",
            None,
            row(401, 200, 200, 403, 403, 403),
        ),
        ("POST", "/api/v1/me/addresses"): (
            "/api/v1/me/addresses",
            {},
            row(401, 400, 400, 403, 403, 403),
        ),
        # Someone's object: 404 to every non-staff caller but its owner (no probing by id);
        # staff are told plainly that their role does not reach it.
        ("GET", "/api/v1/me/addresses/{id}"): (
            "/api/v1/me/addresses/{address}",
            None,
            row(401, 200, 404, 403, 403, 403),
        ),
        ("PATCH", "/api/v1/me/addresses/{id}"): (
            "/api/v1/me/addresses/{address}",
            {},
            row(401, 200, 404, 403, 403, 403),
        ),
        ("DELETE", "/api/v1/me/addresses/{id}"): (
            "/api/v1/me/addresses/{address}",
            None,
            row(401, 204, 404, 403, 403, 403),
        ),
        # The console: anonymous callers are sent to the login page; customers are refused.
        ("GET", "/console"): ("/console", None, row(*[301] * 6)),
        ("GET", "/console/"): ("/console/", None, row(302, 403, 403, 200, 200, 200)),
        ("GET", "/console/login"): ("/console/login", None, PUBLIC),
        # The console's stylesheet: public, the login page needs it.
        ("GET", "console/static/core/*subpath"): (
            "/console/static/core/console.css",
            None,
            PUBLIC,
        ),
        ("POST", "/console/login"): ("/console/login", {}, row(*[401] * 6)),
        ("POST", "/console/logout"): ("/console/logout", {}, row(*[303] * 6)),
        ("GET", "/console/staff"): ("/console/staff", None, row(302, 403, 403, 403, 403, 200)),
        ("POST", "/console/staff"): ("/console/staff", {}, row(302, 403, 403, 403, 403, 400)),
        ("GET", "/console/cancellation-policy"): (
            "/console/cancellation-policy",
            None,
            row(302, 403, 403, 200, 200, 200),
        ),
        ("POST", "/console/cancellation-policy"): (
            "/console/cancellation-policy",
            {},
            row(302, 403, 403, 403, 403, 400),
        ),
        ("POST", "/console/staff/{id}/role"): (
            "/console/staff/{staff}/role",
            {"role": "staff"},
            row(302, 403, 403, 403, 403, 303),
        ),
        ("POST", "/console/staff/{id}/active"): (
            "/console/staff/{staff}/active",
            {"active": "0"},
            row(302, 403, 403, 403, 403, 303),
        ),
        # Bookings: anyone may book (validation first); a booking is its owner's (404 to others,
        # readable by staff, cancellable by staff and admins); tracking is for owner or token.
        ("POST", "/api/v1/bookings"): ("/api/v1/bookings", {}, row(*[400] * 6)),
        ("GET", "/api/v1/bookings/{id}"): (
            "/api/v1/bookings/{booking}",
            None,
            row(404, 200, 404, 200, 200, 200),
        ),
        ("POST", "/api/v1/bookings/{id}/cancel"): (
            "/api/v1/bookings/{booking}/cancel",
            {},
            row(404, 200, 404, 403, 200, 200),
        ),
        ("POST", "/api/v1/bookings/{id}/reschedule"): (
            "/api/v1/bookings/{booking}/reschedule",
            {},
            row(404, 400, 404, 403, 400, 400),
        ),
        ("GET", "/api/v1/me/bookings"): (
            "/api/v1/me/bookings",
            None,
            row(401, 200, 200, 403, 403, 403),
        ),
        ("GET", "/api/v1/me/dashboard"): (
            "/api/v1/me/dashboard",
            None,
            row(401, 200, 200, 403, 403, 403),
        ),
        ("GET", "/api/v1/track/{number}"): (
            "/api/v1/track/{number}",
            None,
            row(404, 200, 404, 404, 404, 404),
        ),
        # The staff API: viewers read, staff and admins write; customers are refused (403).
        ("GET", "/api/v1/staff/bookings"): ("/api/v1/staff/bookings", None, STAFF_API_READ),
        ("GET", "/api/v1/staff/bookings/{id}"): (
            "/api/v1/staff/bookings/{booking}",
            None,
            STAFF_API_READ,
        ),
        # (The cancel row above has cancelled the booking, so an edit reaches the 409 of the
        # lifecycle: past the permission check.)
        ("PATCH", "/api/v1/staff/bookings/{id}"): (
            "/api/v1/staff/bookings/{booking}",
            {},
            row(401, 403, 403, 403, 409, 409),
        ),
        ("POST", "/api/v1/staff/bookings/{id}/status"): (
            "/api/v1/staff/bookings/{booking}/status",
            {},
            row(401, 403, 403, 403, 400, 400),
        ),
        ("GET", "/api/v1/staff/customers"): ("/api/v1/staff/customers", None, STAFF_API_READ),
        ("GET", "/api/v1/staff/customers/{id}"): (
            "/api/v1/staff/customers/{customer}",
            None,
            STAFF_API_READ,
        ),
        # The console's bookings and customers pages: every staff role reads, staff and admins
        # change. The booking is cancelled by now: an empty edit reaches the 409 of a booking that
        # can no longer be edited, an empty status or cancel form the 400 of its missing fields.
        ("GET", "/console/bookings"): ("/console/bookings", None, STAFF_PAGE),
        ("GET", "/console/bookings/{id}"): ("/console/bookings/{booking}", None, STAFF_PAGE),
        ("POST", "/console/bookings/{id}/edit"): (
            "/console/bookings/{booking}/edit",
            {},
            row(302, 403, 403, 403, 409, 409),
        ),
        ("POST", "/console/bookings/{id}/status"): (
            "/console/bookings/{booking}/status",
            {},
            row(302, 403, 403, 403, 400, 400),
        ),
        ("POST", "/console/bookings/{id}/cancel"): (
            "/console/bookings/{booking}/cancel",
            {},
            row(302, 403, 403, 403, 400, 400),
        ),
        ("GET", "/console/customers"): ("/console/customers", None, STAFF_PAGE),
        ("GET", "/console/customers/{id}"): ("/console/customers/{customer}", None, STAFF_PAGE),
        # The audit log and the timelines: every staff role reads.
        ("GET", "/api/v1/staff/audit-log"): ("/api/v1/staff/audit-log", None, STAFF_API_READ),
        ("GET", "/api/v1/staff/bookings/{id}/timeline"): (
            "/api/v1/staff/bookings/{booking}/timeline",
            None,
            STAFF_API_READ,
        ),
        ("GET", "/api/v1/staff/customers/{id}/timeline"): (
            "/api/v1/staff/customers/{customer}/timeline",
            None,
            STAFF_API_READ,
        ),
        ("GET", "/console/audit"): ("/console/audit", None, STAFF_PAGE),
        # Staff self-service: every staff role, about themselves. Renewing revokes the caller's
        # token: the matrix runs it last but for the logout.
        ("GET", "/api/v1/staff/me"): ("/api/v1/staff/me", None, STAFF_API_READ),
        ("POST", "/api/v1/staff/me/password"): (
            "/api/v1/staff/me/password",
            {},
            row(401, 403, 403, 400, 400, 400),
        ),
        ("POST", "/api/v1/staff/auth/token/renew"): (
            "/api/v1/staff/auth/token/renew",
            None,
            row(401, 403, 403, 200, 200, 200),
        ),
        ("GET", "/console/account"): ("/console/account", None, STAFF_PAGE),
        ("POST", "/console/account"): ("/console/account", {}, row(302, 403, 403, 400, 400, 400)),
        # The plugins page: admins only.
        ("GET", "/console/plugins"): ("/console/plugins", None, row(302, 403, 403, 403, 403, 200)),
    }


def permission_matrix(
    enabled: Iterable[str], entry_points: Iterable[metadata.EntryPoint] | None = None
) -> Rows:
    """The matrix for an app with plugins ``enabled``: the core's rows and those of each enabled
    plugin, from the ``totetaxi.permission_rows`` entry points. Two contributions of one
    endpoint are an error (the rows of an endpoint belong to the plugin serving it)."""
    import sys

    wanted = {"core", *enabled}
    if entry_points is None:
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    matrix: Rows = {}
    for entry_point in sorted(entry_points, key=lambda ep: ep.name):
        if entry_point.name not in wanted:
            continue
        contributed = entry_point.load()(sys.modules[__name__])
        twice = sorted(set(contributed) & set(matrix))
        if twice:
            raise ValueError(f"permission rows of {entry_point.name!r} repeat {twice}")
        matrix.update(contributed)
    return matrix
