"""The CRM API: customer care's booking by phone (the dashboard and reports join it).

``POST /staff/customers/{id}/bookings`` books for a customer who called: the body is the one
of ``POST /bookings`` without ``guest`` (the customer's profile is the contact; their saved
addresses may be used by id). It goes through the core's own creation — priced at the server's
rules, capacity reserved (a full day is 409), numbered — and the customer gets the "booking
received" email with the link to pay. Staff with ``crm.care``; audited.
"""

from __future__ import annotations

from typing import Any

import colander
from cornice import Service
from cornice.validators import colander_body_validator
from pyramid.config import Configurator
from pyramid.request import Request
from totetaxi_core.plugin_api import (
    API_PREFIX,
    BookingBody,
    Customer,
    InvalidDraft,
    answers,
    create_booking,
    get_or_404,
    record_audit,
    text,
    whole,
)

from .permissions import CARE

by_phone = Service(
    name="crm_customer_bookings",
    path=API_PREFIX + "/staff/customers/{id}/bookings",
    description="Book for a customer by phone",
)


class PhoneBookingOut(colander.MappingSchema):
    """The booking made, waiting for the customer's payment."""

    id = text()
    number = text()
    status = text()
    total_cents = whole()


@by_phone.post(
    schema=BookingBody(),
    validators=(colander_body_validator,),
    permission=CARE,
    response_schemas=answers(
        201,
        PhoneBookingOut(),
        "The booking, waiting for the customer's payment (they are emailed the link).",
        errors={409: "The day is full or closed.", 422: "The booking rules refused it."},
    ),
)
def book_by_phone(request: Request) -> dict[str, Any]:
    customer = get_or_404(request.dbsession, Customer, request.matchdict["id"])
    if not customer.is_active:
        raise InvalidDraft("customer", "This account is disabled; enable it first.", "path")
    body = dict(request.validated)
    if body.get("guest") is not None:
        raise InvalidDraft("guest", "Booking for a customer: their profile is the contact.")
    booking, _ = create_booking(request.ctx, body, customer)
    record_audit(
        request.ctx,
        "crm.booking_by_phone",
        target_type="booking",
        target_id=booking.id,
        after={"customer_id": str(customer.id), "number": booking.number},
    )
    request.response.status_code = 201
    return {
        "id": str(booking.id),
        "number": booking.number,
        "status": str(booking.status),
        "total_cents": booking.total_cents,
    }


def includeme(config: Configurator) -> None:
    config.scan(__name__)
