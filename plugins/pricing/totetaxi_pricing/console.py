"""Console pages of the pricing plugin: the catalog, surcharges and peak dates, van capacity.

Every staff role reads them (``Permission.STAFF_READ``); changing anything takes the plugin's own
``pricing.edit`` permission, granted to admins in the manifest, so a template asks
``request.has_permission`` rather than knowing a role. The views only read and check the form,
then call the edit functions of :mod:`.services`, which write the audit record and move the
catalog version: every process prices with the new figures from its next quote on.

A refused form comes back with status 400 and the message next to the field, and nothing is
changed (the checks run before any service call; the 4xx also vetoes the transaction's commit).
A change redirects (303) back to its page with a ``?done=`` code naming a fixed sentence.

Amounts are typed in dollars ("995.00", "$1,725") and stored in cents, percentages ("15",
"12.5") in basis points, both through :class:`decimal.Decimal`, never floats.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import holidays
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.request import Request
from pyramid.view import view_config
from sqlalchemy import select

from totetaxi_core.plugin_api import InvalidDraft, Permission

from . import services
from .models import (
    CapacityDay,
    MiniMovePackage,
    PeakRange,
    PricingPolicy,
    SpecialtyItem,
    SurchargeRule,
)
from .quoting import dollars, local_today, matching_surcharges

#: The permission of every change (the manifest grants it to admins).
EDIT = "pricing.edit"
TEMPLATES = "totetaxi_pricing:templates/"
CATALOG = TEMPLATES + "catalog.jinja2"
SURCHARGES = TEMPLATES + "surcharges.jinja2"
CAPACITY = TEMPLATES + "capacity.jinja2"

#: The most any single amount may be: a typo guard ($100,000.00).
MAX_CENTS = 10_000_000
MAX_CAPACITY = 100
#: How far ahead a capacity override may be set.
MAX_OVERRIDE_DAYS = 3 * 366

#: One-shot messages after a change: the query carries a code, never text (nothing reflected).
MESSAGES: dict[str, str] = {
    "package_saved": "Package saved; quotes use it from now on.",
    "rates_saved": "Standard delivery rates saved; quotes use them from now on.",
    "specialty_saved": "Specialty item saved; quotes use it from now on.",
    "surcharge_saved": "Surcharge rule saved; quotes use it from now on.",
    "peak_added": "Peak range added.",
    "peak_removed": "Peak range removed.",
    "capacity_saved": "Capacity of the day saved.",
    "defaults_saved": "Default capacity saved.",
    "unchanged": "Nothing changed: the values were already those.",
}


# --- reading form input ---------------------------------------------------------------------------


class FieldError(ValueError):
    """One form field's refusal; the message names the field by its label."""


_DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)"
_MONEY = re.compile(rf"^\$?({_DIGITS})(?:\.(\d*))?$")
_PERCENT = re.compile(r"^(\d+)(?:\.(\d*))?%?$")
_INTEGER = re.compile(r"^\d+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_INPUT = 40  # characters of a number or date field; anything longer is not one


def parse_money(text: str, label: str) -> int:
    """Dollars as typed ("995", "995.00", "$1,725.5") to integer cents."""
    text = text.strip().replace(" ", "")
    if not text:
        raise FieldError(f"{label}: enter an amount in dollars, like 995.00.")
    if text.startswith("-") or text.startswith("$-"):
        raise FieldError(f"{label} must not be negative.")
    match = _MONEY.match(text) if len(text) <= _MAX_INPUT else None
    if match is None:
        raise FieldError(f"{label}: enter an amount in dollars, like 995.00.")
    if match.group(2) is not None and len(match.group(2)) > 2:
        raise FieldError(f"{label}: at most 2 decimals (whole cents).")
    cents = int(Decimal(text.lstrip("$").replace(",", "")) * 100)  # exact: at most 2 decimals
    if cents > MAX_CENTS:
        raise FieldError(f"{label} must be at most {dollars(MAX_CENTS)}.")
    return cents


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


def integer(low: int, high: int) -> Callable[[str, str], int]:
    def parse(text: str, label: str) -> int:
        text = text.strip()
        if text.startswith("-"):
            raise FieldError(f"{label} must not be negative.")
        if not _INTEGER.match(text) or len(text) > _MAX_INPUT:
            raise FieldError(f"{label}: enter a whole number from {low} to {high}.")
        value = int(text)
        if not low <= value <= high:
            raise FieldError(f"{label}: enter a whole number from {low} to {high}.")
        return value

    return parse


def optional(parse: Callable[[str, str], Any]) -> Callable[[str, str], Any]:
    """``parse``, except that an empty field means ``None`` (back to the default)."""

    def read(text: str, label: str) -> Any:
        return None if not text.strip() else parse(text, label)

    return read


def text(limit: int, required: bool = True) -> Callable[[str, str], str]:
    def parse(value: str, label: str) -> str:
        value = value.strip()
        if required and not value:
            raise FieldError(f"{label}: this cannot be empty.")
        if len(value) > limit:
            raise FieldError(f"{label}: at most {limit} characters.")
        if _CONTROL.search(value):
            raise FieldError(f"{label}: control characters are not allowed.")
        return value

    return parse


def parse_flag(value: str, label: str) -> bool:
    value = value.strip().lower()
    if value in ("1", "true", "on", "yes"):
        return True
    if value in ("0", "false", "off", "no"):
        return False
    raise FieldError(f"{label}: choose yes or no.")


def parse_date(value: str, label: str) -> dt.date:
    value = value.strip()
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FieldError(f"{label}: enter a date as YYYY-MM-DD.") from None


#: A form's fields: form name -> (attribute, parser, label).
Fields = Mapping[str, tuple[str, Callable[[str, str], Any], str]]

PACKAGE_FIELDS: Fields = {
    "name": ("name", text(60), "Name"),
    "price": ("price_cents", parse_money, "Price"),
    "max_items": ("max_items", integer(1, 500), "Max items"),
    "active": ("active", parse_flag, "Active"),
}
RATE_FIELDS: Fields = {
    "per_item": ("per_item_cents", parse_money, "Per item"),
    "minimum": ("minimum_cents", parse_money, "Minimum charge"),
    "same_day_flat": ("same_day_flat_cents", parse_money, "Same-day flat price"),
    "same_day_included_items": (
        "same_day_included_items", integer(0, 100), "Items included same day"),
    "same_day_cutoff_hour": ("same_day_cutoff_hour", integer(0, 24), "Same-day cut-off hour"),
    "coi_fee": ("coi_fee_cents", parse_money, "COI handling fee"),
    "high_value": ("high_value_cents", parse_money, "High-value threshold"),
}
SPECIALTY_FIELDS: Fields = {
    "name": ("name", text(60), "Name"),
    "price": ("price_cents", parse_money, "Price"),
    "active": ("active", parse_flag, "Active"),
}
SURCHARGE_FIELDS: Fields = {
    "percent": ("percent_bp", parse_percent, "Percent"),
    "active": ("active", parse_flag, "Active"),
}
PEAK_FIELDS: Fields = {
    "name": ("name", text(80), "Name"),
    "start_date": ("start", parse_date, "Start date"),
    "end_date": ("end", parse_date, "End date"),
}
OVERRIDE_FIELDS: Fields = {
    "date": ("day", parse_date, "Date"),
    "van_capacity": ("van_capacity", optional(integer(0, MAX_CAPACITY)), "Van capacity"),
    "specialty_capacity": (
        "specialty_capacity", optional(integer(0, MAX_CAPACITY)), "Specialty capacity"),
    "note": ("note", text(120, required=False), "Note"),
}
DEFAULT_FIELDS: Fields = {
    "van_capacity": ("van_capacity", integer(0, MAX_CAPACITY), "Vans a day"),
    "specialty_capacity": (
        "specialty_capacity", integer(0, MAX_CAPACITY), "Specialty vans a day"),
    "max_days_ahead": ("max_days_ahead", integer(1, 730), "Days bookable ahead"),
}


def read_form(
    post: Mapping[str, str], fields: Fields, *, partial: bool = False
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """``(values by attribute, errors by field, submitted text by field)``.

    With ``partial`` a field left out of the POST is left unchanged (a script may send only the
    price); a field the page shows is always sent by the browser, even empty.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    submitted: dict[str, str] = {}
    for name, (attribute, parse, label) in fields.items():
        raw = post.get(name)
        if raw is None:
            if partial:
                continue
            raw = ""
        submitted[name] = raw
        try:
            values[attribute] = parse(raw, label)
        except FieldError as exc:
            errors[name] = str(exc)
    return values, errors, submitted


def field_of(fields: Fields, attribute: str) -> str:
    """The form field showing ``attribute`` (to place a service's refusal next to it)."""
    return next((name for name, spec in fields.items() if spec[0] == attribute), attribute)


def differs(obj: Any, values: Mapping[str, Any]) -> bool:
    return any(getattr(obj, name) != value for name, value in values.items())


# --- showing values in form fields ----------------------------------------------------------------


def amount(cents: int) -> str:
    """Cents as typed in a form: ``99500`` -> ``"995.00"``."""
    return f"{cents // 100}.{cents % 100:02d}"


def percent(basis_points: int) -> str:
    """Basis points as typed in a form: ``1500`` -> ``"15"``, ``1250`` -> ``"12.5"``."""
    whole, fraction = divmod(basis_points, 100)
    return str(whole) if not fraction else f"{whole}.{fraction:02d}".rstrip("0")


def flag(value: bool) -> str:
    return "1" if value else "0"


class Failed:
    """A refused form: which one, what was typed, and the message of each field at fault."""

    def __init__(self, form: str, submitted: dict[str, str], errors: dict[str, str]) -> None:
        self.form = form
        self.submitted = submitted
        self.errors = errors


def _forms(shown: dict[str, dict[str, str]], failed: Failed | None) -> dict[str, Any]:
    """Every form's field values (the typed ones for the refused form) and its errors."""
    errors: dict[str, dict[str, str]] = {key: {} for key in shown}
    if failed is not None:
        shown.setdefault(failed.form, {}).update(failed.submitted)
        errors[failed.form] = failed.errors
    return {"values": shown, "errors": errors, "failed": failed.form if failed else None}


def _base(request: Request, status: int) -> dict[str, Any]:
    request.response.status_int = status
    return {
        "can_edit": request.has_permission(EDIT),
        "message": MESSAGES.get(request.GET.get("done", "")),
        "dollars": dollars,
    }


def _done(request: Request, route: str, code: str, anchor: str | None = None,
          **query: str) -> HTTPSeeOther:
    return HTTPSeeOther(location=request.route_url(
        route, _query={**query, "done": code}, _anchor=anchor or ""
    ))


def _policy(request: Request) -> PricingPolicy:
    policy = request.dbsession.get(PricingPolicy, 1)
    if policy is None:  # pragma: no cover - the seed always writes it
        raise HTTPNotFound()
    return policy


# --- the catalog ----------------------------------------------------------------------------------


def _catalog(request: Request, failed: Failed | None = None, status: int = 200) -> dict[str, Any]:
    packages = request.dbsession.scalars(
        select(MiniMovePackage).order_by(MiniMovePackage.sort_order, MiniMovePackage.code)
    ).all()
    specialty = request.dbsession.scalars(
        select(SpecialtyItem).order_by(SpecialtyItem.sort_order, SpecialtyItem.code)
    ).all()
    policy = _policy(request)
    shown: dict[str, dict[str, str]] = {}
    for p in packages:
        shown[f"package-{p.code}"] = {"name": p.name, "price": amount(p.price_cents),
                                      "max_items": str(p.max_items), "active": flag(p.active)}
    for s in specialty:
        shown[f"specialty-{s.code}"] = {"name": s.name, "price": amount(s.price_cents),
                                        "active": flag(s.active)}
    shown["rates"] = {
        "per_item": amount(policy.per_item_cents),
        "minimum": amount(policy.minimum_cents),
        "same_day_flat": amount(policy.same_day_flat_cents),
        "same_day_included_items": str(policy.same_day_included_items),
        "same_day_cutoff_hour": str(policy.same_day_cutoff_hour),
        "coi_fee": amount(policy.coi_fee_cents),
        "high_value": amount(policy.high_value_cents),
    }
    return {**_base(request, status), **_forms(shown, failed),
            "packages": packages, "specialty": specialty, "policy": policy}


@view_config(route_name="pricing_catalog", request_method="GET", renderer=CATALOG,
             permission=Permission.STAFF_READ)
def catalog_page(request: Request) -> dict[str, Any]:
    """Mini Move packages, standard delivery rates and specialty items."""
    return _catalog(request)


def _edit_row(request: Request, model: type, fields: Fields, key: str,
              edit: Callable[..., None], render: Callable[..., dict[str, Any]],
              route: str, done: str) -> Any:
    """One row's form (a package, a specialty item, a surcharge rule): refused or saved.

    Fields left out of the POST stay as they are; the page's forms send them all.
    """
    code = request.matchdict["code"]
    row = request.dbsession.get(model, code)
    if row is None:
        raise HTTPNotFound()
    form = f"{key}-{code}"
    values, errors, submitted = read_form(request.POST, fields, partial=True)
    if errors:
        return render(request, Failed(form, submitted, errors), 400)
    changed = differs(row, values)
    try:
        edit(request.ctx, code, **values)
    except InvalidDraft as exc:
        return render(request, Failed(form, submitted,
                                      {field_of(fields, exc.field): exc.description}), 400)
    return _done(request, route, done if changed else "unchanged", form)


@view_config(route_name="pricing_package", request_method="POST", renderer=CATALOG,
             permission=EDIT)
def package_edit(request: Request) -> Any:
    return _edit_row(request, MiniMovePackage, PACKAGE_FIELDS, "package", services.edit_package,
                     _catalog, "pricing_catalog", "package_saved")


@view_config(route_name="pricing_specialty", request_method="POST", renderer=CATALOG,
             permission=EDIT)
def specialty_edit(request: Request) -> Any:
    return _edit_row(request, SpecialtyItem, SPECIALTY_FIELDS, "specialty",
                     services.edit_specialty, _catalog, "pricing_catalog", "specialty_saved")


@view_config(route_name="pricing_rates", request_method="POST", renderer=CATALOG,
             permission=EDIT)
def rates_edit(request: Request) -> Any:
    values, errors, submitted = read_form(request.POST, RATE_FIELDS, partial=True)
    if errors:
        return _catalog(request, Failed("rates", submitted, errors), 400)
    changed = differs(_policy(request), values)
    services.edit_policy(request.ctx, **values)
    return _done(request, "pricing_catalog", "rates_saved" if changed else "unchanged", "rates")


# --- surcharges and peak dates --------------------------------------------------------------------


def _surcharges(request: Request, failed: Failed | None = None,
                status: int = 200) -> dict[str, Any]:
    rules = request.dbsession.scalars(select(SurchargeRule).order_by(SurchargeRule.code)).all()
    order = {"weekend": 0, "holiday": 1, "peak": 2}
    rules = sorted(rules, key=lambda r: (order.get(r.code, 9), r.code))
    peaks = request.dbsession.scalars(
        select(PeakRange).order_by(PeakRange.start_date, PeakRange.end_date)
    ).all()
    today = local_today(request.ctx.now())
    shown: dict[str, dict[str, str]] = {
        f"rule-{r.code}": {"percent": percent(r.percent_bp), "active": flag(r.active)}
        for r in rules
    }
    shown["peak-add"] = {"name": "", "start_date": "", "end_date": ""}
    upcoming = sorted(
        (day, name)
        for day, name in holidays.country_holidays(
            "US", years=(today.year, today.year + 1)).items()
        if today <= day <= today + dt.timedelta(days=365)
    )
    return {**_base(request, status), **_forms(shown, failed), "rules": rules, "peaks": peaks,
            "today": today, "holidays": upcoming, "percent": percent}


@view_config(route_name="pricing_surcharges", request_method="GET", renderer=SURCHARGES,
             permission=Permission.STAFF_READ)
def surcharges_page(request: Request) -> dict[str, Any]:
    """Surcharge rules (weekend, holiday, peak) and the peak date ranges."""
    return _surcharges(request)


@view_config(route_name="pricing_surcharge", request_method="POST", renderer=SURCHARGES,
             permission=EDIT)
def surcharge_edit(request: Request) -> Any:
    return _edit_row(request, SurchargeRule, SURCHARGE_FIELDS, "rule", services.edit_surcharge,
                     _surcharges, "pricing_surcharges", "surcharge_saved")


@view_config(route_name="pricing_peaks", request_method="POST", renderer=SURCHARGES,
             permission=EDIT)
def peak_add(request: Request) -> Any:
    values, errors, submitted = read_form(request.POST, PEAK_FIELDS)
    if not errors and values["end"] < values["start"]:
        errors["end_date"] = "End date: the range cannot end before it starts."
    if errors:
        return _surcharges(request, Failed("peak-add", submitted, errors), 400)
    try:
        services.add_peak(request.ctx, values["name"], values["start"], values["end"])
    except InvalidDraft as exc:
        return _surcharges(request, Failed("peak-add", submitted,
                                           {field_of(PEAK_FIELDS, exc.field): exc.description}),
                           400)
    return _done(request, "pricing_surcharges", "peak_added", "peaks")


@view_config(route_name="pricing_peak_remove", request_method="POST", renderer=SURCHARGES,
             permission=EDIT)
def peak_remove(request: Request) -> Any:
    try:
        peak_id = uuid.UUID(request.matchdict["id"])
    except ValueError:
        raise HTTPNotFound() from None
    if request.dbsession.get(PeakRange, peak_id) is None:
        raise HTTPNotFound()
    services.remove_peak(request.ctx, peak_id)
    return _done(request, "pricing_surcharges", "peak_removed", "peaks")


# --- capacity -------------------------------------------------------------------------------------


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


def _capacity(request: Request, first: dt.date | None = None, failed: Failed | None = None,
              status: int = 200, month_error: str | None = None) -> dict[str, Any]:
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
            specialty = (row.specialty_capacity
                         if row and row.specialty_capacity is not None else None)
            vans = policy["van_capacity"] if capacity is None else capacity
            specialty_vans = policy["specialty_capacity"] if specialty is None else specialty
            booked = row.booked if row else 0
            specialty_booked = row.specialty_booked if row else 0
            matching = matching_surcharges(current, day)
            classes = [name for name, on in (
                ("past", day < today), ("today", day == today), ("blackout", vans == 0),
                ("full", vans > 0 and booked >= vans)) if on]
            cells.append({
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
            })
        weeks.append(cells)

    # The override form: what was typed when refused, else the day picked with ?day=.
    picked = None
    try:
        picked = parse_date(request.GET.get("day", ""), "day") if request.GET.get("day") else None
    except FieldError:
        picked = None
    override = {"date": "", "van_capacity": "", "specialty_capacity": "", "note": ""}
    if picked is not None and picked >= today:
        row = rows.get(picked) if first <= picked <= last else request.dbsession.get(
            CapacityDay, picked)
        override = {
            "date": picked.isoformat(),
            "van_capacity": "" if not row or row.van_capacity is None else str(row.van_capacity),
            "specialty_capacity": "" if not row or row.specialty_capacity is None
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
        **_base(request, status), **_forms(shown, failed),
        "month": first, "month_key": f"{first:%Y-%m}",
        "prev_month": f"{_shift(first, -1):%Y-%m}", "next_month": f"{_shift(first, 1):%Y-%m}",
        "this_month": f"{today:%Y-%m}", "weeks": weeks, "today": today,
        "weekdays": ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
        "policy": policy, "month_error": month_error,
        "overrides": sorted((r for r in rows.values()
                             if r.van_capacity is not None or r.specialty_capacity is not None
                             or r.note), key=lambda r: r.day),
    }


@view_config(route_name="pricing_capacity", request_method="GET", renderer=CAPACITY,
             permission=Permission.STAFF_READ)
def capacity_page(request: Request) -> dict[str, Any]:
    """The month's calendar: capacity, booked, remaining, overrides, surcharges."""
    today = local_today(request.ctx.now())
    first = _month(request.GET.get("month"), today)
    if first is None:
        return _capacity(request, status=400,
                         month_error="Month: use YYYY-MM (e.g. 2025-07); showing this month.")
    return _capacity(request, first)


@view_config(route_name="pricing_capacity_day", request_method="POST", renderer=CAPACITY,
             permission=EDIT)
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
    services.set_capacity(request.ctx, day, values["van_capacity"],
                          values["specialty_capacity"], values["note"])
    return _done(request, "pricing_capacity", "capacity_saved" if changed else "unchanged",
                 f"day-{day.isoformat()}", month=f"{day:%Y-%m}")


@view_config(route_name="pricing_capacity_defaults", request_method="POST", renderer=CAPACITY,
             permission=EDIT)
def capacity_defaults(request: Request) -> Any:
    """The default vans a day, specialty vans a day, and how far ahead bookings go."""
    values, errors, submitted = read_form(request.POST, DEFAULT_FIELDS, partial=True)
    if errors:
        return _capacity(request, None, Failed("defaults", submitted, errors), 400)
    changed = differs(_policy(request), values)
    services.edit_policy(request.ctx, **values)
    return _done(request, "pricing_capacity", "defaults_saved" if changed else "unchanged",
                 "defaults")


def includeme(config: Configurator) -> None:
    config.add_route("pricing_catalog", "/console/pricing/catalog")
    config.add_route("pricing_package", "/console/pricing/catalog/packages/{code}")
    config.add_route("pricing_specialty", "/console/pricing/catalog/specialty/{code}")
    config.add_route("pricing_rates", "/console/pricing/catalog/rates")
    config.add_route("pricing_surcharges", "/console/pricing/surcharges")
    config.add_route("pricing_surcharge", "/console/pricing/surcharges/rules/{code}")
    config.add_route("pricing_peaks", "/console/pricing/surcharges/peaks")
    config.add_route("pricing_peak_remove", "/console/pricing/surcharges/peaks/{id}/remove")
    config.add_route("pricing_capacity", "/console/pricing/capacity")
    config.add_route("pricing_capacity_day", "/console/pricing/capacity/days")
    config.add_route("pricing_capacity_defaults", "/console/pricing/capacity/defaults")
    config.scan("totetaxi_pricing.console")
