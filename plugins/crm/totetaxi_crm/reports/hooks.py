"""The CRM's hook implementations for reports: its own reports and the console's nav entry."""

from __future__ import annotations

from typing import Any

from totetaxi_core.plugin_api import hookimpl


@hookimpl
def totetaxi_crm_reports(ctx: Any) -> list[dict[str, Any]]:
    from .builtin import REPORTS

    return REPORTS


@hookimpl
def totetaxi_console_nav(request: Any) -> list[dict[str, Any]]:
    return [
        {
            "title": "Reports",
            "route": "crm_reports",
            "role": "viewer",
            "order": 70,
            "group": "Money",
        }
    ]
