"""Console pages of the pricing plugin: the catalog, surcharges and peak dates, van capacity.

Every staff role reads them (``Permission.STAFF_READ``); changing anything takes the plugin's own
``pricing.edit`` permission, granted to admins in the manifest, so a template asks
``request.has_permission`` rather than knowing a role. The views only read and check the form,
then call the edit functions of :mod:`.services`, which write the audit record and move the
catalog version: every process prices with the new figures from its next quote on.

A refused form comes back with status 400 and the message next to the field, and nothing is
changed (the checks run before any service call; the 4xx also vetoes the transaction's commit).
A change redirects (303) back to its page with a ``?done=`` code naming a fixed sentence.

One module per page (``catalog``, ``surcharges``, ``capacity``); ``fields`` holds what each form
reads (the core's parsers, plus percentages), ``page`` what the pages share. Amounts are typed in
dollars ("995.00", "$1,725") and stored in cents, percentages ("15", "12.5") in basis points,
both through :class:`decimal.Decimal`, never floats.
"""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.security import NO_PERMISSION_REQUIRED

from totetaxi_core.plugin_api import FieldError

from .fields import amount, parse_money, parse_percent, percent

__all__ = ["FieldError", "amount", "includeme", "parse_money", "parse_percent", "percent"]


def includeme(config: Configurator) -> None:
    # The pages' stylesheet (the console's Content-Security-Policy allows no inline one),
    # public like the core's.
    config.add_static_view(
        "console/static/pricing",
        "totetaxi_pricing:static",
        cache_max_age=3600,
        permission=NO_PERMISSION_REQUIRED,
    )
    config.add_route("pricing_catalog", "/console/pricing/catalog")
    config.add_route("pricing_package", "/console/pricing/catalog/packages/{code}")
    config.add_route("pricing_specialty", "/console/pricing/catalog/specialty/{code}")
    config.add_route("pricing_rates", "/console/pricing/catalog/rates")
    config.add_route("pricing_surcharges", "/console/pricing/surcharges")
    config.add_route("pricing_surcharge", "/console/pricing/surcharges/rules/{code}")
    config.add_route("pricing_peaks", "/console/pricing/surcharges/peaks")
    config.add_route("pricing_peak_remove", "/console/pricing/surcharges/peaks/{id}/remove")
    config.add_route("pricing_capacity", "/console/pricing/capacity")
    config.add_route("pricing_capacity_day", "/console/pricing/capacity/days")
    config.add_route("pricing_capacity_defaults", "/console/pricing/capacity/defaults")
    config.scan(__name__)
