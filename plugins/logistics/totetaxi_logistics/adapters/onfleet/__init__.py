"""``logistics_onfleet``: Onfleet's REST API v2 as the ``dispatcher`` (production)."""

from __future__ import annotations

from pyramid.config import Configurator
from totetaxi_core.plugin_api import Manifest

manifest = Manifest(
    name="logistics_onfleet",
    version="1.0.0",
    summary="Onfleet as the dispatcher (tasks, workers, signed webhooks)",
    depends=("logistics",),
    provides=("dispatcher",),
)


def includeme(config: Configurator) -> None:
    pass
