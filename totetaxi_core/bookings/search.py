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
        }
        return {k: v for k, v in values.items() if v}


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


def _q(params: Mapping[str, str]) -> str:
    q = " ".join((params.get("q") or "").split())
    if len(q) > 200:
        raise InvalidDraft("q", "q is at most 200 characters.", "querystring")
    return q


def booking_filters(params: Mapping[str, str]) -> BookingFilters:
    """Read ``status`` (comma-separated), ``date_from``, ``date_to`` (pickup days), ``q``,
    ``customer_id``, ``created_from`` and ``created_to`` (New York days of creation)."""
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
    filters = BookingFilters(
        tuple(statuses),
        _date(params, "date_from"),
        _date(params, "date_to"),
        _q(params),
        _uuid(params, "customer_id"),
        _date(params, "created_from"),
        _date(params, "created_to"),
    )
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise InvalidDraft("date_to", "date_to must not be before date_from.", "querystring")
    if filters.created_from and filters.created_to and filters.created_from > filters.created_to:
        raise InvalidDraft(
            "created_to", "created_to must not be before created_from.", "querystring"
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
    if filters.created_from:
        statement = statement.where(Booking.created_at >= local_midnight(filters.created_from))
    if filters.created_to:
        after = filters.created_to + dt.timedelta(days=1)
        statement = statement.where(Booking.created_at < local_midnight(after))
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


def customer_filters(params: Mapping[str, str]) -> str:
    """The customers list takes ``q`` only."""
    return _q(params)


def customers(q: str) -> Select[Any]:
    """Customers whose name, email or phone contain every word of ``q``."""
    statement = select(Customer)
    if q:
        statement = statement.where(contains_every(CUSTOMER_CONTACT, q.split()[:MAX_TERMS]))
    return statement
