"""The CRM API: customer care's booking by phone and emails sent by hand (the dashboard and
reports join it).

``POST /staff/customers/{id}/bookings`` books for a customer who called: the body is the one
of ``POST /bookings`` without ``guest`` (the customer's profile is the contact; their saved
addresses may be used by id). It goes through the core's own creation — priced at the server's
rules, capacity reserved (a full day is 409), numbered — and the customer gets the "booking
received" email with the link to pay. Staff with ``crm.care``; audited.

``GET /staff/message-templates`` lists the emails staff may send a customer by hand (from the
plugin that sends mail: notifications' ``care_*`` templates, edited in the console like the
others); ``POST /staff/customers/{id}/messages {template, message?}`` queues one to the customer
(202; sent after commit, listed on the customer's page). Staff with ``crm.care``; audited.
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
    Booking,
    BookingBody,
    CleanString,
    Customer,
    InvalidDraft,
    Permission,
    answers,
    create_booking,
    customer_message_templates,
    get_or_404,
    record_audit,
    send_customer_message,
    strict,
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


def book_for(request: Request, customer: Customer, body: dict[str, Any]) -> Booking:
    """Book ``body`` (a validated ``BookingBody``) for ``customer``, who called; audited.

    The API and the console's phone form both come here: priced and capacity-checked by the
    core's own creation, the customer emailed the link to pay.
    """
    if not customer.is_active:
        raise InvalidDraft("customer", "This account is disabled; enable it first.", "path")
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
    return booking


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
    booking = book_for(request, customer, dict(request.validated))
    request.response.status_code = 201
    return {
        "id": str(booking.id),
        "number": booking.number,
        "status": str(booking.status),
        "total_cents": booking.total_cents,
    }


messages = Service(
    name="crm_customer_messages",
    path=API_PREFIX + "/staff/customers/{id}/messages",
    description="Email a customer from a template (customer care)",
)
message_templates = Service(
    name="crm_message_templates",
    path=API_PREFIX + "/staff/message-templates",
    description="The emails staff may send a customer by hand",
)


class MessageBody(colander.MappingSchema):
    template = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=100))
    message = colander.SchemaNode(CleanString(), missing="")


class MessageOut(colander.MappingSchema):
    """The email queued (sent after commit)."""

    id = text()
    template = text()
    recipient = text()


class MessageTemplate(colander.MappingSchema):
    key = text()
    name = text()
    description = text()


class MessageTemplates(colander.SequenceSchema):
    template = MessageTemplate()


class MessageTemplatesOut(colander.MappingSchema):
    items = MessageTemplates()


def queue_message(request: Request, customer: Customer, template: str, message: str) -> str:
    """Queue ``template`` to ``customer`` and audit it (the API and the console form)."""
    sent = send_customer_message(request.ctx, customer, template, message)
    record_audit(
        request.ctx,
        "crm.customer_messaged",
        target_type="customer",
        target_id=customer.id,
        after={"template": template, "notification_id": sent, "message": message[:200]},
    )
    return sent


@messages.post(
    schema=strict(MessageBody),
    validators=(colander_body_validator,),
    permission=CARE,
    response_schemas=answers(
        202,
        MessageOut(),
        "Queued; sent after commit.",
        errors={400: "Unknown template, a message too long, or the account is disabled."},
    ),
)
def send_message(request: Request) -> dict[str, Any]:
    customer = get_or_404(request.dbsession, Customer, request.matchdict["id"])
    body = request.validated
    sent = queue_message(request, customer, body["template"], body["message"])
    request.response.status_code = 202
    return {"id": sent, "template": body["template"], "recipient": customer.email}


@message_templates.get(
    permission=Permission.STAFF_READ,
    response_schemas=answers(200, MessageTemplatesOut(), "The templates, by name."),
)
def list_message_templates(request: Request) -> dict[str, Any]:
    return {"items": customer_message_templates(request.ctx)}


def includeme(config: Configurator) -> None:
    config.scan(__name__)
