"""``logistics_mock``: a simulated fleet as the ``dispatcher`` (development only).

It behaves like Onfleet from the logistics plugin's side: tasks are created, assigned to
drivers, started, moved along their route with ETAs, arrived at and completed with proof of
delivery, each step an event applied through the same code path as Onfleet's webhooks. Steps
come on a schedule (the periodic ``logistics_mock.advance``) or from the console's buttons on
the dispatch board. Its drivers are managed on the console's drivers page; three are seeded.
An app with ``totetaxi.environment = production`` refuses to start with it enabled.
"""

from __future__ import annotations

from pyramid.config import Configurator
from totetaxi_core.plugin_api import Manifest, Setting

from .dispatcher import MockDispatcher
from .models import MockFleetTask
from .seed import seed

__all__ = ["MockDispatcher", "MockFleetTask", "includeme", "manifest"]

manifest = Manifest(
    name="logistics_mock",
    version="1.0.0",
    summary="Development dispatcher: a simulated fleet driving tasks to completion",
    depends=("logistics",),
    provides=("dispatcher",),
    development_only=True,
    migrations="totetaxi_logistics:adapters/mock_migrations",
    seed=seed,
    settings=(
        Setting(
            "logistics_mock.step_seconds",
            60,
            kind="int",
            minimum=5,
            maximum=3600,
            help="how often the simulated fleet moves every due task one step",
        ),
    ),
)


def includeme(config: Configurator) -> None:
    from . import console, hooks, tasks

    config.add_hookimpls(hooks)
    config.include(tasks)
    config.include(console)
