"""The operations dashboard's figures: SQL aggregates over the core's bookings and customers, and
what the other plugins publish through ``totetaxi_crm_figures``.

Periods are ranges of New York calendar days ``[first, last]``, cut at New York midnight
(:func:`local_midnight`, so a DST day is 23 or 25 hours long):

* ``day`` — today; ``week`` — Monday to Sunday of this week; ``month`` — this calendar month;
* ``from``/``to`` — any range of days (both included, at most :data:`MAX_DAYS`).

The previous period is the one just before: yesterday, last week, last calendar month, or the
same number of days before ``from``.

Definitions (every booking figure leaves soft-deleted bookings out, as the console's lists do):

* ``bookings``: bookings *created* in the period, ``count`` and ``by_status`` (their status now);
* ``revenue_cents``: the sum of ``total_cents`` of those bookings that are not cancelled now
  (pending payment included: what was booked, not what was collected — ``figures`` has the
  payments' view);
* ``by_service``: per ``service_type``, the count of bookings created and their revenue (same
  rule as ``revenue_cents``);
* ``cancellations``: bookings whose ``cancelled_at`` falls in the period (whenever created);
* ``new_registrations``: customer accounts created in the period;
* ``repeat_customer_rate``: among the customers with a non-cancelled booking created in the
  period, the fraction having two or more non-cancelled bookings created before the period's
  end (``None`` when nobody booked);
* ``upcoming_pickups``: the next 7 New York days from today, per pickup date, the active bookings
  (pending payment, confirmed, in progress);
* ``series``: per day of the period, bookings created and their revenue (the charts);
* ``figures``: the merge of every ``totetaxi_crm_figures`` answer; ``payment_success_rate`` and
  ``delivery_completion_rate`` are ``None`` unless payments and logistics publish them.

The number of statements is fixed: five here, plus what each figures plugin sends.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import aliased
from totetaxi_core.plugin_api import (
    Booking,
    BookingStatus,
    Customer,
    local_midnight,
    local_today,
)

PERIODS = ("day", "week", "month")
MAX_DAYS = 366
UPCOMING_DAYS = 7
ACTIVE = (BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED, BookingStatus.IN_PROGRESS)
#: Figures the API always answers, ``None`` when no plugin publishes them.
PUBLISHED = ("payment_success_rate", "delivery_completion_rate")


class PeriodError(ValueError):
    """A bad ``period``, ``from`` or ``to``: ``field`` names it."""

    def __init__(self, field: str, description: str) -> None:
        super().__init__(description)
        self.field, self.description = field, description


@dataclasses.dataclass(frozen=True)
class Period:
    """New York days ``first`` to ``last`` (both included) and the period before them."""

    name: str  # day, week, month or range
    first: dt.date
    last: dt.date
    previous_first: dt.date
    previous_last: dt.date

    @property
    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    @property
    def start(self) -> dt.datetime:
        return local_midnight(self.first)

    @property
    def end(self) -> dt.datetime:
        return local_midnight(self.last + dt.timedelta(days=1))

    @property
    def previous_start(self) -> dt.datetime:
        return local_midnight(self.previous_first)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "previous": {
                "from": self.previous_first.isoformat(),
                "to": self.previous_last.isoformat(),
                "start": self.previous_start.isoformat(),
                "end": self.start.isoformat(),
            },
        }


def _parse_day(value: str, field: str) -> dt.date:
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PeriodError(
            field, f"{field}: {value[:20]!r} is not a date written YYYY-MM-DD."
        ) from None


def period_of(params: Any, today: dt.date) -> Period:
    """The period a query string asks for (``period`` or ``from`` and ``to``)."""
    raw_from, raw_to = params.get("from", "").strip(), params.get("to", "").strip()
    name = params.get("period", "").strip()
    if raw_from or raw_to:
        if name:
            raise PeriodError("period", "period: give a period or from and to, not both.")
        if not raw_from:
            raise PeriodError("from", "from: required with to.")
        if not raw_to:
            raise PeriodError("to", "to: required with from.")
        first, last = _parse_day(raw_from, "from"), _parse_day(raw_to, "to")
        if first > last:
            raise PeriodError("from", "from: the first day must not be after the last.")
        if (last - first).days >= MAX_DAYS:
            raise PeriodError("to", f"to: at most {MAX_DAYS} days at once.")
        if first.year < 2000 or last.year > 2100:
            raise PeriodError("from", "from: pick days between 2000 and 2100.")
        length = (last - first).days + 1
        return Period(
            "range",
            first,
            last,
            first - dt.timedelta(days=length),
            first - dt.timedelta(days=1),
        )
    name = name or "day"
    if name == "day":
        yesterday = today - dt.timedelta(days=1)
        return Period("day", today, today, yesterday, yesterday)
    if name == "week":
        monday = today - dt.timedelta(days=today.weekday())
        return Period(
            "week",
            monday,
            monday + dt.timedelta(days=6),
            monday - dt.timedelta(days=7),
            monday - dt.timedelta(days=1),
        )
    if name == "month":
        first = today.replace(day=1)
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        previous_last = first - dt.timedelta(days=1)
        return Period("month", first, last, previous_last.replace(day=1), previous_last)
    raise PeriodError("period", f"period: {name[:20]!r} is not one of day, week, month.")


def _sum(condition: Any, value: Any = 1) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _day_bucket(column: Any, period: Period) -> Any:
    """The index of the New York day ``column`` falls on in ``period`` (-1: the previous one),
    as one CASE over the day's UTC bounds: the same SQL on every backend, DST included."""
    whens = [(column < period.start, literal(-1))]
    whens += [
        (column < local_midnight(day + dt.timedelta(days=1)), literal(i))
        for i, day in enumerate(period.days)
    ]
    return case(*whens, else_=literal(len(period.days)))


def booking_figures(db: Any, period: Period) -> dict[str, Any]:
    """Bookings, revenue, services and the per-day series of both periods: one GROUP BY."""
    live = Booking.status != BookingStatus.CANCELLED
    bucket = _day_bucket(Booking.created_at, period).label("bucket")
    groups = db.execute(
        select(
            bucket,
            Booking.status,
            Booking.service_type,
            func.count(),
            func.coalesce(func.sum(case((live, Booking.total_cents), else_=0)), 0),
        )
        .where(
            Booking.created_at >= period.previous_start,
            Booking.created_at < period.end,
            Booking.deleted_at.is_(None),
        )
        .group_by(bucket, Booking.status, Booking.service_type)
    ).all()
    # The groups are at most (days + 1) x statuses x services: folded here into the answer.
    days = period.days
    blank = {"count": 0, "by_status": {s.value: 0 for s in BookingStatus}, "revenue_cents": 0}
    current = {**blank, "by_status": dict(blank["by_status"]), "by_service": {}}
    previous = {**blank, "by_status": dict(blank["by_status"]), "by_service": {}}
    series = [{"day": d.isoformat(), "bookings": 0, "revenue_cents": 0} for d in days]
    for index, status, service, count, revenue in groups:
        side = previous if index < 0 else current
        key = status.value if hasattr(status, "value") else str(status)
        side["count"] += count
        side["by_status"][key] = side["by_status"].get(key, 0) + count
        side["revenue_cents"] += int(revenue)
        mix = side["by_service"].setdefault(service, {"count": 0, "revenue_cents": 0})
        mix["count"] += count
        mix["revenue_cents"] += int(revenue)
        if 0 <= index < len(days):
            series[index]["bookings"] += count
            series[index]["revenue_cents"] += int(revenue)
    return {"current": current, "previous": previous, "series": series}


def cancellations(db: Any, period: Period) -> tuple[int, int]:
    """Bookings cancelled in each period (``cancelled_at``), whenever they were made."""
    now, before = db.execute(
        select(
            _sum(Booking.cancelled_at >= period.start),
            _sum(Booking.cancelled_at < period.start),
        ).where(
            Booking.status == BookingStatus.CANCELLED,
            Booking.cancelled_at >= period.previous_start,
            Booking.cancelled_at < period.end,
            Booking.deleted_at.is_(None),
        )
    ).one()
    return int(now), int(before)


def registrations(db: Any, period: Period) -> tuple[int, int]:
    now, before = db.execute(
        select(
            _sum(Customer.created_at >= period.start),
            _sum(Customer.created_at < period.start),
        ).where(Customer.created_at >= period.previous_start, Customer.created_at < period.end)
    ).one()
    return int(now), int(before)


def repeat_rates(db: Any, period: Period) -> tuple[float | None, float | None]:
    """Per period: customers who booked in it with two or more bookings made by its end.

    Two or more by the end = two or more in the period, or one made before it: an ``EXISTS``
    that stops at the first one found (index ``(customer_id, created_at)``), not a count."""
    live = and_(Booking.status != BookingStatus.CANCELLED, Booking.deleted_at.is_(None))
    side = case((Booking.created_at >= period.start, 1), else_=0).label("side")
    bookers = (
        select(
            Booking.customer_id.label("customer_id"),
            side,
            func.count().label("made"),
        )
        .where(
            Booking.customer_id.is_not(None),
            Booking.created_at >= period.previous_start,
            Booking.created_at < period.end,
            live,
        )
        .group_by(Booking.customer_id, side)
        .subquery()
    )
    earlier = aliased(Booking)
    before = (
        select(literal(1))
        .where(
            earlier.customer_id == bookers.c.customer_id,
            earlier.created_at
            < case((bookers.c.side == 1, period.start), else_=period.previous_start),
            earlier.status != BookingStatus.CANCELLED,
            earlier.deleted_at.is_(None),
        )
        .correlate(bookers)
        .exists()
    )
    rows = db.execute(
        select(bookers.c.side, func.count(), _sum((bookers.c.made >= 2) | before)).group_by(
            bookers.c.side
        )
    ).all()
    found = {side: (n, repeat) for side, n, repeat in rows}

    def rate(key: int) -> float | None:
        n, repeat = found.get(key, (0, 0))
        return round(int(repeat) / n, 4) if n else None

    return rate(1), rate(0)


def upcoming(db: Any, today: dt.date) -> list[dict[str, Any]]:
    last = today + dt.timedelta(days=UPCOMING_DAYS - 1)
    counts = dict(
        db.execute(
            select(Booking.pickup_date, func.count())
            .where(
                Booking.status.in_(ACTIVE),
                Booking.pickup_date >= today,
                Booking.pickup_date <= last,
                Booking.deleted_at.is_(None),
            )
            .group_by(Booking.pickup_date)
        ).all()
    )
    return [
        {"day": d.isoformat(), "pickups": counts.get(d, 0)}
        for d in (today + dt.timedelta(days=i) for i in range(UPCOMING_DAYS))
    ]


def published(ctx: Any, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Every plugin's ``totetaxi_crm_figures`` for ``[start, end)``, merged (one key each)."""
    merged: dict[str, Any] = dict.fromkeys(PUBLISHED)
    for answer in ctx.hooks.call("totetaxi_crm_figures", ctx=ctx, start=start, end=end) or ():
        if isinstance(answer, dict):
            merged.update(answer)
    return merged


def dashboard(ctx: Any, period: Period) -> dict[str, Any]:
    """The whole answer of ``GET /staff/dashboard`` for ``period``."""
    db = ctx.dbsession
    today = local_today(ctx.now())
    booked = booking_figures(db, period)
    cancelled_now, cancelled_before = cancellations(db, period)
    joined_now, joined_before = registrations(db, period)
    repeat_now, repeat_before = repeat_rates(db, period)
    figures_now = published(ctx, period.start, period.end)
    figures_before = published(ctx, period.previous_start, period.start)

    def side(
        b: dict[str, Any], cancelled: int, joined: int, repeat: Any, figures: dict[str, Any]
    ) -> dict[str, Any]:
        return {
            "bookings": {"count": b["count"], "by_status": b["by_status"]},
            "revenue_cents": b["revenue_cents"],
            "by_service": b["by_service"],
            "cancellations": cancelled,
            "new_registrations": joined,
            "repeat_customer_rate": repeat,
            "payment_success_rate": figures.get("payment_success_rate"),
            "delivery_completion_rate": figures.get("delivery_completion_rate"),
            "figures": figures,
        }

    answer = side(booked["current"], cancelled_now, joined_now, repeat_now, figures_now)
    answer["period"] = period.as_json()
    answer["previous"] = side(
        booked["previous"], cancelled_before, joined_before, repeat_before, figures_before
    )
    answer["series"] = booked["series"]
    answer["upcoming_pickups"] = upcoming(db, today)
    return answer
