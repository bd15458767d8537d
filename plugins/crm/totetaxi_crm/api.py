"""The CRM API (the staff dashboard and reports come next)."""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.scan(__name__)
