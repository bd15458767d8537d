"""The simulated fleet's schedule: every due task one step further, periodically."""

from __future__ import annotations

from pyramid.config import Configurator
from totetaxi_core.plugin_api import Context

from .fleet import advance_due

ADVANCE = "logistics_mock.advance"


def advance(ctx: Context) -> None:
    advance_due(ctx)


def includeme(config: Configurator) -> None:
    config.add_task(advance, name=ADVANCE)
    config.add_periodic_task(ADVANCE, config.get_settings()["logistics_mock.step_seconds"])
