"""The staff booking and customer API of API.md (viewers read; staff and admins write)."""

from __future__ import annotations

from typing import Any

import colander
from cornice import Service
from cornice.validators import colander_body_validator, colander_validator
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import select

from ..api import API_PREFIX, json_error
from ..api.pagination import keyset_page, page_query
from ..api.responses import answers, page_of
from ..api.schemas import IsoDate, QueryChoices, Uuid, strict
from ..db.lookup import get_or_404
from ..identity.api import address_json, customer_json
from ..identity.models import Customer, SavedAddress
from ..identity.permissions import Permission
from . import editing, search, services
from .api import booking_json
from .lifecycle import transition
from .models import Booking, BookingEvent, BookingStatus
from .schemas import (
    STATUSES,
    BookingOut,
    StaffBookingOut,
    StaffBookingPatch,
    StaffCustomerOut,
    StaffCustomerRow,
    StatusBody,
)

#: Sections every staff booking answer has; plugins fill them through
#: ``totetaxi_booking_details``.
DETAIL_SECTIONS = {
    "payments": list,
    "delivery": lambda: None,
    "documents": list,
    "notifications": list,
}
HISTORY_LIMIT = 20

staff_bookings = Service(
    name="staff_bookings",
    path=API_PREFIX + "/staff/bookings",
    description="Search bookings (staff)",
)
staff_booking = Service(name="staff_booking", path=API_PREFIX + "/staff/bookings/{id}")
staff_booking_status = Service(
    name="staff_booking_status", path=API_PREFIX + "/staff/bookings/{id}/status"
)
staff_customers = Service(name="staff_customers", path=API_PREFIX + "/staff/customers")
staff_customer = Service(name="staff_customer", path=API_PREFIX + "/staff/customers/{id}")


def _search_text() -> colander.SchemaNode:
    return colander.SchemaNode(
        colander.String(),
        validator=colander.Length(max=200),
        missing=colander.drop,
        allow_empty=True,
        description="Words that must each appear (name, email...); at most 200 characters.",
    )


def _new_york_day(description: str) -> colander.SchemaNode:
    return colander.SchemaNode(
        IsoDate(), missing=colander.drop, allow_empty=True, description=description
    )


#: ``GET /staff/bookings``: the filters of :func:`.search.booking_filters`, documented.
BOOKING_FILTERS = page_query(
    status=colander.SchemaNode(
        QueryChoices(STATUSES),
        missing=colander.drop,
        allow_empty=True,
        description="Statuses, comma-separated (or the parameter repeated).",
    ),
    date_from=colander.SchemaNode(
        IsoDate(), missing=colander.drop, allow_empty=True, description="Pickup on or after."
    ),
    date_to=colander.SchemaNode(
        IsoDate(), missing=colander.drop, allow_empty=True, description="Pickup on or before."
    ),
    q=_search_text(),
    customer_id=colander.SchemaNode(
        Uuid(), missing=colander.drop, allow_empty=True, description="One customer's bookings."
    ),
    created_from=_new_york_day("Created on or after this New York day."),
    created_to=_new_york_day("Created on or before this New York day."),
    cancelled_from=_new_york_day("Cancelled on or after this New York day."),
    cancelled_to=_new_york_day("Cancelled on or before this New York day."),
    service_type=colander.SchemaNode(
        colander.String(),
        validator=colander.Regex(r"^[a-z0-9_]{0,30}$", "A service's code such as mini_move."),
        missing=colander.drop,
        allow_empty=True,
        description="One service's bookings (its code, e.g. mini_move).",
    ),
)

#: ``GET /staff/customers``: the filters of :func:`.search.customer_filters`, documented.
CUSTOMER_FILTERS = page_query(
    q=_search_text(),
    created_from=_new_york_day("Registered on or after this New York day."),
    created_to=_new_york_day("Registered on or before this New York day."),
)


def _load(request: Request, model: Any, noun: str) -> Any:
    raw = request.matchdict["id"]
    return get_or_404(request.dbsession, model, raw, detail=f"No {noun} with id {raw}.")


def staff_booking_json(request: Request, booking: Booking) -> dict[str, Any]:
    """The booking as staff see it: contact, version, history and the plugins' sections."""
    answer = booking_json(booking)
    answer["version"] = booking.version
    answer["updated_at"] = booking.updated_at.isoformat()
    answer["cancel_reason"] = booking.cancel_reason
    customer = request.dbsession.get(Customer, booking.customer_id) if booking.customer_id else None
    answer["customer"] = (
        None
        if customer is None
        else {
            "id": str(customer.id),
            "email": customer.email,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "phone": customer.phone,
        }
    )
    events = request.dbsession.scalars(
        select(BookingEvent).where(BookingEvent.booking_id == booking.id).order_by(BookingEvent.at)
    )
    answer["history"] = [
        {
            "at": e.at.isoformat(),
            "status": e.status,
            "message": e.message,
            "note": e.note,
            "actor_kind": e.actor_kind,
            "actor_id": str(e.actor_id) if e.actor_id else None,
        }
        for e in events
    ]
    for name, empty in DETAIL_SECTIONS.items():
        answer[name] = empty()
    for sections in request.hooks.call(
        "totetaxi_booking_details", request=request, booking=booking
    ):
        answer.update(sections or {})
    return answer


def staff_customer_row(customer: Customer) -> dict[str, Any]:
    row = customer_json(customer)
    row["is_active"] = customer.is_active
    profile = customer.profile
    row["last_booking_at"] = (
        profile.last_booking_at.isoformat() if profile and profile.last_booking_at else None
    )
    return row


@staff_bookings.get(
    schema=BOOKING_FILTERS,
    validators=(colander_validator,),
    permission=Permission.STAFF_READ,
    response_schemas=answers(200, page_of(BookingOut()), "Bookings, newest first."),
)
def list_view(request: Request) -> dict[str, Any]:
    """Bookings newest first; ``status`` (comma-separated), ``date_from``, ``date_to`` (pickup
    date), ``q`` (number, or words of the name, email or phone) and ``customer_id`` filter."""
    statement = search.bookings(search.booking_filters(request.GET))
    return keyset_page(request, request.dbsession, statement, Booking, booking_json)


@staff_booking.get(
    permission=Permission.STAFF_READ,
    response_schemas=answers(200, StaffBookingOut(), "The booking as staff see it."),
)
def get_view(request: Request) -> dict[str, Any]:
    """One booking with history and the payments, delivery, documents and notifications."""
    return staff_booking_json(request, _load(request, Booking, "booking"))


@staff_booking.patch(
    schema=strict(StaffBookingPatch),
    validators=(colander_body_validator,),
    permission=Permission.STAFF_WRITE,
    response_schemas=answers(
        200,
        StaffBookingOut(),
        "The booking, changed (and re-priced).",
        errors={
            409: "Someone else saved it first (version), the new day is full, or the booking "
            "can no longer be edited.",
            422: "The booking rules refused the change (every problem is listed).",
        },
    ),
)
def patch_view(request: Request) -> dict[str, Any]:
    """Edit; a new date or other items re-price the booking and move its capacity."""
    booking = _load(request, Booking, "booking")
    changes = dict(request.validated)
    version = changes.pop("version", None)
    editing.update(request.ctx, booking, changes, version)
    return staff_booking_json(request, booking)


@staff_booking_status.post(
    schema=strict(StatusBody),
    validators=(colander_body_validator,),
    permission=Permission.STAFF_WRITE,
    response_schemas=answers(
        200,
        StaffBookingOut(),
        "The booking in its new status.",
        errors={409: "The lifecycle does not allow this move (both states are named)."},
    ),
)
def status_view(request: Request) -> dict[str, Any]:
    """Move the booking through the state machine (409 when the move is not allowed)."""
    booking = _load(request, Booking, "booking")
    new, reason = request.validated["status"], request.validated.get("reason") or None
    if new == BookingStatus.CANCELLED:
        services.cancel(request.ctx, booking, reason or "", by_staff=True)
    else:
        transition(request.ctx, booking, new, reason)
    request.dbsession.flush()  # the answer carries the new version
    return staff_booking_json(request, booking)


@staff_customers.get(
    schema=CUSTOMER_FILTERS,
    validators=(colander_validator,),
    permission=Permission.STAFF_READ,
    response_schemas=answers(200, page_of(StaffCustomerRow()), "Customers, newest first."),
)
def customers_view(request: Request) -> dict[str, Any]:
    """Customers newest first; ``q`` matches name, email or phone; ``created_from`` and
    ``created_to`` keep those registered on these New York days."""
    statement = search.customers(search.customer_filters(request.GET))
    return keyset_page(request, request.dbsession, statement, Customer, staff_customer_row)


@staff_customer.get(
    permission=Permission.STAFF_READ,
    response_schemas=answers(200, StaffCustomerOut(), "The customer."),
)
def customer_view(request: Request) -> dict[str, Any]:
    """A customer with addresses, the plugins' facts and the latest bookings (the full
    history pages through ``/staff/bookings?customer_id=``)."""
    customer = _load(request, Customer, "customer")
    db = request.dbsession
    answer = staff_customer_row(customer)
    answer["addresses"] = [
        address_json(a)
        for a in db.scalars(
            select(SavedAddress)
            .where(SavedAddress.customer_id == customer.id)
            .order_by(SavedAddress.created_at.desc())
        )
    ]
    bookings = list(
        db.scalars(
            select(Booking)
            .where(Booking.customer_id == customer.id)
            .order_by(Booking.created_at.desc(), Booking.id.desc())
            .limit(HISTORY_LIMIT + 1)
        )
    )
    answer["bookings"] = [booking_json(b) for b in bookings[:HISTORY_LIMIT]]
    answer["more_bookings"] = len(bookings) > HISTORY_LIMIT
    summary: dict[str, Any] = {}
    for facts in request.hooks.call(
        "totetaxi_customer_summary", request=request, customer=customer
    ):
        summary.update(facts or {})
    answer["summary"] = summary
    return answer


def changed_view(exc: editing.BookingChanged, request: Request) -> Response:
    return json_error(request, 409, "version", str(exc))


def not_editable_view(exc: editing.NotEditable, request: Request) -> Response:
    return json_error(request, 409, "status", str(exc))


def includeme(config: Configurator) -> None:
    config.add_exception_view(changed_view, context=editing.BookingChanged)
    config.add_exception_view(not_editable_view, context=editing.NotEditable)
    config.scan(".staff_api")
