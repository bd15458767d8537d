"""Background work of the 'monitoring_sentry' plugin.

A task runs after the request's commit, in its own transaction (``ctx.dbsession``); it may be
delivered twice, so it must be idempotent. Periodic work is declared next to ``add_task`` with
``config.add_periodic_task``.
"""

from __future__ import annotations

import uuid

from totetaxi_core.plugin_api import Context

from .models import MonitoringSentryItem

PROCESS_ITEM = "monitoring_sentry.process_item"


def process_item(ctx: Context, item_id: str) -> None:
    """Mark a new item processed."""
    item = ctx.dbsession.get(MonitoringSentryItem, uuid.UUID(item_id))
    if item is None or item.status != "new":
        return  # gone, or a second delivery of this task: nothing to do
    item.status = "processed"
