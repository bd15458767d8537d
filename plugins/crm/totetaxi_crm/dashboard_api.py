"""``GET /api/v1/staff/dashboard?period=day|week|month`` or ``?from=&to=``: the dashboard's
figures (see :mod:`.dashboard` for what each one counts)."""

from __future__ import annotations

from typing import Any

import colander
from cornice import Service
from pyramid.config import Configurator
from pyramid.request import Request
from totetaxi_core.plugin_api import (
    API_PREFIX,
    CleanString,
    Permission,
    answers,
    day,
    free,
    json_error,
    listing,
    local_today,
    nullable,
    whole,
)

from . import dashboard as figures


class StaffDashboardQuery(colander.MappingSchema):
    period = colander.SchemaNode(
        CleanString(),
        missing=colander.drop,
        description="day (default: today in New York), week (Monday to Sunday) or month.",
    )
    from_ = colander.SchemaNode(
        CleanString(),
        name="from",
        missing=colander.drop,
        description="First New York day of a range (YYYY-MM-DD), with to.",
    )
    to = colander.SchemaNode(
        CleanString(),
        missing=colander.drop,
        description="Last New York day of a range (YYYY-MM-DD, included), with from.",
    )


class StaffDashboardRequest(colander.MappingSchema):
    querystring = StaffDashboardQuery()


class SeriesDay(colander.MappingSchema):
    """One day of the period: bookings created and their revenue (the charts)."""

    day = day()
    bookings = whole()
    revenue_cents = whole()


class PickupDay(colander.MappingSchema):
    """One of the next 7 New York days and its active bookings' pickups."""

    day = day()
    pickups = whole()


class StaffDashboardOut(colander.MappingSchema):
    period = free()
    bookings = free()
    revenue_cents = whole()
    by_service = free()
    cancellations = whole()
    new_registrations = whole()
    repeat_customer_rate = nullable(colander.SchemaNode(colander.Float()))
    payment_success_rate = nullable(colander.SchemaNode(colander.Float()))
    delivery_completion_rate = nullable(colander.SchemaNode(colander.Float()))
    figures = free()
    previous = free()
    # Lists, not objects: the document said object and every client's type was wrong (found by
    # schemathesis over every plugin's reads, tests/core/test_openapi_contract.py).
    series = listing(SeriesDay())
    upcoming_pickups = listing(PickupDay())


dashboard_service = Service(
    name="staff_dashboard",
    path=API_PREFIX + "/staff/dashboard",
    description="The operations dashboard's figures for a period and the one before it",
)


@dashboard_service.get(
    schema=StaffDashboardRequest(),
    permission=Permission.STAFF_READ,
    response_schemas=answers(
        200,
        StaffDashboardOut(),
        "The period's figures, the previous period's under previous, and what plugins publish.",
        errors={400: "A bad period, from or to (named)."},
    ),
)
def dashboard_view(request: Request) -> Any:
    try:
        period = figures.period_of(request.GET, local_today(request.ctx.now()))
    except figures.PeriodError as exc:
        return json_error(request, 400, exc.field, exc.description, "querystring")
    return figures.dashboard(request.ctx, period)


def includeme(config: Configurator) -> None:
    config.scan(__name__)
