"""The variables an email template sees: plain JSON values taken from the event's objects.

They are computed when the event happens and kept on the notification, so a resend or a retry
shows what was true then. Amounts are given both formatted (``total``) and in cents.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any

from sqlalchemy import select

from totetaxi_core.plugin_api import (
    Address,
    Booking,
    BookingStatus,
    Context,
    Customer,
    format_money,
    service_label,
)

WINDOWS = {"morning": "Morning (8 AM – 12 PM)", "afternoon": "Afternoon (12 PM – 5 PM)"}

#: Every template may use these.
COMMON_VARIABLES = {
    "company.name": "ToteTaxi",
    "company.support_email": "where customers write to (setting notifications.support_email)",
    "company.url": "the public site (setting totetaxi.public_url)",
    "recipient.first_name": "the recipient's first name (may be empty)",
    "recipient.email": "the address the email goes to",
}
BOOKING_VARIABLES = {
    "booking.number": "the booking number, e.g. TT-000123",
    "booking.status": "the booking's status (pending_payment, confirmed, ...)",
    "booking.service": (
        "the service as the catalog names it: Mini Move, Standard Delivery, Specialty items"
    ),
    "booking.pickup_date": "the pickup day, e.g. Friday, December 4, 2026",
    "booking.time_window": "the pickup window",
    "booking.pickup_address": "the pickup address on one line",
    "booking.delivery_address": "the delivery address on one line",
    "booking.total": "the booking total, e.g. $1,725.00",
    "booking.total_cents": "the booking total in cents",
    "booking.url": "where the customer sees the booking (a guest's link carries their token)",
}


def _address(address: Address | None) -> str:
    if address is None:
        return ""
    street = ", ".join(part for part in (address.line1, address.line2) if part)
    return f"{street}, {address.city}, {address.state} {address.postal_code}"


def _long_day(value: dt.date) -> str:
    return f"{value:%A}, {value:%B} {value.day}, {value.year}"


def _day(value: Any) -> str:
    """A pickup date as the emails write it; ``changes`` carry dates as ISO strings."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return value  # not a date after all: shown as it came rather than lost
    return _long_day(value) if isinstance(value, dt.date) else str(value or "")


def _window(value: Any) -> str:
    return WINDOWS.get(value, str(value or ""))


def company(ctx: Context) -> dict[str, str]:
    settings = ctx.settings
    return {
        "name": "ToteTaxi",
        "support_email": settings["notifications.support_email"],
        "url": settings["totetaxi.public_url"].rstrip("/"),
    }


def booking_url(ctx: Context, booking: Booking, tracking_token: str | None = None) -> str:
    """The customer's page of ``booking``; a guest's needs their token, else only the number."""
    base = ctx.settings["totetaxi.public_url"].rstrip("/")
    path = ctx.settings["notifications.booking_path"].replace(
        "{number}", urllib.parse.quote(booking.number)
    )
    if tracking_token:
        path += ("&" if "?" in path else "?") + urllib.parse.urlencode({"token": tracking_token})
    return base + path


def booking(ctx: Context, row: Booking, tracking_token: str | None = None) -> dict[str, Any]:
    return {
        "number": row.number,
        "status": str(row.status),
        "service": service_label(ctx, row.service_type),
        "pickup_date": _long_day(row.pickup_date),
        "time_window": _window(row.time_window),
        "pickup_address": _address(row.pickup_address),
        "delivery_address": _address(row.delivery_address),
        "total": format_money(row.total_cents, row.currency),
        "total_cents": row.total_cents,
        "url": booking_url(ctx, row, tracking_token),
    }


def cancellation(by: str, refund_percent: int | None, reason: str | None) -> dict[str, Any]:
    """The ``cancellation.*`` variables: who cancelled (``customer``, ``staff`` or ``system``),
    the refund percent the policy gave a customer's cancellation of a paid booking (``None``
    otherwise) and the customer's own reason.

    Only a customer's reason is theirs to read: a staff member's is an internal note (the
    ``totetaxi_booking_status_changed`` hook says so) and the system's is written for the
    history, so neither reaches the email, whatever the template does.
    """
    by_customer = by == "customer"
    return {
        "by": by,
        "refund_percent": refund_percent if by_customer else None,
        "reason": (reason or "").strip() if by_customer else "",
    }


def status_change(old_status: str, new_status: str) -> dict[str, str]:
    """The ``change.*`` variables of a status change."""
    return {"old_status": old_status, "new_status": new_status}


def reschedule(row: Booking, changes: dict[str, Any]) -> dict[str, Any]:
    """The ``reschedule.*`` variables of an edit that moved the pickup (``changes`` is
    ``totetaxi_booking_changed``'s diff: ``{field: {"before", "after"}}``).

    ``difference_cents`` is signed, as the customer sees it: more than 0 is left to pay, less
    than 0 is to be refunded; 0 when the total did not change. ``paid`` says whether the
    booking was confirmed (paid) when it moved: only then is a difference money that changes
    hands, rather than a new price to pay.
    """
    date = changes.get("date") or {}
    window = changes.get("time_window") or {}
    total = changes.get("total_cents") or {}
    new_cents = total.get("after", row.total_cents)
    old_cents = total.get("before", new_cents)
    difference = new_cents - old_cents
    return {
        "old_date": _day(date.get("before", row.pickup_date)),
        "new_date": _day(date.get("after", row.pickup_date)),
        "old_time_window": _window(window.get("before", row.time_window)),
        "new_time_window": _window(window.get("after", row.time_window)),
        "old_total": format_money(old_cents, row.currency),
        "new_total": format_money(new_cents, row.currency),
        "difference": format_money(abs(difference), row.currency),
        "difference_cents": difference,
        "paid": str(row.status) == str(BookingStatus.CONFIRMED),
    }


def recipient(ctx: Context, row: Booking) -> tuple[str, Any, str]:
    """``(email, customer_id, first name)`` for mail about ``row`` (BUSINESS_RULES):

    the customer's account email when the booking has a customer, else the guest email.
    """
    if row.customer_id is not None:
        customer = ctx.dbsession.get(Customer, row.customer_id)
        if customer is not None:
            return customer.email, customer.id, customer.first_name
    return row.guest_email, None, row.guest_first_name


def sample(ctx: Context) -> dict[str, Any]:
    """Variables for the template editor's preview: the latest booking, or a made-up one."""
    latest = ctx.dbsession.scalars(
        select(Booking)
        .where(Booking.status != BookingStatus.CANCELLED)
        .order_by(Booking.created_at.desc())
        .limit(1)
    ).first()
    if latest is not None:
        email, _, first_name = recipient(ctx, latest)
        the_booking = booking(ctx, latest, tracking_token="sample-token")  # noqa: S106
        total_cents = latest.total_cents
    else:
        email, first_name = "jane@example.com", "Jane"
        the_booking = {
            "number": "TT-000123",
            "status": "confirmed",
            "service": "Mini Move",
            "pickup_date": "Friday, December 4, 2026",
            "time_window": WINDOWS["morning"],
            "pickup_address": "12 W 4th St, Apt 5, New York, NY 10012",
            "delivery_address": "80 Main St, East Hampton, NY 11937",
            "total": format_money(172500),
            "total_cents": 172500,
            "url": company(ctx)["url"] + "/bookings/TT-000123",
        }
        total_cents = 172500
    return {
        "company": company(ctx),
        "recipient": {"first_name": first_name or "Jane", "email": email},
        "booking": the_booking,
        "payment": {
            "amount": format_money(total_cents),
            "amount_cents": total_cents,
            "failure_reason": "Your card was declined.",
            "attempts_left": 2,
        },
        "refund": {"amount": format_money(5000), "amount_cents": 5000},
        "delivery": {
            "status": "picked_up",
            "kind": "pickup",
            "driver_name": "Sam",
            "eta": "2:30 PM",
            "window": "Tuesday, December 8, 2026, 8:00 AM – 12:00 PM",
        },
        "document": {
            "filename": "coi.pdf",
            "expires_on": "December 31, 2026",
            "note": "The certificate names the wrong building.",
        },
        "reset_url": company(ctx)["url"] + "/reset-password/sample-token",
        "reset_minutes": 60,
        "cancellation": cancellation("customer", 100, "Our plans changed."),
        "change": status_change("pending_payment", "confirmed"),
        "reschedule": {
            "old_date": the_booking["pickup_date"],
            "new_date": "Tuesday, December 8, 2026",
            "old_time_window": the_booking["time_window"],
            "new_time_window": WINDOWS["afternoon"],
            "old_total": format_money(total_cents),
            "new_total": format_money(total_cents + 14925),
            "difference": format_money(14925),
            "difference_cents": 14925,
            "paid": True,
        },
        "message": {"body": "Our van is running about 30 minutes late.\nSorry for the wait!"},
    }
