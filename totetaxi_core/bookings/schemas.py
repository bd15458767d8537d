"""The booking body: the quote's draft fields plus addresses, contact and notes.

Addresses are
:class:`~totetaxi_core.addresses.AddressFields`: standardised, with the text as typed kept.
"""

from __future__ import annotations

import colander

from ..addresses import AddressFields
from ..api.schemas import (
    CleanString,
    IsoDate,
    OneOf,
    StrictBoolean,
    StrictInteger,
    refuse_unknown,
)

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


class BookingBody(colander.MappingSchema):
    """``POST /bookings``: the draft is priced by the server; no client total is accepted."""

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
