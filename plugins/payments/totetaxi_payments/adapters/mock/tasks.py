"""The mock gateway's background task: delivering its signed events to the webhook handler."""

from __future__ import annotations

from pyramid.config import Configurator

from totetaxi_core.plugin_api import Context

DELIVER_TASK = "payments_mock.deliver_event"


def deliver_event(ctx: Context, payload: str, signature: str) -> str:
    """Background: hand a signed event to the webhook handler, as Stripe would over HTTP."""
    from ...services import handle_webhook

    return handle_webhook(ctx, payload.encode(), signature)


def includeme(config: Configurator) -> None:
    config.add_task(deliver_event, name=DELIVER_TASK)
