"""The staff console pages of the logistics plugin (the dispatch board comes next)."""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    pass
