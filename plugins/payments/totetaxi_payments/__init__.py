"""Payments: payments for bookings, refunds with approval, saved cards.

The domain plugin. It needs a ``payment_gateway`` slot provider: ``payments_mock`` (development,
Stripe's test mode imitated in-process) or ``payments_stripe`` (production). Switching one for
the other in ``totetaxi.plugins`` is the only change between the two.
"""

from __future__ import annotations

from pyramid.config import Configurator

from totetaxi_core.plugin_api import Manifest, Setting

from . import models  # noqa: F401  (its tables on the metadata, as soon as the plugin is found)
from .permissions import GRANTS

manifest = Manifest(
    name="payments",
    version="1.0.0",
    summary="Payments, refunds with admin approval, saved cards, payment audit",
    requires=("payment_gateway",),
    settings=(
        Setting(
            "payments.max_attempts",
            3,
            kind="int",
            minimum=1,
            maximum=10,
            help="failed payment attempts before the booking is cancelled",
        ),
        Setting(
            "payments.currency",
            "USD",
            kind="choice",
            choices=("USD",),
            help="the currency bookings are charged in",
        ),
    ),
    migrations="totetaxi_payments:migrations/versions",
    permissions=GRANTS,
)


def includeme(config: Configurator) -> None:
    from . import hooks

    config.add_hookimpls(hooks)
    config.include(".tasks")
    config.include(".api")
    config.include(".console")
    config.include(".attention_console")
