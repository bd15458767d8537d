"""Pricing operations, callable without a request: quotes, availability, capacity, edits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, func, select, update

from totetaxi_core.plugin_api import (
    CapacityExhausted,
    Context,
    InvalidDraft,
    audit_changes,
    insert_for,
    local_today,
    record_audit,
)

from .catalog import Catalog, cache_of
from .models import (
    CapacityDay,
    MiniMovePackage,
    PeakRange,
    PricingPolicy,
    SpecialtyItem,
    SurchargeRule,
)
from .quoting import check_date, matching_surcharges, price, same_day_open

MAX_AVAILABILITY_DAYS = 93


def catalog(ctx: Context, version: int | None = None) -> Catalog:
    """The current catalog, from memory; ``version``, when the caller read the stored one in
    its own query, reloads a snapshot older than it at once instead of within the second."""
    cache = cache_of(ctx)
    current = cache.get(ctx)
    if version is not None and current.version != version:
        cache.clear()
        current = cache.get(ctx)
    return current


def quote(ctx: Context, draft: dict[str, Any]) -> dict[str, Any]:
    """Price ``draft`` (validated by :class:`~totetaxi_pricing.schemas.QuoteBody`). No writes."""
    return price(catalog(ctx), draft, ctx.now())


# --- availability and capacity ---------------------------------------------------------------


#: The days' counters, as plain rows (no ORM objects: a 93-day answer reads up to 93 of them).
_DAYS = select(
    CapacityDay.day,
    CapacityDay.van_capacity,
    CapacityDay.specialty_capacity,
    CapacityDay.booked,
    CapacityDay.specialty_booked,
).where(CapacityDay.day.between(bindparam("start"), bindparam("end")))


def availability(
    ctx: Context, start: dt.date, end: dt.date, service_type: str | None = None
) -> list[dict[str, Any]]:
    """Each date from ``start`` to ``end``: capacity left and surcharges. One database query."""
    if end < start:
        raise InvalidDraft("end", "end must not be before start.", "querystring")
    if (end - start).days + 1 > MAX_AVAILABILITY_DAYS:
        raise InvalidDraft(
            "end", f"Ask for at most {MAX_AVAILABILITY_DAYS} days at a time.", "querystring"
        )
    now = ctx.now()
    if start < local_today(now):
        raise InvalidDraft("start", f"{start.isoformat()} is in the past.", "querystring")
    days = {
        row.day: row
        for row in ctx.dbsession.connection().execute(_DAYS, {"start": start, "end": end})
    }
    current = catalog(ctx)
    policy = current.policy
    today = local_today(now)
    horizon = today + dt.timedelta(days=policy["max_days_ahead"])
    answer = []
    for offset in range((end - start).days + 1):
        day = start + dt.timedelta(days=offset)
        row = days.get(day)
        capacity = (
            row.van_capacity if row and row.van_capacity is not None else policy["van_capacity"]
        )
        specialty_capacity = (
            row.specialty_capacity
            if row and row.specialty_capacity is not None
            else policy["specialty_capacity"]
        )
        remaining = max(0, capacity - (row.booked if row else 0))
        specialty_remaining = max(0, specialty_capacity - (row.specialty_booked if row else 0))
        open_day = day <= horizon and (day > today or same_day_open(current, now))
        if day == today and service_type not in (None, "standard_delivery"):
            open_day = False  # only standard delivery can be booked for the same day
        if service_type == "specialty":
            available = open_day and remaining > 0 and specialty_remaining > 0
        else:
            available = open_day and remaining > 0
        matching = matching_surcharges(current, day)
        answer.append(
            {
                "date": day.isoformat(),
                "available": available,
                "open": open_day,
                "remaining": remaining,
                "specialty_remaining": specialty_remaining,
                "surcharges": [matching[0]["rule"].code] if matching else [],
            }
        )
    return answer


def _ensure_day(ctx: Context, day: dt.date) -> None:
    ctx.dbsession.execute(
        insert_for(ctx.dbsession, CapacityDay)
        .values(day=day, booked=0, specialty_booked=0, note="")
        .on_conflict_do_nothing(index_elements=["day"])
    )


def _default(column: Any) -> Any:
    return select(column).where(PricingPolicy.id == 1).scalar_subquery()


def reserve(ctx: Context, day: dt.date, specialty: bool = False) -> None:
    """Take one van (and a specialty van when ``specialty``) on ``day``, in this transaction.

    One conditional UPDATE: on PostgreSQL concurrent reservations queue on the row lock and
    each re-checks the condition after the one before commits, so the last slot goes once.
    Raises :class:`CapacityExhausted` when the day is full.
    """
    _ensure_day(ctx, day)
    conditions = [
        CapacityDay.day == day,
        CapacityDay.booked
        < func.coalesce(CapacityDay.van_capacity, _default(PricingPolicy.van_capacity)),
    ]
    values: dict[str, Any] = {"booked": CapacityDay.booked + 1}
    if specialty:
        conditions.append(
            CapacityDay.specialty_booked
            < func.coalesce(
                CapacityDay.specialty_capacity, _default(PricingPolicy.specialty_capacity)
            )
        )
        values["specialty_booked"] = CapacityDay.specialty_booked + 1
    result = ctx.dbsession.execute(
        update(CapacityDay)
        .where(*conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        what = "specialty van" if specialty else "van"
        raise CapacityExhausted("date", f"{day.isoformat()} is fully booked: no {what} left.")


def release(ctx: Context, day: dt.date, specialty: bool = False) -> None:
    """Give back what :func:`reserve` took (a cancelled or moved booking)."""
    values: dict[str, Any] = {"booked": CapacityDay.booked - 1}
    conditions = [CapacityDay.day == day, CapacityDay.booked > 0]
    if specialty:
        values["specialty_booked"] = CapacityDay.specialty_booked - 1
        conditions.append(CapacityDay.specialty_booked > 0)
    ctx.dbsession.execute(
        update(CapacityDay)
        .where(*conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def capacity_problems(ctx: Context, draft: dict[str, Any]) -> list[dict[str, str]]:
    """Rule problems of a booking draft: date rules and a full day (read-only)."""
    day = draft.get("date")
    if not isinstance(day, dt.date):
        return []
    try:
        check_date(catalog(ctx), day, ctx.now())
    except InvalidDraft as exc:
        return [{"name": exc.field, "description": exc.description}]
    specialty = bool(draft.get("specialty_items")) or draft.get("service_type") == "specialty"
    [info] = availability(ctx, day, day, "specialty" if specialty else None)
    if not info["open"]:
        # Past the same-day cut-off, beyond the horizon, or a service not offered today.
        return [
            {
                "name": "date",
                "status": 409,
                "description": f"{day.isoformat()} cannot be booked now for this service.",
            }
        ]
    if not info["available"]:
        # status 409: a full day conflicts with other bookings; it is not a refused rule.
        # "capacity": a booking that already holds a van and moves lets the reservation decide.
        return [
            {
                "name": "date",
                "status": 409,
                "capacity": True,
                "description": f"{day.isoformat()} is not available: "
                + (
                    "no specialty van left."
                    if specialty and info["remaining"]
                    else "the day is fully booked or closed."
                ),
            }
        ]
    return []


# --- edits (admins, through the console) -------------------------------------------------------


def _bump(ctx: Context) -> None:
    cache_of(ctx).changed(ctx)
    ctx.dbsession.execute(
        update(PricingPolicy)
        .where(PricingPolicy.id == 1)
        .values(catalog_version=PricingPolicy.catalog_version + 1)
    )


def _edit(
    ctx: Context, obj: Any, changes: dict[str, Any], action: str, target: str, key: Any
) -> None:
    before = {name: getattr(obj, name) for name in changes}
    after = {name: value for name, value in changes.items()}
    before, after = audit_changes(before, after)
    if not after:
        return
    for name, value in after.items():
        setattr(obj, name, value)
    _bump(ctx)
    record_audit(ctx, action, target, key, before=before, after=after)


def edit_package(ctx: Context, code: str, **changes: Any) -> None:
    package = ctx.dbsession.get(MiniMovePackage, code)
    if package is None:
        raise InvalidDraft("code", f"No package {code!r}.")
    _edit(ctx, package, changes, "pricing.package_changed", "pricing_package", code)


def edit_specialty(ctx: Context, code: str, **changes: Any) -> None:
    item = ctx.dbsession.get(SpecialtyItem, code)
    if item is None:
        raise InvalidDraft("code", f"No specialty item {code!r}.")
    _edit(ctx, item, changes, "pricing.specialty_changed", "pricing_specialty_item", code)


def edit_surcharge(ctx: Context, code: str, **changes: Any) -> None:
    rule = ctx.dbsession.get(SurchargeRule, code)
    if rule is None:
        raise InvalidDraft("code", f"No surcharge rule {code!r}.")
    _edit(ctx, rule, changes, "pricing.surcharge_changed", "pricing_surcharge_rule", code)


def edit_policy(ctx: Context, **changes: Any) -> None:
    policy = ctx.dbsession.get(PricingPolicy, 1)
    _edit(ctx, policy, changes, "pricing.policy_changed", "pricing_policy", 1)


def add_peak(ctx: Context, name: str, start: dt.date, end: dt.date) -> PeakRange:
    if end < start:
        raise InvalidDraft("end_date", "The range ends before it starts.")
    peak = PeakRange(name=name, start_date=start, end_date=end)
    ctx.dbsession.add(peak)
    ctx.dbsession.flush()
    _bump(ctx)
    record_audit(
        ctx,
        "pricing.peak_added",
        "pricing_peak_range",
        peak.id,
        after={"name": name, "start_date": start, "end_date": end},
    )
    return peak


def remove_peak(ctx: Context, peak_id: Any) -> None:
    peak = ctx.dbsession.get(PeakRange, peak_id)
    if peak is None:
        raise InvalidDraft("id", "No such peak range.")
    record_audit(
        ctx,
        "pricing.peak_removed",
        "pricing_peak_range",
        peak.id,
        before={"name": peak.name, "start_date": peak.start_date, "end_date": peak.end_date},
    )
    ctx.dbsession.delete(peak)
    _bump(ctx)


def set_capacity(
    ctx: Context,
    day: dt.date,
    van_capacity: int | None,
    specialty_capacity: int | None,
    note: str = "",
) -> None:
    """Override a date's capacity (0 = blackout; ``None`` = back to the default)."""
    _ensure_day(ctx, day)
    row = ctx.dbsession.get(CapacityDay, day)
    ctx.dbsession.refresh(row)
    _edit(
        ctx,
        row,
        {"van_capacity": van_capacity, "specialty_capacity": specialty_capacity, "note": note},
        "pricing.capacity_changed",
        "pricing_capacity_day",
        day.isoformat(),
    )
