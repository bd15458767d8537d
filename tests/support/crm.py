"""Helpers of the CRM tests: the platform with payments, logistics and CRM on a fixed clock,
bookings whose creation time is set by hand (reports are cut at New York midnights)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select, update
from webtest import TestApp

from totetaxi_core.plugin_api import BUSINESS_TZ, Booking
from totetaxi_core.testing import in_transaction
from totetaxi_core.testing.factories import GUEST, booking_body, create_booking

PLUGINS = "pricing payments_mock notifications mail_console logistics logistics_mock crm"
#: Monday 2026-11-23, 10:00 in New York; bookings are for Thursday.
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=BUSINESS_TZ).astimezone(dt.UTC)
DAY = dt.date(2026, 11, 26)
REPORTS = "/api/v1/staff/reports"


def run(app: TestApp, work: Callable[[Any], Any]) -> Any:
    """``work(ctx)`` in a committed transaction of its own."""
    return in_transaction(app.app.registry, work)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def set_booking(app: TestApp, booking_id: str, **values: Any) -> None:
    """Change a booking's columns directly (creation time, status) for a report's fixture."""
    run(
        app,
        lambda ctx: ctx.dbsession.execute(
            update(Booking)
            .where(Booking.id == uuid.UUID(booking_id))
            .values(**values)
            .execution_options(synchronize_session=False)
        ),
    )


def booking_at(
    app: TestApp,
    created_at: dt.datetime,
    headers: dict[str, str] | None = None,
    guest: dict[str, str] | None = None,
    day: dt.date = DAY,
    **extra: Any,
) -> dict[str, Any]:
    """A booking on ``day`` through the API (a guest's, with ``guest`` replacing fields of
    the kit's guest, or the customer's of ``headers``), then dated ``created_at``. A day takes
    a few bookings only (its capacity): spread larger fixtures over days."""
    body = booking_body(day, guest=headers is None, **extra)
    if headers is None:
        body["guest"] = {**GUEST, **(guest or {})}
    booking = create_booking(app, body, headers)
    set_booking(app, booking["id"], created_at=created_at)
    return booking


def pay(app: TestApp, booking: dict[str, Any], card: str = "4242 4242 4242 4242") -> None:
    """Pay a guest booking with the mock gateway's test card, as the booking site does."""
    token = f"?token={booking['tracking_token']}"
    payment = app.post_json(f"/api/v1/bookings/{booking['id']}/payments{token}", {}).json
    app.post_json(
        f"/api/v1/payments/mock/confirm{token}",
        {"payment_id": payment["payment_id"], "card_number": card},
    )


def copy_bookings(app: TestApp, booking_id: str, count: int, created_at: dt.datetime) -> None:
    """``count`` copies of a booking (new numbers), all created at ``created_at``: a large
    fixture without ``count`` requests."""

    def work(ctx: Any) -> None:
        source = ctx.dbsession.scalar(select(Booking).where(Booking.id == uuid.UUID(booking_id)))
        after = ctx.dbsession.scalar(select(func.max(Booking.seq))) + 1
        skip = {"id", "seq", "number", "created_at", "updated_at", "version"}
        values = {
            column.key: getattr(source, column.key)
            for column in Booking.__mapper__.column_attrs
            if column.key not in skip
        }
        for index in range(count):
            ctx.dbsession.add(
                Booking(
                    **values,
                    seq=after + index,
                    number=f"TT-COPY-{after + index:06d}",
                    created_at=created_at,
                )
            )

    run(app, work)


def csv_rows(response: Any) -> list[list[str]]:
    """The rows of a CSV answer, header first."""
    return list(csv.reader(io.StringIO(response.body.decode("utf-8"))))
