"""Console pages of the pricing plugin (filled in by the console work)."""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.add_route("pricing_catalog", "/console/pricing/catalog")
    config.add_route("pricing_surcharges", "/console/pricing/surcharges")
    config.add_route("pricing_capacity", "/console/pricing/capacity")
