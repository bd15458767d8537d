"""Onfleet answers the core's ``dispatcher`` slot with the app's one client."""

from __future__ import annotations

from typing import Any

from totetaxi_core.plugin_api import find_service, hookimpl

from .client import OnfleetDispatcher


@hookimpl
def totetaxi_dispatcher(ctx: Any) -> OnfleetDispatcher:
    return find_service(ctx, "logistics_onfleet.dispatcher")
