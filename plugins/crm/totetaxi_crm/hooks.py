"""The CRM plugin's hook implementations."""

from __future__ import annotations

from typing import Any

from totetaxi_core.plugin_api import hookimpl

from . import care


@hookimpl
def totetaxi_customer_panels(request: Any, customer: Any) -> list[dict[str, Any]]:
    return [care.panel(request, customer)]
