"""The CRM plugin's rows of the permission matrix (see totetaxi_core.testing.permissions)."""

from __future__ import annotations

from typing import Any


def rows(kit: Any) -> dict[tuple[str, str], tuple[str, Any, dict[str, int]]]:
    """Every endpoint of the CRM plugin, with who may call it."""
    care = "/console/crm/customers/{customer}"
    reports = "/api/v1/staff/reports"
    # Console posts: anonymous to the login page, customers and viewers refused, staff past the
    # permission (an empty note is 400; the others act on customer A, whose state the rows of
    # other tests do not rely on: re-enabling an active account changes nothing).
    return {
        # Booking by phone: staff with crm.care (an empty body fails validation: 400).
        ("POST", "/api/v1/staff/customers/{id}/bookings"): (
            "/api/v1/staff/customers/{customer}/bookings",
            {},
            kit.row(401, 403, 403, 403, 400, 400),
        ),
        # Emails by hand: an empty body fails validation (400) for staff with crm.care.
        ("POST", "/api/v1/staff/customers/{id}/messages"): (
            "/api/v1/staff/customers/{customer}/messages",
            {},
            kit.row(401, 403, 403, 403, 400, 400),
        ),
        ("GET", "/api/v1/staff/message-templates"): (
            "/api/v1/staff/message-templates",
            None,
            kit.STAFF_API_READ,
        ),
        ("POST", "/console/crm/customers/{id}/messages"): (
            care + "/messages",
            {},
            kit.row(302, 403, 403, 403, 400, 400),
        ),
        # The book-by-phone form: crm.care (staff and admins); an empty form is refused (400).
        ("GET", "/console/crm/customers/{id}/book"): (
            care + "/book",
            None,
            kit.row(302, 403, 403, 403, 200, 200),
        ),
        ("POST", "/console/crm/customers/{id}/book"): (
            care + "/book",
            {},
            kit.row(302, 403, 403, 403, 400, 400),
        ),
        ("POST", "/console/crm/customers/{id}/notes"): (
            care + "/notes",
            {},
            kit.row(302, 403, 403, 403, 400, 400),
        ),
        ("POST", "/console/crm/customers/{id}/active"): (
            care + "/active",
            {"active": "1"},
            kit.row(302, 403, 403, 403, 303, 303),
        ),
        ("POST", "/console/crm/customers/{id}/password-reset"): (
            care + "/password-reset",
            {},
            kit.row(302, 403, 403, 403, 303, 303),
        ),
        # Reports: every staff role reads them; the CSV download takes crm.export (staff and
        # admins: a viewer gets 403).
        ("GET", reports): (reports, None, kit.STAFF_API_READ),
        ("GET", reports + "/{name}"): (reports + "/bookings", None, kit.STAFF_API_READ),
        ("GET", reports + "/{name}.csv"): (
            reports + "/bookings.csv",
            None,
            kit.row(401, 403, 403, 403, 200, 200),
        ),
        ("GET", "/console/reports"): ("/console/reports", None, kit.STAFF_PAGE),
        ("GET", "/console/reports/{name}"): ("/console/reports/bookings", None, kit.STAFF_PAGE),
        # The dashboard's figures: every staff role reads them (anonymous 401, customers 403).
        ("GET", "/api/v1/staff/dashboard"): (
            "/api/v1/staff/dashboard?period=week",
            None,
            kit.STAFF_API_READ,
        ),
        # The dashboard's stylesheet: a public file.
        ("GET", "console/static/crm/*subpath"): ("/console/static/crm/crm.css", None, kit.PUBLIC),
    }
