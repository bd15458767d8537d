"""The documents plugin's hook implementations: the high-value gate, and what staff and
customers see of a booking's documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from totetaxi_core.plugin_api import entries_panel, hookimpl

from . import services


@hookimpl
def totetaxi_booking_holds(ctx: Any, booking: Any) -> list[dict[str, str]]:
    return services.holds_of(ctx, booking)


@hookimpl
def totetaxi_booking_details(request: Any, booking: Any) -> dict[str, Any]:
    ctx = request.ctx
    return {
        "documents": {
            "items": [
                services.document_json(d, staff=True)
                for d in services.documents_of(ctx, booking.id)
            ],
            "coi": services.coi_requirement(ctx, booking),
        }
    }


@hookimpl
def totetaxi_tracking_details(request: Any, booking: Any) -> dict[str, Any]:
    """The customer's booking says what is missing (``/track/{number}``)."""
    return {"documents": {"coi": services.coi_requirement(request.ctx, booking)}}


@hookimpl
def totetaxi_booking_panels(
    request: Any, booking: Any, panel_state: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The booking page's "Documents" panel: its documents, its COI gate, the review form."""
    from .console import panels

    return panels.booking_panels(request, booking, panel_state)


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


@hookimpl
def totetaxi_timeline(request: Any, booking: Any, customer: Any) -> list[dict[str, Any]]:
    """This plugin's entries of a booking's or a customer's timeline (in :mod:`.timeline`)."""
    from . import timeline

    return timeline.entries(request, booking, customer)


@hookimpl
def totetaxi_customer_panels(request: Any, customer: Any) -> list[dict[str, Any]]:
    """The customer page's "Documents" panel: the newest ten, from :mod:`.timeline`."""
    from . import timeline

    return [entries_panel("Documents", timeline.entries(request, None, customer), order=80)]
