"""The CRM dashboard: ``GET /api/v1/staff/dashboard`` and the console home's section.

The figures are checked against a hand-computed set of bookings whose ``created_at`` is set in
SQL (the column follows real time, ``totetaxi_core.db.utcnow``, not the app's clock), around the
end of daylight saving time in New York (Sunday 2026-11-01 is 25 hours long), the app's clock
on Monday 2026-11-02 at noon.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import event
from support.bookings import client, run, staff_headers
from webtest import TestApp

from totetaxi_core.plugin_api import BUSINESS_TZ, Booking, Customer, hookimpl
from totetaxi_core.testing import bearer, console_sign_in, register_customer

API = "/api/v1/staff/dashboard"
UTC = dt.UTC
NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=BUSINESS_TZ)
ALL_PLUGINS = (
    "pricing payments_mock notifications mail_console logistics logistics_mock documents "
    "storage_local crm"
)


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


@pytest.fixture
def app(make_testapp: Any) -> TestApp:
    testapp = make_testapp(**{"totetaxi.plugins": "pricing crm"})
    testapp.app.registry.clock = lambda: NOW
    return testapp


@pytest.fixture
def staff(app: TestApp) -> dict[str, str]:
    return staff_headers(app, "viewer")


def _customer(ctx: Any, name: str, created: dt.datetime) -> uuid.UUID:
    person = Customer(
        email=f"{name}.{uuid.uuid4().hex[:6]}@example.com",
        password_hash="x",
        first_name=name,
        last_name="Test",
    )
    ctx.dbsession.add(person)
    ctx.dbsession.flush()
    person.created_at = created
    return person.id


_SEQ = iter(range(1, 10_000))


def _booking(
    ctx: Any,
    created: dt.datetime,
    status: str,
    service: str,
    total: int,
    pickup: dt.date,
    customer_id: uuid.UUID | None = None,
    cancelled_at: dt.datetime | None = None,
    deleted: bool = False,
) -> None:
    from totetaxi_core.plugin_api import Address

    db = ctx.dbsession
    addresses = [
        Address(line1="1 Main St", city="New York", state="NY", postal_code="10001")
        for _ in range(2)
    ]
    db.add_all(addresses)
    db.flush()
    seq = next(_SEQ) + 1000 * (uuid.uuid4().int % 1000)
    booking = Booking(
        seq=seq,
        number=f"TT-{seq:06d}",
        status=status,
        service_type=service,
        pickup_date=pickup,
        pickup_address_id=addresses[0].id,
        delivery_address_id=addresses[1].id,
        customer_id=customer_id,
        guest_first_name="" if customer_id else "Gus",
        guest_last_name="" if customer_id else "Guest",
        guest_email="" if customer_id else "gus@example.com",
        quote={},
        subtotal_cents=total,
        total_cents=total,
        cancelled_at=cancelled_at,
    )
    db.add(booking)
    db.flush()
    booking.created_at = created
    if deleted:
        booking.deleted_at = created
    db.flush()


def known_set(app: TestApp) -> None:
    """The set of the module's docstring; the expected figures are in the tests."""

    def work(ctx: Any) -> None:
        c1 = _customer(ctx, "Ann", utc(2026, 11, 2, 6))  # Nov 2, 01:00 EST: today
        c2 = _customer(ctx, "Bob", utc(2026, 10, 15, 12))  # October
        c3 = _customer(ctx, "Cy", utc(2026, 11, 2, 4, 30))  # Nov 1, 23:30 EST: yesterday
        d = dt.date
        # A: Nov 2 00:00 EST exactly (today's first instant).
        _booking(ctx, utc(2026, 11, 2, 5), "confirmed", "mini_move", 99500, d(2026, 11, 3), c1)
        # B: Nov 1 23:59 EST (yesterday's last minute), a guest's.
        _booking(
            ctx, utc(2026, 11, 2, 4, 59), "pending_payment", "standard_delivery", 28500,
            d(2026, 11, 3),
        )  # fmt: skip
        # C: Nov 1 00:00 EDT (the DST day's first instant), cancelled today.
        _booking(
            ctx, utc(2026, 11, 1, 4), "cancelled", "mini_move", 172500, d(2026, 11, 3), c1,
            cancelled_at=utc(2026, 11, 2, 15),
        )  # fmt: skip
        # D: Oct 31 23:59 EDT.
        _booking(ctx, utc(2026, 11, 1, 3, 59), "completed", "specialty", 50000, d(2026, 11, 1), c2)
        # E: today 15:00 EST.
        _booking(
            ctx, utc(2026, 11, 2, 20), "completed", "standard_delivery", 36000, d(2026, 11, 5), c2
        )
        # F: today, soft-deleted: counted nowhere.
        _booking(
            ctx, utc(2026, 11, 2, 18), "confirmed", "mini_move", 99500, d(2026, 11, 4), c1,
            deleted=True,
        )  # fmt: skip
        # G: Nov 2 23:59 EST (today's last minute).
        _booking(
            ctx, utc(2026, 11, 3, 4, 59), "in_progress", "specialty", 35000, d(2026, 11, 2), c3
        )

    run(app, work)


@pytest.mark.both_databases  # SQL aggregates and time zones per backend
def test_a_day_across_the_end_of_dst(app: TestApp, staff: dict[str, str]) -> None:
    known_set(app)
    answer = client(app).get(API, headers=staff).json  # default: today
    assert answer["period"]["from"] == answer["period"]["to"] == "2026-11-02"
    assert answer["period"]["start"] == "2026-11-02T00:00:00-05:00"
    assert answer["bookings"]["count"] == 3  # A, E, G
    assert answer["bookings"]["by_status"] == {
        "pending_payment": 0,
        "confirmed": 1,
        "in_progress": 1,
        "completed": 1,
        "cancelled": 0,
    }
    assert answer["revenue_cents"] == 99500 + 36000 + 35000
    assert answer["by_service"] == {
        "mini_move": {"count": 1, "revenue_cents": 99500},
        "standard_delivery": {"count": 1, "revenue_cents": 36000},
        "specialty": {"count": 1, "revenue_cents": 35000},
    }
    assert answer["cancellations"] == 1  # C, cancelled today though made yesterday
    assert answer["new_registrations"] == 1  # Ann
    # Ann (A; C is cancelled), Bob (D and E), Cy (G): Bob only has two.
    assert answer["repeat_customer_rate"] == round(1 / 3, 4)
    assert answer["series"] == [{"day": "2026-11-02", "bookings": 3, "revenue_cents": 170500}]
    assert answer["upcoming_pickups"][:3] == [
        {"day": "2026-11-02", "pickups": 1},
        {"day": "2026-11-03", "pickups": 2},
        {"day": "2026-11-04", "pickups": 0},
    ]
    assert len(answer["upcoming_pickups"]) == 7
    # Yesterday: the 25-hour Sunday, B and C.
    before = answer["previous"]
    assert answer["period"]["previous"]["start"] == "2026-11-01T00:00:00-04:00"
    assert before["bookings"]["count"] == 2
    assert before["bookings"]["by_status"]["cancelled"] == 1
    assert before["revenue_cents"] == 28500
    assert before["cancellations"] == 0
    assert before["new_registrations"] == 1  # Cy, 23:30 EST
    assert before["repeat_customer_rate"] is None  # a guest and a cancelled booking
    # Without payments and logistics the published rates are there, null.
    assert answer["payment_success_rate"] is None
    assert answer["delivery_completion_rate"] is None
    for key in ("bookings", "revenue_cents", "by_service", "repeat_customer_rate"):
        assert key in answer


@pytest.mark.both_databases  # SQL aggregates and time zones per backend
def test_week_month_and_ranges(app: TestApp, staff: dict[str, str]) -> None:
    known_set(app)
    api = client(app)
    week = api.get(API + "?period=week", headers=staff).json
    assert (week["period"]["from"], week["period"]["to"]) == ("2026-11-02", "2026-11-08")
    assert week["bookings"]["count"] == 3
    assert week["previous"]["bookings"]["count"] == 3  # B, C, D
    assert week["previous"]["revenue_cents"] == 28500 + 50000
    assert week["previous"]["repeat_customer_rate"] == 0.0  # Bob had D only by then
    month = api.get(API + "?period=month", headers=staff).json
    assert month["bookings"]["count"] == 5
    assert month["revenue_cents"] == 99500 + 28500 + 36000 + 35000
    assert month["cancellations"] == 1
    assert month["new_registrations"] == 2
    assert month["previous"]["bookings"]["count"] == 1  # D, Oct 31 23:59 EDT
    assert month["previous"]["new_registrations"] == 1
    assert month["previous"]["repeat_customer_rate"] == 0.0
    assert len(month["series"]) == 30
    assert month["series"][0] == {"day": "2026-11-01", "bookings": 2, "revenue_cents": 28500}
    assert month["series"][1] == {"day": "2026-11-02", "bookings": 3, "revenue_cents": 170500}
    assert sum(s["bookings"] for s in month["series"]) == 5
    one = api.get(API + "?from=2026-11-01&to=2026-11-01", headers=staff).json
    assert one["bookings"]["count"] == 2
    assert one["previous"]["bookings"]["count"] == 1
    assert one["period"]["previous"]["from"] == "2026-10-31"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=year", "period"),
        ("from=2026-11-01", "to"),
        ("to=2026-11-01", "from"),
        ("from=yesterday&to=2026-11-01", "from"),
        ("from=2026-11-01&to=11/02/2026", "to"),
        ("from=2026-11-02&to=2026-11-01", "from"),
        ("from=2025-01-01&to=2026-11-01", "to"),
        ("period=day&from=2026-11-01&to=2026-11-01", "period"),
    ],
)
def test_bad_periods_are_400_naming_the_field(
    app: TestApp, staff: dict[str, str], query: str, field: str
) -> None:
    answer = client(app).get(f"{API}?{query}", headers=staff, status=400).json
    assert [e["name"] for e in answer["errors"]] == [field]


def test_who_may_read(app: TestApp) -> None:
    api = client(app)
    api.get(API, status=401)
    me = register_customer(client(app))
    api.get(API, headers=bearer(client(app), me["email"]), status=403)
    api.get(API, headers=staff_headers(app, "viewer"), status=200)


class FakeFigures:
    @hookimpl
    def totetaxi_crm_figures(self, ctx: Any, start: dt.datetime, end: dt.datetime) -> Any:
        assert start.tzinfo is not None and end > start
        return {"payment_success_rate": 0.5, "widgets_sold": 7}


def test_figures_of_plugins_are_merged(app: TestApp, staff: dict[str, str]) -> None:
    app.app.registry.hooks.register(FakeFigures(), "fake-figures")
    answer = client(app).get(API, headers=staff).json
    assert answer["payment_success_rate"] == 0.5
    assert answer["figures"] == {
        "payment_success_rate": 0.5,
        "delivery_completion_rate": None,
        "widgets_sold": 7,
    }
    assert answer["previous"]["figures"]["widgets_sold"] == 7


def _statements(app: TestApp, path: str, headers: dict[str, str]) -> int:
    engine = app.app.registry["dbengine"]
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", listener)
    try:
        client(app).get(path, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


@pytest.mark.both_databases  # SQL aggregates and time zones per backend
def test_a_fixed_number_of_queries(app: TestApp, staff: dict[str, str]) -> None:
    def some(n: int) -> None:
        def work(ctx: Any) -> None:
            for i in range(n):
                _booking(
                    ctx, utc(2026, 11, 2, 6 + i % 12), "confirmed", "mini_move", 1000,
                    dt.date(2026, 11, 3), _customer(ctx, f"P{i}", utc(2026, 11, 2, 6)),
                )  # fmt: skip

        run(app, work)

    some(3)
    client(app).get(API, headers=staff)  # the token's first use writes its last-used time
    few = _statements(app, API + "?period=month", staff)
    some(27)
    many = _statements(app, API + "?period=month", staff)
    assert few == many
    answer = client(app).get(API + "?period=month", headers=staff).json
    assert answer["bookings"]["count"] == 30


@pytest.fixture
def full_app(make_testapp: Any, tmp_path: Any) -> TestApp:
    testapp = make_testapp(
        **{"totetaxi.plugins": ALL_PLUGINS, "mail_console.folder": str(tmp_path / "mail")}
    )
    testapp.app.registry.clock = lambda: NOW
    return testapp


def test_the_plugins_publish_their_figures(full_app: TestApp) -> None:
    staff = staff_headers(full_app, "viewer")
    answer = client(full_app).get(API + "?period=week", headers=staff).json
    figures = answer["figures"]
    assert figures["payment_success_rate"] is None  # nothing attempted
    assert figures["payments_needing_attention"] == 0
    assert figures["refunds_cents"] == 0
    assert figures["delivery_completion_rate"] is None
    assert figures["on_time_rate"] is None
    assert figures["coi_to_review"] == 0
    assert figures["emails_failed"] == 0
    queries = _statements(full_app, API + "?period=week", staff)
    assert queries < 30


def test_the_console_home_is_the_dashboard(full_app: TestApp) -> None:
    known_set(full_app)
    browser = TestApp(full_app.app)
    console_sign_in(browser, "viewer")
    page = browser.get("/console/?period=day")
    html = page.html
    assert html.find(attrs={"data-testid": "kpi-bookings"}).text == "3"
    link = html.find(attrs={"data-testid": "kpi-bookings"})["href"]
    assert "created_from=2026-11-02" in link and "created_to=2026-11-02" in link
    assert html.find(attrs={"data-testid": "kpi-bookings-previous"}).text == "2"
    assert html.find(attrs={"data-testid": "kpi-revenue"}).text == "$1,705.00"
    for chart in ("chart-bookings", "chart-revenue", "chart-services"):
        svg = html.find("svg", attrs={"data-testid": chart})
        assert svg["role"] == "img" and svg.find("title") and svg.find("desc")
    assert html.find(attrs={"data-testid": "services-table"}).find("td").text == "1"
    assert " style=" not in page.text
    # The link lists the same three bookings.
    rows = browser.get(link)
    for number in rows.html.select("tbody tr"):
        assert number is not None
    assert len(rows.html.select("tbody tr")) == 3
    # Every figure leads to the rows behind it: as many rows as the figure says.
    cancelled = browser.get(html.find(attrs={"data-testid": "kpi-cancellations"})["href"])
    assert html.find(attrs={"data-testid": "kpi-cancellations"}).text == "1"
    assert len(cancelled.html.select("tbody tr")) == 1  # C, made yesterday, cancelled today
    assert cancelled.html.find(attrs={"data-testid": "cancelled-filter"})
    joined = browser.get(html.find(attrs={"data-testid": "kpi-registrations"})["href"])
    assert html.find(attrs={"data-testid": "kpi-registrations"}).text == "1"
    names = [td.text.strip() for td in joined.html.select("tbody tr td:first-child")]
    assert len(names) == 1 and names[0].startswith("Ann")
    assert joined.html.find(attrs={"data-testid": "registered-filter"})
    for row in html.find(attrs={"data-testid": "services-table"}).select("tbody tr"):
        link = row.find("a")
        behind = browser.get(link["href"]).html
        assert len(behind.select("tbody tr")) == int(link.text)
        assert behind.find(attrs={"data-testid": "service-filter"})
    month = browser.get("/console/?period=month").html
    assert month.find(attrs={"data-testid": "kpi-bookings"}).text == "5"
    assert month.find(attrs={"data-testid": "period-month"})["aria-current"] == "page"


def test_payment_figures_count_the_period(full_app: TestApp) -> None:
    from totetaxi_payments.models import Payment, Refund

    def work(ctx: Any) -> None:
        _booking(ctx, utc(2026, 11, 2, 6), "confirmed", "mini_move", 1000, dt.date(2026, 11, 9))
        from sqlalchemy import select

        booking_id = ctx.dbsession.scalars(select(Booking.id)).first()
        rows = [
            # (created, status, attempts, needs attention)
            (utc(2026, 11, 2, 5), "succeeded", 0, False),  # today's first instant
            (utc(2026, 11, 2, 6), "succeeded", 2, False),
            (utc(2026, 11, 2, 7), "requires_payment_method", 3, True),  # failed 3 times
            (utc(2026, 11, 2, 8), "requires_payment_method", 0, False),  # never attempted
            (utc(2026, 11, 2, 4, 59), "succeeded", 0, False),  # yesterday, 23:59 EST
        ]
        for created, status, attempts, attention in rows:
            payment = Payment(
                booking_id=booking_id,
                amount_cents=1000,
                status=status,
                gateway="mock",
                gateway_intent_id=f"pi_{uuid.uuid4().hex}",
                attempts=attempts,
                needs_attention=attention,
            )
            ctx.dbsession.add(payment)
            ctx.dbsession.flush()
            payment.created_at = created
        first = ctx.dbsession.scalars(select(Payment).order_by(Payment.created_at)).first()
        ctx.dbsession.add(
            Refund(
                payment_id=first.id,
                booking_id=booking_id,
                amount_cents=400,
                reason="test",
                status="succeeded",
                completed_at=utc(2026, 11, 2, 16),
            )
        )

    run(full_app, work)
    staff = staff_headers(full_app, "viewer")
    answer = client(full_app).get(API, headers=staff).json
    assert answer["payment_success_rate"] == round(2 / 3, 4)
    assert answer["figures"]["payments_attempted"] == 3
    assert answer["figures"]["refunds_cents"] == 400
    assert answer["figures"]["payments_needing_attention"] == 1
    assert answer["previous"]["payment_success_rate"] == 1.0
    assert answer["previous"]["figures"]["refunds_cents"] == 0
