from __future__ import annotations

from typing import Any

from totetaxi_core.plugin_api import hookimpl


@hookimpl
def totetaxi_dashboard_tiles(request: Any, period: str) -> list[dict[str, Any]]:
    return [{"title": "Example notes", "value": period, "plugin": "example"}]


@hookimpl
def totetaxi_console_nav(request: Any) -> list[dict[str, Any]]:
    return [{"title": "Notes", "route": "example_notes", "role": "viewer", "order": 90}]
