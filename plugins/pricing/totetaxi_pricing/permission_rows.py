"""The pricing plugin: its rows of the permission matrix (``tests/core/test_permissions.py``).

Registered in entry point group ``totetaxi.permission_rows`` under the plugin's name, and called
by the test kit with its row helpers (:mod:`totetaxi_core.testing.permissions`) as ``kit``, so
this module imports nothing and is loaded only by test suites. Each row maps ``(method, route
pattern)`` to ``(concrete path, body or None, {caller: expected status})``; the path may use
``{booking}``, ``{number}``, ``{customer}``, ``{address}`` and ``{staff}``.
"""

from __future__ import annotations

from typing import Any


def rows(kit: Any) -> dict[tuple[str, str], tuple[str, Any, dict[str, int]]]:
    """The pricing API and console."""
    row = kit.row
    PUBLIC = kit.PUBLIC
    STAFF_PAGE = kit.STAFF_PAGE
    admin_post = kit.admin_post
    return {
        # The pricing plugin: the API is public; console pages read for staff, write for admins.
        ("GET", "/api/v1/services"): ("/api/v1/services", None, PUBLIC),
        ("POST", "/api/v1/quotes"): ("/api/v1/quotes", {}, row(*[400] * 6)),
        ("GET", "/api/v1/availability"): ("/api/v1/availability", None, row(*[400] * 6)),
        ("GET", "/console/pricing/catalog"): ("/console/pricing/catalog", None, STAFF_PAGE),
        # The pages' stylesheet: a public file.
        ("GET", "console/static/pricing/*subpath"): (
            "/console/static/pricing/pricing.css",
            None,
            PUBLIC,
        ),
        ("GET", "/console/pricing/surcharges"): ("/console/pricing/surcharges", None, STAFF_PAGE),
        ("GET", "/console/pricing/capacity"): ("/console/pricing/capacity", None, STAFF_PAGE),
        ("POST", "/console/pricing/catalog/packages/{code}"): (
            "/console/pricing/catalog/packages/petite",
            {},
            admin_post(303),
        ),
        ("POST", "/console/pricing/catalog/specialty/{code}"): (
            "/console/pricing/catalog/specialty/crib",
            {},
            admin_post(303),
        ),
        ("POST", "/console/pricing/catalog/rates"): (
            "/console/pricing/catalog/rates",
            {},
            admin_post(303),
        ),
        ("POST", "/console/pricing/surcharges/rules/{code}"): (
            "/console/pricing/surcharges/rules/weekend",
            {},
            admin_post(303),
        ),
        ("POST", "/console/pricing/surcharges/peaks"): (
            "/console/pricing/surcharges/peaks",
            {},
            admin_post(400),
        ),
        ("POST", "/console/pricing/surcharges/peaks/{id}/remove"): (
            "/console/pricing/surcharges/peaks/00000000-0000-4000-8000-000000000000/remove",
            {},
            admin_post(404),
        ),
        ("POST", "/console/pricing/capacity/days"): (
            "/console/pricing/capacity/days",
            {},
            admin_post(400),
        ),
        ("POST", "/console/pricing/capacity/defaults"): (
            "/console/pricing/capacity/defaults",
            {},
            admin_post(303),
        ),
    }
