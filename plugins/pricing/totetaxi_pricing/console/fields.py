"""The pricing console's form fields: what each form reads, with the core's parsers.

Amounts are typed in dollars ("995.00", "$1,725") and stored in cents, percentages ("15",
"12.5") in basis points, both through :class:`decimal.Decimal`, never floats.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from totetaxi_core.plugin_api import (
    FieldError,
    Fields,
    integer_field,
    money_field,
    money_input,
    optional,
    parse_date,
    parse_flag,
    text_field,
)

MAX_CAPACITY = 100
#: How far ahead a capacity override may be set.
MAX_OVERRIDE_DAYS = 3 * 366

_PERCENT = re.compile(r"^([0-9]+)(?:\.([0-9]*))?%?$")
_MAX_INPUT = 40  # characters of a number; anything longer is not one

#: Dollars as typed to integer cents, at most the core's typo guard ($100,000.00).
parse_money = money_field()


def parse_percent(text: str, label: str) -> int:
    """A percentage as typed ("15", "12.5", "12.5%") to basis points (1250)."""
    text = text.strip().replace(" ", "")
    if not text:
        raise FieldError(f"{label}: enter a percentage, like 15 or 12.5.")
    if text.startswith("-"):
        raise FieldError(f"{label} must not be negative.")
    match = _PERCENT.match(text) if len(text) <= _MAX_INPUT else None
    if match is None:
        raise FieldError(f"{label}: enter a percentage, like 15 or 12.5.")
    if match.group(2) is not None and len(match.group(2)) > 2:
        raise FieldError(f"{label}: at most 2 decimals.")
    basis_points = int(Decimal(text.rstrip("%")) * 100)
    if basis_points > 10_000:
        raise FieldError(f"{label} must be at most 100%.")
    return basis_points


def percent(basis_points: int) -> str:
    """Basis points as typed in a form: ``1500`` -> ``"15"``, ``1250`` -> ``"12.5"``."""
    whole, fraction = divmod(basis_points, 100)
    return str(whole) if not fraction else f"{whole}.{fraction:02d}".rstrip("0")


def flag(value: bool) -> str:
    return "1" if value else "0"


#: Cents as typed in a form: ``99500`` -> ``"995.00"``.
amount = money_input


def differs(obj: Any, values: Mapping[str, Any]) -> bool:
    return any(getattr(obj, name) != value for name, value in values.items())


PACKAGE_FIELDS: Fields = {
    "name": ("name", text_field(60), "Name"),
    "price": ("price_cents", parse_money, "Price"),
    "max_items": ("max_items", integer_field(1, 500), "Max items"),
    "active": ("active", parse_flag, "Active"),
}
RATE_FIELDS: Fields = {
    "per_item": ("per_item_cents", parse_money, "Per item"),
    "minimum": ("minimum_cents", parse_money, "Standard delivery minimum"),
    "booking_minimum": ("booking_minimum_cents", parse_money, "Minimum charge per booking"),
    "same_day_flat": ("same_day_flat_cents", parse_money, "Same-day flat price"),
    "same_day_included_items": (
        "same_day_included_items",
        integer_field(0, 100),
        "Items included same day",
    ),
    "same_day_cutoff_hour": ("same_day_cutoff_hour", integer_field(0, 24), "Same-day cut-off hour"),
    "coi_fee": ("coi_fee_cents", parse_money, "COI handling fee"),
    "high_value": ("high_value_cents", parse_money, "High-value threshold"),
}
SPECIALTY_FIELDS: Fields = {
    "name": ("name", text_field(60), "Name"),
    "price": ("price_cents", parse_money, "Price"),
    "active": ("active", parse_flag, "Active"),
}
SURCHARGE_FIELDS: Fields = {
    "percent": ("percent_bp", parse_percent, "Percent"),
    "active": ("active", parse_flag, "Active"),
}
PEAK_FIELDS: Fields = {
    "name": ("name", text_field(80), "Name"),
    "start_date": ("start", parse_date, "Start date"),
    "end_date": ("end", parse_date, "End date"),
}
OVERRIDE_FIELDS: Fields = {
    "date": ("day", parse_date, "Date"),
    "van_capacity": ("van_capacity", optional(integer_field(0, MAX_CAPACITY)), "Van capacity"),
    "specialty_capacity": (
        "specialty_capacity",
        optional(integer_field(0, MAX_CAPACITY)),
        "Specialty capacity",
    ),
    "note": ("note", text_field(120, required=False), "Note"),
}
DEFAULT_FIELDS: Fields = {
    "van_capacity": ("van_capacity", integer_field(0, MAX_CAPACITY), "Vans a day"),
    "specialty_capacity": (
        "specialty_capacity",
        integer_field(0, MAX_CAPACITY),
        "Specialty vans a day",
    ),
    "max_days_ahead": ("max_days_ahead", integer_field(1, 730), "Days bookable ahead"),
}
