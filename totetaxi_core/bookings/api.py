"""The bookings API of API.md: create, read, cancel, reschedule, track."""

from __future__ import annotations

from typing import Any

import colander
from cornice import Service
from cornice.validators import colander_body_validator, colander_validator
from pyramid.authorization import DENY_ALL, Allow, Everyone
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import func, select

from ..addresses import as_typed_of
from ..api import API_PREFIX, json_error
from ..api.errors import error_body
from ..api.pagination import keyset_page, page_query
from ..api.responses import answers, page_of
from ..api.schemas import OneOf, strict
from ..errors import InvalidDraft
from ..identity.api import address_json
from ..identity.contexts import OwnedContext
from ..identity.models import SavedAddress
from ..identity.permissions import Permission
from ..identity.security import signed_in_customer
from . import services
from .cancellation import policy_of
from .lifecycle import TransitionRefused
from .models import ACTIVE, Booking, BookingEvent, BookingStatus
from .schemas import (
    NEW_BOOKING_EXAMPLE,
    STATUSES,
    BookingBody,
    BookingOut,
    CancelBody,
    DashboardOut,
    NewBookingOut,
    RescheduleBody,
    TrackingOut,
)

READ, CANCEL = "booking.read", "booking.cancel"
#: Acting on a booking for its customer (paying, uploading): owner, guest with the token, staff
#: and admins — not viewers. Plugins use it on their booking routes.
ACT = "booking.act"


class BookingContext(OwnedContext):
    """A booking: its customer, a guest holding its tracking token, or staff may reach it.

    Everyone else gets 404 (the forbidden view treats an ``OwnedContext`` so).
    """

    model = Booking
    noun = "booking"
    #: Guests hold no account: the tracking token is their credential (API.md: without it a
    #: booking is 404 to anyone but its customer and staff).
    admits_anonymous = True
    #: Who reaches a booking, for the OpenAPI document's ``security`` (its permission alone
    #: would say "customer"): its customer, staff, and a guest with ``?token=``.
    openapi_security = ("customer", "staff", "guest")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.obj = booking = self._load(request.matchdict.get("id", ""))
        acl: list[Any] = [
            (Allow, "role:viewer", READ),
            (Allow, "role:staff", CANCEL),
            (Allow, "role:staff", ACT),
        ]
        if booking.customer_id is not None:
            acl += [(Allow, f"customer:{booking.customer_id}", p) for p in (READ, CANCEL, ACT)]
        if services.token_matches(booking, request.GET.get("token")):
            acl += [(Allow, Everyone, p) for p in (READ, CANCEL, ACT)]
        self.__acl__ = [*acl, DENY_ALL]


bookings = Service(
    name="bookings", path=API_PREFIX + "/bookings", description="Book a quote (guest or customer)"
)
booking = Service(name="booking", path=API_PREFIX + "/bookings/{id}", factory=BookingContext)
booking_cancel = Service(
    name="booking_cancel", path=API_PREFIX + "/bookings/{id}/cancel", factory=BookingContext
)
booking_reschedule = Service(
    name="booking_reschedule",
    path=API_PREFIX + "/bookings/{id}/reschedule",
    factory=BookingContext,
)
track = Service(name="track", path=API_PREFIX + "/track/{number}")
#: ``GET /track/{number}``: a guest's tracking token (a signed-in owner needs none).
TRACK_QUERY = colander.MappingSchema()
TRACK_QUERY.add(
    colander.SchemaNode(
        colander.Mapping(),
        colander.SchemaNode(
            colander.String(),
            name="token",
            missing=colander.drop,
            allow_empty=True,
            description="The tracking_token of a guest booking.",
        ),
        name="querystring",
    )
)


def booking_json(item: Booking, policy: Any = None) -> dict[str, Any]:
    """A booking as the API shows it; with ``policy`` (a :class:`~.cancellation.Policy`), the
    cancellation terms that apply to it too."""

    def address(a: Any) -> dict[str, Any]:
        return {
            "line1": a.line1,
            "line2": a.line2,
            "city": a.city,
            "state": a.state,
            "postal_code": a.postal_code,
            "as_typed": as_typed_of(a),
        }

    return {
        "id": str(item.id),
        "number": item.number,
        "status": str(item.status),
        "service_type": item.service_type,
        "package": item.package,
        "item_count": item.item_count,
        "specialty_items": item.specialty_items,
        "pickup_date": item.pickup_date.isoformat(),
        "time_window": item.time_window,
        "pickup_address": address(item.pickup_address),
        "delivery_address": address(item.delivery_address),
        "customer_id": str(item.customer_id) if item.customer_id else None,
        "guest": None
        if item.customer_id
        else {
            "first_name": item.guest_first_name,
            "last_name": item.guest_last_name,
            "email": item.guest_email,
            "phone": item.guest_phone,
        },
        "total_cents": item.total_cents,
        "subtotal_cents": item.subtotal_cents,
        "currency": item.currency,
        "high_value": item.high_value,
        "quote": item.quote,
        "notes": item.notes,
        "created_at": item.created_at.isoformat(),
        "cancelled_at": item.cancelled_at.isoformat() if item.cancelled_at else None,
        "cancelled_by": item.cancelled_by or None,
        "cancellation_refund_percent": item.cancellation_refund_percent,
        **({"cancellation_policy": policy.describe(item.pickup_date)} if policy else {}),
    }


@bookings.post(
    schema=strict(BookingBody),
    validators=(colander_body_validator,),
    permission=NO_PERMISSION_REQUIRED,
    response_schemas=answers(
        201,
        NewBookingOut(),
        "The booking, waiting for payment (a guest's with its tracking token).",
        example=NEW_BOOKING_EXAMPLE,
        errors={
            403: "Staff accounts do not book.",
            409: "The day is full or closed.",
            422: "The booking rules refused it (every problem is listed).",
        },
    ),
)
def create_view(request: Request) -> dict[str, Any]:
    """Create a booking at the server's price; guests get a tracking token."""
    identity = request.identity
    if identity is not None and identity.is_staff:
        from ..identity.services import IdentityError

        raise IdentityError(
            403,
            "authorization",
            "Staff accounts do not book; check out as a guest or as the customer.",
        )
    item, token = services.create(request.ctx, dict(request.validated), signed_in_customer(request))
    request.response.status_code = 201
    answer = booking_json(item, policy_of(item, request.ctx))
    if token is not None:
        answer["tracking_token"] = token
    return answer


@booking.get(permission=READ, response_schemas=answers(200, BookingOut(), "The booking."))
def get_view(request: Request) -> dict[str, Any]:
    """One booking (owner, guest with ?token=, or staff), with its cancellation terms."""
    return booking_json(request.context.obj, policy_of(request.context.obj, request.ctx))


@booking_cancel.post(
    schema=strict(CancelBody),
    validators=(colander_body_validator,),
    permission=CANCEL,
    response_schemas=answers(
        200,
        BookingOut(),
        "The booking, cancelled.",
        errors={409: "Too late to cancel, or the booking cannot be cancelled any more."},
    ),
)
def cancel_view(request: Request) -> dict[str, Any]:
    """Cancel: customers and guests until 48 hours before pickup; staff any time."""
    identity = request.identity
    services.cancel(
        request.ctx,
        request.context.obj,
        request.validated.get("reason", ""),
        by_staff=identity is not None and identity.is_staff,
    )
    return booking_json(request.context.obj)


@booking_reschedule.post(
    schema=strict(RescheduleBody),
    validators=(colander_body_validator,),
    permission=CANCEL,
    response_schemas=answers(
        200,
        BookingOut(),
        "The booking, moved and priced again.",
        errors={409: "Too late to move online, not movable in its status, or the day is full."},
    ),
)
def reschedule_view(request: Request) -> dict[str, Any]:
    """Move the pickup: customers and guests until 48 hours before it, staff any time.

    Re-priced at today's rules for the new date; a full day is 409 and nothing changes. A
    cheaper day refunds the difference; a dearer one leaves a balance to pay (the payments
    plugin: ``GET /bookings/{id}/payments`` shows ``balance_cents``).
    """
    identity = request.identity
    body = request.validated
    services.reschedule(
        request.ctx,
        request.context.obj,
        body["date"],
        body.get("time_window") or request.context.obj.time_window,
        by_staff=identity is not None and identity.is_staff,
    )
    return booking_json(request.context.obj, policy_of(request.context.obj, request.ctx))


@track.get(
    schema=TRACK_QUERY,
    validators=(colander_validator,),
    permission=NO_PERMISSION_REQUIRED,
    response_schemas=answers(200, TrackingOut(), "The booking's status and history."),
)
def track_view(request: Request) -> dict[str, Any]:
    """A booking's status and history for its guest (``?token=``) or its signed-in owner."""
    item = services.find_by_number(request.ctx, request.matchdict["number"])
    customer = signed_in_customer(request)
    allowed = item is not None and (
        services.token_matches(item, request.GET.get("token"))
        or (customer is not None and item.customer_id == customer.id)
    )
    if not allowed:
        raise HTTPNotFound(f"No booking numbered {request.matchdict['number']}.")
    events = request.dbsession.execute(
        select(BookingEvent.at, BookingEvent.status, BookingEvent.message)
        .where(BookingEvent.booking_id == item.id)
        .order_by(BookingEvent.at)
    ).all()
    answer = {
        "number": item.number,
        "status": str(item.status),
        "pickup_date": item.pickup_date.isoformat(),
        "updates": [
            {"at": at.isoformat(), "status": status, "message": message}
            for at, status, message in events
        ],
    }
    # Plugins add what they know (logistics: the delivery); the core's keys stay the core's.
    for section in request.hooks.call("totetaxi_tracking_details", request=request, booking=item):
        answer.update({k: v for k, v in (section or {}).items() if k not in CORE_TRACKING})
    return answer


#: The keys of ``GET /track/{number}`` that the core answers and no plugin replaces.
CORE_TRACKING = frozenset({"number", "status", "pickup_date", "updates"})


def refused_view(exc: services.BookingRefused, request: Request) -> Response:
    body = error_body(exc.status, "", "")
    body["errors"] = [{"location": "body", **p} for p in exc.problems]
    response = Response(status=exc.status, json_body=body)
    response.content_type = "application/json"
    return response


def transition_view(exc: TransitionRefused, request: Request) -> Response:
    return json_error(request, 409, "status", str(exc))


def too_late_view(exc: services.TooLateToCancel, request: Request) -> Response:
    return json_error(request, 409, "status", str(exc))


def includeme(config: Configurator) -> None:
    config.add_exception_view(refused_view, context=services.BookingRefused)
    config.add_exception_view(transition_view, context=TransitionRefused)
    config.add_exception_view(too_late_view, context=services.TooLateToCancel)
    config.scan(".api")


my_bookings = Service(
    name="me_bookings",
    path=API_PREFIX + "/me/bookings",
    description="The signed-in customer's bookings",
)
my_dashboard = Service(name="me_dashboard", path=API_PREFIX + "/me/dashboard")


@my_bookings.get(
    schema=page_query(
        status=colander.SchemaNode(
            colander.String(), validator=OneOf(STATUSES), missing=colander.drop
        )
    ),
    validators=(colander_validator,),
    permission=Permission.CUSTOMER_SELF,
    response_schemas=answers(200, page_of(BookingOut()), "The customer's bookings, newest first."),
)
def my_bookings_view(request: Request) -> dict[str, Any]:
    """The customer's bookings, newest first, paginated; ``?status=`` filters."""
    customer = signed_in_customer(request)
    statement = select(Booking).where(Booking.customer_id == customer.id)
    status = request.GET.get("status")
    if status is not None:
        if status not in BookingStatus.__members__.values():
            raise InvalidDraft(
                "status",
                "status must be one of " + ", ".join(s.value for s in BookingStatus) + ".",
                "querystring",
            )
        statement = statement.where(Booking.status == status)
    return keyset_page(request, request.dbsession, statement, Booking, booking_json)


@my_dashboard.get(
    permission=Permission.CUSTOMER_SELF,
    response_schemas=answers(200, DashboardOut(), "The customer's dashboard."),
)
def my_dashboard_view(request: Request) -> dict[str, Any]:
    """Active and recent bookings, addresses and counts: a fixed number of queries."""
    customer = signed_in_customer(request)
    db = request.dbsession
    mine = select(Booking).where(Booking.customer_id == customer.id)
    active = db.scalars(
        mine.where(Booking.status.in_(ACTIVE))
        .order_by(Booking.pickup_date, Booking.created_at)
        .limit(10)
    )
    recent = db.scalars(mine.order_by(Booking.created_at.desc(), Booking.id.desc()).limit(5))
    addresses = db.scalars(
        select(SavedAddress)
        .where(SavedAddress.customer_id == customer.id)
        .order_by(SavedAddress.created_at.desc())
        .limit(10)
    )
    by_status = dict(
        db.execute(
            select(Booking.status, func.count())
            .where(Booking.customer_id == customer.id)
            .group_by(Booking.status)
        ).all()
    )
    counts = {status.value: by_status.get(status, 0) for status in BookingStatus}
    counts["total"] = sum(by_status.values())
    answer = {
        "active_bookings": [booking_json(b) for b in active],
        "recent_bookings": [booking_json(b) for b in recent],
        "addresses": [address_json(a) for a in addresses],
        "payment_methods": [],  # a payments plugin fills this in
        "counts": counts,
    }
    for sections in request.hooks.call(
        "totetaxi_customer_dashboard", request=request, customer=customer
    ):
        answer.update(sections or {})
    return answer
