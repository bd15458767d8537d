"""The pricing plugin's hook implementations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from totetaxi_core.plugin_api import hookimpl

from . import services
from .catalog import SERVICE_LABELS


def _needs_specialty_van(booking: Any) -> bool:
    return bool(getattr(booking, "specialty_items", None)) or (
        getattr(booking, "service_type", None) == "specialty"
    )


@hookimpl
def totetaxi_quote(ctx: Any, draft: dict[str, Any]) -> dict[str, Any]:
    return services.quote(ctx, draft)


@hookimpl
def totetaxi_service_labels() -> dict[str, str]:
    return SERVICE_LABELS


@hookimpl
def totetaxi_availability(
    ctx: Any, start: dt.date, end: dt.date, service_type: str | None
) -> list[dict[str, Any]]:
    return services.availability(ctx, start, end, service_type)


@hookimpl
def totetaxi_validate_booking(ctx: Any, draft: dict[str, Any]) -> list[dict[str, str]]:
    return services.capacity_problems(ctx, draft)


@hookimpl
def totetaxi_reserve_capacity(ctx: Any, booking: Any) -> None:
    services.reserve(ctx, booking.pickup_date, _needs_specialty_van(booking))


@hookimpl
def totetaxi_release_capacity(ctx: Any, booking: Any) -> None:
    services.release(ctx, booking.pickup_date, _needs_specialty_van(booking))


@hookimpl
def totetaxi_console_nav(request: Any) -> list[dict[str, Any]]:
    return [
        {
            "title": "Prices",
            "route": "pricing_catalog",
            "role": "viewer",
            "order": 50,
            "group": "Money",
        },
        {
            "title": "Surcharges",
            "route": "pricing_surcharges",
            "role": "viewer",
            "order": 51,
            "group": "Money",
        },
        {"title": "Capacity", "route": "pricing_capacity", "role": "viewer", "order": 52},
    ]
