"""Booking by phone on the console: the customer-care form behind "Book by phone" on a customer's
page.

The form's text becomes the API's body (``POST /staff/customers/{id}/bookings``) and is checked by
the same schema, then booked by the same :func:`~.api.book_for` — priced at the server's rules,
capacity reserved, the customer emailed the link to pay, audited. A refusal comes back as the
form with what was typed and the sentence at the field (400, or 409 for a full day); nothing is
saved. Addresses are a saved one of the customer's or typed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import colander
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select
from totetaxi_core.plugin_api import (
    ADDRESS_FIELDS,
    ADDRESS_LABELS,
    BookingBody,
    BookingRefused,
    CapacityExhausted,
    Customer,
    InvalidDraft,
    Refused,
    SavedAddress,
    colander_errors,
    control_characters,
    get_or_404,
    local_today,
    service_labels,
    strict,
)

from .api import book_for
from .permissions import CARE

FORM = "totetaxi_crm:templates/book_by_phone.jinja2"
ENDS = ("pickup", "delivery")
ADDRESS_PARTS = ADDRESS_FIELDS
TEXT_FIELDS = (
    "service_type",
    "package",
    "item_count",
    "date",
    "time_window",
    "notes",
    *(f"{end}_saved" for end in ENDS),
    *(f"{end}_{part}" for end in ENDS for part in ADDRESS_PARTS),
)
FLAGS = ("same_day", "coi_handling")
LABELS = {
    "service_type": "Service",
    "package": "Package",
    "item_count": "Items",
    "date": "Pickup date",
    "time_window": "Time window",
    "same_day": "Same-day",
    "coi_handling": "COI handling",
    "notes": "Notes",
    "pickup_saved": "Pickup address",
    "delivery_saved": "Delivery address",
    **{f"{end}_{part}": label for end in ENDS for part, label in ADDRESS_LABELS.items()},
}
#: The schema's paths (and the booking rules' field names) -> the form's fields.
PATHS = {
    "service_type": "service_type",
    "package": "package",
    "item_count": "item_count",
    "date": "date",
    "time_window": "time_window",
    "same_day": "same_day",
    "coi_handling": "coi_handling",
    "notes": "notes",
    "specialty_items": "",
    "customer": "",
    **{f"{end}_address_id": f"{end}_saved" for end in ENDS},
    **{f"{end}_address": f"{end}_line1" for end in ENDS},
    **{f"{end}_address.{part}": f"{end}_{part}" for end in ENDS for part in ADDRESS_PARTS},
}
_SCHEMA = strict(BookingBody)


def saved_addresses(request: Request, customer: Customer) -> list[SavedAddress]:
    return list(
        request.dbsession.scalars(
            select(SavedAddress)
            .where(SavedAddress.customer_id == customer.id, SavedAddress.deleted_at.is_(None))
            .order_by(SavedAddress.label)
        )
    )


def read_form(submitted: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """``(the API's body, errors by form field)`` from the form's text."""
    errors: dict[str, str] = {}
    for name in TEXT_FIELDS:
        if control_characters(submitted[name], multiline=name == "notes"):
            errors[name] = f"{LABELS[name]}: control characters are not allowed."
    body: dict[str, Any] = {
        "service_type": submitted["service_type"],
        "date": submitted["date"].strip(),
        "time_window": submitted["time_window"],
        "notes": submitted["notes"].replace("\r\n", "\n"),
        "same_day": submitted["same_day"] == "1",
        "coi_handling": submitted["coi_handling"] == "1",
    }
    if submitted["package"].strip():
        body["package"] = submitted["package"]
    raw = submitted["item_count"].strip()
    if raw:
        if raw.isascii() and raw.isdigit() and len(raw) < 10:
            body["item_count"] = int(raw)
        else:
            errors["item_count"] = "Items: enter a whole number from 1 to 500, or leave it empty."
    if not body["date"]:
        errors["date"] = "Pickup date: enter a date as YYYY-MM-DD."
    for end in ENDS:
        saved = submitted[f"{end}_saved"].strip()
        if saved:
            body[f"{end}_address_id"] = saved
        else:
            body[f"{end}_address"] = {part: submitted[f"{end}_{part}"] for part in ADDRESS_PARTS}
    try:
        body = _SCHEMA.deserialize(body)
    except colander.Invalid as exc:
        for field, message in colander_errors(exc, PATHS, LABELS).items():
            errors.setdefault(field, message)
    return body, errors


def _page(
    request: Request,
    customer: Customer,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    status: int = 200,
) -> Response:
    labels = service_labels(request.ctx)
    return render_to_response(
        FORM,
        {
            "customer": customer,
            "services": sorted(labels.items(), key=lambda pair: pair[1]),
            "saved": [
                (str(a.id), f"{a.label}: {a.line1}, {a.city}")
                for a in saved_addresses(request, customer)
            ],
            "values": {"book": dict(values)},
            "errors": {"book": dict(errors)},
            "refused": bool(errors),
            "ends": ENDS,
        },
        request=request,
        response=Response(status=status),
    )


def _field(name: str) -> str:
    return PATHS.get(name, PATHS.get(name.split(".")[0], ""))


@view_config(route_name="crm_customer_book", request_method="GET", permission=CARE)
def book_form(request: Request) -> Response:
    customer = get_or_404(request.dbsession, Customer, request.matchdict["id"])
    defaults = {name: "" for name in (*TEXT_FIELDS, *FLAGS)}
    defaults.update(
        service_type="mini_move",
        time_window="morning",
        date=local_today(request.ctx.now()).isoformat(),
    )
    return _page(request, customer, defaults, {})


@view_config(route_name="crm_customer_book", request_method="POST", permission=CARE)
def book(request: Request) -> Response:
    customer = get_or_404(request.dbsession, Customer, request.matchdict["id"])
    submitted = {name: str(request.POST.get(name, "")) for name in (*TEXT_FIELDS, *FLAGS)}
    body, errors = read_form(submitted)
    if errors:
        return _page(request, customer, submitted, errors, 400)
    try:
        booking = book_for(request, customer, body)
    except BookingRefused as exc:
        refused: dict[str, str] = {}
        for problem in exc.problems:
            field = _field(problem["name"])
            message = problem["description"]
            refused[field] = f"{refused[field]} {message}" if field in refused else message
        return _page(request, customer, submitted, refused, exc.status)
    except CapacityExhausted as exc:
        return _page(request, customer, submitted, {_field(exc.field): exc.description}, 409)
    except (InvalidDraft, Refused) as exc:
        status = getattr(exc, "status", 400)
        return _page(request, customer, submitted, {_field(exc.field): exc.description}, status)
    return HTTPSeeOther(location=request.route_url("console_booking", id=booking.id))


def includeme(config: Configurator) -> None:
    config.add_route("crm_customer_book", "/console/crm/customers/{id}/book")
    config.scan(__name__)
