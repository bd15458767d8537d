"""The drivers page: every driver, with their open tasks; the mock fleet's are managed here.

Onfleet's drivers (its workers) are synced from the provider and read-only here. The mock
fleet's are added, edited and deactivated through the forms the ``logistics_mock`` plugin
serves (:mod:`..adapters.mock.console`), shown to holders of ``logistics.dispatch``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyramid.request import Request
from pyramid.view import view_config
from sqlalchemy import func, select
from totetaxi_core.plugin_api import Permission

from ..models import OPEN, DeliveryTask, Driver
from ..permissions import DISPATCH
from . import DRIVERS, MESSAGES, mock_enabled

#: The fields of a mock driver's form: (name, label, limit).
FIELDS = (("name", "Name", 120), ("phone", "Phone", 40), ("vehicle", "Vehicle", 120))


def render_drivers(
    request: Request,
    *,
    failed_id: str = "",
    submitted: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> dict[str, Any]:
    """What ``drivers.jinja2`` shows; ``failed_id`` is the refused form (``"new"``: the add
    form) with what was typed and the message by field."""
    open_tasks = (
        select(DeliveryTask.driver_id, func.count().label("n"))
        .where(DeliveryTask.status.in_(OPEN), DeliveryTask.superseded_by.is_(None))
        .group_by(DeliveryTask.driver_id)
        .subquery()
    )
    found = request.dbsession.execute(
        select(Driver, func.coalesce(open_tasks.c.n, 0))
        .outerjoin(open_tasks, open_tasks.c.driver_id == Driver.id)
        .order_by(Driver.active.desc(), Driver.provider, Driver.name)
    ).all()
    mock = mock_enabled(request)
    can_manage = mock and request.has_permission(DISPATCH)
    request.response.status_int = status
    return {
        "drivers": [
            {
                "id": str(driver.id),
                "driver": driver,
                "open": count,
                "editable": can_manage and driver.provider == "mock",
            }
            for driver, count in found
        ],
        "fields": FIELDS,
        "mock": mock,
        "can_manage": can_manage,
        "failed_id": failed_id,
        "submitted": dict(submitted or {}),
        "errors": dict(errors or {}),
        "message": MESSAGES.get(request.GET.get("done", "")),
    }


@view_config(
    route_name="logistics_drivers",
    request_method="GET",
    renderer=DRIVERS,
    permission=Permission.STAFF_READ,
)
def drivers_page(request: Request) -> dict[str, Any]:
    return render_drivers(request)
