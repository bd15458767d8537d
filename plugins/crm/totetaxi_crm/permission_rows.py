"""The CRM plugin's rows of the permission matrix (see totetaxi_core.testing.permissions)."""

from __future__ import annotations

from typing import Any


def rows(kit: Any) -> dict[tuple[str, str], tuple[str, Any, dict[str, int]]]:
    """Every endpoint of the CRM plugin, with who may call it."""
    return {
        # The dashboard's figures: every staff role reads them (anonymous 401, customers 403).
        ("GET", "/api/v1/staff/dashboard"): (
            "/api/v1/staff/dashboard?period=week",
            None,
            kit.STAFF_API_READ,
        ),
        # The dashboard's stylesheet: a public file.
        ("GET", "console/static/crm/*subpath"): ("/console/static/crm/crm.css", None, kit.PUBLIC),
    }
