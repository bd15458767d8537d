"""Background work of the logistics plugin: sending, cancelling, and the periodic safety net.

Every task may be delivered twice and is idempotent (the task row is locked; a sent task is not
sent again, a cancelled one not cancelled again).
"""

from __future__ import annotations

from pyramid.config import Configurator
from totetaxi_core.plugin_api import Context

from . import services

REDISPATCH = "logistics.redispatch"


def redispatch(ctx: Context) -> None:
    """Queue again what should have been sent or cancelled and was not."""
    services.redispatch(ctx)


def includeme(config: Configurator) -> None:
    # Backoff 5 s doubling over 8 tries (about 20 minutes) rides out a provider's short outage;
    # the periodic redispatch takes over after that.
    config.add_task(
        services.dispatch_task, name=services.DISPATCH, max_retries=8, backoff_seconds=5
    )
    config.add_task(
        services.cancel_at_provider,
        name=services.CANCEL_AT_PROVIDER,
        max_retries=8,
        backoff_seconds=5,
    )
    config.add_task(redispatch, name=REDISPATCH)
    config.add_periodic_task(REDISPATCH, 300)
