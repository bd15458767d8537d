"""The payments plugins: its rows of the permission matrix (``tests/core/test_permissions.py``).

Registered in entry point group ``totetaxi.permission_rows`` under the plugin's name, and called
by the test kit with its row helpers (:mod:`totetaxi_core.testing.permissions`) as ``kit``, so
this module imports nothing and is loaded only by test suites. Each row maps ``(method, route
pattern)`` to ``(concrete path, body or None, {caller: expected status})``; the path may use
``{booking}``, ``{number}``, ``{customer}``, ``{address}`` and ``{staff}``.
"""

from __future__ import annotations

from typing import Any


def rows(kit: Any) -> dict[tuple[str, str], tuple[str, Any, dict[str, int]]]:
    """The payments plugin's API and console."""
    row = kit.row
    STAFF_PAGE = kit.STAFF_PAGE
    PUBLIC = kit.PUBLIC
    STAFF_API_READ = kit.STAFF_API_READ
    admin_post = kit.admin_post
    return {
        # The payments plugin (with its mock gateway). Paying is for whoever may act on the
        # booking (owner, guest token, staff, admins; a viewer only reads: 403); by now the booking
        # is cancelled (409). Unknown ids reach the 404 past the permission check; the webhook
        # is 400 without a signature, the mock's card forms 400 without a card.
        ("POST", "/api/v1/bookings/{id}/payments"): (
            "/api/v1/bookings/{booking}/payments",
            {},
            row(404, 409, 404, 403, 409, 409),
        ),
        ("GET", "/api/v1/bookings/{id}/payments"): (
            "/api/v1/bookings/{booking}/payments",
            None,
            row(404, 200, 404, 200, 200, 200),
        ),
        ("POST", "/api/v1/payments/webhook"): ("/api/v1/payments/webhook", {}, row(*[400] * 6)),
        ("GET", "/api/v1/me/payment-methods"): (
            "/api/v1/me/payment-methods",
            None,
            row(401, 200, 200, 403, 403, 403),
        ),
        ("POST", "/api/v1/me/payment-methods"): (
            "/api/v1/me/payment-methods",
            {},
            row(401, 201, 201, 403, 403, 403),
        ),
        ("DELETE", "/api/v1/me/payment-methods/{id}"): (
            "/api/v1/me/payment-methods/00000000-0000-4000-8000-000000000000",
            None,
            row(401, 404, 404, 404, 404, 404),
        ),
        ("GET", "/api/v1/staff/refunds"): ("/api/v1/staff/refunds", None, STAFF_API_READ),
        ("POST", "/api/v1/staff/refunds"): (
            "/api/v1/staff/refunds",
            {},
            row(401, 403, 403, 403, 400, 400),
        ),
        ("POST", "/api/v1/staff/refunds/{id}/approve"): (
            "/api/v1/staff/refunds/00000000-0000-4000-8000-000000000000/approve",
            {},
            row(401, 403, 403, 403, 403, 404),
        ),
        ("POST", "/api/v1/staff/refunds/{id}/reject"): (
            "/api/v1/staff/refunds/00000000-0000-4000-8000-000000000000/reject",
            {},
            row(401, 403, 403, 403, 403, 404),
        ),
        # Its console: every staff role reads the refunds queue, staff and admins request a refund,
        # admins decide.
        ("GET", "/console/payments/refunds"): ("/console/payments/refunds", None, STAFF_PAGE),
        # The pages' stylesheet: a public file.
        ("GET", "console/static/payments/*subpath"): (
            "/console/static/payments/payments.css",
            None,
            PUBLIC,
        ),
        ("POST", "/console/payments/refunds/{id}/approve"): (
            "/console/payments/refunds/00000000-0000-4000-8000-000000000000/approve",
            {},
            admin_post(404),
        ),
        ("POST", "/console/payments/refunds/{id}/reject"): (
            "/console/payments/refunds/00000000-0000-4000-8000-000000000000/reject",
            {},
            admin_post(404),
        ),
        # Payments needing attention: every staff role reads; staff and admins settle.
        ("GET", "/console/payments/attention"): ("/console/payments/attention", None, STAFF_PAGE),
        ("POST", "/console/payments/payments/{id}/settle"): (
            "/console/payments/payments/00000000-0000-4000-8000-000000000000/settle",
            {},
            row(302, 403, 403, 403, 404, 404),
        ),
        ("POST", "/console/payments/payments/{id}/refunds"): (
            "/console/payments/payments/00000000-0000-4000-8000-000000000000/refunds",
            {},
            row(302, 403, 403, 403, 404, 404),
        ),
    }


def mock_rows(kit: Any) -> dict[tuple[str, str], tuple[str, Any, dict[str, int]]]:
    """The mock gateway's card forms (plugin ``payments_mock``)."""
    row = kit.row
    return {
        ("POST", "/api/v1/payments/mock/confirm"): (
            "/api/v1/payments/mock/confirm",
            {},
            row(*[400] * 6),
        ),
        ("POST", "/api/v1/payments/mock/authenticate"): (
            "/api/v1/payments/mock/authenticate",
            {},
            row(*[400] * 6),
        ),
    }
