"""The mock fleet answers the core's ``dispatcher`` slot."""

from __future__ import annotations

from typing import Any

from totetaxi_core.plugin_api import hookimpl

from .dispatcher import MockDispatcher


@hookimpl
def totetaxi_dispatcher(ctx: Any) -> MockDispatcher:
    # Bound to the caller's unit of work: its tasks are rows written in that transaction.
    return MockDispatcher(ctx)
