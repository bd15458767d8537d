"""Console pages of customers: the searchable list and a customer with their booking history.

Read-only for every staff role (``Permission.STAFF_READ``); a customer's bookings are changed on
the booking pages. The counters (bookings, completed, spent) are the profile's denormalised ones,
so the list costs one query a page.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.view import view_config
from sqlalchemy import func, select

from ..api.pagination import keyset_page
from ..audit.views import timeline
from ..bookings import search
from ..bookings.models import Booking
from ..errors import InvalidDraft
from ..identity.models import Customer, SavedAddress
from ..identity.permissions import Permission
from .bookings import STATUS_LABELS, gather_panels, load, row_of

TEMPLATES = "totetaxi_core:console/templates/"
LIST = TEMPLATES + "customers.jinja2"
DETAIL = TEMPLATES + "customer.jinja2"
#: Bookings on the customer page; the full history is the bookings list filtered to them.
HISTORY_LIMIT = 20


def customer_row(customer: Customer) -> dict[str, Any]:
    profile = customer.profile
    return {
        "id": str(customer.id),
        "name": customer.display_name,
        "email": customer.email,
        "phone": customer.phone,
        "active": customer.is_active,
        "bookings": profile.total_bookings if profile else 0,
        "completed": profile.completed_bookings if profile else 0,
        "spent_cents": profile.total_spent_cents if profile else 0,
        "last_booking_at": profile.last_booking_at if profile else None,
        "created_at": customer.created_at,
        "last_login_at": customer.last_login_at,
    }


@view_config(
    route_name="console_customers",
    request_method="GET",
    renderer=LIST,
    permission=Permission.STAFF_READ,
)
def customers_list(request: Request) -> dict[str, Any]:
    """Customers newest first; ``q`` matches every word in the name, email or phone;
    ``created_from``/``created_to`` keep those registered on these New York days."""
    q = request.GET.get("q", "")
    answer: dict[str, Any] = {
        "q": q,
        "created_from": request.GET.get("created_from", ""),
        "created_to": request.GET.get("created_to", ""),
        "errors": {},
        "rows": None,
        "next_url": None,
        "first_url": None,
        "paged": bool(request.GET.get("cursor")),
    }
    try:
        filters = search.customer_filters(request.GET)
        page = keyset_page(
            request, request.dbsession, search.customers(filters), Customer, customer_row
        )
    except InvalidDraft as exc:
        request.response.status_int = 400
        answer["errors"] = {exc.field: exc.description}
        return answer
    query = filters.query()
    if "limit" in request.GET:
        query["limit"] = request.GET["limit"]
    answer["rows"] = page["items"]
    if page["next_cursor"]:
        answer["next_url"] = request.route_url(
            "console_customers", _query={**query, "cursor": page["next_cursor"]}
        )
    if answer["paged"]:
        answer["first_url"] = request.route_url("console_customers", _query=query)
    return answer


@view_config(
    route_name="console_customer",
    request_method="GET",
    renderer=DETAIL,
    permission=Permission.STAFF_READ,
)
def customer_detail(request: Request) -> dict[str, Any]:
    """The profile and counters, saved addresses, the plugins' facts
    (``totetaxi_customer_summary``) and the latest bookings, newest first."""
    customer = load(request, Customer)
    db = request.dbsession
    addresses = list(
        db.scalars(
            select(SavedAddress)
            .where(SavedAddress.customer_id == customer.id)
            .order_by(SavedAddress.created_at.desc())
        )
    )
    bookings = list(
        db.scalars(
            select(Booking)
            .where(Booking.customer_id == customer.id)
            .order_by(Booking.created_at.desc(), Booking.id.desc())
            .limit(HISTORY_LIMIT + 1)
        )
    )
    by_status = dict(
        db.execute(
            select(Booking.status, func.count())
            .where(Booking.customer_id == customer.id)
            .group_by(Booking.status)
        ).all()
    )
    summary: dict[str, Any] = {}
    for facts in (
        request.hooks.call("totetaxi_customer_summary", request=request, customer=customer) or ()
    ):
        summary.update(facts or {})
    return {
        "customer": customer_row(customer),
        "preferences": dict(customer.profile.preferences or {}) if customer.profile else {},
        "by_status": [
            (label, by_status.get(status, 0))
            for status, label in STATUS_LABELS.items()
            if by_status.get(status)
        ],
        "addresses": addresses,
        "summary": summary,
        "bookings": [row_of(b, {customer.id: customer}) for b in bookings[:HISTORY_LIMIT]],
        "more": len(bookings) > HISTORY_LIMIT,
        "statuses": STATUS_LABELS,
        "timeline": timeline(request, customer=customer),
        "all_url": request.route_url("console_bookings", _query={"customer_id": str(customer.id)}),
        "panels": gather_panels(request, "totetaxi_customer_panels", customer=customer),
    }
