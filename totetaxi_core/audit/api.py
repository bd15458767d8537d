"""The staff audit API: ``GET /staff/audit-log`` and the booking and customer timelines."""

from __future__ import annotations

from typing import Any

import colander
from cornice import Service
from cornice.validators import colander_validator
from pyramid.config import Configurator
from pyramid.request import Request

from ..api import API_PREFIX
from ..api.pagination import page_query
from ..api.responses import answers, free, listing, moment, page_of, text
from ..api.schemas import IsoDate
from ..bookings.models import Booking
from ..db.lookup import get_or_404
from ..identity.models import Customer
from ..identity.permissions import Permission
from . import views

audit_log = Service(
    name="staff_audit_log", path=API_PREFIX + "/staff/audit-log", description="The audit log"
)
booking_timeline = Service(
    name="staff_booking_timeline", path=API_PREFIX + "/staff/bookings/{id}/timeline"
)
customer_timeline = Service(
    name="staff_customer_timeline", path=API_PREFIX + "/staff/customers/{id}/timeline"
)


def _filter(description: str, limit: int) -> colander.SchemaNode:
    return colander.SchemaNode(
        colander.String(),
        validator=colander.Length(max=limit),
        missing=colander.drop,
        allow_empty=True,
        description=description,
    )


AUDIT_FILTERS = page_query(
    actor=_filter("A staff id or an email.", 254),
    action=_filter("An action (exact), or a prefix ending with a dot: payments.", 100),
    target_type=_filter("The target's type (booking, staff_user, ...).", 60),
    target_id=_filter("The target's id.", 64),
    **{
        "from": colander.SchemaNode(
            IsoDate(),
            missing=colander.drop,
            allow_empty=True,
            description="On or after this New York day.",
        ),
        "to": colander.SchemaNode(
            IsoDate(),
            missing=colander.drop,
            allow_empty=True,
            description="On or before this New York day.",
        ),
    },
)


class ActorOut(colander.MappingSchema):
    kind = text(validator=colander.OneOf(("staff", "customer", "system")))
    id = text(null=True)
    email = text()
    name = text()


class TargetOut(colander.MappingSchema):
    type = text()
    id = text()


class AuditRecordOut(colander.MappingSchema):
    """One audit record: who did what to which object, and the values before and after."""

    id = text()
    at = moment()
    actor = ActorOut()
    action = text()
    target = TargetOut()
    before = free()
    after = free()
    client_addr = text()
    request_id = text()


class TimelineEntryOut(colander.MappingSchema):
    """One step of a timeline."""

    at = moment()
    kind = text()
    title = text()
    detail = text()
    source = text()


class TimelineOut(colander.MappingSchema):
    items = listing(TimelineEntryOut())


@audit_log.get(
    schema=AUDIT_FILTERS,
    validators=(colander_validator,),
    permission=Permission.STAFF_READ,
    response_schemas=answers(200, page_of(AuditRecordOut()), "Audit records, newest first."),
)
def audit_log_view(request: Request) -> dict[str, Any]:
    """The audit log, newest first, filtered by actor, action, target and New York days."""
    return views.page(request, views.filters_of(request.GET))


@booking_timeline.get(
    permission=Permission.STAFF_READ,
    response_schemas=answers(200, TimelineOut(), "The booking's timeline, newest first."),
)
def booking_timeline_view(request: Request) -> dict[str, Any]:
    """A booking's audit records, status history and plugins' entries, newest first."""
    raw = request.matchdict["id"]
    booking = get_or_404(request.dbsession, Booking, raw, detail=f"No booking with id {raw}.")
    return {"items": views.timeline_json(views.timeline(request, booking=booking))}


@customer_timeline.get(
    permission=Permission.STAFF_READ,
    response_schemas=answers(200, TimelineOut(), "The customer's timeline, newest first."),
)
def customer_timeline_view(request: Request) -> dict[str, Any]:
    """A customer's audit records, their bookings' history and plugins' entries, newest first."""
    raw = request.matchdict["id"]
    customer = get_or_404(request.dbsession, Customer, raw, detail=f"No customer with id {raw}.")
    return {"items": views.timeline_json(views.timeline(request, customer=customer))}


def includeme(config: Configurator) -> None:
    config.scan(".api")
