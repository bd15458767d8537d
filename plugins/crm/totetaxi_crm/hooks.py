"""The CRM plugin's hook implementations."""

from __future__ import annotations

from typing import Any

from totetaxi_core.plugin_api import hookimpl, publish_live, staff_event

from . import care

#: What the dashboard's figures count: any of these moves a number on the console home. Open
#: dashboards read their figures again (after commit), once per transaction whatever happened
#: in it: the event carries no figure, only that they changed (figures cost SQL aggregates).
DASHBOARD_CHANGED = staff_event("dashboard.changed")


@hookimpl
def totetaxi_customer_panels(request: Any, customer: Any) -> list[dict[str, Any]]:
    return [care.panel(request, customer)]


@hookimpl
def totetaxi_booking_created(ctx: Any) -> None:
    publish_live(ctx, DASHBOARD_CHANGED)


@hookimpl
def totetaxi_booking_status_changed(ctx: Any) -> None:
    publish_live(ctx, DASHBOARD_CHANGED)


@hookimpl
def totetaxi_booking_changed(ctx: Any) -> None:
    publish_live(ctx, DASHBOARD_CHANGED)


@hookimpl
def totetaxi_payment_succeeded(ctx: Any) -> None:
    publish_live(ctx, DASHBOARD_CHANGED)


@hookimpl
def totetaxi_payment_failed(ctx: Any) -> None:
    publish_live(ctx, DASHBOARD_CHANGED)


@hookimpl
def totetaxi_refund_completed(ctx: Any) -> None:
    publish_live(ctx, DASHBOARD_CHANGED)


@hookimpl
def totetaxi_delivery_updated(ctx: Any) -> None:
    publish_live(ctx, DASHBOARD_CHANGED)


@hookimpl
def totetaxi_document_reviewed(ctx: Any) -> None:
    publish_live(ctx, DASHBOARD_CHANGED)
