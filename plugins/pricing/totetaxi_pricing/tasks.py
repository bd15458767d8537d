"""The pricing plugin's background tasks: none. Quotes and availability are computed in the
request from the cached catalog, and capacity is taken in the booking's transaction; this room
exists so that a reader finds the answer where every plugin keeps its tasks."""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    """Register the plugin's tasks (none yet) with ``config.add_task``."""
