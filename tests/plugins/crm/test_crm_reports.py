"""CRM reports: each report's rows for a known fixture, New York day edges, the CSV export
(header, quoting, formula injection, streaming), the JSON pages, permissions, errors, a report
contributed by another plugin through ``totetaxi_crm_reports``, and the console pages."""

from __future__ import annotations

import datetime as dt
import inspect
import uuid
from typing import Any

import pytest
from sqlalchemy import select, update
from support.crm import (
    DAY,
    REPORTS,
    booking_at,
    copy_bookings,
    csv_rows,
    pay,
    run,
    set_booking,
    utc,
)
from webob import Request

from totetaxi_core.plugin_api import BookingStatus, hookimpl
from totetaxi_core.testing import bearer, console_sign_in, make_customer

HYPERLINK = '=HYPERLINK("http://x","y")'


def dollars(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def error_names(response: Any) -> list[str]:
    return [error["name"] for error in response.json["errors"]]


# --- bookings and revenue: rows and New York day edges ----------------------------------------


@pytest.fixture
def four(app):
    """Four guest bookings around New York's midnights, across the end of daylight saving
    (Sunday 2026-11-01, 02:00 EDT -> 01:00 EST):

    * ``a``: 2026-10-31 03:59 UTC = Fri 10-30 23:59 EDT, confirmed;
    * ``b``: 2026-10-31 04:00 UTC = Sat 10-31 00:00 EDT, completed;
    * ``c``: 2026-11-02 04:30 UTC = Sun 11-01 23:30 EST, cancelled, guest named ``=HYPERLINK``;
    * ``d``: 2026-11-02 05:00 UTC = Mon 11-02 00:00 EST, waiting for payment.
    """
    a = booking_at(app, utc(2026, 10, 31, 3, 59))
    b = booking_at(app, utc(2026, 10, 31, 4, 0), guest={"last_name": 'O"Neil, Jr'})
    c = booking_at(app, utc(2026, 11, 2, 4, 30), guest={"first_name": HYPERLINK})
    d = booking_at(app, utc(2026, 11, 2, 5, 0), guest={"email": "dee@example.com"})
    set_booking(app, a["id"], status=BookingStatus.CONFIRMED)
    set_booking(app, b["id"], status=BookingStatus.COMPLETED)
    set_booking(app, c["id"], status=BookingStatus.CANCELLED)
    return {"a": a, "b": b, "c": c, "d": d}


@pytest.mark.both_databases
def test_bookings_report_rows_are_the_range_s_new_york_days(app, staff, four):
    b, c = four["b"], four["c"]
    answer = app.get(REPORTS + "/bookings?from=2026-10-31&to=2026-11-01", headers=staff).json
    assert answer["from"] == "2026-10-31" and answer["to"] == "2026-11-01"
    assert answer["next_cursor"] is None
    assert answer["items"] == [
        {
            "number": b["number"],
            "created_at": "2026-10-31 00:00:00",
            "pickup_date": "2026-11-26",
            "service": "mini_move",
            "status": "completed",
            "name": 'Gale O"Neil, Jr',
            "email": "gale@example.com",
            "total": dollars(b["total_cents"]),
            "total_cents": b["total_cents"],
            "high_value": False,
        },
        {
            "number": c["number"],
            "created_at": "2026-11-01 23:30:00",
            "pickup_date": "2026-11-26",
            "service": "mini_move",
            "status": "cancelled",
            "name": HYPERLINK + " Guest",
            "email": "gale@example.com",
            "total": dollars(c["total_cents"]),
            "total_cents": c["total_cents"],
            "high_value": False,
        },
    ]
    numbers = {
        (first, last): [
            item["number"]
            for item in app.get(f"{REPORTS}/bookings?from={first}&to={last}", headers=staff).json[
                "items"
            ]
        ]
        for first, last in (
            ("2026-10-30", "2026-10-30"),
            ("2026-10-31", "2026-10-31"),
            ("2026-11-01", "2026-11-01"),
            ("2026-11-02", "2026-11-02"),
            ("2026-10-30", "2026-11-02"),
        )
    }
    a, d = four["a"], four["d"]
    assert numbers == {
        ("2026-10-30", "2026-10-30"): [a["number"]],
        ("2026-10-31", "2026-10-31"): [b["number"]],
        ("2026-11-01", "2026-11-01"): [c["number"]],
        ("2026-11-02", "2026-11-02"): [d["number"]],
        ("2026-10-30", "2026-11-02"): [a["number"], b["number"], c["number"], d["number"]],
    }


@pytest.mark.both_databases
def test_revenue_report_groups_by_new_york_day_and_service(app, staff, four):
    total = four["a"]["total_cents"]
    assert all(booking["total_cents"] == total for booking in four.values())
    response = app.get(REPORTS + "/revenue.csv?from=2026-10-30&to=2026-11-02", headers=staff)
    assert csv_rows(response) == [
        ["day", "service", "bookings", "revenue", "revenue_cents", "cancellations"],
        ["2026-10-30", "mini_move", "1", dollars(total), str(total), "0"],
        ["2026-10-31", "mini_move", "1", dollars(total), str(total), "0"],
        ["2026-11-01", "mini_move", "1", "0.00", "0", "1"],
        ["2026-11-02", "mini_move", "1", "0.00", "0", "0"],
    ]
    # The same day seen alone: its edges are New York's midnights, not UTC's.
    alone = app.get(REPORTS + "/revenue?from=2026-11-01&to=2026-11-01", headers=staff).json
    assert alone["items"] == [
        {
            "day": "2026-11-01",
            "service": "mini_move",
            "bookings": 1,
            "revenue": "0.00",
            "revenue_cents": 0,
            "cancellations": 1,
        }
    ]


# --- customers ---------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_customers_report_lifetime_value_and_repeat(app, staff):
    registry = app.app.registry
    xena = make_customer(registry, "xena@example.com", first_name="Xena", last_name="Ward")
    yuri = make_customer(registry, "yuri@example.com", first_name="Yuri", last_name="Oak")
    zoe = make_customer(registry, "zoe@example.com", first_name="Zoe", last_name="Park")
    headers = {who.email: bearer(app, who.email) for who in (xena, yuri, zoe)}
    later = DAY + dt.timedelta(days=1)
    x1 = booking_at(app, utc(2026, 10, 31, 15), headers=headers[xena.email])
    x2 = booking_at(app, utc(2026, 10, 20, 15), headers=headers[xena.email])
    booking_at(app, utc(2026, 11, 10, 15), headers=headers[xena.email])
    booking_at(app, utc(2026, 10, 20, 15), headers=headers[yuri.email], day=later)  # not in range
    z1 = booking_at(app, utc(2026, 11, 1, 15), headers=headers[zoe.email], day=later)
    z2 = booking_at(app, utc(2026, 11, 1, 16), headers=headers[zoe.email], day=later)
    set_booking(app, x1["id"], status=BookingStatus.COMPLETED)
    set_booking(app, x2["id"], status=BookingStatus.COMPLETED)
    set_booking(app, z2["id"], status=BookingStatus.CANCELLED)
    set_booking(app, z1["id"], status=BookingStatus.CONFIRMED)
    value = x1["total_cents"] + x2["total_cents"]

    response = app.get(REPORTS + "/customers.csv?from=2026-10-31&to=2026-11-01", headers=staff)
    rows = csv_rows(response)
    assert rows[0] == [
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
    ]
    body = [row[:2] + row[3:] for row in rows[1:]]  # registered_at is the real clock's
    assert body == [
        [
            "xena@example.com",
            "Xena Ward",
            "3",
            "2",
            dollars(value),
            str(value),
            "2026-10-20 11:00:00",
            "2026-11-10 10:00:00",
            "yes",
        ],
        [
            "zoe@example.com",
            "Zoe Park",
            "2",
            "0",
            "0.00",
            "0",
            "2026-11-01 10:00:00",
            "2026-11-01 11:00:00",
            "no",
        ],
    ]
    page = app.get(REPORTS + "/customers?from=2026-10-31&to=2026-11-01", headers=staff).json
    assert page["summary"] == {
        "customers": 2,
        "repeat_customers": 1,
        "repeat_rate": 0.5,
        "lifetime_value_cents": value,
    }
    assert app.get(REPORTS + "/bookings", headers=staff).json["summary"] is None


# --- payments and deliveries (published by their plugins) --------------------------------------


@pytest.mark.both_databases
def test_payments_reconciliation_report(app, staff):
    paid = booking_at(app, utc(2026, 11, 20, 15))
    pay(app, paid)
    unpaid = booking_at(app, utc(2026, 11, 20, 16))
    set_booking(app, paid["id"], created_at=utc(2026, 11, 20, 15))
    answer = app.get(
        REPORTS + "/payments_reconciliation?from=2026-11-20&to=2026-11-20", headers=staff
    ).json
    owed = paid["total_cents"]
    assert answer["items"] == [
        {
            "booking": paid["number"],
            "created_at": "2026-11-20 10:00:00",
            "pickup_date": "2026-11-26",
            "booking_status": "confirmed",
            "owed_cents": owed,
            "received_cents": owed,
            "refunded_cents": 0,
            "net_cents": owed,
            "difference_cents": 0,
            "state": "paid",
        },
        {
            "booking": unpaid["number"],
            "created_at": "2026-11-20 11:00:00",
            "pickup_date": "2026-11-26",
            "booking_status": "pending_payment",
            "owed_cents": unpaid["total_cents"],
            "received_cents": 0,
            "refunded_cents": 0,
            "net_cents": 0,
            "difference_cents": -unpaid["total_cents"],
            "state": "unpaid",
        },
    ]
    # A negative amount is a number in the CSV, never defused into text.
    rows = csv_rows(
        app.get(
            REPORTS + "/payments_reconciliation.csv?from=2026-11-20&to=2026-11-20", headers=staff
        )
    )
    assert rows[2][8] == str(-unpaid["total_cents"])


@pytest.mark.both_databases
def test_deliveries_report(app, staff):
    from totetaxi_logistics.models import DeliveryTask

    booking = booking_at(app, utc(2026, 11, 20, 15))
    pay(app, booking)

    def tasks(ctx: Any) -> list[Any]:
        found = list(
            ctx.dbsession.scalars(
                select(DeliveryTask).where(DeliveryTask.booking_id == uuid.UUID(booking["id"]))
            )
        )
        found.sort(key=lambda task: (task.complete_after, task.kind != "pickup"))
        for task in found:
            ctx.dbsession.expunge(task)
        return found

    pickup, dropoff = run(app, tasks)
    assert (pickup.kind, dropoff.kind) == ("pickup", "dropoff")
    # The pickup done ten minutes before its window closes; the drop-off five minutes late.
    for task, minutes in ((pickup, -10), (dropoff, 5)):
        done = task.complete_before + dt.timedelta(minutes=minutes)
        run(
            app,
            lambda ctx, task=task, done=done: ctx.dbsession.execute(
                update(DeliveryTask)
                .where(DeliveryTask.id == task.id)
                .values(status="completed", completed_at=done)
                .execution_options(synchronize_session=False)
            ),
        )
    rows = csv_rows(
        app.get(REPORTS + "/deliveries.csv?from=2026-11-26&to=2026-11-26", headers=staff)
    )

    def local(moment: dt.datetime) -> str:
        from totetaxi_core.plugin_api import BUSINESS_TZ

        return moment.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S")

    assert rows == [
        [
            "booking",
            "kind",
            "attempt",
            "status",
            "driver",
            "window_start",
            "window_end",
            "completed_at",
            "on_time",
            "failure_reason",
        ],
        *(
            [
                booking["number"],
                task.kind,
                "1",
                "completed",
                task.driver.name if task.driver else "",
                local(task.complete_after),
                local(task.complete_before),
                local(task.complete_before + dt.timedelta(minutes=minutes)),
                on_time,
                "",
            ]
            for task, minutes, on_time in ((pickup, -10, "yes"), (dropoff, 5, "no"))
        ),
    ]
    # Tasks whose window opens the day before are not in the range.
    day_before = app.get(REPORTS + "/deliveries?from=2026-11-25&to=2026-11-25", headers=staff)
    assert day_before.json["items"] == []


# --- the CSV: header, quoting, formula injection, streaming ------------------------------------


def test_csv_is_an_attachment_with_quoting_and_no_formula(app, staff, four):
    response = app.get(REPORTS + "/bookings.csv?from=2026-10-31&to=2026-11-01", headers=staff)
    assert response.content_type == "text/csv"
    assert response.charset == "utf-8"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="bookings-2026-10-31-2026-11-01.csv"'
    )
    text = response.body.decode("utf-8")
    assert text.startswith(
        "number,created_at,pickup_date,service,status,name,email,total,total_cents,high_value\r\n"
    )
    # Quotes doubled, commas quoted; the formula prefixed with a single quote (a text cell).
    assert '"Gale O""Neil, Jr"' in text
    assert '"\'=HYPERLINK(""http://x"",""y"") Guest"' in text
    rows = csv_rows(response)
    assert [row[5] for row in rows[1:]] == ['Gale O"Neil, Jr', "'" + HYPERLINK + " Guest"]
    assert [row[9] for row in rows[1:]] == ["no", "no"]


def test_formula_prefixes_are_defused():
    from totetaxi_crm.reports.cells import csv_cell, defuse

    for dangerous in ("=1+1", "+1", "-1+cmd", "@SUM(A1)", "\tx", "\rx"):
        assert defuse(dangerous) == "'" + dangerous
        assert csv_cell(dangerous) == "'" + dangerous
    assert csv_cell("Plain text") == "Plain text"
    assert csv_cell(-1250) == "-1250"  # a number, not text: no quote
    assert csv_cell(None) == ""
    assert csv_cell(True) == "yes"
    assert csv_cell(dt.date(2026, 11, 1)) == "2026-11-01"
    assert csv_cell(utc(2026, 11, 2, 4, 30)) == "2026-11-01 23:30:00"


@pytest.mark.both_databases
def test_csv_streams_from_a_generator_with_its_own_session(app, staff):
    seed = booking_at(app, utc(2026, 11, 10, 15))
    copy_bookings(app, seed["id"], 300, utc(2026, 11, 10, 16))
    request = Request.blank(
        REPORTS + "/bookings.csv?from=2026-11-10&to=2026-11-10",
        headers=staff,
        environ={"REMOTE_ADDR": "127.0.0.1"},
    )
    response = request.get_response(app.app)
    assert response.status_int == 200
    # The view has returned (its transaction is over): the rows are read only now.
    assert inspect.isgenerator(response.app_iter)
    chunks = list(response.app_iter)
    assert len(chunks) > 2  # the header, then chunks as rows come
    lines = b"".join(chunks).decode("utf-8").splitlines()
    assert len(lines) == 1 + 301
    assert lines[1].startswith(seed["number"] + ",")
    assert {line.split(",")[0] for line in lines[2:]} == {
        f"TT-COPY-{index:06d}" for index in range(2, 302)
    }
    # Through WebTest as well (the whole body).
    assert len(csv_rows(app.get(request.path_qs, headers=staff))) == 302


@pytest.mark.parametrize("name", ["bookings", "revenue", "customers", "payments_reconciliation"])
def test_queries_do_not_grow_with_rows(app, staff, name):
    from sqlalchemy import event

    engine = app.app.registry["dbengine"]
    seed = booking_at(app, utc(2026, 11, 10, 15))
    path = f"{REPORTS}/{name}?from=2026-11-10&to=2026-11-10&limit=100"
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    def queries(path: str) -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            app.get(path, headers=staff)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    app.get(path, headers=staff)  # warm-up: the token's first use is recorded once
    few = queries(path)
    assert few == queries(path)  # stable between calls
    copy_bookings(app, seed["id"], 60, utc(2026, 11, 10, 16))
    assert queries(path) == few
    csv_path = f"{REPORTS}/{name}.csv?from=2026-11-10&to=2026-11-10"
    app.get(csv_path, headers=staff)
    csv_few = queries(csv_path)
    copy_bookings(app, seed["id"], 60, utc(2026, 11, 10, 17))
    assert queries(csv_path) == csv_few


# --- JSON pages --------------------------------------------------------------------------------


def test_json_pages_follow_the_cursor(app, staff):
    numbers = [
        booking_at(app, utc(2026, 11, 10, 15, minute), day=DAY + dt.timedelta(days=minute))[
            "number"
        ]
        for minute in range(5)
    ]
    seen: list[str] = []
    path = REPORTS + "/bookings?from=2026-11-10&to=2026-11-10&limit=2"
    sizes = []
    while path:
        page = app.get(path, headers=staff).json
        sizes.append(len(page["items"]))
        seen += [item["number"] for item in page["items"]]
        cursor = page["next_cursor"]
        path = (
            f"{REPORTS}/bookings?from=2026-11-10&to=2026-11-10&limit=2&cursor={cursor}"
            if cursor
            else ""
        )
    assert sizes == [2, 2, 1]
    assert seen == numbers
    bad = app.get(REPORTS + "/bookings?cursor=nonsense", headers=staff, status=400)
    assert error_names(bad) == ["cursor"]
    too_many = app.get(REPORTS + "/bookings?limit=101", headers=staff, status=400)
    assert error_names(too_many) == ["limit"]


# --- the list, errors, permissions -------------------------------------------------------------


@pytest.mark.validation_only
def test_the_list_names_every_report(app, viewer):
    items = app.get(REPORTS, headers=viewer).json["items"]
    by_name = {item["name"]: item for item in items}
    assert set(by_name) == {
        "bookings",
        "revenue",
        "customers",
        "payments_reconciliation",
        "deliveries",
    }
    assert by_name["revenue"]["columns"] == [
        "day",
        "service",
        "bookings",
        "revenue",
        "revenue_cents",
        "cancellations",
    ]
    assert all(item["title"] and item["description"] for item in items)


@pytest.mark.validation_only
@pytest.mark.parametrize("suffix", ["", ".csv"])
def test_unknown_report_and_bad_ranges(app, staff, suffix):
    unknown = app.get(f"{REPORTS}/nothing{suffix}", headers=staff, status=404)
    assert error_names(unknown) == ["name"]
    base = f"{REPORTS}/bookings{suffix}"
    cases = {
        "?from=2026-13-01": "from",
        "?from=yesterday": "from",
        "?to=2026-02-30": "to",
        "?from=2026-11-02&to=2026-11-01": "from",
        "?from=2025-10-31&to=2026-11-01": "from",  # 367 days
    }
    for query, name in cases.items():
        assert error_names(app.get(base + query, headers=staff, status=400)) == [name], query
    # 366 days, both ends included, is the most allowed; no range is the last 30 days.
    app.get(base + "?from=2025-11-01&to=2026-11-01", headers=staff, status=200)
    if not suffix:
        assert app.get(base, headers=staff).json["from"] == "2026-10-25"
        assert app.get(base, headers=staff).json["to"] == "2026-11-23"


def test_who_may_read_and_export(app, staff, viewer):
    csv_path = REPORTS + "/bookings.csv"
    assert app.get(REPORTS + "/bookings", headers=viewer).status_int == 200
    assert error_names(app.get(csv_path, headers=viewer, status=403))
    customer = make_customer(app.app.registry, "cara@example.com")
    as_customer = bearer(app, customer.email)
    app.get(csv_path, headers=as_customer, status=403)
    app.get(REPORTS, headers=as_customer, status=403)
    app.get(csv_path, status=401)
    app.get(REPORTS + "/bookings", status=401)
    assert app.get(csv_path, headers=staff).status_int == 200


# --- another plugin's report -------------------------------------------------------------------


class FakeReports:
    """A stand-in plugin publishing a report through the CRM's hook."""

    @hookimpl
    def totetaxi_crm_reports(self, ctx: Any) -> list[dict[str, Any]]:
        def rows(ctx: Any, start: dt.datetime, end: dt.datetime) -> Any:
            yield ("@SUM(A1)", -5, True, start)
            yield ("plain", 7, None, end)

        return [
            {
                "name": "fake_things",
                "title": "Fake things",
                "columns": ["label", "amount_cents", "flag", "moment"],
                "rows": rows,
            }
        ]


def test_a_plugin_contributes_a_report(app, staff):
    app.app.registry.hooks.register(FakeReports(), "fake-reports")
    items = app.get(REPORTS, headers=staff).json["items"]
    assert {
        "name": "fake_things",
        "title": "Fake things",
        "columns": ["label", "amount_cents", "flag", "moment"],
        "description": "",
    } in items
    rows = csv_rows(
        app.get(REPORTS + "/fake_things.csv?from=2026-11-01&to=2026-11-01", headers=staff)
    )
    assert rows == [
        ["label", "amount_cents", "flag", "moment"],
        ["'@SUM(A1)", "-5", "yes", "2026-11-01 00:00:00"],
        ["plain", "7", "", "2026-11-02 00:00:00"],
    ]
    page = app.get(REPORTS + "/fake_things?from=2026-11-01&to=2026-11-01", headers=staff).json
    assert page["items"][0] == {
        "label": "@SUM(A1)",
        "amount_cents": -5,
        "flag": True,
        "moment": "2026-11-01 00:00:00",
    }


# --- the console -------------------------------------------------------------------------------


def test_console_pages_and_the_export_button(app, four):
    console_sign_in(app, "staff")
    listing = app.get("/console/reports?from=2026-10-31&to=2026-11-01")
    assert 'data-report="payments_reconciliation"' in listing.text
    assert 'data-testid="export-bookings"' in listing.text
    assert ">Reports</a>" in listing.text  # the nav entry
    page = app.get("/console/reports/bookings?from=2026-10-31&to=2026-11-01")
    assert four["b"]["number"] in page.text and four["c"]["number"] in page.text
    assert four["a"]["number"] not in page.text
    # Escaped as HTML, shown as typed.
    assert "=HYPERLINK(&#34;http://x&#34;,&#34;y&#34;) Guest" in page.text or (
        "=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;) Guest" in page.text
    )
    export = page.html.find("a", attrs={"data-testid": "export-csv"})
    assert export["href"] == "/api/v1/staff/reports/bookings.csv?from=2026-10-31&to=2026-11-01"
    csv = app.get(export["href"])  # the console's cookie session may download it
    assert csv.content_type == "text/csv"
    refused = app.get("/console/reports/bookings?from=2026-11-02&to=2026-11-01", status=400)
    assert 'data-testid="error-from"' in refused.text
    app.get("/console/reports/nothing", status=404)
    customers = app.get("/console/reports/customers")
    summary = customers.html.find("dl", attrs={"data-testid": "report-summary"})
    assert summary.find("dd", attrs={"data-figure": "customers"}).text == "0"
    assert summary.find("dd", attrs={"data-figure": "repeat_rate"}).text == "—"


def test_console_hides_the_export_from_viewers(app, four):
    console_sign_in(app, "viewer")
    listing = app.get("/console/reports")
    assert "export-bookings" not in listing.text
    page = app.get("/console/reports/bookings?from=2026-10-31&to=2026-11-01")
    assert four["b"]["number"] in page.text
    assert 'data-testid="export-csv"' not in page.text
    app.get("/api/v1/staff/reports/bookings.csv", status=403)


def test_console_pages_through_a_report(app):
    app.app.registry.settings["crm.page_size"] = 2
    numbers = [booking_at(app, utc(2026, 11, 10, 15, minute))["number"] for minute in range(3)]
    console_sign_in(app, "viewer")
    first = app.get("/console/reports/bookings?from=2026-11-10&to=2026-11-10")
    assert numbers[0] in first.text and numbers[2] not in first.text
    second = first.click(linkid=None, description="Next page")
    assert numbers[2] in second.text and numbers[0] not in second.text
    assert 'data-testid="first-page"' in second.text
