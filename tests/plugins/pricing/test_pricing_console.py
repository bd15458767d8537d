"""The pricing console pages: catalog, surcharges and peak ranges, the capacity calendar.

Viewers and staff read every page and are refused every change (403, nothing written); admins
change prices, surcharges, peak dates and capacity, each change audited with before and after,
and the very next quote or availability answer uses it. Money is typed in dollars and refused,
naming the field, when it is not an amount of whole cents from $0 to $100,000.

The app's clock is fixed at Monday 2026-11-23 10:00 America/New_York (no holiday that week
before Thanksgiving, Thursday 2026-11-26).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from totetaxi_pricing import console, services
from totetaxi_pricing.models import (
    CapacityDay,
    MiniMovePackage,
    PeakRange,
    PricingPolicy,
    SpecialtyItem,
    SurchargeRule,
)
from webtest import TestApp

from totetaxi_core.audit.models import AuditRecord
from totetaxi_core.plugin_api import BUSINESS_TZ
from totetaxi_core.testing import STRONG_PASSWORD, in_transaction, make_staff

NOW = dt.datetime(2026, 11, 23, 10, tzinfo=BUSINESS_TZ).astimezone(dt.UTC)
TODAY = dt.date(2026, 11, 23)  # Monday
MONDAY = dt.date(2026, 11, 30)  # no surcharge
TUESDAY = dt.date(2026, 12, 1)  # no surcharge unless a peak range covers it
SATURDAY = dt.date(2026, 11, 28)
CATALOG = "/console/pricing/catalog"
SURCHARGES = "/console/pricing/surcharges"
CAPACITY = "/console/pricing/capacity"
PAGES = (CATALOG, SURCHARGES, CAPACITY)


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def app(make_testapp) -> TestApp:
    testapp = make_testapp(**{"totetaxi.plugins": "pricing"})
    testapp.app.registry.clock = lambda: NOW
    return testapp


def signed_in(app: TestApp, role: str) -> Any:
    """Sign ``app``'s cookie jar in as a new staff user of ``role``; return the user."""
    staff = make_staff(app.app.registry, role)
    form = app.get("/console/login").forms[0]
    form["email"] = staff.email
    form["password"] = STRONG_PASSWORD
    form.submit(status=303)
    return staff


def token(app: TestApp, path: str = CATALOG) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', app.get(path).text)
    assert match, "no CSRF field on the page"
    return match.group(1)


def run(app: TestApp, work: Any) -> Any:
    return in_transaction(app.app.registry, work)


def quote(app: TestApp, **body: Any) -> dict[str, Any]:
    """A quote from an anonymous client (no cookie: the public API needs no CSRF token)."""
    body = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in body.items()}
    return TestApp(app.app).post_json("/api/v1/quotes", body, status=200).json


def petite(app: TestApp, day: dt.date = MONDAY) -> dict[str, Any]:
    return quote(app, service_type="mini_move", package="petite", date=day)


def available(app: TestApp, day: dt.date, service_type: str | None = None) -> dict[str, Any]:
    query = f"start={day}&end={day}" + (f"&service_type={service_type}" if service_type else "")
    [info] = TestApp(app.app).get(f"/api/v1/availability?{query}").json["days"]
    return info


def audits(app: TestApp, action: str | None = None) -> list[dict[str, Any]]:
    def work(ctx):
        statement = sa.select(AuditRecord).order_by(AuditRecord.at)
        if action:
            statement = statement.where(AuditRecord.action == action)
        return [
            {
                "action": r.action,
                "actor_id": r.actor_id,
                "target_id": r.target_id,
                "changes": r.changes,
            }
            for r in ctx.dbsession.scalars(statement)
        ]

    return run(app, work)


def pricing_actions(app: TestApp) -> list[str]:
    return [a["action"] for a in audits(app) if a["action"].startswith("pricing.")]


def snapshot(app: TestApp) -> dict[str, Any]:
    """Every pricing table's contents, to show that a refused request changed nothing."""

    def work(ctx):
        session = ctx.dbsession
        rows = {}
        for model in (
            MiniMovePackage,
            SpecialtyItem,
            SurchargeRule,
            PricingPolicy,
            PeakRange,
            CapacityDay,
        ):
            table = model.__table__
            columns = [c for c in table.columns if c.name not in ("created_at", "updated_at")]
            rows[table.name] = sorted(
                map(tuple, session.execute(sa.select(*columns)).all()), key=repr
            )
        return rows

    return run(app, work)


def package(app: TestApp, code: str) -> dict[str, Any]:
    def work(ctx):
        row = ctx.dbsession.get(MiniMovePackage, code)
        return {
            "name": row.name,
            "price_cents": row.price_cents,
            "max_items": row.max_items,
            "active": row.active,
        }

    return run(app, work)


def error_of(page: Any, field: str) -> str:
    match = re.search(rf'data-testid="error-{field}">([^<]*)<', page.text)
    assert match, f"no error shown next to {field!r}"
    return match.group(1)


def classes_of(cell: str) -> list[str]:
    return re.search(r'<td [^>]*class="([^"]*)"', cell).group(1).split()


def post_forms(page: Any) -> list[Any]:
    """The page's POST forms other than the header's sign-out."""
    return [
        f
        for f in page.forms.values()
        if f.method.lower() == "post" and not f.action.endswith("/console/logout")
    ]


def peak_ids(app: TestApp) -> list[str]:
    return run(app, lambda ctx: [str(i) for i in ctx.dbsession.scalars(sa.select(PeakRange.id))])


def add_peak(app: TestApp, name: str, start: dt.date, end: dt.date) -> str:
    return run(app, lambda ctx: str(services.add_peak(ctx, name, start, end).id))


# --- unit: the form's number parsing -------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("995", 99500),
        ("995.00", 99500),
        ("995.5", 99550),
        ("0.01", 1),
        ("0", 0),
        ("$1,725", 172500),
        (" 1,725.50 ", 172550),
        ("995.", 99500),
        ("100000", 10_000_000),
        ("100000.00", 10_000_000),
        ("0.29", 29),
        ("1.10", 110),
        ("4.35", 435),  # values where a float would round wrongly
    ],
)
def test_dollars_become_exact_cents(typed, cents):
    assert console.parse_money(typed, "Price") == cents


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-5", "Price must not be negative."),
        ("-0.01", "Price must not be negative."),
        ("$-5", "Price must not be negative."),
        ("abc", "Price: enter the amount in dollars, like 25.00."),
        ("", "Price: enter the amount in dollars, like 25.00."),
        ("1e3", "Price: enter the amount in dollars, like 25.00."),
        ("NaN", "Price: enter the amount in dollars, like 25.00."),
        ("Infinity", "Price: enter the amount in dollars, like 25.00."),
        ("1,72", "Price: enter the amount in dollars, like 25.00."),
        ("1.2.3", "Price: enter the amount in dollars, like 25.00."),
        ("9" * 60, "Price: enter the amount in dollars, like 25.00."),
        ("1.999", "Price: at most 2 decimals (whole cents)."),
        ("100000.01", "Price must be at most $100,000.00."),
        ("250000", "Price must be at most $100,000.00."),
    ],
)
def test_bad_dollars_are_refused_with_the_label(typed, message):
    with pytest.raises(console.FieldError) as refused:
        console.parse_money(typed, "Price")
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("typed", "basis_points"),
    [
        ("15", 1500),
        ("12.5", 1250),
        ("12.50", 1250),
        ("0.25", 25),
        ("0", 0),
        ("100", 10_000),
        ("20%", 2000),
    ],
)
def test_percentages_become_basis_points(typed, basis_points):
    assert console.parse_percent(typed, "Percent") == basis_points
    assert console.parse_percent(console.percent(basis_points), "Percent") == basis_points


@pytest.mark.parametrize("typed", ["-1", "abc", "12.345", "100.01", "", "1e2"])
def test_bad_percentages_are_refused(typed):
    with pytest.raises(console.FieldError, match=r"^Percent"):
        console.parse_percent(typed, "Percent")


def test_amounts_are_shown_as_typed():
    assert [console.amount(c) for c in (99500, 144425, 5, 0)] == [
        "995.00",
        "1444.25",
        "0.05",
        "0.00",
    ]
    assert [console.percent(b) for b in (1500, 1250, 25, 10_000)] == ["15", "12.5", "0.25", "100"]


# --- reading -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "staff"])
def test_viewer_and_staff_read_every_page_without_edit_forms(app, role):
    signed_in(app, role)
    catalog = app.get(CATALOG)
    assert post_forms(catalog) == []
    assert 'data-testid="read-only"' in catalog.text
    assert 'data-testid="price-petite">$995<' in catalog.text
    assert 'data-testid="price-peloton">$500<' in catalog.text
    assert "$285" in catalog.text and "$360 for up to 3 items" in catalog.text
    for path in (SURCHARGES, CAPACITY):
        page = app.get(path)
        assert page.status_int == 200 and post_forms(page) == []
    assert 'data-testid="percent-weekend">+15%<' in app.get(SURCHARGES).text
    groups = {
        li["data-group"]: [a.text.strip() for a in li.select("a")]
        for li in catalog.html.select("nav.main li.group")
    }
    assert groups["Money"][-2:] == ["Prices", "Surcharges"]  # what the money costs
    assert "Capacity" in groups["Operations"]  # a dispatcher's daily page


def test_an_admin_gets_a_form_for_every_row(app):
    signed_in(app, "admin")
    catalog = app.get(CATALOG)
    assert {
        "package-petite",
        "package-standard",
        "package-full",
        "rates-form",
        "specialty-peloton",
        "specialty-surfboard",
        "specialty-crib",
        "specialty-wardrobe_box",
    } <= set(catalog.forms)
    form = catalog.forms["package-petite"]
    assert (
        form["name"].value,
        form["price"].value,
        form["max_items"].value,
        form["active"].value,
    ) == ("Petite", "995.00", "15", "1")
    assert catalog.forms["rates-form"]["same_day_flat"].value == "360.00"
    surcharges = app.get(SURCHARGES)
    assert surcharges.forms["rule-weekend"]["percent"].value == "15"
    assert {"rule-holiday", "rule-peak", "peak-add-form"} <= set(surcharges.forms)
    capacity = app.get(CAPACITY)
    assert {"override-form", "defaults-form"} <= set(capacity.forms)
    assert 'data-testid="read-only"' not in catalog.text


@pytest.mark.both_databases
def test_anonymous_visitors_are_sent_to_the_login_page(app):
    for path in PAGES:
        answer = app.get(path, status=302)
        assert "/console/login?next=" in answer.location


# --- refusals: roles and CSRF --------------------------------------------------------------------


def every_change(app: TestApp) -> list[tuple[str, dict[str, str]]]:
    """One valid request to each change endpoint (the body an admin's browser would send)."""
    peak = add_peak(app, "Labor Day", dt.date(2027, 9, 3), dt.date(2027, 9, 6))
    return [
        (
            "/console/pricing/catalog/packages/petite",
            {"name": "Petite", "price": "1.00", "max_items": "15", "active": "1"},
        ),
        (
            "/console/pricing/catalog/rates",
            {
                "per_item": "1.00",
                "minimum": "1.00",
                "same_day_flat": "1.00",
                "same_day_included_items": "3",
                "same_day_cutoff_hour": "12",
                "coi_fee": "0",
                "high_value": "1",
            },
        ),
        (
            "/console/pricing/catalog/specialty/peloton",
            {"name": "Peloton", "price": "1.00", "active": "0"},
        ),
        ("/console/pricing/surcharges/rules/weekend", {"percent": "90", "active": "1"}),
        (
            "/console/pricing/surcharges/peaks",
            {"name": "Forged", "start_date": "2026-12-01", "end_date": "2026-12-02"},
        ),
        (f"/console/pricing/surcharges/peaks/{peak}/remove", {}),
        (
            "/console/pricing/capacity/days",
            {"date": "2026-11-30", "van_capacity": "0", "specialty_capacity": "", "note": "x"},
        ),
        (
            "/console/pricing/capacity/defaults",
            {"van_capacity": "0", "specialty_capacity": "0", "max_days_ahead": "1"},
        ),
    ]


@pytest.mark.parametrize("role", ["viewer", "staff"])
def test_every_change_is_403_for_viewer_and_staff_and_changes_nothing(app, role):
    changes = every_change(app)
    signed_in(app, role)
    csrf = token(app)
    before = snapshot(app)
    audited = audits(app)
    for path, body in changes:
        page = app.post(path, {"csrf_token": csrf, **body}, status=403)
        assert "Not allowed" in page.text, path
    assert snapshot(app) == before
    assert audits(app) == audited
    assert petite(app)["total_cents"] == 99500
    assert available(app, MONDAY)["available"] is True


def test_staff_bearer_tokens_cannot_change_prices_either(app):
    staff = make_staff(app.app.registry, "staff")
    answer = TestApp(app.app).post_json(
        "/api/v1/staff/auth/token", {"email": staff.email, "password": STRONG_PASSWORD}
    )
    headers = {"Authorization": f"Bearer {answer.json['token']}"}
    changes = every_change(app)
    before = snapshot(app)
    for path, body in changes:
        TestApp(app.app).post(path, body, headers=headers, status=403)
    assert snapshot(app) == before


@pytest.mark.parametrize("csrf", [None, "", "forged-by-mallory"])
def test_an_admin_post_without_the_right_csrf_token_is_403(app, csrf):
    changes = every_change(app)
    signed_in(app, "admin")
    before = snapshot(app)
    audited = audits(app)
    for path, body in changes:
        if csrf is not None:
            body = {**body, "csrf_token": csrf}
        page = app.post(path, body, status=403)
        assert "did not come from this site" in page.text, path
    assert snapshot(app) == before and audits(app) == audited


def test_unknown_rows_are_404(app):
    signed_in(app, "admin")
    csrf = token(app)
    app.post(
        "/console/pricing/catalog/packages/huge", {"csrf_token": csrf, "price": "1"}, status=404
    )
    app.post(
        "/console/pricing/catalog/specialty/piano", {"csrf_token": csrf, "price": "1"}, status=404
    )
    app.post(
        "/console/pricing/surcharges/rules/rainy", {"csrf_token": csrf, "percent": "1"}, status=404
    )
    for ident in (uuid.uuid4(), "not-a-uuid"):
        page = app.post(
            f"/console/pricing/surcharges/peaks/{ident}/remove", {"csrf_token": csrf}, status=404
        )
        assert "Not found" in page.text


# --- admin changes: the next quote uses them -----------------------------------------------------


def test_an_admin_changes_the_petite_price_and_the_next_quote_uses_it(app):
    admin = signed_in(app, "admin")
    assert petite(app)["total_cents"] == 99500
    form = app.get(CATALOG).forms["package-petite"]
    form["price"] = "1,050.00"
    answer = form.submit(status=303)
    assert answer.location.endswith("/console/pricing/catalog?done=package_saved#package-petite")
    page = answer.follow()
    assert "Package saved; quotes use it from now on." in page.text
    assert page.forms["package-petite"]["price"].value == "1050.00"

    assert petite(app)["total_cents"] == 105000
    assert petite(app, SATURDAY)["total_cents"] == 120750  # + 15% weekend
    assert TestApp(app.app).get("/api/v1/services").json["mini_move_packages"][0] == {
        "code": "petite",
        "name": "Petite",
        "price_cents": 105000,
        "max_items": 15,
    }
    [record] = audits(app, "pricing.package_changed")
    assert record["actor_id"] == admin.id and record["target_id"] == "petite"
    assert record["changes"] == {"before": {"price_cents": 99500}, "after": {"price_cents": 105000}}


def test_saving_the_same_values_changes_and_audits_nothing(app):
    signed_in(app, "admin")
    version = run(app, lambda ctx: ctx.dbsession.get(PricingPolicy, 1).catalog_version)
    answer = app.get(CATALOG).forms["package-full"].submit(status=303)
    assert "done=unchanged" in answer.location
    assert "Nothing changed" in answer.follow().text
    assert pricing_actions(app) == []
    assert run(app, lambda ctx: ctx.dbsession.get(PricingPolicy, 1).catalog_version) == version


def test_every_admin_change_writes_an_audit_record_with_before_and_after(app):
    admin = signed_in(app, "admin")
    catalog = app.get(CATALOG)

    form = catalog.forms["package-standard"]
    form["name"], form["max_items"], form["active"] = "Standard+", "40", "0"
    form.submit(status=303)
    form = app.get(CATALOG).forms["rates-form"]
    form["per_item"], form["minimum"], form["same_day_cutoff_hour"] = "99.50", "300", "11"
    form.submit(status=303)
    form = app.get(CATALOG).forms["specialty-crib"]
    form["price"] = "375.25"
    form.submit(status=303)
    form = app.get(SURCHARGES).forms["rule-holiday"]
    form["percent"] = "22.5"
    form.submit(status=303)
    form = app.get(SURCHARGES).forms["peak-add-form"]
    form["name"], form["start_date"], form["end_date"] = "Memorial Day", "2027-05-28", "2027-05-31"
    form.submit(status=303)
    [peak] = peak_ids(app)
    app.post(
        f"/console/pricing/surcharges/peaks/{peak}/remove", {"csrf_token": token(app)}, status=303
    )
    form = app.get(CAPACITY).forms["override-form"]
    form["date"], form["van_capacity"], form["note"] = "2026-12-24", "2", "Christmas Eve"
    form.submit(status=303)
    form = app.get(CAPACITY).forms["defaults-form"]
    form["van_capacity"] = "5"
    form.submit(status=303)

    records = [r for r in audits(app) if r["action"].startswith("pricing.")]
    assert all(r["actor_id"] == admin.id for r in records)
    assert [(r["action"], r["target_id"], r["changes"]) for r in records] == [
        (
            "pricing.package_changed",
            "standard",
            {
                "before": {"name": "Standard", "max_items": 35, "active": True},
                "after": {"name": "Standard+", "max_items": 40, "active": False},
            },
        ),
        (
            "pricing.policy_changed",
            "1",
            {
                "before": {
                    "per_item_cents": 9500,
                    "minimum_cents": 28500,
                    "same_day_cutoff_hour": 12,
                },
                "after": {
                    "per_item_cents": 9950,
                    "minimum_cents": 30000,
                    "same_day_cutoff_hour": 11,
                },
            },
        ),
        (
            "pricing.specialty_changed",
            "crib",
            {"before": {"price_cents": 35000}, "after": {"price_cents": 37525}},
        ),
        (
            "pricing.surcharge_changed",
            "holiday",
            {"before": {"percent_bp": 2000}, "after": {"percent_bp": 2250}},
        ),
        (
            "pricing.peak_added",
            peak,
            {
                "before": {},
                "after": {
                    "name": "Memorial Day",
                    "start_date": "2027-05-28",
                    "end_date": "2027-05-31",
                },
            },
        ),
        (
            "pricing.peak_removed",
            peak,
            {
                "before": {
                    "name": "Memorial Day",
                    "start_date": "2027-05-28",
                    "end_date": "2027-05-31",
                },
                "after": {},
            },
        ),
        (
            "pricing.capacity_changed",
            "2026-12-24",
            {
                "before": {"van_capacity": None, "note": ""},
                "after": {"van_capacity": 2, "note": "Christmas Eve"},
            },
        ),
        (
            "pricing.policy_changed",
            "1",
            {"before": {"van_capacity": 4}, "after": {"van_capacity": 5}},
        ),
    ]
    # And the quotes follow: the inactive package is gone, the new rates apply.
    refused = (
        TestApp(app.app)
        .post_json(
            "/api/v1/quotes",
            {"service_type": "mini_move", "package": "standard", "date": MONDAY.isoformat()},
            status=400,
        )
        .json
    )
    assert refused["errors"][0]["name"] == "package"
    assert (
        quote(app, service_type="standard_delivery", item_count=2, date=MONDAY)["total_cents"]
        == 30000
    )  # 2 × $99.50 < the $300 minimum
    assert (
        quote(
            app, service_type="specialty", specialty_items=[{"code": "crib", "qty": 2}], date=MONDAY
        )["total_cents"]
        == 75050
    )


def test_a_percentage_edit_changes_the_weekend_surcharge(app):
    signed_in(app, "admin")
    form = app.get(SURCHARGES).forms["rule-weekend"]
    form["percent"] = "12.5"
    assert "done=surcharge_saved" in form.submit(status=303).location
    saturday = petite(app, SATURDAY)
    assert saturday["surcharges"][0]["amount_cents"] == 12438  # 995 × 12.5% = 124.375, half up
    assert saturday["total_cents"] == 111938
    form = app.get(SURCHARGES).forms["rule-weekend"]
    form["active"] = "0"
    form.submit(status=303)
    assert petite(app, SATURDAY)["surcharges"] == []


def test_a_peak_range_added_and_removed_changes_the_quote_surcharge(app):
    signed_in(app, "admin")
    assert petite(app, TUESDAY)["surcharges"] == []
    form = app.get(SURCHARGES).forms["peak-add-form"]
    form["name"], form["start_date"], form["end_date"] = "Holiday rush", "2026-12-01", "2026-12-03"
    answer = form.submit(status=303)
    assert answer.location.endswith("/console/pricing/surcharges?done=peak_added#peaks")
    page = answer.follow()
    assert "Peak range added." in page.text and 'data-name="Holiday rush"' in page.text

    peaked = petite(app, TUESDAY)
    assert [(s["code"], s["amount_cents"]) for s in peaked["surcharges"]] == [("peak", 24875)]
    assert "Holiday rush" in peaked["surcharges"][0]["description"]
    assert peaked["total_cents"] == 124375
    assert petite(app, MONDAY)["surcharges"] == []  # the day before the range

    [peak] = peak_ids(app)
    remove = [f for f in post_forms(page) if f.action.endswith(f"/peaks/{peak}/remove")]
    assert len(remove) == 1
    answer = remove[0].submit(status=303)
    assert "Peak range removed." in answer.follow().text
    assert peak_ids(app) == []
    assert petite(app, TUESDAY)["surcharges"] == []
    assert petite(app, TUESDAY)["total_cents"] == 99500


# --- bad input: 400 naming the field, nothing changed --------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-5", "Price must not be negative."),
        ("abc", "Price: enter the amount in dollars, like 25.00."),
        ("1.999", "Price: at most 2 decimals (whole cents)."),
        ("100000.01", "Price must be at most $100,000.00."),
        ("", "Price: enter the amount in dollars, like 25.00."),
    ],
)
def test_bad_money_is_400_next_to_the_field_and_changes_nothing(app, typed, message):
    signed_in(app, "admin")
    before = snapshot(app)
    form = app.get(CATALOG).forms["package-petite"]
    form["price"] = typed
    form["name"] = "Tiny"  # a valid change in the same form is not made either
    page = form.submit(status=400)
    assert error_of(page, "price") == message
    assert 'data-testid="form-refused"' in page.text
    refused = page.forms["package-petite"]
    assert refused["price"].value == typed and refused["name"].value == "Tiny"  # as typed
    assert page.forms["package-full"]["price"].value == "2490.00"  # other forms: stored values
    assert snapshot(app) == before and pricing_actions(app) == []
    assert petite(app)["total_cents"] == 99500


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("minimum", "-5", "Standard delivery minimum must not be negative."),
        ("coi_fee", "abc", "COI handling fee: enter the amount in dollars, like 25.00."),
        ("per_item", "1.999", "Per item: at most 2 decimals (whole cents)."),
        ("same_day_cutoff_hour", "25", "Same-day cut-off hour: enter a whole number from 0 to 24."),
        ("same_day_included_items", "-1", "Items included same day must not be negative."),
    ],
)
def test_bad_rates_are_400_next_to_the_field(app, field, typed, message):
    signed_in(app, "admin")
    before = snapshot(app)
    form = app.get(CATALOG).forms["rates-form"]
    form[field] = typed
    page = form.submit(status=400)
    assert error_of(page, field) == message
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("path", "body", "field", "message"),
    [
        (
            "/console/pricing/catalog/specialty/peloton",
            {"price": "-5"},
            "price",
            "Price must not be negative.",
        ),
        (
            "/console/pricing/catalog/packages/full",
            {"max_items": "0"},
            "max_items",
            "Max items: enter a whole number from 1 to 500.",
        ),
        (
            "/console/pricing/catalog/packages/full",
            {"name": "  "},
            "name",
            "Name: this cannot be empty.",
        ),
        (
            "/console/pricing/catalog/packages/full",
            {"name": "x" * 61},
            "name",
            "Name: at most 60 characters.",
        ),
        (
            "/console/pricing/catalog/packages/full",
            {"name": "Full\x00"},
            "name",
            "Name: control characters are not allowed.",
        ),
        (
            "/console/pricing/catalog/packages/full",
            {"active": "maybe"},
            "active",
            "Active: choose yes or no.",
        ),
        (
            "/console/pricing/surcharges/rules/peak",
            {"percent": "101"},
            "percent",
            "Percent must be at most 100%.",
        ),
        (
            "/console/pricing/surcharges/rules/peak",
            {"percent": "12.345"},
            "percent",
            "Percent: at most 2 decimals.",
        ),
        (
            "/console/pricing/surcharges/peaks",
            {"name": "Rush", "start_date": "2026-12-05", "end_date": "2026-12-01"},
            "end_date",
            "End date: the range cannot end before it starts.",
        ),
        (
            "/console/pricing/surcharges/peaks",
            {"name": "Rush", "start_date": "12/05/2026", "end_date": "2026-12-01"},
            "start_date",
            "Start date: enter a date as YYYY-MM-DD.",
        ),
        (
            "/console/pricing/surcharges/peaks",
            {"name": "", "start_date": "2026-12-01", "end_date": "2026-12-01"},
            "name",
            "Name: this cannot be empty.",
        ),
        (
            "/console/pricing/capacity/days",
            {"date": "2026-11-22", "van_capacity": "0"},
            "date",
            "Date: 2026-11-22 is in the past.",
        ),
        (
            "/console/pricing/capacity/days",
            {"date": "2026-02-30", "van_capacity": "0"},
            "date",
            "Date: enter a date as YYYY-MM-DD.",
        ),
        (
            "/console/pricing/capacity/days",
            {"date": "2026-12-01", "van_capacity": "-1"},
            "van_capacity",
            "Van capacity must not be negative.",
        ),
        (
            "/console/pricing/capacity/days",
            {"date": "2026-12-01", "specialty_capacity": "many"},
            "specialty_capacity",
            "Specialty capacity: enter a whole number from 0 to 100.",
        ),
        (
            "/console/pricing/capacity/defaults",
            {"max_days_ahead": "0"},
            "max_days_ahead",
            "Days bookable ahead: enter a whole number from 1 to 730.",
        ),
    ],
)
def test_other_bad_input_is_400_naming_the_field(app, path, body, field, message):
    signed_in(app, "admin")
    before = snapshot(app)
    page = app.post(path, {"csrf_token": token(app), **body}, status=400)
    assert error_of(page, field) == message
    assert snapshot(app) == before and pricing_actions(app) == []


# --- capacity ------------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_an_override_of_zero_closes_the_day_and_empty_restores_the_default(app):
    signed_in(app, "admin")
    assert available(app, MONDAY) == {
        "date": "2026-11-30",
        "available": True,
        "open": True,
        "remaining": 4,
        "specialty_remaining": 2,
        "surcharges": [],
    }
    form = app.get(CAPACITY).forms["override-form"]
    form["date"], form["van_capacity"], form["note"] = "2026-11-30", "0", "Crew offsite"
    answer = form.submit(status=303)
    assert answer.location.endswith(
        "/console/pricing/capacity?month=2026-11&done=capacity_saved#day-2026-11-30"
    )
    page = answer.follow()
    cell = re.search(r'<td id="day-2026-11-30".*?</td>', page.text, re.S).group(0)
    assert 'data-capacity="0"' in cell and "closed" in cell and "Crew offsite" in cell
    assert classes_of(cell) == ["blackout"]

    info = available(app, MONDAY)
    assert info["available"] is False and info["remaining"] == 0
    assert available(app, MONDAY, "specialty")["available"] is False
    assert available(app, TUESDAY)["available"] is True  # only that date

    # The Set… link prefills the form with the date's override; emptying it restores the default.
    form = app.get(CAPACITY + "?month=2026-11&day=2026-11-30").forms["override-form"]
    assert (form["date"].value, form["van_capacity"].value, form["note"].value) == (
        "2026-11-30",
        "0",
        "Crew offsite",
    )
    form["van_capacity"], form["note"] = "", ""
    form.submit(status=303)
    assert available(app, MONDAY)["available"] is True
    assert available(app, MONDAY)["remaining"] == 4
    assert [a["changes"] for a in audits(app, "pricing.capacity_changed")] == [
        {
            "before": {"van_capacity": None, "note": ""},
            "after": {"van_capacity": 0, "note": "Crew offsite"},
        },
        {
            "before": {"van_capacity": 0, "note": "Crew offsite"},
            "after": {"van_capacity": None, "note": ""},
        },
    ]


@pytest.mark.both_databases
def test_the_calendar_shows_capacity_booked_remaining_and_surcharges(app):
    def book(ctx):
        services.reserve(ctx, MONDAY, specialty=True)
        services.reserve(ctx, MONDAY)
        services.set_capacity(ctx, dt.date(2026, 11, 27), 6, 3, "Black Friday crew")
        services.set_capacity(ctx, dt.date(2026, 12, 2), 1, None, "")  # not this month
        services.set_capacity(ctx, dt.date(2026, 11, 25), 1, None, "")
        services.reserve(ctx, dt.date(2026, 11, 25))

    run(app, book)
    signed_in(app, "viewer")
    page = app.get(CAPACITY)
    assert 'data-testid="month">November 2026<' in page.text
    assert "?month=2026-10" in page.text and "?month=2026-12" in page.text

    def cell(day: str) -> str:
        return re.search(rf'<td id="day-{day}".*?</td>', page.text, re.S).group(0)

    monday = cell("2026-11-30")
    for attribute in (
        'data-capacity="4"',
        'data-booked="2"',
        'data-remaining="2"',
        'data-specialty="2"',
        'data-specialty-remaining="1"',
    ):
        assert attribute in monday
    assert "2 left" in monday and "2/4 booked" in monday and "specialty 1/2" in monday
    friday = cell("2026-11-27")
    assert 'data-capacity="6"' in friday and "Black Friday crew" in friday
    assert "override" in friday and 'data-specialty="3"' in friday
    assert 'data-surcharge="holiday"' in cell("2026-11-26")  # Thanksgiving
    assert 'data-surcharge="weekend"' in cell("2026-11-28")
    assert 'data-surcharge=""' in cell("2026-11-24")
    assert classes_of(cell("2026-11-02")) == ["past"]
    assert classes_of(cell("2026-11-23")) == ["today"]
    assert classes_of(monday) == []
    full = cell("2026-11-25")
    assert classes_of(full) == ["full"] and "0 left" in full and "1/1 booked" in full
    overrides = re.search(r'data-testid="overrides-table".*?</table>', page.text, re.S).group(0)
    assert re.findall(r'data-date="([^"]+)"', overrides) == ["2026-11-25", "2026-11-27"]
    assert "Set…" not in page.text  # a viewer gets no edit links
    assert page.text.count('<td id="day-') == 30


@pytest.mark.both_databases
def test_the_calendar_reads_the_month_in_one_query(app):
    signed_in(app, "viewer")
    statements: list[str] = []
    engine = app.app.registry["dbengine"]

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        app.get(CAPACITY + "?month=2027-01")
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert len([s for s in statements if "pricing_capacity_days" in s]) == 1


def test_other_months_and_a_bad_month(app):
    signed_in(app, "admin")
    page = app.get(CAPACITY + "?month=2027-02")
    assert 'data-testid="month">February 2027<' in page.text
    assert page.text.count('<td id="day-') == 28
    assert "?month=2027-01" in page.text and "?month=2027-03" in page.text
    december = app.get(CAPACITY + "?month=2026-12")
    assert "?month=2027-01" in december.text  # next month across the year
    for bad in ("2026-13", "nope", "1999-01", "2026-1"):
        page = app.get(CAPACITY + "?month=" + bad, status=400)
        assert "Month: use YYYY-MM" in page.text
        assert 'data-testid="month">November 2026<' in page.text


@pytest.mark.both_databases
def test_the_default_month_follows_new_york_time(app):
    # 02:00 UTC on 1 December is still 30 November in New York.
    app.app.registry.clock = lambda: dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC)
    signed_in(app, "viewer")
    assert 'data-testid="month">November 2026<' in app.get(CAPACITY).text


def test_default_capacity_edit_applies_to_every_day_without_override(app):
    signed_in(app, "admin")
    form = app.get(CAPACITY).forms["defaults-form"]
    form["van_capacity"], form["specialty_capacity"] = "6", "0"
    assert "done=defaults_saved" in form.submit(status=303).location
    assert available(app, MONDAY)["remaining"] == 6
    assert available(app, MONDAY, "specialty")["available"] is False
