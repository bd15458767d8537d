"""The 'monitoring_sentry' plugin's rows of the permission matrix.

Registered in entry point group ``totetaxi.permission_rows`` under the plugin's name: the core's
permission test calls every endpoint the app serves as every kind of caller, and an endpoint
without a row fails it. ``kit`` is :mod:`totetaxi_core.testing.permissions` (its ``row``,
``STAFF_PAGE``, ``STAFF_API_READ``), passed in so that this module imports nothing and is loaded
only by test suites. Each row: ``(method, route pattern) -> (path, body or None, {caller:
status})``, callers in the order anonymous, customer A, customer B, viewer, staff, admin.
"""

from __future__ import annotations

from typing import Any


def rows(kit: Any) -> dict[tuple[str, str], tuple[str, Any, dict[str, int]]]:
    """Every endpoint of the plugin, with who may call it."""
    items, page = "/api/v1/monitoring_sentry/items", "/console/monitoring_sentry"
    return {
        ("GET", items): (items, None, kit.STAFF_API_READ),
        # Staff and admins hold the edit permission: an empty body then fails validation (400).
        ("POST", items): (items, {}, kit.row(401, 403, 403, 403, 400, 400)),
        ("GET", page): (page, None, kit.STAFF_PAGE),
    }
