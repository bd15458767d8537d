"""The Stripe adapter's hook implementations: it fills the ``payment_gateway`` slot."""

from __future__ import annotations

from typing import Any

from totetaxi_core.plugin_api import hookimpl

from .gateway import StripeGateway


class GatewayHooks:
    """Answers the ``totetaxi_payment_gateway`` hook with the registry's one gateway."""

    def __init__(self, gateway: StripeGateway) -> None:
        self.gateway = gateway

    @hookimpl
    def totetaxi_payment_gateway(self, ctx: Any) -> StripeGateway:
        return self.gateway
