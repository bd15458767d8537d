"""The mock gateway's hook implementations: it fills the ``payment_gateway`` slot."""

from __future__ import annotations

from totetaxi_core.plugin_api import Context, hookimpl

from .gateway import MockGateway, webhook_secret


@hookimpl
def totetaxi_payment_gateway(ctx: Context) -> MockGateway:
    return MockGateway(ctx, webhook_secret(ctx.settings))
