"""The capacity page: the month's calendar of vans, overrides of a day, the defaults."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

from pyramid.request import Request
from pyramid.view import view_config
from sqlalchemy import select

from totetaxi_core.plugin_api import (
    FieldError,
    Permission,
    local_today,
    parse_date,
    read_form,
)

from .. import services
from ..models import CapacityDay
from ..quoting import matching_surcharges
from .fields import DEFAULT_FIELDS, MAX_OVERRIDE_DAYS, OVERRIDE_FIELDS, differs
from .page import CAPACITY, EDIT, Failed, base, done, forms_of, policy_row

_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


def _month(value: str | None, today: dt.date) -> dt.date | None:
    """The first day of ``YYYY-MM`` (``None`` when malformed); this month when absent."""
    if not value:
        return today.replace(day=1)
    match = _MONTH.match(value.strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return dt.date(year, month, 1)


def _shift(first: dt.date, months: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _capacity(
    request: Request,
    first: dt.date | None = None,
    failed: Failed | None = None,
    status: int = 200,
    month_error: str | None = None,
) -> dict[str, Any]:
    now = request.ctx.now()
    today = local_today(now)
    first = first or today.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    # The month's rows in one query; days without a row have the defaults and nothing booked.
    rows = {
        row.day: row
        for row in request.dbsession.scalars(
            select(CapacityDay).where(CapacityDay.day >= first, CapacityDay.day <= last)
        )
    }
    current = services.catalog(request.ctx)
    policy = current.policy
    horizon = today + dt.timedelta(days=policy["max_days_ahead"])
    weeks = []
    for week in calendar.Calendar(firstweekday=6).monthdatescalendar(first.year, first.month):
        cells: list[dict[str, Any] | None] = []
        for day in week:
            if day.month != first.month:
                cells.append(None)
                continue
            row = rows.get(day)
            capacity = row.van_capacity if row and row.van_capacity is not None else None
            specialty = (
                row.specialty_capacity if row and row.specialty_capacity is not None else None
            )
            vans = policy["van_capacity"] if capacity is None else capacity
            specialty_vans = policy["specialty_capacity"] if specialty is None else specialty
            booked = row.booked if row else 0
            specialty_booked = row.specialty_booked if row else 0
            matching = matching_surcharges(current, day)
            classes = [
                name
                for name, on in (
                    ("past", day < today),
                    ("today", day == today),
                    ("blackout", vans == 0),
                    ("full", vans > 0 and booked >= vans),
                )
                if on
            ]
            cells.append(
                {
                    "classes": classes,
                    "day": day,
                    "capacity": vans,
                    "overridden": capacity is not None or specialty is not None,
                    "booked": booked,
                    "remaining": max(0, vans - booked),
                    "specialty_capacity": specialty_vans,
                    "specialty_booked": specialty_booked,
                    "specialty_remaining": max(0, specialty_vans - specialty_booked),
                    "note": row.note if row else "",
                    "surcharge": matching[0]["rule"].code if matching else None,
                    "surcharge_reason": matching[0]["reason"] if matching else "",
                    "blackout": vans == 0,
                    "past": day < today,
                    "today": day == today,
                    "beyond": day > horizon,
                }
            )
        weeks.append(cells)

    # The override form: what was typed when refused, else the day picked with ?day=.
    picked = None
    try:
        picked = parse_date(request.GET.get("day", ""), "day") if request.GET.get("day") else None
    except FieldError:
        picked = None
    override = {"date": "", "van_capacity": "", "specialty_capacity": "", "note": ""}
    if picked is not None and picked >= today:
        row = (
            rows.get(picked)
            if first <= picked <= last
            else request.dbsession.get(CapacityDay, picked)
        )
        override = {
            "date": picked.isoformat(),
            "van_capacity": "" if not row or row.van_capacity is None else str(row.van_capacity),
            "specialty_capacity": ""
            if not row or row.specialty_capacity is None
            else str(row.specialty_capacity),
            "note": row.note if row else "",
        }
    shown = {
        "override": override,
        "defaults": {
            "van_capacity": str(policy["van_capacity"]),
            "specialty_capacity": str(policy["specialty_capacity"]),
            "max_days_ahead": str(policy["max_days_ahead"]),
        },
    }
    return {
        **base(request, status),
        **forms_of(shown, failed),
        "month": first,
        "month_key": f"{first:%Y-%m}",
        "prev_month": f"{_shift(first, -1):%Y-%m}",
        "next_month": f"{_shift(first, 1):%Y-%m}",
        "this_month": f"{today:%Y-%m}",
        "weeks": weeks,
        "today": today,
        "weekdays": ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
        "policy": policy,
        "month_error": month_error,
        "overrides": sorted(
            (
                r
                for r in rows.values()
                if r.van_capacity is not None or r.specialty_capacity is not None or r.note
            ),
            key=lambda r: r.day,
        ),
    }


@view_config(
    route_name="pricing_capacity",
    request_method="GET",
    renderer=CAPACITY,
    permission=Permission.STAFF_READ,
)
def capacity_page(request: Request) -> dict[str, Any]:
    """The month's calendar: capacity, booked, remaining, overrides, surcharges."""
    today = local_today(request.ctx.now())
    first = _month(request.GET.get("month"), today)
    if first is None:
        return _capacity(
            request,
            status=400,
            month_error="Month: use YYYY-MM (e.g. 2025-07); showing this month.",
        )
    return _capacity(request, first)


@view_config(
    route_name="pricing_capacity_day", request_method="POST", renderer=CAPACITY, permission=EDIT
)
def capacity_override(request: Request) -> Any:
    """Override one date's capacity (0 = blackout; empty = back to the default)."""
    values, errors, submitted = read_form(request.POST, OVERRIDE_FIELDS)
    today = local_today(request.ctx.now())
    day = values.get("day")
    if day is not None and day < today:
        errors["date"] = f"Date: {day.isoformat()} is in the past."
    elif day is not None and day > today + dt.timedelta(days=MAX_OVERRIDE_DAYS):
        errors["date"] = "Date: at most three years ahead."
    first = day.replace(day=1) if day is not None and "date" not in errors else None
    if errors:
        return _capacity(request, first, Failed("override", submitted, errors), 400)
    row = request.dbsession.get(CapacityDay, day)
    before = (row.van_capacity, row.specialty_capacity, row.note) if row else (None, None, "")
    changed = before != (values["van_capacity"], values["specialty_capacity"], values["note"])
    services.set_capacity(
        request.ctx, day, values["van_capacity"], values["specialty_capacity"], values["note"]
    )
    return done(
        request,
        "pricing_capacity",
        "capacity_saved" if changed else "unchanged",
        f"day-{day.isoformat()}",
        month=f"{day:%Y-%m}",
    )


@view_config(
    route_name="pricing_capacity_defaults",
    request_method="POST",
    renderer=CAPACITY,
    permission=EDIT,
)
def capacity_defaults(request: Request) -> Any:
    """The default vans a day, specialty vans a day, and how far ahead bookings go."""
    values, errors, submitted = read_form(request.POST, DEFAULT_FIELDS, partial=True)
    if errors:
        return _capacity(request, None, Failed("defaults", submitted, errors), 400)
    changed = differs(policy_row(request), values)
    services.edit_policy(request.ctx, **values)
    return done(
        request, "pricing_capacity", "defaults_saved" if changed else "unchanged", "defaults"
    )
