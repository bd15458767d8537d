"""The notifications plugin's background tasks: sending one email, and the periodic sweep that
queues due retries (registered by :func:`includeme`)."""

from __future__ import annotations

import logging

from pyramid.config import Configurator

from totetaxi_core.plugin_api import Context

from .services import SEND_DUE_TASK, SEND_TASK, send, send_due

log = logging.getLogger("totetaxi.notifications")


def send_task(ctx: Context, notification_id: str) -> None:
    outcome = send(ctx, notification_id)
    log.info("notification %s: %s", notification_id, outcome)


def includeme(config: Configurator) -> None:
    config.add_task(send_task, name=SEND_TASK)
    config.add_task(send_due, name=SEND_DUE_TASK)
    config.add_periodic_task(
        SEND_DUE_TASK,
        config.get_settings()["notifications.retry_sweep_seconds"],
        entry="notifications-retry",
    )
