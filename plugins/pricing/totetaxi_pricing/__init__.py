"""Pricing: the service catalog, quotes with surcharges, van capacity and availability.

The model plugin: every room a plugin has (models, migrations, seed, services, schemas, api,
hooks, console, tests under tests/plugins/pricing).
"""

from __future__ import annotations

from pyramid.config import Configurator

from totetaxi_core.plugin_api import Manifest

from .seed import seed

manifest = Manifest(
    name="pricing",
    version="1.0.0",
    summary="Service catalog, quotes with surcharges, van capacity and availability",
    provides=("quotes", "availability"),
    migrations="totetaxi_pricing:migrations/versions",
    seed=seed,
    permissions={"pricing.edit": "admin"},
)


def includeme(config: Configurator) -> None:
    from . import hooks
    from .catalog import CATALOG_SERVICE, CatalogCache

    # One cache per app, shared by every request and task (see catalog.cache_of).
    config.register_service(CatalogCache(), name=CATALOG_SERVICE)
    config.add_hookimpls(hooks)
    config.scan(".api")
    config.include(".console")
