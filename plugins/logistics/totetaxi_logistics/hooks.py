"""The logistics plugin's hook implementations: tasks follow the booking, the booking follows
its tasks (in :mod:`.services.events`), and staff and customers see the delivery.

Every event implementation only writes rows and queues tasks (sending happens after commit).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from totetaxi_core.plugin_api import hookimpl

from . import services
from .services import reading


@hookimpl
def totetaxi_booking_status_changed(ctx: Any, booking: Any, new_status: str) -> None:
    """Confirmed (paid, or confirmed by staff): its tasks, in this transaction. Cancelled: its
    open tasks are cancelled here and at the provider."""
    if new_status == "confirmed":
        services.plan_tasks(ctx, booking)
    elif new_status == "cancelled":
        services.booking_cancelled(ctx, booking)


@hookimpl
def totetaxi_booking_changed(ctx: Any, booking: Any, changes: dict[str, Any]) -> None:
    services.booking_moved(ctx, booking, changes)


@hookimpl
def totetaxi_document_reviewed(ctx: Any, booking: Any, decision: str) -> None:
    """An approved document may lift a hold: ask again, send what may go now."""
    if decision == "approved":
        services.release(ctx, booking)


@hookimpl
def totetaxi_booking_details(request: Any, booking: Any) -> dict[str, Any]:
    return {"delivery": reading.tracking(request.ctx, booking, staff=True)}


@hookimpl
def totetaxi_tracking_details(request: Any, booking: Any) -> dict[str, Any]:
    """``GET /track/{number}``: the delivery as the customer may see it."""
    details = reading.tracking(request.ctx, booking)
    return {"delivery": {"tasks": details["tasks"], "timeline": details["timeline"]}}


@hookimpl
def totetaxi_booking_panels(
    request: Any, booking: Any, panel_state: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The booking page's "Delivery" panel: its tasks and timeline."""
    from .console import panels

    return panels.booking_panels(request, booking)


@hookimpl
def totetaxi_dashboard_tiles(request: Any, period: str) -> list[dict[str, Any]]:
    from .console import panels

    return panels.dashboard_tiles(request, period)


@hookimpl
def totetaxi_console_nav(request: Any) -> list[dict[str, Any]]:
    from .console import panels

    return panels.console_nav()


@hookimpl(optionalhook=True)
def totetaxi_crm_figures(ctx: Any, start: Any, end: Any) -> dict[str, Any]:
    """The CRM dashboard's figures of ``[start, end)`` (SQL aggregates, in :mod:`.figures`)."""
    from . import figures

    return figures.figures(ctx, start, end)


from .reports import totetaxi_crm_reports  # noqa: E402, F401  (the CRM's reports)


@hookimpl
def totetaxi_timeline(request: Any, booking: Any, customer: Any) -> list[dict[str, Any]]:
    """This plugin's entries of a booking's or a customer's timeline (in :mod:`.timeline`)."""
    from . import timeline

    return timeline.entries(request, booking, customer)
