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
        "time_window": WINDOWS.get(row.time_window, row.time_window),
        "pickup_address": _address(row.pickup_address),
        "delivery_address": _address(row.delivery_address),
        "total": format_money(row.total_cents, row.currency),
        "total_cents": row.total_cents,
        "url": booking_url(ctx, row, tracking_token),
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
        "delivery": {"status": "picked_up", "driver_name": "Sam", "eta": "2:30 PM"},
        "document": {
            "filename": "coi.pdf",
            "expires_on": "December 31, 2026",
            "note": "The certificate names the wrong building.",
        },
        "reset_url": company(ctx)["url"] + "/reset-password/sample-token",
        "reset_minutes": 60,
    }
