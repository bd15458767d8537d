"""The CRM's own reports, read from the core's bookings and customers.

Ranges are ``[start, end)`` in aware UTC at New York midnights; every query is streamed
(``yield_per``) in a stable order, so an export's memory stays flat however many rows it has.

* ``bookings`` — one row per booking *created* in the range, oldest first.
* ``revenue`` — one row per New York day (of creation) and service, in SQL ``GROUP BY``.
* ``customers`` — one row per customer who created a booking in the range, with lifetime
  figures (all their bookings, not only the range's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Date, case, cast, func, literal_column, select
from sqlalchemy.sql import ColumnElement
from totetaxi_core.plugin_api import BUSINESS_TZ, Booking, BookingStatus, Customer

from .cells import dollars

#: Rows fetched from the database at a time while streaming.
BATCH = 500
#: A repeat customer has this many bookings or more that were not cancelled.
REPEAT = 2
#: The statuses whose total counts as revenue: paid or under way (not waiting for payment, not
#: cancelled).
EARNING = (BookingStatus.CONFIRMED, BookingStatus.IN_PROGRESS, BookingStatus.COMPLETED)


def _stream(ctx: Any, statement: Any) -> Iterator[Any]:
    yield from ctx.dbsession.execute(statement.execution_options(yield_per=BATCH))


def new_york_day(column: Any, dialect: str, start: dt.datetime, end: dt.datetime) -> Any:
    """The New York calendar day of UTC timestamp ``column`` (SQL), for rows in
    ``[start, end)``.

    PostgreSQL converts with ``timezone('America/New_York', column)``. SQLite has no time zones:
    the range is cut at its daylight-saving changes (found here, at most a few a year) and each
    piece shifted by its own UTC offset with ``date(column, '-N hours')``.
    """
    if dialect == "postgresql":
        # A literal, not a bound parameter: GROUP BY must repeat the very expression.
        return cast(func.timezone(literal_column(f"'{BUSINESS_TZ.key}'"), column), Date)
    pieces: list[tuple[dt.datetime, int]] = []  # (piece's end, offset in minutes)
    moment = start
    offset = _offset_minutes(start)
    while moment < end:
        following = moment + dt.timedelta(hours=1)
        nxt = _offset_minutes(following)
        if nxt != offset:
            pieces.append((following, offset))
            offset = nxt
        moment = following
    pieces.append((end, offset))

    def shifted(minutes: int) -> ColumnElement[Any]:
        return func.date(column, literal_column(f"'{minutes:+d} minutes'"))

    if len(pieces) == 1:
        return shifted(pieces[0][1])
    whens = [(column < until, shifted(minutes)) for until, minutes in pieces[:-1]]
    return case(*whens, else_=shifted(pieces[-1][1]))


def _offset_minutes(moment: dt.datetime) -> int:
    offset = moment.astimezone(BUSINESS_TZ).utcoffset() or dt.timedelta(0)
    return int(offset.total_seconds() // 60)


# --- bookings ------------------------------------------------------------------------------

BOOKING_COLUMNS = (
    "number",
    "created_at",
    "pickup_date",
    "service",
    "status",
    "name",
    "email",
    "total",
    "total_cents",
    "high_value",
)


def booking_rows(ctx: Any, start: dt.datetime, end: dt.datetime) -> Iterator[tuple[Any, ...]]:
    statement = (
        select(
            Booking.number,
            Booking.created_at,
            Booking.pickup_date,
            Booking.service_type,
            Booking.status,
            Booking.customer_id,
            Customer.first_name,
            Customer.last_name,
            Customer.email,
            Booking.guest_first_name,
            Booking.guest_last_name,
            Booking.guest_email,
            Booking.total_cents,
            Booking.high_value,
        )
        .outerjoin(Customer, Customer.id == Booking.customer_id)
        .where(Booking.created_at >= start, Booking.created_at < end)
        .order_by(Booking.created_at, Booking.id)
    )
    for row in _stream(ctx, statement):
        if row.customer_id is not None:
            first, last, email = row.first_name, row.last_name, row.email
        else:
            first, last, email = row.guest_first_name, row.guest_last_name, row.guest_email
        yield (
            row.number,
            row.created_at,
            row.pickup_date,
            row.service_type,
            str(row.status),
            f"{first or ''} {last or ''}".strip(),
            email or "",
            dollars(row.total_cents),
            row.total_cents,
            bool(row.high_value),
        )


# --- revenue -------------------------------------------------------------------------------

REVENUE_COLUMNS = ("day", "service", "bookings", "revenue", "revenue_cents", "cancellations")


def revenue_rows(ctx: Any, start: dt.datetime, end: dt.datetime) -> Iterator[tuple[Any, ...]]:
    dialect = ctx.dbsession.get_bind().dialect.name
    day = new_york_day(Booking.created_at, dialect, start, end).label("day")
    earning = Booking.status.in_(EARNING)
    statement = (
        select(
            day,
            Booking.service_type,
            func.count(Booking.id),
            func.coalesce(func.sum(case((earning, Booking.total_cents), else_=0)), 0),
            func.coalesce(
                func.sum(case((Booking.status == BookingStatus.CANCELLED, 1), else_=0)), 0
            ),
        )
        .where(Booking.created_at >= start, Booking.created_at < end)
        .group_by(day, Booking.service_type)
        .order_by(day, Booking.service_type)
    )
    for day_value, service, count, cents, cancelled in _stream(ctx, statement):
        if isinstance(day_value, str):  # SQLite's date() answers text
            day_value = dt.date.fromisoformat(day_value)
        yield (day_value, service, int(count), dollars(int(cents)), int(cents), int(cancelled))


# --- customers -----------------------------------------------------------------------------

CUSTOMER_COLUMNS = (
    "email",
    "name",
    "registered_at",
    "bookings",
    "completed_bookings",
    "lifetime_value",
    "lifetime_value_cents",
    "first_booking_at",
    "last_booking_at",
    "repeat",
)


def _customer_figures(start: dt.datetime, end: dt.datetime) -> Any:
    """Per customer who created a booking in ``[start, end)``: their lifetime figures."""
    in_range = (Booking.created_at >= start) & (Booking.created_at < end)
    completed = Booking.status == BookingStatus.COMPLETED
    not_cancelled = Booking.status != BookingStatus.CANCELLED
    return (
        select(
            Booking.customer_id.label("customer_id"),
            func.count(Booking.id).label("bookings"),
            func.sum(case((not_cancelled, 1), else_=0)).label("kept"),
            func.sum(case((completed, 1), else_=0)).label("completed"),
            func.coalesce(func.sum(case((completed, Booking.total_cents), else_=0)), 0).label(
                "value"
            ),
            func.min(Booking.created_at).label("first_at"),
            func.max(Booking.created_at).label("last_at"),
        )
        .where(Booking.customer_id.is_not(None))
        .group_by(Booking.customer_id)
        .having(func.sum(case((in_range, 1), else_=0)) > 0)
        .subquery()
    )


def customer_rows(ctx: Any, start: dt.datetime, end: dt.datetime) -> Iterator[tuple[Any, ...]]:
    figures = _customer_figures(start, end)
    statement = (
        select(
            Customer.email,
            Customer.first_name,
            Customer.last_name,
            Customer.created_at,
            figures.c.bookings,
            figures.c.kept,
            figures.c.completed,
            figures.c.value,
            figures.c.first_at,
            figures.c.last_at,
        )
        .join(figures, figures.c.customer_id == Customer.id)
        .order_by(figures.c.first_at, Customer.id)
    )
    for row in _stream(ctx, statement):
        yield (
            row.email,
            f"{row.first_name} {row.last_name}".strip(),
            row.created_at,
            int(row.bookings),
            int(row.completed),
            dollars(int(row.value)),
            int(row.value),
            _aware(row.first_at),
            _aware(row.last_at),
            int(row.kept) >= REPEAT,
        )


def customer_summary(ctx: Any, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """The range's customers, the repeat ones among them and the repeat rate (a fraction,
    ``None`` without customers), in one aggregate."""
    figures = _customer_figures(start, end)
    customers, repeat, value = ctx.dbsession.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((figures.c.kept >= REPEAT, 1), else_=0)), 0),
            func.coalesce(func.sum(figures.c.value), 0),
        ).select_from(figures)
    ).one()
    customers, repeat = int(customers), int(repeat)
    return {
        "customers": customers,
        "repeat_customers": repeat,
        "repeat_rate": round(repeat / customers, 4) if customers else None,
        "lifetime_value_cents": int(value),
    }


def _aware(value: Any) -> Any:
    """An aggregate of a UTC column (SQLite hands back naive text or datetimes)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


REPORTS: list[dict[str, Any]] = [
    {
        "name": "bookings",
        "title": "Bookings",
        "columns": list(BOOKING_COLUMNS),
        "rows": booking_rows,
        "description": "Every booking created in the range (New York days), oldest first.",
    },
    {
        "name": "revenue",
        "title": "Revenue by day and service",
        "columns": list(REVENUE_COLUMNS),
        "rows": revenue_rows,
        "description": (
            "Bookings created per New York day and service; revenue is the total of the "
            "confirmed, in-progress and completed ones."
        ),
    },
    {
        "name": "customers",
        "title": "Customers and lifetime value",
        "columns": list(CUSTOMER_COLUMNS),
        "rows": customer_rows,
        "summary": customer_summary,
        "description": (
            "Customers who booked in the range, with lifetime figures: lifetime value is the "
            "total of their completed bookings; repeat is two or more bookings not cancelled."
        ),
    },
]
