"""The REST API of the 'monitoring_sentry' plugin (Cornice, under ``/api/v1``).

Thin views: validate with the colander schema, write through the models, shape the answer.
Errors answer Cornice's ``{"status": "error", "errors": [...]}`` body like the rest of the API.
Each view documents its answers for the OpenAPI document (``response_schemas=answers(...)``);
the errors every operation shares are added by the core.
"""

from __future__ import annotations

from typing import Any

import colander
from cornice import Service
from cornice.validators import colander_body_validator, colander_validator
from pyramid.config import Configurator
from pyramid.request import Request
from sqlalchemy import select
from totetaxi_core.plugin_api import (
    API_PREFIX,
    PAGE_QUERY,
    CleanString,
    Permission,
    answers,
    keyset_page,
    moment,
    page_of,
    record_audit,
    text,
)

from .models import MonitoringSentryItem
from .permissions import EDIT
from .tasks import PROCESS_ITEM

items = Service(
    name="monitoring_sentry_items",
    path=API_PREFIX + "/monitoring_sentry/items",
    description="Monitoring Sentry items",
)


class ItemBody(colander.MappingSchema):
    """``POST /monitoring_sentry/items``: the new item."""

    # CleanString refuses NUL and control characters (PostgreSQL would 500 on NUL).
    title = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=200))


class ItemOut(colander.MappingSchema):
    """An item, as the OpenAPI document shows it (the fields of :func:`item_json`)."""

    id = text()
    title = text()
    status = text()
    created_at = moment()


def item_json(item: MonitoringSentryItem) -> dict[str, Any]:
    """An item as the API shows it."""
    return {
        "id": str(item.id),
        "title": item.title,
        "status": item.status,
        "created_at": item.created_at.isoformat(),
    }


@items.get(
    schema=PAGE_QUERY,
    validators=(colander_validator,),
    permission=Permission.STAFF_READ,
    response_schemas=answers(200, page_of(ItemOut()), "Items, newest first."),
)
def list_items(request: Request) -> dict[str, Any]:
    """Items, newest first, in keyset pages (``limit``, ``cursor``)."""
    return keyset_page(
        request,
        request.dbsession,
        select(MonitoringSentryItem),
        MonitoringSentryItem,
        item_json,
    )


@items.post(
    schema=ItemBody(),
    validators=(colander_body_validator,),
    permission=EDIT,
    response_schemas=answers(201, ItemOut(), "The item, queued for processing."),
)
def create_item(request: Request) -> dict[str, Any]:
    """Create an item and queue its processing (run after commit, never on rollback)."""
    item = MonitoringSentryItem(title=request.validated["title"], status="new")
    request.dbsession.add(item)
    request.dbsession.flush()  # the id, for the task and the audit record
    record_audit(
        request.ctx,
        "monitoring_sentry.item_created",
        "monitoring_sentry_item",
        item.id,
        after={"title": item.title},
    )
    request.enqueue(PROCESS_ITEM, str(item.id))
    request.response.status_code = 201
    return item_json(item)


def includeme(config: Configurator) -> None:
    config.scan(__name__)
