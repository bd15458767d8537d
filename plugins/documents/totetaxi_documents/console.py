"""The staff console pages of the documents plugin (the review queue and search come next)."""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    pass
