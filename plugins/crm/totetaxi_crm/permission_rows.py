"""The CRM plugin's rows of the permission matrix (see totetaxi_core.testing.permissions)."""

from __future__ import annotations

from typing import Any


def rows(kit: Any) -> dict[tuple[str, str], tuple[str, Any, dict[str, int]]]:
    """Every endpoint of the CRM plugin, with who may call it."""
    reports = "/api/v1/staff/reports"
    return {
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
    }
