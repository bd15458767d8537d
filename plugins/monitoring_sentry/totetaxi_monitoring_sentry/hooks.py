"""Hook implementations of the 'monitoring_sentry' plugin.

See README "Writing a plugin" and docs/hooks.md.
"""

from __future__ import annotations

from typing import Any

from totetaxi_core.plugin_api import hookimpl


@hookimpl
def totetaxi_console_nav(request: Any) -> list[dict[str, Any]]:
    """The console menu entry; the layout shows it to staff whose role includes ``role``."""
    return [
        {
            "title": "Monitoring Sentry",
            "route": "monitoring_sentry_console",
            "role": "viewer",
            "order": 100,
        }
    ]
