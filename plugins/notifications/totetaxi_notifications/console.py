"""Console pages: the notification log and the template editor (placeholder; see below)."""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    pass
