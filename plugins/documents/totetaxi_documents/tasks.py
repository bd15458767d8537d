"""The documents plugin's periodic work: clean-up and COI attention."""

from __future__ import annotations

from pyramid.config import Configurator
from totetaxi_core.plugin_api import Context

from . import services

PURGE = "documents.purge"
COI_ATTENTION = "documents.coi_attention"


def purge(ctx: Context) -> None:
    """Expire uploads never completed and delete files past retention."""
    services.purge_due(ctx)


def coi_attention(ctx: Context) -> None:
    """Email customers whose high-value booking lacks a COI, or whose COI ends too soon."""
    services.sweep_attention(ctx)


def includeme(config: Configurator) -> None:
    config.add_task(purge, name=PURGE)
    config.add_periodic_task(PURGE, 3600)
    config.add_task(coi_attention, name=COI_ATTENTION)
    config.add_periodic_task(COI_ATTENTION, 3600)
