"""POST /api/v1/quotes and GET /api/v1/services: every rule and figure of BUSINESS_RULES.md.

The app's clock is fixed (``registry.clock``) at Monday 2026-11-23 10:00 America/New_York unless
a test moves it, so weekdays, holidays, the same-day cut-off and the 180-day horizon are exact.
Holidays in reach of that clock (checked with the ``holidays`` library): Thanksgiving 2026-11-26
(Thu), Christmas 2026-12-25 (Fri), New Year 2027-01-01 (Fri), MLK Day 2027-01-18 (Mon); the horizon
ends 2027-05-22 (Sat). The first federal holiday on a weekend after that clock is Juneteenth
2027-06-19 (Sat), so the "holiday on a weekend" tests move the clock to 2027-06-01.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import holidays
import pytest
import sqlalchemy as sa
from totetaxi_pricing import services

from totetaxi_core.plugin_api import BUSINESS_TZ
from totetaxi_core.testing import in_transaction

NEW_YORK = BUSINESS_TZ
QUOTES = "/api/v1/quotes"

TODAY = dt.date(2026, 11, 23)  # a Monday
MONDAY = dt.date(2026, 11, 30)
SATURDAY = dt.date(2026, 11, 28)
SUNDAY = dt.date(2026, 11, 29)
THANKSGIVING = dt.date(2026, 11, 26)
CHRISTMAS = dt.date(2026, 12, 25)
NEW_YEAR = dt.date(2027, 1, 1)
LAST_BOOKABLE = TODAY + dt.timedelta(days=180)  # 2027-05-22, a Saturday


def ny(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A New York wall-clock time as the aware UTC datetime ``registry.clock`` returns."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(dt.UTC)


MONDAY_10AM = ny(2026, 11, 23, 10)


def set_clock(app: Any, when: dt.datetime) -> None:
    app.app.registry.clock = lambda: when


@pytest.fixture
def app(make_testapp):
    testapp = make_testapp(**{"totetaxi.plugins": "pricing"})
    set_clock(testapp, MONDAY_10AM)
    return testapp


def run(app: Any, work: Any) -> Any:
    return in_transaction(app.app.registry, work)


def quote(app: Any, **body: Any) -> dict[str, Any]:
    for key, value in list(body.items()):
        if isinstance(value, dt.date):
            body[key] = value.isoformat()
    return app.post_json(QUOTES, body, status=200).json


def refused(app: Any, body: Any, field: str, *, status: int = 400) -> dict[str, Any]:
    """The error (API error shape) that names ``field``; fails on a 500 or any other status."""
    answer = app.post_json(QUOTES, body, status=status).json
    assert answer["status"] == "error"
    named = [e for e in answer["errors"] if e["name"] == field]
    assert named, f"no error names {field!r}: {answer['errors']}"
    assert named[0]["description"]
    return named[0]


def petite(day: dt.date = MONDAY, **extra: Any) -> dict[str, Any]:
    return {"service_type": "mini_move", "package": "petite", "date": day.isoformat(), **extra}


def standard(count: Any, day: dt.date = MONDAY, **extra: Any) -> dict[str, Any]:
    return {
        "service_type": "standard_delivery",
        "item_count": count,
        "date": day.isoformat(),
        **extra,
    }


def specialty(*codes: str, day: dt.date = MONDAY, **extra: Any) -> dict[str, Any]:
    return {
        "service_type": "specialty",
        "specialty_items": [{"code": code, "qty": 1} for code in codes],
        "date": day.isoformat(),
        **extra,
    }


def check_sums(q: dict[str, Any]) -> None:
    """The breakdown adds up, whatever the rule."""
    assert q["subtotal_cents"] == sum(line["amount_cents"] for line in q["lines"])
    assert q["total_cents"] == (
        q["subtotal_cents"]
        + sum(s["amount_cents"] for s in q["surcharges"])
        + sum(f["amount_cents"] for f in q["fees"])
    )
    assert q["currency"] == "USD"
    assert len(q["surcharges"]) <= 1


def test_the_fixed_dates_are_what_the_tests_assume():
    us = holidays.country_holidays("US", years=[2026, 2027])
    assert TODAY.weekday() == 0 and MONDAY.weekday() == 0
    assert (SATURDAY.weekday(), SUNDAY.weekday()) == (5, 6)
    for day in (THANKSGIVING, CHRISTMAS, NEW_YEAR):
        assert day in us and day.weekday() < 5
    for day in (TODAY, MONDAY, SATURDAY, SUNDAY, LAST_BOOKABLE):
        assert day not in us
    assert MONDAY_10AM.tzinfo is not None and MONDAY_10AM.hour == 15  # EST: UTC-5


# --- the catalog ---------------------------------------------------------------------------------


@pytest.mark.validation_only
def test_services_lists_the_seeded_catalog(app):
    answer = app.get("/api/v1/services", status=200).json
    assert answer == {
        "minimum_charge_cents": 28500,
        "mini_move_packages": [
            {"code": "petite", "name": "Petite", "price_cents": 99500, "max_items": 15},
            {"code": "standard", "name": "Standard", "price_cents": 172500, "max_items": 35},
            {"code": "full", "name": "Full", "price_cents": 249000, "max_items": 60},
        ],
        "standard_delivery": {
            "per_item_cents": 9500,
            "minimum_cents": 28500,
            "same_day_flat_cents": 36000,
            "same_day_included_items": 3,
        },
        "specialty_items": [
            {"code": "peloton", "name": "Peloton", "price_cents": 50000},
            {"code": "surfboard", "name": "Surfboard", "price_cents": 35000},
            {"code": "crib", "name": "Crib", "price_cents": 35000},
            {"code": "wardrobe_box", "name": "Wardrobe Box", "price_cents": 27500},
        ],
    }


def test_services_is_public_and_follows_edits(app):
    run(app, lambda ctx: services.edit_package(ctx, "petite", price_cents=101000))
    packages = app.get("/api/v1/services").json["mini_move_packages"]
    assert packages[0] == {
        "code": "petite",
        "name": "Petite",
        "price_cents": 101000,
        "max_items": 15,
    }


# --- prices --------------------------------------------------------------------------------------


@pytest.mark.validation_only
@pytest.mark.parametrize(
    ("package", "cents", "limit"),
    [("petite", 99500, 15), ("standard", 172500, 35), ("full", 249000, 60)],
)
def test_each_package_is_a_flat_price_on_a_weekday(app, package, cents, limit):
    for count in (None, 1, limit):
        body = {"service_type": "mini_move", "package": package, "date": MONDAY.isoformat()}
        if count is not None:
            body["item_count"] = count
        q = app.post_json(QUOTES, body, status=200).json
        assert q["lines"] == [
            {
                "code": f"mini_move.{package}",
                "description": q["lines"][0]["description"],
                "amount_cents": cents,
            }
        ]
        assert q["surcharges"] == [] and q["fees"] == []
        assert q["subtotal_cents"] == q["total_cents"] == cents
        check_sums(q)


@pytest.mark.validation_only
@pytest.mark.parametrize(
    ("code", "cents"),
    [("peloton", 50000), ("surfboard", 35000), ("crib", 35000), ("wardrobe_box", 27500)],
)
def test_each_specialty_item_booked_alone(app, code, cents):
    q = quote(
        app, service_type="specialty", specialty_items=[{"code": code, "qty": 1}], date=MONDAY
    )
    # Below the $285 minimum charge of every booking, a line makes up the difference.
    topped = [("minimum_charge", 28500 - cents)] if cents < 28500 else []
    assert [(line["code"], line["amount_cents"]) for line in q["lines"]] == [
        (f"specialty.{code}", cents),
        *topped,
    ]
    assert q["total_cents"] == max(cents, 28500)
    two = quote(
        app, service_type="specialty", specialty_items=[{"code": code, "qty": 2}], date=MONDAY
    )
    assert two["total_cents"] == 2 * cents


@pytest.mark.validation_only
def test_specialty_qty_defaults_to_one(app):
    q = quote(app, service_type="specialty", specialty_items=[{"code": "crib"}], date=MONDAY)
    assert q["total_cents"] == 35000


@pytest.mark.validation_only
def test_specialty_items_add_to_any_booking(app):
    q = quote(
        app,
        **petite(
            specialty_items=[{"code": "peloton", "qty": 1}, {"code": "wardrobe_box", "qty": 2}]
        ),
    )
    assert [line["amount_cents"] for line in q["lines"]] == [99500, 50000, 55000]
    assert q["total_cents"] == 204500
    q = quote(app, **standard(4, specialty_items=[{"code": "surfboard", "qty": 1}]))
    assert q["total_cents"] == 38000 + 35000
    check_sums(q)


@pytest.mark.validation_only
@pytest.mark.parametrize(
    ("count", "total"),
    [(1, 28500), (2, 28500), (3, 28500), (4, 38000), (10, 95000), (500, 4750000)],
)
def test_standard_delivery_is_per_item_with_a_minimum(app, count, total):
    q = quote(app, **standard(count))
    assert q["subtotal_cents"] == q["total_cents"] == total
    items = q["lines"][0]
    assert items["code"] == "standard_delivery.items"
    assert items["amount_cents"] == count * 9500
    minimum = [line for line in q["lines"] if line["code"] == "standard_delivery.minimum"]
    if count * 9500 < 28500:
        assert minimum[0]["amount_cents"] == 28500 - count * 9500
    else:
        assert minimum == []
    check_sums(q)


@pytest.mark.validation_only
def test_two_items_standard_is_the_285_dollar_minimum(app):
    q = quote(app, **standard(2))
    assert [line["amount_cents"] for line in q["lines"]] == [19000, 9500]
    assert q["total_cents"] == 28500


@pytest.mark.validation_only
def test_the_minimum_is_surcharged_like_any_priced_line(app):
    # The minimum is a priced line: ($190 + $95 top-up) x 1.15 on a Saturday.
    q = quote(app, **standard(2, SATURDAY))
    assert q["subtotal_cents"] == 28500
    assert q["surcharges"][0]["amount_cents"] == 4275
    assert q["total_cents"] == 32775


@pytest.mark.validation_only
@pytest.mark.parametrize(("count", "total"), [(1, 36000), (3, 36000), (4, 45500), (6, 64500)])
def test_same_day_is_a_flat_360_for_three_items_then_per_item(app, count, total):
    q = quote(app, **standard(count, TODAY, same_day=True))
    assert q["lines"][0]["code"] == "standard_delivery.same_day"
    assert q["lines"][0]["amount_cents"] == 36000
    assert q["total_cents"] == total
    if count > 3:
        assert q["lines"][1]["code"] == "standard_delivery.extra_items"
        assert q["lines"][1]["amount_cents"] == (count - 3) * 9500
    else:
        assert len(q["lines"]) == 1
    check_sums(q)


@pytest.mark.both_databases
def test_same_day_is_open_until_just_before_noon(app):
    set_clock(app, ny(2026, 11, 23, 11, 59))
    assert quote(app, **standard(4, TODAY, same_day=True))["total_cents"] == 45500


@pytest.mark.parametrize("hour", [12, 15, 23])
def test_same_day_closes_at_noon_new_york(app, hour):
    set_clock(app, ny(2026, 11, 23, hour))
    error = refused(app, standard(4, TODAY, same_day=True), "same_day")
    assert "12:00" in error["description"]
    # An ordinary delivery on a later date is still fine.
    assert quote(app, **standard(4, MONDAY))["total_cents"] == 38000


@pytest.mark.both_databases
def test_the_cut_off_is_new_york_time_not_utc(app):
    # 16:30 UTC is 11:30 in New York (EST): still open, though UTC is past noon.
    set_clock(app, dt.datetime(2026, 11, 23, 16, 30, tzinfo=dt.UTC))
    assert quote(app, **standard(3, TODAY, same_day=True))["total_cents"] == 36000
    # 03:00 UTC on the 24th is 22:00 on the 23rd in New York: "today" is still the 23rd.
    set_clock(app, dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC))
    refused(app, standard(3, TODAY, same_day=True), "same_day")
    assert quote(app, **standard(3, TODAY))["total_cents"] == 28500


@pytest.mark.validation_only
def test_same_day_for_a_future_date_is_refused(app):
    error = refused(app, standard(4, TODAY + dt.timedelta(days=1), same_day=True), "same_day")
    assert "today" in error["description"].lower()


@pytest.mark.validation_only
@pytest.mark.parametrize(
    "body",
    [petite(TODAY, same_day=True), specialty("crib", day=TODAY, same_day=True)],
    ids=["mini_move", "specialty"],
)
def test_same_day_is_for_standard_delivery_only(app, body):
    refused(app, body, "same_day")


def test_same_day_is_held_to_the_minimum_too(app):
    run(app, lambda ctx: services.edit_policy(ctx, same_day_flat_cents=20000))
    q = quote(app, **standard(1, TODAY, same_day=True))
    assert [line["amount_cents"] for line in q["lines"]] == [20000, 8500]
    assert q["lines"][1]["code"] == "standard_delivery.minimum"
    assert q["total_cents"] == 28500


@pytest.mark.validation_only
def test_same_day_false_is_the_ordinary_price(app):
    assert quote(app, **standard(4, MONDAY, same_day=False))["total_cents"] == 38000


# --- surcharges ----------------------------------------------------------------------------------


@pytest.mark.validation_only
@pytest.mark.parametrize(("day", "weekday"), [(SATURDAY, "Saturday"), (SUNDAY, "Sunday")])
def test_weekend_petite_is_1144_25(app, day, weekday):
    q = quote(app, **petite(day))
    assert q["subtotal_cents"] == 99500
    [surcharge] = q["surcharges"]
    assert surcharge["code"] == "weekend"
    assert surcharge["amount_cents"] == 14925
    assert "15%" in surcharge["description"] and weekday in surcharge["description"]
    assert q["total_cents"] == 114425
    check_sums(q)


@pytest.mark.validation_only
def test_weekdays_have_no_surcharge(app):
    for offset in range(1, 6):  # Tuesday 24th ... Saturday 28th, skipping Thanksgiving
        day = TODAY + dt.timedelta(days=offset)
        q = quote(app, **petite(day))
        if day in (THANKSGIVING, SATURDAY):
            assert q["surcharges"]
        else:
            assert q["surcharges"] == [] and q["total_cents"] == 99500


@pytest.mark.validation_only
def test_business_rules_example_saturday_petite_crib_and_coi(app):
    q = quote(
        app, **petite(SATURDAY, specialty_items=[{"code": "crib", "qty": 1}], coi_handling=True)
    )
    assert q["subtotal_cents"] == 134500
    assert [s["amount_cents"] for s in q["surcharges"]] == [20175]
    assert q["fees"] == [
        {"code": "coi_handling", "description": q["fees"][0]["description"], "amount_cents": 5000}
    ]
    assert q["total_cents"] == 159675
    check_sums(q)


@pytest.mark.validation_only
@pytest.mark.parametrize("day", [CHRISTMAS, NEW_YEAR])
def test_peloton_on_a_federal_holiday(app, day):
    q = quote(app, **specialty("peloton", day=day))
    assert q["lines"] == [
        {
            "code": "specialty.peloton",
            "description": q["lines"][0]["description"],
            "amount_cents": 50000,
        }
    ]
    [surcharge] = q["surcharges"]
    assert surcharge["code"] == "holiday"
    assert surcharge["amount_cents"] == 10000
    assert "20%" in surcharge["description"]
    assert holidays.country_holidays("US", years=day.year)[day] in surcharge["description"]
    assert q["total_cents"] == 60000


@pytest.mark.validation_only
def test_a_weekday_holiday_surcharges_every_service(app):
    assert quote(app, **petite(THANKSGIVING))["total_cents"] == 119400
    assert quote(app, **standard(4, THANKSGIVING))["total_cents"] == 45600
    assert quote(app, **petite(dt.date(2027, 1, 18)))["surcharges"][0]["code"] == "holiday"


@pytest.mark.parametrize(
    "day",
    [dt.date(2027, 6, 19), dt.date(2027, 7, 4)],
    ids=["juneteenth-saturday", "independence-sunday"],
)
def test_a_holiday_on_a_weekend_takes_only_the_largest_surcharge(app, day):
    set_clock(app, ny(2027, 6, 1, 10))
    assert day.weekday() >= 5 and day in holidays.country_holidays("US", years=day.year)
    q = quote(app, **petite(day))
    assert [s["code"] for s in q["surcharges"]] == ["holiday"]
    assert q["surcharges"][0]["amount_cents"] == 19900
    assert q["total_cents"] == 119400  # 20%, not 15% and not 35%


@pytest.mark.both_databases
def test_the_observed_weekday_of_a_weekend_holiday_is_a_holiday(app):
    set_clock(app, ny(2027, 6, 1, 10))
    q = quote(app, **petite(dt.date(2027, 7, 5)))  # Monday, Independence Day (observed)
    assert [s["code"] for s in q["surcharges"]] == ["holiday"]
    assert q["total_cents"] == 119400


@pytest.mark.both_databases
def test_the_largest_surcharge_wins_not_a_fixed_order(app):
    # Make the weekend rule larger than the holiday rule: the weekend now wins on Juneteenth.
    run(app, lambda ctx: services.edit_surcharge(ctx, "weekend", percent_bp=3000))
    set_clock(app, ny(2027, 6, 1, 10))
    q = quote(app, **petite(dt.date(2027, 6, 19)))
    assert [s["code"] for s in q["surcharges"]] == ["weekend"]
    assert q["total_cents"] == 99500 + 29850


def _add_peak(app: Any, name: str, start: dt.date, end: dt.date) -> None:
    run(app, lambda ctx: services.add_peak(ctx, name, start, end))


def test_peak_dates_beat_the_weekend(app):
    _add_peak(app, "Holiday rush", dt.date(2026, 12, 4), dt.date(2026, 12, 6))
    saturday = dt.date(2026, 12, 5)
    q = quote(app, **petite(saturday))
    [surcharge] = q["surcharges"]
    assert surcharge["code"] == "peak"
    assert "25%" in surcharge["description"] and "Holiday rush" in surcharge["description"]
    assert surcharge["amount_cents"] == 24875
    assert q["total_cents"] == 124375
    # A weekday inside the range is peak too; the day after the range is back to normal.
    assert quote(app, **petite(dt.date(2026, 12, 4)))["total_cents"] == 124375
    assert quote(app, **petite(dt.date(2026, 12, 7)))["total_cents"] == 99500
    assert quote(app, **petite(dt.date(2026, 12, 3)))["total_cents"] == 99500


def test_peak_dates_beat_a_holiday(app):
    _add_peak(app, "Christmas week", dt.date(2026, 12, 21), dt.date(2026, 12, 27))
    q = quote(app, **specialty("peloton", day=CHRISTMAS))
    assert [s["code"] for s in q["surcharges"]] == ["peak"]
    assert q["total_cents"] == 62500


def test_an_inactive_rule_does_not_apply(app):
    run(app, lambda ctx: services.edit_surcharge(ctx, "weekend", active=False))
    q = quote(app, **petite(SATURDAY))
    assert q["surcharges"] == [] and q["total_cents"] == 99500


def test_coi_fee_is_never_surcharged(app):
    weekday = quote(app, **standard(4, MONDAY, coi_handling=True))
    assert weekday["fees"][0]["amount_cents"] == 5000
    assert weekday["total_cents"] == 43000
    saturday = quote(app, **standard(4, SATURDAY, coi_handling=True))
    assert saturday["subtotal_cents"] == 38000
    assert saturday["surcharges"][0]["amount_cents"] == 5700  # 15% of 38000, not of 43000
    assert saturday["total_cents"] == 38000 + 5700 + 5000
    _add_peak(app, "Peak", SATURDAY, SATURDAY)
    peak = quote(app, **standard(4, SATURDAY, coi_handling=True))
    assert peak["surcharges"][0]["amount_cents"] == 9500
    assert peak["total_cents"] == 38000 + 9500 + 5000
    assert quote(app, **standard(4, SATURDAY, coi_handling=False))["fees"] == []


@pytest.mark.parametrize(
    ("price_cents", "surcharge_cents"),
    [
        (310, 47),  # 46.5 -> 47 (half up; banker's rounding would give 46)
        (330, 50),  # 49.5 -> 50
        (10, 2),  # 1.5 -> 2
        (309, 46),  # 46.35 -> 46
        (311, 47),  # 46.65 -> 47
        (333, 50),  # 49.95 -> 50
    ],
)
def test_percentages_round_half_up_to_the_cent(app, price_cents, surcharge_cents):
    run(app, lambda ctx: services.edit_policy(ctx, booking_minimum_cents=0))  # no top-up line
    run(app, lambda ctx: services.edit_specialty(ctx, "wardrobe_box", price_cents=price_cents))
    q = quote(app, **specialty("wardrobe_box", day=SATURDAY))
    assert q["subtotal_cents"] == price_cents
    assert q["surcharges"][0]["amount_cents"] == surcharge_cents
    assert q["total_cents"] == price_cents + surcharge_cents


def test_an_edited_price_is_used_by_the_next_quote(app):
    assert quote(app, **petite())["total_cents"] == 99500
    run(app, lambda ctx: services.edit_package(ctx, "petite", price_cents=100000))
    assert quote(app, **petite())["total_cents"] == 100000
    run(app, lambda ctx: services.edit_policy(ctx, per_item_cents=10000, minimum_cents=30000))
    assert quote(app, **standard(2))["total_cents"] == 30000
    assert quote(app, **standard(4))["total_cents"] == 40000


# --- high value ----------------------------------------------------------------------------------


@pytest.mark.validation_only
def test_high_value_from_2000_dollars(app):
    full = quote(app, service_type="mini_move", package="full", date=MONDAY)
    assert full["total_cents"] == 249000 and full["high_value"] is True
    std = quote(app, service_type="mini_move", package="standard", date=MONDAY)
    assert std["total_cents"] == 172500 and std["high_value"] is False
    assert quote(app, **petite())["high_value"] is False


@pytest.mark.validation_only
def test_high_value_boundary_is_inclusive(app):
    exactly = quote(
        app,
        service_type="mini_move",
        package="standard",
        date=MONDAY,
        specialty_items=[{"code": "wardrobe_box", "qty": 1}],
    )
    assert exactly["total_cents"] == 200000 and exactly["high_value"] is True
    below = quote(app, **petite(specialty_items=[{"code": "peloton", "qty": 2}]))
    assert below["total_cents"] == 199500 and below["high_value"] is False


@pytest.mark.validation_only
def test_high_value_counts_surcharges_and_fees(app):
    # $1,725 x 1.15 = $1,983.75, + $50 COI = $2,033.75.
    q = quote(app, service_type="mini_move", package="standard", date=SATURDAY)
    assert q["total_cents"] == 198375 and q["high_value"] is False
    q = quote(app, service_type="mini_move", package="standard", date=SATURDAY, coi_handling=True)
    assert q["total_cents"] == 203375 and q["high_value"] is True


# --- item limits ---------------------------------------------------------------------------------


@pytest.mark.validation_only
@pytest.mark.parametrize(
    ("package", "count", "fits"),
    [
        ("petite", 16, "Standard"),
        ("petite", 20, "Standard"),
        ("petite", 35, "Standard"),
        ("petite", 36, "Full"),
        ("standard", 36, "Full"),
        ("standard", 60, "Full"),
    ],
)
def test_too_many_items_names_the_package_that_fits(app, package, count, fits):
    body = {
        "service_type": "mini_move",
        "package": package,
        "item_count": count,
        "date": MONDAY.isoformat(),
    }
    error = refused(app, body, "item_count")
    assert fits in error["description"]


@pytest.mark.validation_only
@pytest.mark.parametrize(("package", "count"), [("full", 61), ("full", 500), ("petite", 61)])
def test_more_than_the_largest_package_is_refused(app, package, count):
    body = {
        "service_type": "mini_move",
        "package": package,
        "item_count": count,
        "date": MONDAY.isoformat(),
    }
    error = refused(app, body, "item_count")
    assert "Standard" not in error["description"]


def test_the_fitting_package_follows_edited_limits(app):
    run(app, lambda ctx: services.edit_package(ctx, "petite", max_items=20))
    assert quote(app, **petite(item_count=20))["total_cents"] == 99500
    error = refused(app, petite(item_count=21), "item_count")
    assert "Standard" in error["description"]


# --- refusals: each a 400 naming the field, never a 500 ------------------------------------------


@pytest.mark.validation_only
def test_specialty_booking_without_items_is_refused(app):
    refused(app, {"service_type": "specialty", "date": MONDAY.isoformat()}, "specialty_items")
    refused(
        app,
        {"service_type": "specialty", "specialty_items": [], "date": MONDAY.isoformat()},
        "specialty_items",
    )


@pytest.mark.validation_only
def test_unknown_specialty_code_names_its_position(app):
    error = refused(app, specialty("hot_tub"), "specialty_items.0.code")
    assert "hot_tub" in error["description"]
    refused(app, specialty("crib", "piano"), "specialty_items.1.code")
    refused(app, petite(specialty_items=[{"code": "piano", "qty": 1}]), "specialty_items.0.code")


@pytest.mark.both_databases
def test_the_same_specialty_code_twice_is_refused(app):
    refused(app, specialty("crib", "crib"), "specialty_items.1.code")


@pytest.mark.validation_only
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**petite(), "service_type": "moving"}, "service_type"),
        ({**petite(), "service_type": ""}, "service_type"),
        ({**petite(), "service_type": 3}, "service_type"),
        ({**petite(), "service_type": None}, "service_type"),
        ({**petite(), "package": "huge"}, "package"),
        ({**petite(), "package": 1}, "package"),
        ({**petite(), "package": "x" * 31}, "package"),
        ({"service_type": "mini_move", "date": MONDAY.isoformat()}, "package"),
        ({"service_type": "standard_delivery", "date": MONDAY.isoformat()}, "item_count"),
        (standard(0), "item_count"),
        (standard(-1), "item_count"),
        (standard(501), "item_count"),
        (standard(10**20), "item_count"),
        (standard(2.5), "item_count"),
        (standard(3.0), "item_count"),
        (standard("3"), "item_count"),
        (standard(True), "item_count"),
        (standard([3]), "item_count"),
        (petite(item_count=0), "item_count"),
        (petite(item_count=-5), "item_count"),
        ({**specialty("crib"), "item_count": 2}, "item_count"),
        (petite(specialty_items=[{"code": "crib", "qty": 0}]), "specialty_items.0.qty"),
        (petite(specialty_items=[{"code": "crib", "qty": -1}]), "specialty_items.0.qty"),
        (petite(specialty_items=[{"code": "crib", "qty": 21}]), "specialty_items.0.qty"),
        (petite(specialty_items=[{"code": "crib", "qty": "1"}]), "specialty_items.0.qty"),
        (petite(specialty_items=[{"code": "crib", "qty": 1.5}]), "specialty_items.0.qty"),
        (petite(specialty_items=[{"code": "crib", "qty": True}]), "specialty_items.0.qty"),
        (petite(specialty_items=[{"qty": 1}]), "specialty_items.0.code"),
        (petite(specialty_items=[{"code": "", "qty": 1}]), "specialty_items.0.code"),
        (petite(specialty_items=[{"code": 7, "qty": 1}]), "specialty_items.0.code"),
        (petite(specialty_items="crib"), "specialty_items"),
        (petite(specialty_items=[{"code": "crib", "qty": 1}] * 11), "specialty_items"),
        (petite(date="2026-13-01"), "date"),
        (petite(date="2026-02-30"), "date"),
        (petite(date="tomorrow"), "date"),
        (petite(date=20261201), "date"),
        (petite(date="2026-12-01T10:00"), "date"),
        (petite(date="12/01/2026"), "date"),
        (petite(date=None), "date"),
        (petite(date=""), "date"),
        ({"service_type": "mini_move", "package": "petite"}, "date"),
        (petite(same_day="yes"), "same_day"),
        (petite(same_day=1), "same_day"),
        (petite(coi_handling="true"), "coi_handling"),
        (petite(coi_handling=0), "coi_handling"),
        ({**petite(), "service_type": "mini\x00_move"}, "service_type"),
        ({**petite(), "package": "pet\x00ite"}, "package"),
        (petite(specialty_items=[{"code": "cr\x00ib", "qty": 1}]), "specialty_items.0.code"),
    ],
    ids=lambda value: None if isinstance(value, dict) else str(value),
)
def test_bad_input_is_a_400_naming_the_field(app, body, field):
    refused(app, body, field)


@pytest.mark.validation_only
def test_past_dates_are_refused(app):
    error = refused(app, petite(TODAY - dt.timedelta(days=1)), "date")
    assert "past" in error["description"]
    refused(app, petite(dt.date(2020, 1, 1)), "date")
    assert quote(app, **standard(4, TODAY))["total_cents"] == 38000  # today itself is fine


@pytest.mark.validation_only
def test_at_most_180_days_ahead(app):
    assert quote(app, **petite(LAST_BOOKABLE))["total_cents"] == 114425  # a Saturday
    error = refused(app, petite(LAST_BOOKABLE + dt.timedelta(days=1)), "date")
    assert "180" in error["description"]
    refused(app, petite(dt.date(9999, 12, 31)), "date")


@pytest.mark.both_databases
def test_the_horizon_follows_the_clock(app):
    set_clock(app, ny(2026, 11, 24, 10))
    assert quote(app, **petite(LAST_BOOKABLE + dt.timedelta(days=1)))["total_cents"] == 114425
    refused(app, petite(TODAY), "date")


@pytest.mark.validation_only
def test_unknown_body_keys_are_refused_by_name(app):
    answer = app.post_json(QUOTES, petite(discount_cents=99500), status=400).json
    assert "discount_cents" in " ".join(
        e["name"] + " " + e["description"] for e in answer["errors"]
    )


@pytest.mark.validation_only
def test_unknown_keys_in_a_specialty_line_are_refused(app):
    # A typo ("quantity" for "qty") must not silently quote one item instead of two.
    body = petite(specialty_items=[{"code": "crib", "quantity": 2}])
    answer = app.post_json(QUOTES, body, status=400).json
    assert "quantity" in " ".join(e["name"] + " " + e["description"] for e in answer["errors"])


@pytest.mark.validation_only
@pytest.mark.parametrize(
    ("payload", "content_type"),
    [
        ("{}", "application/json"),
        ("", "application/json"),
        ("not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('"mini_move"', "application/json"),
        ("null", "application/json"),
    ],
)
def test_empty_or_malformed_bodies_are_a_400(app, payload, content_type):
    answer = app.post(QUOTES, payload, content_type=content_type, status=400).json
    assert answer["status"] == "error" and answer["errors"]


@pytest.mark.validation_only
def test_a_form_body_is_refused_not_a_500(app):
    answer = app.post(
        QUOTES,
        "service_type=mini_move&package=petite&date=2026-11-30",
        content_type="application/x-www-form-urlencoded",
        expect_errors=True,
    )
    assert answer.status_int in (400, 415)
    assert answer.json["status"] == "error" and answer.json["errors"]


@pytest.mark.validation_only
def test_an_empty_body_names_the_required_fields(app):
    answer = app.post_json(QUOTES, {}, status=400).json
    names = {e["name"] for e in answer["errors"]}
    assert {"service_type", "date"} <= names


@pytest.mark.validation_only
def test_quotes_only_answer_post(app):
    app.get(QUOTES, status=405)


# --- determinism and no writes -------------------------------------------------------------------


@pytest.mark.validation_only
def test_the_same_input_gives_the_same_answer(app):
    body = petite(SATURDAY, specialty_items=[{"code": "crib", "qty": 1}], coi_handling=True)
    first = app.post_json(QUOTES, body).json
    assert all(app.post_json(QUOTES, body).json == first for _ in range(3))


def _row_counts(app: Any) -> dict[str, int]:
    engine = app.app.registry["dbengine"]
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        counts = {
            name: conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in tables
        }
        counts["catalog_version"] = conn.execute(
            sa.text("SELECT catalog_version FROM pricing_policy WHERE id = 1")
        ).scalar_one()
        counts["capacity_booked"] = conn.execute(
            sa.text("SELECT coalesce(sum(booked), 0) FROM pricing_capacity_days")
        ).scalar_one()
    return counts


def test_a_quote_never_writes(app):
    before = _row_counts(app)
    assert {
        "pricing_packages",
        "pricing_specialty_items",
        "pricing_surcharge_rules",
        "pricing_peak_ranges",
        "pricing_policy",
        "pricing_capacity_days",
        "outbox_messages",
        "audit_records",
    } <= set(before)
    quote(app, **petite(SATURDAY, specialty_items=[{"code": "crib", "qty": 1}], coi_handling=True))
    quote(app, **standard(4, TODAY, same_day=True))
    quote(app, **specialty("peloton", day=CHRISTMAS))
    refused(app, petite(item_count=20), "item_count")
    refused(app, specialty("piano"), "specialty_items.0.code")
    refused(app, petite(date="tomorrow"), "date")
    app.get("/api/v1/services")
    assert _row_counts(app) == before


def test_a_package_on_another_service_is_refused(make_testapp):
    app = make_testapp(**{"totetaxi.plugins": "pricing"})
    import datetime as dt

    day = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    answer = app.post_json(
        "/api/v1/quotes",
        {"service_type": "standard_delivery", "item_count": 2, "package": "petite", "date": day},
        status=400,
    )
    assert answer.json["errors"][0]["name"] == "package"
