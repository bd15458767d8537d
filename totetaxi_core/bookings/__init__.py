"""Bookings: guest and account checkout, TT numbers, the lifecycle, tracking."""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.include(".api")
    config.include(".staff_api")
