"""The staff console page of the 'monitoring_sentry' plugin: ``/console/monitoring_sentry``.

Every staff role reads it (``Permission.STAFF_READ``); its menu entry comes from the
``totetaxi_console_nav`` hook in :mod:`.hooks`. Templates are named by asset spec, so the shared
Jinja environment's search path is left alone.
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.view import view_config
from sqlalchemy import select
from totetaxi_core.plugin_api import Permission

from .models import MonitoringSentryItem
from .permissions import EDIT

PAGE = "totetaxi_monitoring_sentry:templates/items.jinja2"


@view_config(
    route_name="monitoring_sentry_console",
    request_method="GET",
    renderer=PAGE,
    permission=Permission.STAFF_READ,
)
def items_page(request: Request) -> dict[str, Any]:
    """The newest items."""
    limit = request.registry.settings["monitoring_sentry.page_size"]
    newest = select(MonitoringSentryItem).order_by(MonitoringSentryItem.created_at.desc())
    rows = request.dbsession.scalars(newest.limit(limit))
    return {"items": list(rows), "can_edit": request.has_permission(EDIT)}


def includeme(config: Configurator) -> None:
    config.add_route("monitoring_sentry_console", "/console/monitoring_sentry")
    config.scan(__name__)
