"""The notifications plugins: their rows of the permission matrix (tests/core/test_permissions).

Registered in entry point group ``totetaxi.permission_rows`` under the plugin's name, and called
by the test kit with its row helpers (:mod:`totetaxi_core.testing.permissions`) as ``kit``, so
this module imports nothing and is loaded only by test suites. Each row maps ``(method, route
pattern)`` to ``(concrete path, body or None, {caller: expected status})``; the path may use
``{booking}``, ``{number}``, ``{customer}``, ``{address}`` and ``{staff}``.
"""

from __future__ import annotations

from typing import Any


def rows(kit: Any) -> dict[tuple[str, str], tuple[str, Any, dict[str, int]]]:
    """The notifications API and console."""
    row = kit.row
    STAFF_PAGE = kit.STAFF_PAGE
    PUBLIC = kit.PUBLIC
    return {
        # The notifications plugin (with the console mailer). A customer's own emails: 401 before
        # sign-in, 403 for staff (as every /me endpoint).
        ("GET", "/api/v1/me/notifications"): (
            "/api/v1/me/notifications",
            None,
            row(401, 200, 200, 403, 403, 403),
        ),
        # Its console: every staff role reads the log, an email and the templates, and previews a
        # template (saving nothing); staff and admins resend, release and save. Unknown emails reach
        # the 404 past the permission check; an empty save form is a 400 (its version is missing).
        ("GET", "/console/notifications"): ("/console/notifications", None, STAFF_PAGE),
        # The pages' stylesheet and the template editor's script: public files.
        ("GET", "console/static/notifications/*subpath"): (
            "/console/static/notifications/template-editor.js",
            None,
            PUBLIC,
        ),
        ("GET", "/console/notifications/{id}"): (
            "/console/notifications/00000000-0000-4000-8000-000000000000",
            None,
            row(302, 403, 403, 404, 404, 404),
        ),
        ("POST", "/console/notifications/{id}/resend"): (
            "/console/notifications/00000000-0000-4000-8000-000000000000/resend",
            {},
            row(302, 403, 403, 403, 404, 404),
        ),
        ("POST", "/console/notifications/{id}/release"): (
            "/console/notifications/00000000-0000-4000-8000-000000000000/release",
            {},
            row(302, 403, 403, 403, 404, 404),
        ),
        ("GET", "/console/notifications/templates"): (
            "/console/notifications/templates",
            None,
            STAFF_PAGE,
        ),
        ("GET", "/console/notifications/templates/{key}"): (
            "/console/notifications/templates/booking_received",
            None,
            STAFF_PAGE,
        ),
        ("POST", "/console/notifications/templates/{key}"): (
            "/console/notifications/templates/booking_received",
            {},
            row(302, 403, 403, 403, 400, 400),
        ),
        ("POST", "/console/notifications/templates/{key}/preview"): (
            "/console/notifications/templates/booking_received/preview",
            {},
            row(302, 403, 403, 200, 200, 200),
        ),
    }


def mail_console_rows(kit: Any) -> dict[tuple[str, str], tuple[str, Any, dict[str, int]]]:
    """The console mailer's Mailbox (plugin ``mail_console``)."""
    row = kit.row
    STAFF_PAGE = kit.STAFF_PAGE
    return {
        # The console mailer's Mailbox (development only): every staff role reads it.
        ("GET", "/console/mailbox"): ("/console/mailbox", None, STAFF_PAGE),
        ("GET", "/console/mailbox/{id}"): (
            "/console/mailbox/console-" + "0" * 32,
            None,
            row(302, 403, 403, 404, 404, 404),
        ),
    }
