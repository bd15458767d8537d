"""Pricing a booking draft: a pure function of the catalog, the draft and the time.

The rules of BUSINESS_RULES.md, in order: service lines (package, per-item with standard
delivery's minimum, or same-day), specialty items, the minimum charge of every booking, the
largest matching surcharge on the priced lines, fees, then the total. The figures all come from
the catalog.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import holidays

from totetaxi_core.plugin_api import InvalidDraft, format_money, local_datetime, local_today

from .catalog import SERVICE_TYPES, Catalog


def percent_of(amount_cents: int, basis_points: int) -> int:
    """``amount × percent``, rounded half up to the cent (integers only)."""
    return (amount_cents * basis_points + 5000) // 10000


def dollars(cents: int) -> str:
    """A price in a quote line: ``$995`` for whole dollars, ``$27.50`` otherwise."""
    return format_money(cents, trim_cents=True)


@functools.lru_cache(maxsize=32)
def _federal_holidays(year: int) -> dict[dt.date, str]:
    # Building the calendar costs ~0.2 ms; a 93-day availability answer asks for it 93 times.
    return dict(holidays.country_holidays("US", years=year))


def federal_holiday(day: dt.date) -> str | None:
    """The name of the US federal holiday observed on ``day``, if any."""
    return _federal_holidays(day.year).get(day)


def matching_surcharges(catalog: Catalog, day: dt.date) -> list[dict[str, Any]]:
    """Every surcharge rule that matches ``day``, with its reason, largest first."""
    found = []
    rules = catalog.surcharges
    if "weekend" in rules and day.weekday() >= 5:
        found.append((rules["weekend"], f"{day:%A} pickup"))
    holiday = federal_holiday(day)
    if "holiday" in rules and holiday:
        found.append((rules["holiday"], holiday))
    peak = next((p for p in catalog.peaks if p.start <= day <= p.end), None)
    if "peak" in rules and peak is not None:
        found.append((rules["peak"], peak.name))
    found.sort(key=lambda pair: -pair[0].percent_bp)
    return [{"rule": rule, "reason": reason} for rule, reason in found]


def check_date(catalog: Catalog, day: dt.date, now: dt.datetime, field: str = "date") -> None:
    today = local_today(now)
    if day < today:
        raise InvalidDraft(field, f"{day.isoformat()} is in the past.")
    horizon = catalog.policy["max_days_ahead"]
    if day > today + dt.timedelta(days=horizon):
        raise InvalidDraft(field, f"We take bookings at most {horizon} days ahead.")


def same_day_open(catalog: Catalog, now: dt.datetime) -> bool:
    return local_datetime(now).hour < catalog.policy["same_day_cutoff_hour"]


def _service_lines(catalog: Catalog, draft: dict[str, Any], now: dt.datetime) -> list[dict]:
    service = draft["service_type"]
    count = draft.get("item_count")
    policy = catalog.policy
    if draft.get("same_day") and service != "standard_delivery":
        raise InvalidDraft("same_day", "Same-day pricing applies to standard delivery only.")
    if draft.get("package") is not None and service != "mini_move":
        raise InvalidDraft("package", "A package applies to Mini Moves only; leave it out.")

    if service == "mini_move":
        code = draft.get("package")
        if code is None:
            raise InvalidDraft(
                "package",
                "Choose a Mini Move package: " + ", ".join(p.code for p in catalog.packages) + ".",
            )
        package = catalog.package(code)
        if package is None:
            raise InvalidDraft(
                "package",
                f"Unknown package {code!r}; choose one of "
                + ", ".join(p.code for p in catalog.packages)
                + ".",
            )
        if count is not None and count > package.max_items:
            fits = next((p for p in catalog.packages if p.max_items >= count), None)
            hint = (
                f"the {fits.name} package (up to {fits.max_items} items) fits"
                if fits
                else "that is more than our largest package holds; call us"
            )
            raise InvalidDraft(
                "item_count",
                f"{package.name} holds up to {package.max_items} items; for {count} items {hint}.",
            )
        return [
            {
                "code": f"mini_move.{package.code}",
                "description": f"Mini Move {package.name} (up to {package.max_items} items)",
                "amount_cents": package.price_cents,
            }
        ]

    if service == "standard_delivery":
        if count is None:
            raise InvalidDraft("item_count", "Standard delivery needs item_count (at least 1).")
        per_item = policy["per_item_cents"]
        if draft.get("same_day"):
            today = local_today(now)
            if draft["date"] != today:
                raise InvalidDraft("same_day", "Same-day delivery is for today's date only.")
            if not same_day_open(catalog, now):
                raise InvalidDraft(
                    "same_day",
                    "Same-day bookings close at "
                    f"{policy['same_day_cutoff_hour']}:00 New York time.",
                )
            included = policy["same_day_included_items"]
            lines = [
                {
                    "code": "standard_delivery.same_day",
                    "description": f"Same-day delivery, up to {included} items",
                    "amount_cents": policy["same_day_flat_cents"],
                }
            ]
            if count > included:
                extra = count - included
                lines.append(
                    {
                        "code": "standard_delivery.extra_items",
                        "description": f"{extra} more item{'s' if extra > 1 else ''} × "
                        f"{dollars(per_item)}",
                        "amount_cents": extra * per_item,
                    }
                )
            return _with_minimum(lines, policy)
        lines = [
            {
                "code": "standard_delivery.items",
                "description": f"Standard delivery, {count} item{'s' if count > 1 else ''} × "
                f"{dollars(per_item)}",
                "amount_cents": count * per_item,
            }
        ]
        return _with_minimum(lines, policy)

    if service == "specialty":
        if not draft.get("specialty_items"):
            raise InvalidDraft("specialty_items", "A specialty booking needs at least one item.")
        if count is not None:
            raise InvalidDraft(
                "item_count",
                "A specialty booking is priced per specialty item; leave item_count out.",
            )
        return []
    raise InvalidDraft("service_type", f"service_type must be one of {', '.join(SERVICE_TYPES)}.")


def _with_minimum(lines: list[dict], policy: dict[str, int]) -> list[dict]:
    """Top standard delivery (same day included) up to its own minimum charge."""
    amount = sum(line["amount_cents"] for line in lines)
    if amount < policy["minimum_cents"]:
        lines.append(
            {
                "code": "standard_delivery.minimum",
                "description": f"Minimum charge {dollars(policy['minimum_cents'])}",
                "amount_cents": policy["minimum_cents"] - amount,
            }
        )
    return lines


def _with_booking_minimum(lines: list[dict], policy: dict[str, int]) -> list[dict]:
    """Top the priced lines of any booking up to the minimum charge, as one visible line.

    It comes after every priced line (service and specialty items), so specialty items added
    to a booking count towards the minimum, and before surcharges, which apply to it like any
    priced line; fees neither count nor are topped up. Standard delivery's own minimum has
    already topped its service lines: this line adds only what is still missing.
    """
    minimum = policy["booking_minimum_cents"]
    amount = sum(line["amount_cents"] for line in lines)
    if amount < minimum:
        lines.append(
            {
                "code": "minimum_charge",
                "description": f"Minimum charge {dollars(minimum)} per booking",
                "amount_cents": minimum - amount,
            }
        )
    return lines


def _specialty_lines(catalog: Catalog, items: list[dict[str, Any]]) -> list[dict]:
    lines = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        code = item["code"]
        found = catalog.specialty.get(code)
        if found is None:
            raise InvalidDraft(
                f"specialty_items.{index}.code",
                f"Unknown specialty item {code!r}; choose one of {', '.join(catalog.specialty)}.",
            )
        if code in seen:
            raise InvalidDraft(
                f"specialty_items.{index}.code", f"{found.name} is listed twice; use qty instead."
            )
        seen.add(code)
        qty = item["qty"]
        lines.append(
            {
                "code": f"specialty.{code}",
                "description": f"{found.name} × {qty}",
                "amount_cents": found.price_cents * qty,
            }
        )
    return lines


def price(catalog: Catalog, draft: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The quote of API.md for a validated draft; raises ``InvalidDraft`` naming the field."""
    day: dt.date = draft["date"]
    check_date(catalog, day, now)
    lines = _service_lines(catalog, draft, now)
    lines += _specialty_lines(catalog, draft.get("specialty_items") or [])
    lines = _with_booking_minimum(lines, catalog.policy)
    subtotal = sum(line["amount_cents"] for line in lines)

    surcharges = []
    matching = matching_surcharges(catalog, day)
    if matching:  # only the largest applies
        rule, reason = matching[0]["rule"], matching[0]["reason"]
        surcharges.append(
            {
                "code": rule.code,
                "description": f"{rule.name} +{rule.percent_bp / 100:g}% ({reason})",
                "amount_cents": percent_of(subtotal, rule.percent_bp),
            }
        )
    fees = []
    if draft.get("coi_handling"):
        fees.append(
            {
                "code": "coi_handling",
                "description": "Certificate of insurance handling",
                "amount_cents": catalog.policy["coi_fee_cents"],
            }
        )
    total = (
        subtotal + sum(s["amount_cents"] for s in surcharges) + sum(f["amount_cents"] for f in fees)
    )
    return {
        "lines": lines,
        "surcharges": surcharges,
        "fees": fees,
        "subtotal_cents": subtotal,
        "total_cents": total,
        "currency": "USD",
        "high_value": total >= catalog.policy["high_value_cents"],
        "date": day.isoformat(),
        "catalog_version": catalog.version,
    }
