"""Staff edits of a booking: re-priced, capacity moved, audited (DESIGN §9 "Staff change")."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from .. import audit
from ..addresses import ADDRESS_FIELDS
from ..context import Context
from ..errors import InvalidDraft
from ..identity.models import Customer
from ..live import booking_event, publish_live
from .lifecycle import record_event
from .models import Address, Booking, BookingStatus
from .services import BookingRefused, quote_and_check

EDITABLE_STATUSES = frozenset({BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED})
#: Fields whose change prices the booking again.
PRICED_FIELDS = (
    "service_type",
    "package",
    "item_count",
    "specialty_items",
    "date",
    "same_day",
    "coi_handling",
)
PLAIN_FIELDS = ("time_window", "notes")
GUEST_FIELDS = ("first_name", "last_name", "email", "phone")


class BookingChanged(Exception):
    """Someone else saved the booking since the editor loaded it (optimistic version)."""

    def __init__(self, current: int) -> None:
        self.current = current
        super().__init__(
            f"The booking was changed by someone else (now version {current}); reload it and "
            "apply your change again."
        )


class NotEditable(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(f"A {status} booking can no longer be edited.")


def draft_of(booking: Booking) -> dict[str, Any]:
    """The booking's priced fields in the shape ``totetaxi_quote`` takes."""
    return {
        "service_type": booking.service_type,
        "package": booking.package,
        "item_count": booking.item_count,
        "specialty_items": [dict(line) for line in booking.specialty_items or ()],
        "date": booking.pickup_date,
        "same_day": booking.same_day,
        "coi_handling": booking.coi_handling,
    }


def _address_json(address: Address) -> dict[str, str]:
    """An address's standard parts: what tells two addresses apart (never the text as typed)."""
    return {name: getattr(address, name) for name in ADDRESS_FIELDS}


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def update(
    ctx: Context, booking: Booking, changes: dict[str, Any], version: int | None = None
) -> dict[str, Any]:
    """Apply a staff edit; return ``{field: {"before", "after"}}`` of what really changed.

    Changing a priced field quotes the booking again through ``totetaxi_quote`` (rule problems
    are 422) and moves its capacity: the old reservation is given back and a new one taken in
    the same transaction, so a full day refuses the move (409) and nothing changes (the caller's
    transaction rolls back). One edit is one write of the booking (one version step).
    """
    with ctx.dbsession.no_autoflush:
        return _update(ctx, booking, changes, version)


def _update(
    ctx: Context, booking: Booking, changes: dict[str, Any], version: int | None
) -> dict[str, Any]:
    if version is not None and version != booking.version:
        raise BookingChanged(booking.version)
    if booking.status not in EDITABLE_STATUSES:
        raise NotEditable(str(booking.status))
    if booking.customer_id is not None and changes.get("guest"):
        raise InvalidDraft(
            "guest",
            "This booking belongs to a customer account; its contact is the customer's profile.",
        )
    old_draft = draft_of(booking)
    draft = dict(old_draft)
    for name in PRICED_FIELDS:
        if name in changes:
            value = changes[name]
            draft[name] = [dict(line) for line in value] if name == "specialty_items" else value
    if draft["service_type"] != old_draft["service_type"]:
        # A service of another kind drops what only the old one used, unless sent again.
        if draft["service_type"] != "mini_move" and "package" not in changes:
            draft["package"] = None
        if draft["service_type"] == "specialty" and "item_count" not in changes:
            draft["item_count"] = None
    diff: dict[str, Any] = {}
    before = {name: old_draft[name] for name in PRICED_FIELDS}
    if draft != old_draft:
        customer = ctx.dbsession.get(Customer, booking.customer_id) if booking.customer_id else None
        quote = quote_and_check(ctx, draft, customer=customer, capacity_checked_by_reserve=True)
        # Give back the old reservation (as it was), then take the new one: a full day refuses.
        ctx.call_hook(
            "totetaxi_release_capacity",
            booking=SimpleNamespace(
                pickup_date=booking.pickup_date,
                specialty_items=booking.specialty_items,
                service_type=booking.service_type,
            ),
        )
        booking.service_type, booking.package = draft["service_type"], draft["package"]
        booking.item_count, booking.specialty_items = draft["item_count"], draft["specialty_items"]
        booking.pickup_date, booking.same_day = draft["date"], bool(draft["same_day"])
        booking.coi_handling = bool(draft["coi_handling"])
        for name in PRICED_FIELDS:
            if draft[name] != before[name]:
                diff[name] = {"before": _jsonable(before[name]), "after": _jsonable(draft[name])}
        if quote["total_cents"] != booking.total_cents:
            diff["total_cents"] = {"before": booking.total_cents, "after": quote["total_cents"]}
        booking.quote = quote
        booking.subtotal_cents, booking.total_cents = quote["subtotal_cents"], quote["total_cents"]
        booking.high_value = bool(quote.get("high_value"))
        ctx.call_hook("totetaxi_reserve_capacity", booking=booking)
    for name in PLAIN_FIELDS:
        if name in changes and changes[name] != getattr(booking, name):
            diff[name] = {"before": getattr(booking, name), "after": changes[name]}
            setattr(booking, name, changes[name])
    for end in ("pickup", "delivery"):
        given = changes.get(f"{end}_address")
        current: Address = getattr(booking, f"{end}_address")
        # Compared in the standard form: the same address typed another way is no change.
        after = None if given is None else {name: given.get(name, "") for name in ADDRESS_FIELDS}
        if after is not None and after != _address_json(current):
            diff[f"{end}_address"] = {"before": _address_json(current), "after": after}
            # A new row: the old one may be shared history (audit, documents) and stays as is.
            setattr(booking, f"{end}_address", Address(**given))
    for name, value in (changes.get("guest") or {}).items():
        attribute = f"guest_{name}"
        value = value.lower() if name == "email" else value
        if value != getattr(booking, attribute):
            diff[f"guest.{name}"] = {"before": getattr(booking, attribute), "after": value}
            setattr(booking, attribute, value)
    if not diff:
        return diff
    ctx.dbsession.flush()  # bumps the optimistic version; a concurrent save fails here
    audit.record(
        ctx,
        "booking.updated",
        "booking",
        booking.id,
        before={k: v["before"] for k, v in diff.items()},
        after={k: v["after"] for k, v in diff.items()},
    )
    if "date" in diff or "time_window" in diff:
        record_event(
            ctx,
            booking,
            booking.status,
            f"Pickup moved to {booking.pickup_date:%A %B %-d}, {booking.time_window}.",
        )
    fields = sorted(diff)
    when = {"pickup_date": booking.pickup_date.isoformat(), "time_window": booking.time_window}
    publish_live(ctx, booking_event("booking.changed", booking, {"fields": fields, **when}))
    ctx.call_hook("totetaxi_booking_changed", booking=booking, changes=diff)
    return diff


__all__ = ["BookingChanged", "BookingRefused", "NotEditable", "draft_of", "update"]
