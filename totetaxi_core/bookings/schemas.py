"""The booking body: the quote's draft fields plus addresses, contact and notes.

Addresses are
:class:`~totetaxi_core.addresses.AddressFields`: standardised, with the text as typed kept.
"""

from __future__ import annotations

import colander

from ..addresses import AddressFields
from ..api.responses import day, flag, free, listing, moment, nullable, text, whole
from ..api.schemas import (
    CleanString,
    IsoDate,
    OneOf,
    StrictBoolean,
    StrictInteger,
    refuse_unknown,
)
from ..identity.schemas import AddressOut as SavedAddressOut
from ..identity.schemas import CustomerOut

PHONE = colander.Regex(r"^[0-9+().\- ]{7,25}$", "Enter a phone number (digits, spaces, + - ( ) .).")


class GuestFields(colander.MappingSchema):
    first_name = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=100))
    last_name = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=100))
    email = colander.SchemaNode(
        CleanString(), validator=colander.All(colander.Length(max=254), colander.Email())
    )
    phone = colander.SchemaNode(CleanString(), validator=PHONE)


class SpecialtyLine(colander.MappingSchema):
    code = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=30))
    qty = colander.SchemaNode(StrictInteger(), validator=colander.Range(1, 20), missing=1)


class SpecialtyLines(colander.SequenceSchema):
    line = refuse_unknown(SpecialtyLine())


# The parts of the examples the API document shows (BookingBody.example, NEW_BOOKING_EXAMPLE).
_PICKUP = {
    "line1": "200 E 62nd St",
    "line2": "Apt 5B",
    "city": "New York",
    "state": "NY",
    "postal_code": "10065",
}
_DELIVERY = {
    "line1": "12 Dune Rd",
    "line2": "",
    "city": "Southampton",
    "state": "NY",
    "postal_code": "11968",
}
_GUEST = {
    "first_name": "Gale",
    "last_name": "Guest",
    "email": "gale@example.com",
    "phone": "+1 646 555 0199",
}


class BookingBody(colander.MappingSchema):
    """``POST /bookings``: the draft is priced by the server; no client total is accepted."""

    #: Shown in the API document: a guest's booking (signed in, leave ``guest`` out; saved
    #: addresses go as ``pickup_address_id`` / ``delivery_address_id``).
    example = {
        "service_type": "mini_move",
        "package": "petite",
        "date": "2026-12-03",
        "time_window": "morning",
        "pickup_address": _PICKUP,
        "delivery_address": {k: v for k, v in _DELIVERY.items() if k != "line2"},
        "guest": _GUEST,
    }

    service_type = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=30))
    package = colander.SchemaNode(
        CleanString(), validator=colander.Length(min=1, max=30), missing=None
    )
    item_count = colander.SchemaNode(
        StrictInteger(), validator=colander.Range(1, 500), missing=None
    )
    specialty_items = SpecialtyLines(validator=colander.Length(max=10), missing=())
    date = colander.SchemaNode(IsoDate())
    same_day = colander.SchemaNode(StrictBoolean(), missing=False)
    coi_handling = colander.SchemaNode(StrictBoolean(), missing=False)
    pickup_address = refuse_unknown(AddressFields(missing=None))
    pickup_address_id = colander.SchemaNode(CleanString(), missing=None)
    delivery_address = refuse_unknown(AddressFields(missing=None))
    delivery_address_id = colander.SchemaNode(CleanString(), missing=None)
    time_window = colander.SchemaNode(
        CleanString(), validator=OneOf(("morning", "afternoon")), missing="morning"
    )
    notes = colander.SchemaNode(CleanString(), validator=colander.Length(max=1000), missing="")
    guest = refuse_unknown(GuestFields(missing=None))


class CancelBody(colander.MappingSchema):
    reason = colander.SchemaNode(CleanString(), validator=colander.Length(max=500), missing="")


class RescheduleBody(colander.MappingSchema):
    date = colander.SchemaNode(IsoDate())
    time_window = colander.SchemaNode(
        CleanString(), validator=OneOf(("morning", "afternoon")), missing=colander.drop
    )


DRAFT_FIELDS = (
    "service_type",
    "package",
    "item_count",
    "specialty_items",
    "date",
    "same_day",
    "coi_handling",
)


def _optional(node: colander.SchemaNode) -> colander.SchemaNode:
    """A copy of ``node`` whose children may each be left out (a PATCH body)."""
    node = node.clone()
    for child in node.children:
        child.missing = colander.drop
    node.missing = colander.drop
    return node


class StaffBookingPatch(colander.MappingSchema):
    """``PATCH /staff/bookings/{id}``: any subset; priced fields re-price the booking.

    ``version`` (from the booking as read) makes the save refuse a concurrent change (409).
    """

    version = colander.SchemaNode(
        StrictInteger(), validator=colander.Range(1), missing=colander.drop
    )
    service_type = colander.SchemaNode(
        CleanString(), validator=colander.Length(min=1, max=30), missing=colander.drop
    )
    package = colander.SchemaNode(
        CleanString(), validator=colander.Length(min=1, max=30), missing=colander.drop
    )
    item_count = colander.SchemaNode(
        StrictInteger(), validator=colander.Range(1, 500), missing=colander.drop
    )
    specialty_items = SpecialtyLines(validator=colander.Length(max=10), missing=colander.drop)
    date = colander.SchemaNode(IsoDate(), missing=colander.drop)
    same_day = colander.SchemaNode(StrictBoolean(), missing=colander.drop)
    coi_handling = colander.SchemaNode(StrictBoolean(), missing=colander.drop)
    pickup_address = refuse_unknown(AddressFields(missing=colander.drop))
    delivery_address = refuse_unknown(AddressFields(missing=colander.drop))
    time_window = colander.SchemaNode(
        CleanString(), validator=OneOf(("morning", "afternoon")), missing=colander.drop
    )
    notes = colander.SchemaNode(
        CleanString(), validator=colander.Length(max=1000), missing=colander.drop
    )
    guest = refuse_unknown(_optional(GuestFields()))


class StatusBody(colander.MappingSchema):
    """``POST /staff/bookings/{id}/status``."""

    status = colander.SchemaNode(
        CleanString(),
        validator=OneOf(("pending_payment", "confirmed", "in_progress", "completed", "cancelled")),
    )
    reason = colander.SchemaNode(CleanString(), validator=colander.Length(max=500), missing="")


# --- answers (the OpenAPI document's response bodies: open objects, see api.responses) ---------

STATUSES = ("pending_payment", "confirmed", "in_progress", "completed", "cancelled")


class BookingAddressOut(colander.MappingSchema):
    line1 = text()
    line2 = text()
    city = text()
    state = text()
    postal_code = text()


class GuestOut(colander.MappingSchema):
    first_name = text()
    last_name = text()
    email = text()
    phone = text()


class SpecialtyOut(colander.MappingSchema):
    code = text()
    qty = whole()


class BookingOut(colander.MappingSchema):
    """A booking as its customer, its guest and staff see it."""

    id = text()
    number = text(validator=colander.Regex(r"^TT-\d{6,}$"))
    status = text(validator=colander.OneOf(STATUSES))
    service_type = text()
    package = text(null=True)
    item_count = whole(null=True)
    specialty_items = listing(SpecialtyOut())
    pickup_date = day()
    time_window = text()
    pickup_address = BookingAddressOut()
    delivery_address = BookingAddressOut()
    customer_id = text(null=True)
    guest = nullable(GuestOut(description="The contact of a guest booking; null for a customer's."))
    total_cents = whole()
    subtotal_cents = whole()
    currency = text()
    high_value = flag()
    quote = free(description="The quote the booking was priced with (POST /quotes' answer).")
    notes = text()
    created_at = moment()
    cancelled_at = moment(null=True)


class NewBookingOut(BookingOut):
    """A new booking; a guest's carries its tracking token (shown once, never again)."""

    tracking_token = text(missing=colander.drop)


class TrackingUpdate(colander.MappingSchema):
    at = moment()
    status = text()
    message = text()


class TrackingOut(colander.MappingSchema):
    """A booking's status and its history, for tracking."""

    number = text()
    status = text(validator=colander.OneOf(STATUSES))
    pickup_date = day()
    updates = listing(TrackingUpdate())


class DashboardOut(colander.MappingSchema):
    """The customer's dashboard; plugins add sections (``payment_methods``...)."""

    active_bookings = listing(BookingOut())
    recent_bookings = listing(BookingOut())
    addresses = listing(SavedAddressOut())
    payment_methods = listing(free())
    counts = colander.SchemaNode(
        colander.Mapping(unknown="preserve"),
        whole(name="total"),
        description="Bookings per status, and in total.",
    )


class ContactOut(colander.MappingSchema):
    id = text()
    email = text()
    first_name = text()
    last_name = text()
    phone = text()


class HistoryEntry(colander.MappingSchema):
    at = moment()
    status = text()
    message = text()
    note = text()
    actor_kind = text()
    actor_id = text(null=True)


class StaffBookingOut(BookingOut):
    """A booking as staff see it: its version (send it back to PATCH), contact, history, and
    the sections plugins fill in."""

    version = whole()
    updated_at = moment()
    cancel_reason = text()
    customer = nullable(ContactOut())
    history = listing(HistoryEntry())
    payments = listing(free())
    delivery = free(null=True)
    documents = listing(free())
    notifications = listing(free())


class StaffCustomerRow(CustomerOut):
    """A customer in the staff's list."""

    is_active = flag()
    last_booking_at = moment(null=True)


class StaffCustomerOut(StaffCustomerRow):
    """A customer with addresses, the latest bookings and the plugins' facts."""

    addresses = listing(SavedAddressOut())
    bookings = listing(BookingOut())
    more_bookings = flag()
    summary = free()


#: The answer to :attr:`BookingBody.example`, for the API document.
NEW_BOOKING_EXAMPLE = {
    "id": "c5a57b69-bebf-4978-8d22-ecc28f4cf3f4",
    "number": "TT-000042",
    "status": "pending_payment",
    "service_type": "mini_move",
    "package": "petite",
    "item_count": None,
    "specialty_items": [],
    "pickup_date": "2026-12-03",
    "time_window": "morning",
    "pickup_address": _PICKUP,
    "delivery_address": _DELIVERY,
    "customer_id": None,
    "guest": _GUEST,
    "total_cents": 99500,
    "subtotal_cents": 99500,
    "currency": "USD",
    "high_value": False,
    "quote": {"total_cents": 99500, "catalog_version": 1},
    "notes": "",
    "created_at": "2026-11-23T15:00:00+00:00",
    "cancelled_at": None,
    "tracking_token": "JmsoqHINDPLFMe1eqi97RsYNzA1Qu03rmDqJ-ILY-FI",
}
