"""The CRM console pages (the dashboard and reports come next)."""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    pass
