"""Cornice services of the pricing plugin (public): catalog, quotes, availability."""

from __future__ import annotations

from typing import Any

from cornice import Service
from cornice.validators import colander_body_validator, colander_validator
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.security import NO_PERMISSION_REQUIRED

from totetaxi_core.plugin_api import API_PREFIX, answers, cancellation_terms

from . import services
from .schemas import (
    QUOTE_EXAMPLE,
    AvailabilityOut,
    AvailabilityRequest,
    CatalogOut,
    QuoteOut,
    strict_quote_body,
)

catalog_service = Service(
    name="pricing_services",
    path=API_PREFIX + "/services",
    description="The service catalog and its prices",
)
quotes = Service(
    name="pricing_quotes", path=API_PREFIX + "/quotes", description="Price a booking draft"
)
availability = Service(
    name="pricing_availability",
    path=API_PREFIX + "/availability",
    description="Capacity and surcharges per date",
)


@catalog_service.get(
    permission=NO_PERMISSION_REQUIRED,
    response_schemas=answers(200, CatalogOut(), "The catalog."),
)
def get_catalog(request: Request) -> dict[str, Any]:
    """Mini Move packages, standard delivery rates, specialty items and the minimum charge of
    every booking, in cents."""
    current = services.catalog(request.ctx)
    policy = current.policy
    return {
        "minimum_charge_cents": policy["booking_minimum_cents"],
        "mini_move_packages": [
            {"code": p.code, "name": p.name, "price_cents": p.price_cents, "max_items": p.max_items}
            for p in current.packages
        ],
        "standard_delivery": {
            "per_item_cents": policy["per_item_cents"],
            "minimum_cents": policy["minimum_cents"],
            "same_day_flat_cents": policy["same_day_flat_cents"],
            "same_day_included_items": policy["same_day_included_items"],
        },
        "specialty_items": [
            {"code": s.code, "name": s.name, "price_cents": s.price_cents}
            for s in current.specialty.values()
        ],
    }


@quotes.post(
    schema=strict_quote_body(),
    validators=(colander_body_validator,),
    permission=NO_PERMISSION_REQUIRED,
    response_schemas=answers(200, QuoteOut(), "The price breakdown.", example=QUOTE_EXAMPLE),
)
def post_quote(request: Request) -> dict[str, Any]:
    """The price breakdown of a draft: lines, the surcharge that applies, fees, total, and the
    cancellation policy that would apply to a booking of it."""
    draft = dict(request.validated)
    answer = services.quote(request.ctx, draft)
    return {**answer, "cancellation_policy": cancellation_terms(request.ctx, draft.get("date"))}


@availability.get(
    schema=AvailabilityRequest(),
    validators=(colander_validator,),
    permission=NO_PERMISSION_REQUIRED,
    response_schemas=answers(200, AvailabilityOut(), "Each date's availability."),
)
def get_availability(request: Request) -> dict[str, Any]:
    """Each date's availability (at most 93 days)."""
    query = request.validated["querystring"]
    return {
        "days": services.availability(
            request.ctx, query["start"], query["end"], query["service_type"]
        )
    }


def includeme(config: Configurator) -> None:
    config.scan(__name__)
