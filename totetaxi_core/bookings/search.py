"""Staff searches over bookings and customers, shared by the staff API and the console.

Filters come from a query string and are checked here, so both front doors refuse the same
input with the same sentence (``InvalidDraft`` naming the parameter).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from ..business_time import local_midnight
from ..db.searchable import AnyOf, contains_every, indexable
from ..errors import InvalidDraft
from ..identity.models import CUSTOMER_CONTACT, Customer
from .models import GUEST_CONTACT, Booking, BookingStatus

NUMBER = re.compile(r"^(?:TT-?)?(\d{1,9})$", re.IGNORECASE)
MAX_TERMS = 5


@dataclass(frozen=True)
class BookingFilters:
    """What the staff bookings list was asked for (all optional)."""

    statuses: tuple[BookingStatus, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""
    customer_id: uuid.UUID | None = None
    #: Created on these New York days (both included): the dashboard's figures link here.
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    #: Cancelled on these New York days (both included), whenever created.
    cancelled_from: dt.date | None = None
    cancelled_to: dt.date | None = None
    service_type: str = ""

    def query(self) -> dict[str, str]:
        """The filters as query-string values (for "next page" links)."""
        values = {
            "status": ",".join(self.statuses),
            "q": self.q,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "customer_id": str(self.customer_id) if self.customer_id else "",
            "created_from": self.created_from.isoformat() if self.created_from else "",
            "created_to": self.created_to.isoformat() if self.created_to else "",
            "cancelled_from": self.cancelled_from.isoformat() if self.cancelled_from else "",
            "cancelled_to": self.cancelled_to.isoformat() if self.cancelled_to else "",
            "service_type": self.service_type,
        }
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class CustomerFilters:
    """What the staff customers list was asked for (all optional)."""

    q: str = ""
    #: Registered on these New York days (both included): the dashboard's figure links here.
    created_from: dt.date | None = None
    created_to: dt.date | None = None

    def query(self) -> dict[str, str]:
        """The filters as query-string values (for "next page" links)."""
        values = {
            "q": self.q,
            "created_from": self.created_from.isoformat() if self.created_from else "",
            "created_to": self.created_to.isoformat() if self.created_to else "",
        }
        return {k: v for k, v in values.items() if v}


SERVICE_TYPE = re.compile(r"^[a-z0-9_]{1,30}$")


def _date(params: Mapping[str, str], name: str) -> dt.date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidDraft(name, f"{name} must be a date as YYYY-MM-DD.", "querystring") from None


def _uuid(params: Mapping[str, str], name: str) -> uuid.UUID | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidDraft(name, f"{name} must be an id.", "querystring") from None


def _days(params: Mapping[str, str], prefix: str) -> tuple[dt.date | None, dt.date | None]:
    """``{prefix}_from`` and ``{prefix}_to``, New York days, the second not before the first."""
    first, last = _date(params, f"{prefix}_from"), _date(params, f"{prefix}_to")
    if first and last and first > last:
        raise InvalidDraft(
            f"{prefix}_to", f"{prefix}_to must not be before {prefix}_from.", "querystring"
        )
    return first, last


def _in_days(column: Any, first: dt.date | None, last: dt.date | None) -> list[Any]:
    """Conditions: ``column`` (a UTC timestamp) falls on New York days ``first`` to ``last``."""
    conditions = []
    if first:
        conditions.append(column >= local_midnight(first))
    if last:
        conditions.append(column < local_midnight(last + dt.timedelta(days=1)))
    return conditions


def _q(params: Mapping[str, str]) -> str:
    q = " ".join((params.get("q") or "").split())
    if len(q) > 200:
        raise InvalidDraft("q", "q is at most 200 characters.", "querystring")
    return q


def booking_filters(params: Mapping[str, str]) -> BookingFilters:
    """Read ``status`` (comma-separated), ``date_from``, ``date_to`` (pickup days), ``q``,
    ``customer_id``, ``created_from`` and ``created_to`` (New York days of creation),
    ``cancelled_from`` and ``cancelled_to`` (of cancellation) and ``service_type``."""
    statuses: list[BookingStatus] = []
    # ?status=a,b and ?status=a&status=b both mean "a or b".
    given = params.getall("status") if hasattr(params, "getall") else [params.get("status")]
    for raw in ",".join(v or "" for v in given).split(","):
        raw = raw.strip()
        if not raw:
            continue
        if raw not in BookingStatus.__members__.values():
            raise InvalidDraft(
                "status",
                "status must be one or more (comma-separated) of "
                + ", ".join(s.value for s in BookingStatus)
                + ".",
                "querystring",
            )
        statuses.append(BookingStatus(raw))
    service_type = (params.get("service_type") or "").strip()
    if service_type and not SERVICE_TYPE.match(service_type):
        raise InvalidDraft(
            "service_type",
            "service_type must be a service's code such as mini_move.",
            "querystring",
        )
    filters = BookingFilters(
        tuple(statuses),
        *_days(params, "date"),
        _q(params),
        _uuid(params, "customer_id"),
        *_days(params, "created"),
        *_days(params, "cancelled"),
        service_type,
    )
    return filters


def _by_contact(statement: Select[Any], words: list[str]) -> Select[Any]:
    """Bookings where every word appears in the contact: the guest's name, email or phone, or
    its customer's (a customer's booking keeps no guest contact, a guest's has no customer)."""
    guest = contains_every(GUEST_CONTACT, words)
    if indexable(words):
        # The matching customers first (a trigram index), then their bookings through an
        # index on customer_id beside the guests' trigram index: PostgreSQL ORs the two.
        customers = select(Customer.id).where(contains_every(CUSTOMER_CONTACT, words))
        return statement.where(or_(guest, AnyOf(Booking.customer_id, customers)))
    # Words too short for a trigram match most contacts: walking the newest bookings with
    # each one's customer finds a page sooner than listing every such customer first.
    return statement.outerjoin(Customer, Customer.id == Booking.customer_id).where(
        or_(guest, contains_every(CUSTOMER_CONTACT, words))
    )


def bookings(filters: BookingFilters) -> Select[Any]:
    """Bookings matching ``filters`` (unordered: the caller pages them newest first).

    ``q`` is a booking number (``TT-000123``, ``tt123`` or ``123``) or words that must each
    appear in the guest's or the customer's name, email or phone.
    """
    statement = select(Booking)
    if filters.statuses:
        statement = statement.where(Booking.status.in_(filters.statuses))
    if filters.date_from:
        statement = statement.where(Booking.pickup_date >= filters.date_from)
    if filters.date_to:
        statement = statement.where(Booking.pickup_date <= filters.date_to)
    if filters.customer_id:
        statement = statement.where(Booking.customer_id == filters.customer_id)
    if filters.service_type:
        statement = statement.where(Booking.service_type == filters.service_type)
    for condition in (
        *_in_days(Booking.created_at, filters.created_from, filters.created_to),
        *_in_days(Booking.cancelled_at, filters.cancelled_from, filters.cancelled_to),
    ):
        statement = statement.where(condition)
    number = NUMBER.match(filters.q) if filters.q else None
    if number:
        return statement.where(Booking.seq == int(number.group(1)))
    if filters.q:
        statement = _by_contact(statement, filters.q.split()[:MAX_TERMS])
    if statement.whereclause is None:
        return statement
    # A filtered list loads the page's addresses in queries of their own: joined, PostgreSQL
    # would join every match (a customer's thousand bookings) before sorting for the page.
    return statement.options(
        selectinload(Booking.pickup_address), selectinload(Booking.delivery_address)
    )


def customer_filters(params: Mapping[str, str]) -> CustomerFilters:
    """Read ``q``, ``created_from`` and ``created_to`` (New York days of registration)."""
    return CustomerFilters(_q(params), *_days(params, "created"))


def customers(filters: CustomerFilters) -> Select[Any]:
    """Customers whose name, email or phone contain every word of ``q``, registered on the
    days asked for."""
    statement = select(Customer)
    if filters.q:
        words = filters.q.split()[:MAX_TERMS]
        statement = statement.where(contains_every(CUSTOMER_CONTACT, words))
    for condition in _in_days(Customer.created_at, filters.created_from, filters.created_to):
        statement = statement.where(condition)
    return statement
