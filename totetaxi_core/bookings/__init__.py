"""Bookings: guest and account checkout, TT numbers, the lifecycle, tracking."""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    from .cancellation import POLICY_SERVICE, policy_snapshot

    config.register_service(policy_snapshot(), name=POLICY_SERVICE)
    config.include(".api")
    config.include(".staff_api")
