"""GET /api/v1/availability: shape, limits, capacity overrides, reservations, one round trip.

The app's clock is fixed at Monday 2026-11-23 10:00 America/New_York (before the same-day
cut-off); the 180-day horizon ends Saturday 2027-05-22.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event
from totetaxi_pricing import services

from totetaxi_core.plugin_api import BUSINESS_TZ
from totetaxi_core.testing import in_transaction

NEW_YORK = BUSINESS_TZ
URL = "/api/v1/availability"

TODAY = dt.date(2026, 11, 23)  # Monday
TUESDAY = dt.date(2026, 11, 24)
FRIDAY = dt.date(2026, 11, 27)
SATURDAY = dt.date(2026, 11, 28)
SUNDAY = dt.date(2026, 11, 29)
MONDAY = dt.date(2026, 11, 30)
CHRISTMAS = dt.date(2026, 12, 25)
LAST_BOOKABLE = dt.date(2027, 5, 22)


def ny(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(dt.UTC)


def set_clock(app: Any, when: dt.datetime) -> None:
    app.app.registry.clock = lambda: when


@pytest.fixture
def app(make_testapp):
    testapp = make_testapp(**{"totetaxi.plugins": "pricing"})
    set_clock(testapp, ny(2026, 11, 23, 10))
    return testapp


def run(app: Any, work: Any) -> Any:
    return in_transaction(app.app.registry, work)


def days(app: Any, start: dt.date, end: dt.date, service_type: str | None = None) -> list[dict]:
    params = {"start": start.isoformat(), "end": end.isoformat()}
    if service_type:
        params["service_type"] = service_type
    return app.get(URL, params=params, status=200).json["days"]


def day(app: Any, date: dt.date, service_type: str | None = None) -> dict[str, Any]:
    [only] = days(app, date, date, service_type)
    assert only["date"] == date.isoformat()
    return only


def refused(app: Any, params: dict[str, str], field: str) -> dict[str, Any]:
    answer = app.get(URL, params=params, status=400).json
    assert answer["status"] == "error"
    named = [e for e in answer["errors"] if e["name"] == field]
    assert named, f"no error names {field!r}: {answer['errors']}"
    assert named[0]["location"] == "querystring"
    assert named[0]["description"]
    return named[0]


# --- shape and limits ----------------------------------------------------------------------------


def test_the_answer_has_the_shape_of_api_md(app):
    answer = app.get(URL, params={"start": "2026-11-27", "end": "2026-11-30"}, status=200).json
    assert list(answer) == ["days"]
    assert [d["date"] for d in answer["days"]] == [
        "2026-11-27",
        "2026-11-28",
        "2026-11-29",
        "2026-11-30",
    ]
    for entry in answer["days"]:
        assert set(entry) == {
            "date",
            "available",
            "open",
            "remaining",
            "specialty_remaining",
            "surcharges",
        }
        assert entry["available"] is True and entry["open"] is True
        assert entry["remaining"] == 4 and entry["specialty_remaining"] == 2
        assert isinstance(entry["surcharges"], list)
    assert [d["surcharges"] for d in answer["days"]] == [[], ["weekend"], ["weekend"], []]


def test_the_hook_answers_like_the_api(app):
    api = days(app, FRIDAY, MONDAY, "mini_move")
    hook = run(
        app,
        lambda ctx: ctx.call_hook(
            "totetaxi_availability", start=FRIDAY, end=MONDAY, service_type="mini_move"
        ),
    )
    assert hook == api


def test_at_most_93_days(app):
    answer = days(app, TODAY, TODAY + dt.timedelta(days=92))
    assert len(answer) == 93
    assert answer[-1]["date"] == (TODAY + dt.timedelta(days=92)).isoformat()
    error = refused(
        app, {"start": TODAY.isoformat(), "end": (TODAY + dt.timedelta(days=93)).isoformat()}, "end"
    )
    assert "93" in error["description"]
    refused(app, {"start": TODAY.isoformat(), "end": "2027-11-23"}, "end")


def test_a_single_day(app):
    assert len(days(app, MONDAY, MONDAY)) == 1


def test_end_before_start_is_refused(app):
    refused(app, {"start": MONDAY.isoformat(), "end": SUNDAY.isoformat()}, "end")


def test_a_past_start_is_refused(app):
    error = refused(app, {"start": "2026-11-22", "end": "2026-11-30"}, "start")
    assert "past" in error["description"]
    assert days(app, TODAY, TODAY)  # today is not the past


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-13-01", "end": "2026-12-02"}, "start"),
        ({"start": "tomorrow", "end": "2026-12-02"}, "start"),
        ({"start": "20261201", "end": "2026-12-02"}, "start"),
        ({"start": "2026-02-30", "end": "2026-12-02"}, "start"),
        ({"start": "2026-12-01", "end": "2026-12-32"}, "end"),
        ({"start": "2026-12-01", "end": "next week"}, "end"),
        ({"start": "2026-12-01", "end": "2026-12-01T00:00"}, "end"),
        ({"start": "2026-12-01\x00", "end": "2026-12-02"}, "start"),
        ({"end": "2026-12-02"}, "start"),
        ({"start": "2026-12-01"}, "end"),
        ({"start": "", "end": "2026-12-02"}, "start"),
        ({"start": "2026-12-01", "end": "2026-12-02", "service_type": "moving"}, "service_type"),
        ({"start": "2026-12-01", "end": "2026-12-02", "service_type": "x\x00"}, "service_type"),
    ],
)
def test_malformed_queries_are_a_400_naming_the_field(app, params, field):
    refused(app, params, field)


def test_no_query_at_all_names_both_dates(app):
    answer = app.get(URL, status=400).json
    assert {e["name"] for e in answer["errors"]} >= {"start", "end"}


# --- capacity ------------------------------------------------------------------------------------


def test_a_zero_override_is_a_blackout(app):
    run(app, lambda ctx: services.set_capacity(ctx, MONDAY, 0, None, "Staff day off"))
    for service_type in (None, "mini_move", "standard_delivery", "specialty"):
        blackout = day(app, MONDAY, service_type)
        assert blackout["available"] is False
        assert blackout["remaining"] == 0
        assert blackout["open"] is True  # no van: a capacity matter, which reserving decides
    assert day(app, SUNDAY)["available"] is True  # only that date


def test_overrides_change_the_days_capacity(app):
    run(app, lambda ctx: services.set_capacity(ctx, MONDAY, 2, None))
    assert day(app, MONDAY)["remaining"] == 2
    run(app, lambda ctx: services.set_capacity(ctx, MONDAY, 7, 5))
    assert day(app, MONDAY) | {"date": None} == {
        "date": None,
        "available": True,
        "open": True,
        "remaining": 7,
        "specialty_remaining": 5,
        "surcharges": [],
    }
    run(app, lambda ctx: services.set_capacity(ctx, MONDAY, None, None))
    assert (day(app, MONDAY)["remaining"], day(app, MONDAY)["specialty_remaining"]) == (4, 2)


def test_the_default_capacity_is_data(app):
    run(app, lambda ctx: services.edit_policy(ctx, van_capacity=6, specialty_capacity=3))
    assert {(d["remaining"], d["specialty_remaining"]) for d in days(app, TUESDAY, MONDAY)} == {
        (6, 3)
    }


def test_reservations_reduce_what_remains(app):
    for left in (3, 2, 1):
        run(app, lambda ctx: services.reserve(ctx, MONDAY))
        assert day(app, MONDAY)["remaining"] == left
        assert day(app, MONDAY)["available"] is True
    run(app, lambda ctx: services.reserve(ctx, MONDAY))
    full = day(app, MONDAY)
    assert full["remaining"] == 0 and full["available"] is False
    assert day(app, SUNDAY)["remaining"] == 4
    run(app, lambda ctx: services.release(ctx, MONDAY))
    assert day(app, MONDAY)["remaining"] == 1 and day(app, MONDAY)["available"] is True


def test_an_override_below_the_bookings_shows_nothing_left(app):
    for _ in range(3):
        run(app, lambda ctx: services.reserve(ctx, MONDAY))
    run(app, lambda ctx: services.set_capacity(ctx, MONDAY, 2, None))
    assert day(app, MONDAY)["remaining"] == 0
    assert day(app, MONDAY)["available"] is False


def test_specialty_capacity_is_separate(app):
    run(app, lambda ctx: services.reserve(ctx, MONDAY, specialty=True))
    assert (day(app, MONDAY)["remaining"], day(app, MONDAY)["specialty_remaining"]) == (3, 1)
    run(app, lambda ctx: services.reserve(ctx, MONDAY, specialty=True))
    for service_type, available in (
        ("specialty", False),
        ("mini_move", True),
        ("standard_delivery", True),
        (None, True),
    ):
        entry = day(app, MONDAY, service_type)
        assert entry["specialty_remaining"] == 0
        assert entry["remaining"] == 2
        assert entry["available"] is available, service_type


def test_a_specialty_override_of_zero_closes_specialty_only(app):
    run(app, lambda ctx: services.set_capacity(ctx, MONDAY, None, 0))
    assert day(app, MONDAY, "specialty")["available"] is False
    assert day(app, MONDAY, "mini_move")["available"] is True


def test_specialty_needs_a_van_too(app):
    run(app, lambda ctx: services.set_capacity(ctx, MONDAY, 1, None))
    run(app, lambda ctx: services.reserve(ctx, MONDAY))
    entry = day(app, MONDAY, "specialty")
    assert entry["specialty_remaining"] == 2 and entry["available"] is False


# --- dates ---------------------------------------------------------------------------------------


def test_surcharge_codes_are_listed(app):
    run(
        app,
        lambda ctx: services.add_peak(
            ctx, "Holiday rush", dt.date(2026, 12, 5), dt.date(2026, 12, 6)
        ),
    )
    listed = {d["date"]: d["surcharges"] for d in days(app, TODAY, dt.date(2027, 1, 2))}
    assert listed["2026-11-23"] == []
    assert listed["2026-11-26"] == ["holiday"]  # Thanksgiving
    assert listed["2026-11-28"] == ["weekend"]
    assert listed["2026-11-29"] == ["weekend"]
    assert listed["2026-12-05"] == ["peak"]  # peak beats the weekend
    assert listed["2026-12-06"] == ["peak"]
    assert listed["2026-12-12"] == ["weekend"]
    assert listed[CHRISTMAS.isoformat()] == ["holiday"]
    assert listed["2027-01-01"] == ["holiday"]
    assert listed["2027-01-02"] == ["weekend"]
    assert all(len(codes) <= 1 for codes in listed.values())


@pytest.mark.both_databases
def test_a_holiday_on_a_weekend_lists_the_larger_surcharge(app):
    set_clock(app, ny(2027, 6, 1, 10))
    assert day(app, dt.date(2027, 6, 19))["surcharges"] == ["holiday"]  # Juneteenth, Saturday


def test_days_past_the_horizon_are_not_available(app):
    answer = {
        d["date"]: d["available"] for d in days(app, dt.date(2027, 5, 20), dt.date(2027, 5, 25))
    }
    assert answer == {
        "2027-05-20": True,
        "2027-05-21": True,
        LAST_BOOKABLE.isoformat(): True,
        "2027-05-23": False,
        "2027-05-24": False,
        "2027-05-25": False,
    }


@pytest.mark.both_databases
def test_today_is_for_same_day_standard_delivery_before_noon(app):
    assert day(app, TODAY)["available"] is True
    assert day(app, TODAY, "standard_delivery")["available"] is True
    assert day(app, TODAY, "mini_move")["available"] is False
    assert day(app, TODAY, "specialty")["available"] is False
    assert day(app, TODAY, "mini_move")["open"] is False  # closed to it, not full
    set_clock(app, ny(2026, 11, 23, 12))
    for service_type in (None, "standard_delivery", "mini_move", "specialty"):
        # Past the cut-off: closed while vans remain ("open" tells it from a full day).
        assert day(app, TODAY, service_type)["available"] is False
        assert day(app, TODAY, service_type)["open"] is False
        assert day(app, TODAY, service_type)["remaining"] == 4
    assert day(app, TUESDAY)["available"] is True


# --- one round trip ------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_one_database_round_trip_for_93_days(app):
    # Rows for some of the days: overrides, bookings and a specialty booking.
    run(app, lambda ctx: services.set_capacity(ctx, MONDAY, 0, None))
    run(app, lambda ctx: services.set_capacity(ctx, CHRISTMAS, 2, 1))
    run(app, lambda ctx: services.reserve(ctx, SATURDAY))
    run(app, lambda ctx: services.reserve(ctx, SUNDAY, specialty=True))
    end = TODAY + dt.timedelta(days=92)
    params = {"start": TODAY.isoformat(), "end": end.isoformat()}
    app.get(URL, params=params, status=200)  # warms the catalog cache

    engine = app.app.registry["dbengine"]
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for service_type in (None, "specialty"):
            statements.clear()
            answer = app.get(
                URL,
                params={**params, **({"service_type": service_type} if service_type else {})},
                status=200,
            )
            assert len(statements) == 1, statements
            assert len(answer.json["days"]) == 93
    finally:
        event.remove(engine, "before_cursor_execute", count)
    by_date = {d["date"]: d for d in answer.json["days"]}
    assert by_date[MONDAY.isoformat()]["available"] is False
    assert by_date[CHRISTMAS.isoformat()]["remaining"] == 2
    assert by_date[CHRISTMAS.isoformat()]["specialty_remaining"] == 1
    assert by_date[SATURDAY.isoformat()]["remaining"] == 3
    assert by_date[SUNDAY.isoformat()]["specialty_remaining"] == 1


@pytest.mark.both_databases
def test_availability_never_writes(app):
    engine = app.app.registry["dbengine"]
    writes: list[str] = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith("SELECT"):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", spy)
    try:
        days(app, TODAY, TODAY + dt.timedelta(days=92), "specialty")
        app.get(URL, params={"start": "2026-11-22", "end": "2026-11-30"}, status=400)
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert writes == []
