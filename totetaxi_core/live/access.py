"""Who a live connection is, and which streams it may read: authenticated like the API.

The handshake (a WebSocket upgrade or the Server-Sent Events request) is turned into a Pyramid
request of the app and read by the app's own security policy, so a live connection is signed
in exactly when an API call with the same headers would be:

* a **bearer token** (``Authorization: Bearer``, or ``?access_token=`` where a browser cannot
  set headers: ``WebSocket`` and ``EventSource`` cannot);
* the **session cookie**, only from this site, ``totetaxi.public_url`` or one of
  ``totetaxi.trusted_origins``: browsers send the cookie with a WebSocket opened by any page, so
  another site's ``Origin`` is refused (cross-site WebSocket hijacking);
* a **guest's tracking token** for one booking (``?booking=TT-000123&token=``).

What each may read: staff the console's stream (``subscribe=staff``) and any booking; a customer
their own bookings (``subscribe=me``) or one of them (``booking=``); a guest that booking only.
A booking another caller may not read is 404, as in the API.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyramid.registry import Registry
from pyramid.threadlocal import manager
from sqlalchemy import select

from ..bookings.models import Booking
from ..bookings.services import NUMBER_FORMAT, token_matches
from ..identity.security import Identity
from ..origins import is_trusted, trusted_origins
from .events import STAFF_STREAM, booking_stream, customer_stream
from .hub import Key, parse_id

SUBSCRIPTIONS = ("staff", "me")


class AccessRefused(Exception):
    """The handshake is refused: ``status`` and the API's error naming ``name``."""

    def __init__(self, status: int, name: str, description: str, location: str = "querystring"):
        super().__init__(description)
        self.status, self.name, self.description, self.location = (
            status,
            name,
            description,
            location,
        )

    def body(self) -> dict[str, Any]:
        """Cornice's error shape, as every API error."""
        return {
            "status": "error",
            "errors": [
                {"location": self.location, "name": self.name, "description": self.description}
            ],
        }


@dataclass(frozen=True)
class Access:
    """A connection let in: who (``principal``, counted against the per-principal bound), what
    it reads (``streams``) and from which event on (``last``, or ``None``)."""

    principal: str
    streams: frozenset[str]
    last: Key | None


def resolve(
    registry: Registry,
    request_factory: Any,
    environ: dict[str, Any],
    query: Mapping[str, str],
    last_event_id: str | None,
) -> Access:
    """Decide on a handshake (in a thread: it reads the database). Raises
    :class:`AccessRefused`."""
    last = _last_event(last_event_id)
    for name in ("booking", "token", "subscribe", "access_token"):
        value = query.get(name, "")
        if len(value) > 200 or "\x00" in value:
            raise AccessRefused(400, name, f"{name} is not a value this endpoint takes.")
    if query.get("access_token") and "HTTP_AUTHORIZATION" not in environ:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {query['access_token']}"
    request = request_factory(environ)
    request.registry = registry
    manager.push({"registry": registry, "request": request})
    tm = request.tm
    tm.begin()
    try:
        return _decide(request, query, last)
    finally:
        tm.abort()
        manager.pop()


def _last_event(value: str | None) -> Key | None:
    if not value:
        return None
    key = parse_id(value)
    if key is None:
        raise AccessRefused(
            400, "last_event_id", "last_event_id must be an event id such as 1764000000000-0."
        )
    return key


def _decide(request: Any, query: Mapping[str, str], last: Key | None) -> Access:
    identity: Identity | None = request.identity
    if identity is not None and identity.via == "session":
        origin = request.headers.get("Origin")
        settings = request.registry.settings
        if origin is not None and not is_trusted(
            origin, trusted_origins(settings, request.host_url)
        ):
            raise AccessRefused(
                403, "Origin", f"Pages from {origin} may not use this session.", "header"
            )
    if identity is None and request.headers.get("Authorization"):
        raise AccessRefused(401, "Authorization", "The token is unknown or expired.", "header")
    wanted = [w for w in query.get("subscribe", "").split(",") if w]
    for word in wanted:
        if word not in SUBSCRIPTIONS:
            raise AccessRefused(
                400, "subscribe", f"subscribe takes {' and '.join(SUBSCRIPTIONS)}, not {word!r}."
            )
    streams: set[str] = set()
    principal = ""
    if identity is not None:
        principal = identity.userid
    number = query.get("booking", "")
    if number:
        booking = _booking(request, number)
        readable = booking is not None and (
            (identity is not None and identity.is_staff)
            or (
                identity is not None and identity.is_customer and booking.customer_id == identity.id
            )
            or token_matches(booking, query.get("token"))
        )
        if not readable:
            raise AccessRefused(404, "booking", f"No booking {number} for these credentials.")
        assert booking is not None
        streams.add(booking_stream(booking.id))
        principal = principal or f"guest:{booking.id}"
    elif identity is None:
        raise AccessRefused(
            401,
            "Authorization",
            "Sign in, send a bearer token, or name a booking with its tracking token.",
            "header",
        )
    if not wanted and not number:
        wanted = ["staff"] if identity is not None and identity.is_staff else ["me"]
    for word in wanted:
        if word == "staff":
            if identity is None or not identity.is_staff:
                raise AccessRefused(403, "subscribe", "The console's stream is for staff.")
            streams.add(STAFF_STREAM)
        elif word == "me":
            if identity is None or not identity.is_customer:
                raise AccessRefused(403, "subscribe", "subscribe=me is a customer's own bookings.")
            streams.add(customer_stream(identity.id))
    return Access(principal, frozenset(streams), last)


def _booking(request: Any, value: str) -> Booking | None:
    query = select(Booking).where(Booking.deleted_at.is_(None))
    if NUMBER_FORMAT.fullmatch(value):
        query = query.where(Booking.number == value)
    else:
        try:
            query = query.where(Booking.id == uuid.UUID(value))
        except ValueError:
            return None
    return request.dbsession.scalars(query).first()
