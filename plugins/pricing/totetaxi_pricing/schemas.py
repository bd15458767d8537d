"""Colander schemas of the pricing API (strict types; unknown keys refused)."""

from __future__ import annotations

import colander

from totetaxi_core.plugin_api import (
    CleanString,
    IsoDate,
    OneOf,
    StrictBoolean,
    StrictInteger,
    StrictMapping,
    day,
    flag,
    listing,
    text,
    whole,
)

from .quoting import SERVICE_TYPES

MAX_ITEMS = 500
MAX_SPECIALTY_QTY = 20


class SpecialtyLine(colander.MappingSchema):
    # Strict like the body: a typo such as "quantity" must not quietly price qty 1.
    @staticmethod
    def schema_type() -> colander.Mapping:
        return StrictMapping()

    code = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=30))
    qty = colander.SchemaNode(
        StrictInteger(), validator=colander.Range(1, MAX_SPECIALTY_QTY), missing=1
    )


class SpecialtyLines(colander.SequenceSchema):
    line = SpecialtyLine()


class QuoteBody(colander.MappingSchema):
    """The fields of ``POST /quotes`` (and of a booking draft)."""

    #: Shown in the API document (and its Swagger UI).
    example = {
        "service_type": "mini_move",
        "package": "petite",
        "date": "2026-12-03",
        "coi_handling": True,
    }

    service_type = colander.SchemaNode(CleanString(), validator=OneOf(SERVICE_TYPES))
    package = colander.SchemaNode(
        CleanString(), validator=colander.Length(min=1, max=30), missing=None
    )
    item_count = colander.SchemaNode(
        StrictInteger(),
        validator=colander.Range(
            1, MAX_ITEMS, min_err="must be at least 1", max_err=f"must be at most {MAX_ITEMS}"
        ),
        missing=None,
    )
    specialty_items = SpecialtyLines(validator=colander.Length(max=10), missing=())
    date = colander.SchemaNode(IsoDate())
    same_day = colander.SchemaNode(StrictBoolean(), missing=False)
    coi_handling = colander.SchemaNode(StrictBoolean(), missing=False)


class AvailabilityQuery(colander.MappingSchema):
    start = colander.SchemaNode(IsoDate())
    end = colander.SchemaNode(IsoDate())
    service_type = colander.SchemaNode(CleanString(), validator=OneOf(SERVICE_TYPES), missing=None)


class AvailabilityRequest(colander.MappingSchema):
    querystring = AvailabilityQuery()


#: The answer to :attr:`QuoteBody.example`, for the API document.
QUOTE_EXAMPLE = {
    "lines": [
        {
            "code": "mini_move.petite",
            "description": "Mini Move Petite (up to 15 items)",
            "amount_cents": 99500,
        }
    ],
    "surcharges": [],
    "fees": [
        {
            "code": "coi_handling",
            "description": "Certificate of insurance handling",
            "amount_cents": 5000,
        }
    ],
    "subtotal_cents": 99500,
    "total_cents": 104500,
    "currency": "USD",
    "high_value": False,
    "date": "2026-12-03",
    "catalog_version": 1,
    "cancellation_policy": {
        "tiers": [
            {"hours_before": 48, "refund_percent": 100, "until": "2026-12-01T00:00:00-05:00"}
        ],
        "summary": "100% back when cancelled 48 hours or more before pickup.",
    },
}


def strict_quote_body() -> QuoteBody:
    schema = QuoteBody()
    schema.typ = StrictMapping()
    return schema


# --- answers (response bodies for the OpenAPI document; open objects) --------------------------


class PackageOut(colander.MappingSchema):
    code = text()
    name = text()
    price_cents = whole()
    max_items = whole()


class StandardDeliveryOut(colander.MappingSchema):
    per_item_cents = whole()
    minimum_cents = whole()
    same_day_flat_cents = whole()
    same_day_included_items = whole()


class SpecialtyItemOut(colander.MappingSchema):
    code = text()
    name = text()
    price_cents = whole()


class CatalogOut(colander.MappingSchema):
    """The service catalog with its prices, in cents."""

    mini_move_packages = listing(PackageOut())
    standard_delivery = StandardDeliveryOut()
    specialty_items = listing(SpecialtyItemOut())


class QuoteLineOut(colander.MappingSchema):
    code = text()
    description = text()
    amount_cents = whole()


class QuoteOut(colander.MappingSchema):
    """A price breakdown: lines, the surcharge that applies, fees, totals."""

    lines = listing(QuoteLineOut())
    surcharges = listing(QuoteLineOut())
    fees = listing(QuoteLineOut())
    subtotal_cents = whole()
    total_cents = whole()
    currency = text()
    high_value = flag()
    date = day()
    catalog_version = whole()


class AvailabilityDayOut(colander.MappingSchema):
    date = day()
    available = flag()
    open = flag()
    remaining = whole()
    specialty_remaining = whole()
    surcharges = listing(text(), description="Codes of the surcharges that apply.")


class AvailabilityOut(colander.MappingSchema):
    """Each date's capacity and surcharges."""

    days = listing(AvailabilityDayOut())
