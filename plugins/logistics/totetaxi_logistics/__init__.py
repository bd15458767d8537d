"""Logistics: delivery tasks for confirmed bookings, dispatch, tracking, failures, drivers.

The domain plugin. It fills in the core's ``dispatcher`` slot (:mod:`.interfaces`), answered
through the core's hook ``totetaxi_dispatcher``, and needs one provider enabled:
``logistics_mock`` (a simulated fleet, development) or ``logistics_onfleet`` (Onfleet's REST
API v2, production). Switching one for the other in ``totetaxi.plugins`` (and the Onfleet keys
in the environment) is the only change between the two.
"""

from __future__ import annotations

from pyramid.config import Configurator
from totetaxi_core.plugin_api import Manifest, Setting

from . import models  # noqa: F401  (its tables on the metadata, as soon as the plugin is found)
from .permissions import GRANTS
from .windows import check_window

manifest = Manifest(
    name="logistics",  # = entry point name = settings prefix = Alembic branch label
    version="1.0.0",
    summary="Delivery tasks, dispatch, tracking with ETA and driver position, rescheduling",
    requires=("dispatcher",),
    core=">=1.0,<2",
    settings=(
        Setting(
            "logistics.page_size",
            50,
            kind="int",
            minimum=1,
            maximum=500,
            help="tasks listed per page (API and console)",
        ),
        Setting(
            "logistics.morning_window",
            "08:00-12:00",
            help="the pickup window of a morning booking, New York time (HH:MM-HH:MM)",
            check=check_window,
        ),
        Setting(
            "logistics.afternoon_window",
            "12:00-17:00",
            help="the pickup window of an afternoon booking, New York time (HH:MM-HH:MM)",
            check=check_window,
        ),
        Setting(
            "logistics.dropoff_hours",
            4,
            kind="int",
            minimum=1,
            maximum=12,
            help="hours after the end of the pickup window that the drop-off window ends",
        ),
    ),
    migrations="totetaxi_logistics:migrations/versions",
    permissions=GRANTS,
)


def includeme(config: Configurator) -> None:
    """Wire the plugin into the app: hooks, tasks, the API and the console pages."""
    from . import hooks

    config.add_hookimpls(hooks)
    config.include(".tasks")
    config.include(".api")
    config.include(".console")
    config.include(".tracking_page")
