"""The logistics plugins' rows of the permission matrix.

Registered in entry point group ``totetaxi.permission_rows``: the core's permission test calls
every endpoint the app serves as every kind of caller, and an endpoint without a row fails it.
``kit`` is :mod:`totetaxi_core.testing.permissions` (its ``row``, ``STAFF_PAGE``,
``STAFF_API_READ``, ``FIXTURES``...), passed in so that this module imports nothing and is loaded
only by test suites. Callers in the order anonymous, customer A, customer B, viewer, staff, admin.
"""

from __future__ import annotations

from typing import Any

NO_TASK = "00000000-0000-4000-8000-000000000000"


def rows(kit: Any) -> dict[tuple[str, str], tuple[str, Any, dict[str, int]]]:
    """Every endpoint of the logistics plugin, with who may call it."""
    api = "/api/v1/logistics"
    fail = f"{api}/tasks/{NO_TASK}/fail"
    reschedule = f"{api}/tasks/{NO_TASK}/reschedule"
    assign = f"{api}/tasks/{NO_TASK}/assign"
    # Writes: a viewer lacks logistics.dispatch (403); staff and admins reach validation (400).
    write = kit.row(401, 403, 403, 403, 400, 400)
    console_post = kit.row(302, 403, 403, 403, 404, 404)
    return {
        # A booking is its owner's and staff's (404 to anybody else).
        ("GET", "/api/v1/bookings/{id}/tracking"): (
            "/api/v1/bookings/{booking}/tracking",
            None,
            kit.row(404, 200, 404, 200, 200, 200),
        ),
        # The tracking page: the booking's customer or its guest with the token; others 404.
        ("GET", "/t/{number}"): ("/t/{number}", None, kit.row(404, 200, 404, 404, 404, 404)),
        ("GET", "static/logistics/*subpath"): (
            "/static/logistics/tracking.css",
            None,
            kit.row(*[200] * 6),
        ),
        ("GET", f"{api}/tasks"): (f"{api}/tasks", None, kit.STAFF_API_READ),
        ("POST", f"{api}/tasks/{{id}}/fail"): (fail, {}, write),
        ("POST", f"{api}/tasks/{{id}}/reschedule"): (reschedule, {}, write),
        ("POST", f"{api}/tasks/{{id}}/assign"): (assign, {"driver_id": 5}, write),
        # The webhook is public and checks its signature: an unsigned body is 401 to anyone.
        ("POST", f"{api}/webhook"): (f"{api}/webhook", {}, kit.row(401, 401, 401, 401, 401, 401)),
        ("GET", f"{api}/webhook"): (f"{api}/webhook?check=abc", None, kit.row(*[200] * 6)),
        # Its console: every staff role reads the pages; the task forms take logistics.dispatch
        # (a viewer: 403); staff and admins reach the unknown task (404). Anonymous callers are
        # sent to the login page.
        ("GET", "/console/logistics"): ("/console/logistics", None, kit.STAFF_PAGE),
        ("GET", "/console/logistics/drivers"): ("/console/logistics/drivers", None, kit.STAFF_PAGE),
        ("GET", "/console/logistics/analytics"): (
            "/console/logistics/analytics",
            None,
            kit.STAFF_PAGE,
        ),
        # The pages' stylesheet: a public file.
        ("GET", "console/static/logistics/*subpath"): (
            "/console/static/logistics/logistics.css",
            None,
            kit.PUBLIC,
        ),
        **{
            ("POST", f"/console/logistics/tasks/{{id}}/{action}"): (
                f"/console/logistics/tasks/{NO_TASK}/{action}",
                {},
                console_post,
            )
            for action in ("assign", "fail", "reschedule")
        },
    }


def mock_rows(kit: Any) -> dict[tuple[str, str], tuple[str, Any, dict[str, int]]]:
    """The mock fleet's endpoints (none over the API: its console forms, with
    ``logistics.dispatch``). Unknown tasks and drivers are 404 past the permission check; an empty
    new driver is 400."""
    console_post = kit.row(302, 403, 403, 403, 404, 404)
    return {
        ("POST", "/console/logistics/tasks/{id}/advance"): (
            f"/console/logistics/tasks/{NO_TASK}/advance",
            {},
            console_post,
        ),
        ("POST", "/console/logistics/tasks/{id}/complete"): (
            f"/console/logistics/tasks/{NO_TASK}/complete",
            {},
            console_post,
        ),
        ("POST", "/console/logistics/drivers/new"): (
            "/console/logistics/drivers/new",
            {},
            kit.row(302, 403, 403, 403, 400, 400),
        ),
        ("POST", "/console/logistics/drivers/{id}/edit"): (
            f"/console/logistics/drivers/{NO_TASK}/edit",
            {},
            console_post,
        ),
        ("POST", "/console/logistics/drivers/{id}/active"): (
            f"/console/logistics/drivers/{NO_TASK}/active",
            {"active": "0"},
            console_post,
        ),
    }
