"""The console's bookings and customers pages: list, search, paging, detail, edit, status, cancel.

The app runs with the pricing plugin and the fixed clock of test_bookings: Monday 2026-11-23
10:00 New York time; bookings are for Thursday 2026-12-03 (``DAY``, no surcharge, four vans)
unless a test says otherwise. A Petite Mini Move costs $995.00; Saturday 2026-12-05 adds the
15% weekend surcharge ($1,144.25).

Staff sign in with a cookie session (test_console's helpers) and post the page's own forms, which
carry the CSRF token; bookings are made through the API by guests and customers.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from support.bookings import (
    DAY,
    GUEST,
    MISSING_ID,
    NOW,
    OTHER_DAY,
    PICKUP,
    book,
    book_as_guest,
    customer,
    customer_body,
    remaining,
    run,
    save_address,
    set_clock,
    staff_headers,
)
from support.console import (
    audit_rows,
    nav_titles,
    page_of,
    staff_browser,
    text_of,
    token_in,
)
from totetaxi_pricing import services as pricing
from webtest import TestApp

from totetaxi_core.bookings.models import Booking, BookingEvent
from totetaxi_core.errors import Refused
from totetaxi_core.hooks import hookimpl
from totetaxi_core.testing import in_transaction

SATURDAY = dt.date(2026, 12, 5)  # weekend: +15%
PETITE = "$995.00"
PETITE_SATURDAY = "$1,144.25"
LIST = "/console/bookings"
CUSTOMERS = "/console/customers"


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def app(make_testapp) -> TestApp:
    """test_bookings' app: the pricing plugin and its fixed clock."""
    testapp = make_testapp(**{"totetaxi.plugins": "pricing"})
    set_clock(testapp, NOW)
    return testapp


def has(page: Any, name: str) -> bool:
    return f'data-testid="{name}"' in page.text


def numbers(page: Any) -> list[str]:
    return re.findall(r'<tr data-number="(TT-\d{6})"', page.text)


def stored(app: TestApp, booking_id: str) -> dict[str, Any]:
    def work(ctx):
        b = ctx.dbsession.get(Booking, uuid.UUID(booking_id))
        return {
            "status": str(b.status),
            "date": b.pickup_date,
            "total": b.total_cents,
            "version": b.version,
            "notes": b.notes,
            "window": b.time_window,
            "city": b.pickup_address.city,
            "reason": b.cancel_reason,
        }

    return in_transaction(app.app.registry, work)


def events(app: TestApp, booking_id: str) -> list[tuple[str, str, str]]:
    return in_transaction(
        app.app.registry,
        lambda ctx: [
            (e.status, e.message, e.actor_kind)
            for e in ctx.dbsession.scalars(
                select(BookingEvent)
                .where(BookingEvent.booking_id == uuid.UUID(booking_id))
                .order_by(BookingEvent.at)
            )
        ],
    )


def submit(page: Any, form: str, expect: int | str = 303, **fields: Any) -> Any:
    """Fill the page's form ``form`` (``edit``, ``status``, ``cancel``) and post it."""
    filled = page.forms[f"{form}-form"]
    for name, value in fields.items():
        filled[name] = value
    return filled.submit(status=expect)


def booking_actions(app: TestApp) -> list[dict[str, Any]]:
    return [r for r in audit_rows(app) if r["action"].startswith("booking.")]


# --- navigation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "staff", "admin"])
def test_every_staff_role_sees_bookings_and_customers_in_the_navigation(app, role):
    browser = staff_browser(app, role)
    titles = nav_titles(browser.get("/console/"))
    assert titles[:2] == ["Dashboard", "Bookings"] and "Customers" in titles
    page = browser.get(LIST)
    assert 'aria-current="page">Bookings<' in page.text


# --- the list ------------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_the_list_shows_bookings_newest_first_with_contact_total_and_times(app):
    first = book_as_guest(app)
    me, headers = customer(app)
    second = book(app, customer_body(OTHER_DAY), headers)
    browser = staff_browser(app, "viewer")
    page = browser.get(LIST)
    assert page.status_int == 200 and page.content_type == "text/html"
    assert numbers(page) == [second["number"], first["number"]]
    row = re.search(r'<tr data-number="TT-000001">.*?</tr>', page.text, re.S).group(0)
    assert "Gale Guest" in row and "gale@example.com" in row and "(guest)" in row
    assert PETITE in row and "Thu Dec 3, 2026" in row and "morning" in row
    assert f'href="http://localhost/console/bookings/{first["id"]}"' in row
    created = in_transaction(
        app.app.registry, lambda ctx: ctx.dbsession.get(Booking, uuid.UUID(first["id"])).created_at
    )
    local = created.astimezone(dt.timezone(dt.timedelta(hours=-5)))  # December: EST
    assert local.strftime("%Y-%m-%d %H:%M EST") in row
    other = re.search(r'<tr data-number="TT-000002">.*?</tr>', page.text, re.S).group(0)
    assert "Casey Client" in other and me["email"] in other and "(guest)" not in other


def test_filters_by_status_pickup_date_and_customer(app):
    guest_day = book_as_guest(app)
    guest_other = book_as_guest(app, OTHER_DAY)
    me, headers = customer(app)
    mine = book(app, customer_body(), headers)
    client = TestApp(app.app)
    client.post_json(
        f"/api/v1/bookings/{guest_other['id']}/cancel?token={guest_other['tracking_token']}", {}
    )
    browser = staff_browser(app, "viewer")

    page = browser.get(LIST, params={"status": "cancelled"})
    assert numbers(page) == [guest_other["number"]]
    assert 'value="cancelled" checked' in page.text
    # Several boxes, as the form sends them, and comma-separated, as a link does.
    for params in (
        [("status", "cancelled"), ("status", "pending_payment")],
        {"status": "cancelled,pending_payment"},
    ):
        assert numbers(browser.get(LIST, params=params)) == [
            mine["number"],
            guest_other["number"],
            guest_day["number"],
        ]
    page = browser.get(LIST, params={"date_from": OTHER_DAY.isoformat()})
    assert numbers(page) == [guest_other["number"]]
    page = browser.get(LIST, params={"date_to": DAY.isoformat(), "status": "pending_payment"})
    assert numbers(page) == [mine["number"], guest_day["number"]]
    page = browser.get(LIST, params={"customer_id": me["id"]})
    assert numbers(page) == [mine["number"]]
    assert "Only the bookings of" in text_of(page, "customer-filter")
    assert "Casey Client" in text_of(page, "customer-filter")


@pytest.mark.parametrize("q", ["TT-000002", "tt-2", "2", "tt000002"])
def test_search_by_number(app, q):
    book_as_guest(app)
    second = book_as_guest(app)
    page = staff_browser(app).get(LIST, params={"q": q})
    assert numbers(page) == [second["number"]]


@pytest.mark.both_databases
def test_search_by_name_and_email_words(app):
    gale = book_as_guest(app)
    other = book(
        app,
        {
            **customer_body(),
            "guest": {
                **GUEST,
                "first_name": "Robin",
                "last_name": "Hart",
                "email": "robin@hart.example",
            },
        },
    )
    me, headers = customer(app)
    mine = book(app, customer_body(), headers)
    browser = staff_browser(app)
    assert numbers(browser.get(LIST, params={"q": "gale"})) == [gale["number"]]
    assert numbers(browser.get(LIST, params={"q": "ROBIN hart"})) == [other["number"]]
    assert numbers(browser.get(LIST, params={"q": "hart.example"})) == [other["number"]]
    assert numbers(browser.get(LIST, params={"q": "casey client"})) == [mine["number"]]
    assert numbers(browser.get(LIST, params={"q": me["email"]})) == [mine["number"]]
    page = browser.get(LIST, params={"q": "nobody at all"})
    assert numbers(page) == [] and has(page, "no-bookings")
    assert 'value="nobody at all"' in page.text


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"date_from": "12/03/2026"}, "date_from", "date_from must be a date as YYYY-MM-DD."),
        ({"date_to": "2026-02-30"}, "date_to", "date_to must be a date as YYYY-MM-DD."),
        (
            {"date_from": "2026-12-08", "date_to": "2026-12-03"},
            "date_to",
            "date_to must not be before date_from.",
        ),
        ({"status": "lost"}, "status", "status must be one or more"),
        ({"q": "x" * 201}, "q", "q is at most 200 characters."),
        ({"customer_id": "not-an-id"}, "customer_id", "customer_id must be an id."),
        ({"cursor": "garbage"}, "cursor", "cursor is not one this API gave out."),
    ],
)
def test_a_bad_filter_is_a_400_with_the_message_at_the_filter(app, params, field, message):
    book_as_guest(app)
    page = staff_browser(app).get(LIST, params=params, status=400)
    assert message in text_of(page, f"error-{field}")
    assert has(page, "filters-refused") and not has(page, "bookings-table")
    for name, value in params.items():
        if name in ("date_from", "date_to", "q"):
            assert f'value="{value}"' in page.text  # what was typed stays in the form


def test_the_list_escapes_what_it_shows_and_echoes(app):
    book(app, {**customer_body(), "guest": {**GUEST, "first_name": "<b>Bold</b>"}})
    browser = staff_browser(app)
    page = browser.get(LIST, params={"q": '"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in page.text
    page = browser.get(LIST)
    assert "<b>Bold</b>" not in page.text and "&lt;b&gt;Bold&lt;/b&gt;" in page.text


@pytest.mark.both_databases
def test_pages_follow_each_other_and_keep_the_filters(app):
    made = [book_as_guest(app, day) for day in (DAY, DAY, DAY, OTHER_DAY, OTHER_DAY)]
    _, headers = customer(app)
    book(app, customer_body(OTHER_DAY), headers)  # filtered out by q below
    browser = staff_browser(app, "viewer")
    seen: list[str] = []
    page = browser.get(LIST, params={"q": "gale", "status": "pending_payment", "limit": "2"})
    assert not has(page, "first-page")
    while True:
        seen += numbers(page)
        if not has(page, "next-page"):
            break
        link = re.search(r'href="([^"]+)" rel="next"', page.text).group(1).replace("&amp;", "&")
        query = parse_qs(urlsplit(link).query)
        assert query["q"] == ["gale"] and query["status"] == ["pending_payment"]
        assert query["limit"] == ["2"] and query["cursor"]
        page = browser.get(link)
        assert has(page, "first-page")
    assert seen == [b["number"] for b in reversed(made)]


def test_an_unknown_booking_is_the_console_404(app):
    browser = staff_browser(app)
    for ident in (MISSING_ID, "not-a-uuid"):
        page = browser.get(f"{LIST}/{ident}", status=404)
        assert "Not found" in page.text and 'class="top"' in page.text
    token = token_in(browser.get(LIST))
    for action in ("edit", "status", "cancel"):
        browser.post(f"{LIST}/{MISSING_ID}/{action}", {"csrf_token": token}, status=404)


# --- the detail page -----------------------------------------------------------------------------


class Panels:
    """A plugin with two booking panels on the core's facts template, a malformed one and one
    whose template does not exist."""

    FACTS = "totetaxi_core:console/templates/panel_facts.jinja2"

    @hookimpl
    def totetaxi_booking_panels(self, request, booking):
        return [
            {
                "title": "Payments",
                "template": self.FACTS,
                "order": 20,
                "context": {"facts": {"Card": "<i>on file</i>", "Booking": booking.number}},
            },
            {
                "title": "Dispatch",
                "template": self.FACTS,
                "order": 10,
                "context": {"facts": {"Van": "3"}, "note": "Driver: Sam"},
            },
            {"title": "Broken: no template"},
            {
                "title": "Missing",
                "template": "totetaxi_core:console/templates/nowhere.jinja2",
                "order": 30,
            },
        ]


def test_the_detail_page_shows_facts_quote_contact_addresses_history_and_panels(app):
    app.app.registry.hooks.register(Panels(), "panels")
    created = book_as_guest(app, notes="Doorman: Luis")
    page = page_of(staff_browser(app, "viewer"), created["id"])
    assert text_of(page, "booking-number") == created["number"]
    assert text_of(page, "booking-status") == "Pending payment"
    assert text_of(page, "booking-total") == PETITE
    assert text_of(page, "booking-pickup") == "Thu Dec 3, 2026, morning"
    assert "Mini Move Petite (up to 15 items)" in text_of(page, "quote")
    assert text_of(page, "booking-notes") == "Doorman: Luis"
    contact = text_of(page, "contact")
    assert "Gale Guest" in contact and "(no account)" in contact and "+1 646 555 0199" in contact
    assert text_of(page, "pickup-address") == "200 E 62nd St, Apt 5B New York, NY 10065"
    assert text_of(page, "delivery-address") == "12 Dune Rd Southampton, NY 11968"
    assert "Booking received; waiting for payment." in text_of(page, "history")
    # Panels: sorted by order, rendered with their context, escaped; the malformed one left out.
    chunks = page.text.split('data-testid="panel">')[1:]
    panels = [c.split("</div>")[0].split("</h2>") for c in chunks]
    assert [title.strip() for title, _ in panels] == ["<h2>Dispatch", "<h2>Payments", "<h2>Missing"]
    dispatch, payments, missing = (
        " ".join(re.sub(r"<[^>]+>", " ", body).split()) for _, body in panels
    )
    assert dispatch == "Van 3 Driver: Sam"
    assert payments == f"Card &lt;i&gt;on file&lt;/i&gt; Booking {created['number']}"
    assert missing == "This panel could not be shown; the error is in the server log."


def test_a_customer_booking_links_to_the_customer(app):
    me, headers = customer(app)
    mine = book(app, customer_body(), headers)
    page = page_of(staff_browser(app), mine["id"])
    assert f'href="http://localhost/console/customers/{me["id"]}"' in page.text
    assert "Casey Client" in text_of(page, "customer-link")


# --- editing -------------------------------------------------------------------------------------


def test_an_edit_reprices_moves_the_van_and_is_audited(app):
    created = book_as_guest(app)
    browser = staff_browser(app)
    page = page_of(browser, created["id"])
    form = page.forms["edit-form"]
    assert form["version"].value == "1" and form["date"].value == DAY.isoformat()
    assert form["pickup_line2"].value == "Apt 5B" and form["package"].value == "petite"
    answer = submit(
        page,
        "edit",
        date=SATURDAY.isoformat(),
        time_window="afternoon",
        notes="Call on arrival",
        delivery_city="East Hampton",
    )
    assert (
        answer.location
        == f"http://localhost/console/bookings/{created['id']}?done=booking_repriced"
    )
    after = answer.follow()
    assert text_of(after, "flash") == "Booking saved and priced again; the new total is below."
    assert text_of(after, "booking-total") == PETITE_SATURDAY
    assert text_of(after, "booking-pickup") == "Sat Dec 5, 2026, afternoon"
    assert "Weekend +15%" in text_of(after, "quote")
    assert "East Hampton" in text_of(after, "delivery-address")
    assert after.forms["edit-form"]["version"].value == str(stored(app, created["id"])["version"])
    assert remaining(app) == 4 and remaining(app, SATURDAY) == 3
    now = stored(app, created["id"])
    assert (now["date"], now["total"], now["window"], now["notes"]) == (
        SATURDAY,
        114425,
        "afternoon",
        "Call on arrival",
    )
    [record] = booking_actions(app)
    assert record["action"] == "booking.updated" and record["target_id"] == created["id"]
    changes = record["changes"]
    assert changes["before"]["date"] == DAY.isoformat()
    assert changes["after"]["date"] == SATURDAY.isoformat()
    assert changes["before"]["total_cents"] == 99500 and changes["after"]["total_cents"] == 114425
    assert changes["after"]["delivery_address"]["city"] == "East Hampton"
    assert "Pickup moved to Saturday December 5, afternoon." in text_of(after, "history")


def test_an_edit_of_plain_fields_keeps_the_price_and_an_unchanged_form_changes_nothing(app):
    created = book_as_guest(app)
    browser = staff_browser(app)
    answer = submit(page_of(browser, created["id"]), "edit", notes="Fragile mirror")
    assert answer.location.endswith("?done=booking_saved")
    assert text_of(answer.follow(), "booking-total") == PETITE
    answer = submit(answer.follow(), "edit")
    assert answer.location.endswith("?done=booking_unchanged")
    assert "Nothing changed" in text_of(answer.follow(), "flash")
    assert [r["action"] for r in booking_actions(app)] == ["booking.updated"]
    assert stored(app, created["id"])["version"] == 2


def test_a_stale_version_is_refused_and_the_form_shows_the_booking_as_it_is(app):
    created = book_as_guest(app)
    browser = staff_browser(app)
    page = page_of(browser, created["id"])
    other = staff_browser(app)
    submit(page_of(other, created["id"]), "edit", notes="Changed by Alex")
    refused = submit(page, "edit", expect=409, notes="Mine", date=SATURDAY.isoformat())
    assert "changed by someone else" in text_of(refused, "form-refused")
    form = refused.forms["edit-form"]
    assert form["version"].value == "2" and form["notes"].value == "Changed by Alex"
    assert form["date"].value == DAY.isoformat()
    now = stored(app, created["id"])
    assert (now["notes"], now["date"], now["version"]) == ("Changed by Alex", DAY, 2)
    assert remaining(app, SATURDAY) == 4
    # Applied again on the current version, it goes through.
    assert submit(refused, "edit", notes="Mine").status_int == 303
    assert stored(app, created["id"])["notes"] == "Mine"


def test_a_move_to_a_full_day_is_409_at_the_date_and_changes_nothing(app):
    created = book_as_guest(app)
    for _ in range(4):
        book_as_guest(app, OTHER_DAY)
    browser = staff_browser(app)
    refused = submit(
        page_of(browser, created["id"]),
        "edit",
        expect=409,
        date=OTHER_DAY.isoformat(),
        notes="Move it",
    )
    assert "2026-12-08 is fully booked" in text_of(refused, "error-edit-date")
    assert refused.forms["edit-form"]["date"].value == OTHER_DAY.isoformat()  # as typed
    # The page shows the booking as it is (not the half-made change).
    assert text_of(refused, "booking-pickup") == "Thu Dec 3, 2026, morning"
    assert text_of(refused, "booking-notes") == "none"
    now = stored(app, created["id"])
    assert (now["date"], now["notes"], now["version"], now["total"]) == (DAY, "", 1, 99500)
    assert remaining(app) == 3 and remaining(app, OTHER_DAY) == 0
    assert booking_actions(app) == []
    assert [e[0] for e in events(app, created["id"])] == ["pending_payment"]


def test_a_move_to_a_closed_day_is_409(app):
    created = book_as_guest(app)
    run(app, lambda ctx: pricing.set_capacity(ctx, SATURDAY, 0, None, "Closed"))
    refused = submit(
        page_of(staff_browser(app), created["id"]), "edit", expect=409, date=SATURDAY.isoformat()
    )
    assert "fully booked" in text_of(refused, "error-edit-date")
    assert stored(app, created["id"])["date"] == DAY and remaining(app) == 3


class Objector:
    @hookimpl
    def totetaxi_validate_booking(self, ctx, draft, quote, customer):
        return [
            {"name": "notes", "description": "Notes must mention the doorman."},
            {"name": "time_window", "description": "Mornings only for this building."},
            {"name": "building", "description": "The building needs a COI."},
        ]


def test_rule_problems_are_422_each_at_its_field(app):
    created = book_as_guest(app)
    browser = staff_browser(app)
    page = page_of(browser, created["id"])
    app.app.registry.hooks.register(Objector(), "objector")
    refused = submit(page, "edit", expect=422, date=SATURDAY.isoformat())
    assert text_of(refused, "error-edit-notes") == "Notes must mention the doorman."
    assert text_of(refused, "error-edit-time_window") == "Mornings only for this building."
    assert "The building needs a COI." in text_of(refused, "form-refused")
    assert stored(app, created["id"])["date"] == DAY and remaining(app, SATURDAY) == 4


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        # The form is checked by the staff API's schema: its sentences, after the field's label.
        (
            {"date": "12/05/2026"},
            "date",
            "Pickup date: '12/05/2026' is not a date written YYYY-MM-DD.",
        ),
        ({"date": "2026-11-20"}, "date", "2026-11-20 is in the past."),
        (
            {"time_window": "evening"},
            "time_window",
            "Time window: choose one of morning, afternoon.",
        ),
        ({"item_count": "lots"}, "item_count", "Items: enter a whole number from 1 to 500"),
        # A superscript digit is a digit to str.isdigit, not to int(): still a 400, never a 500.
        ({"item_count": "²"}, "item_count", "Items: enter a whole number from 1 to 500"),
        ({"item_count": "40"}, "item_count", "Petite holds up to 15 items"),
        ({"package": "huge"}, "package", "Unknown package 'huge'"),
        (
            {"pickup_state": "XX"},
            "pickup_state",
            "State: 'XX' is not a US state: use the two-letter state code",
        ),
        (
            {"delivery_postal_code": "1196"},
            "delivery_postal_code",
            "ZIP code: '1196' is not a ZIP code: use 5 digits (or ZIP+4).",
        ),
        ({"pickup_line1": "  "}, "pickup_line1", "Street: this cannot be empty."),
        ({"notes": "x" * 1001}, "notes", "Notes: at most 1000 characters."),
    ],
)
def test_bad_input_is_400_next_to_the_field(app, fields, field, message):
    created = book_as_guest(app)
    browser = staff_browser(app)
    page = page_of(browser, created["id"])
    form = page.forms["edit-form"]
    for name, value in fields.items():
        if name == "time_window":
            form[name].force_value(value)
        else:
            form[name] = value
    refused = form.submit(status=400)
    assert message in text_of(refused, f"error-edit-{field}")
    assert 'aria-invalid="true"' in refused.text
    assert stored(app, created["id"])["version"] == 1 and booking_actions(app) == []


def test_a_damaged_version_is_refused_as_a_form_problem(app):
    created = book_as_guest(app)
    form = page_of(staff_browser(app), created["id"]).forms["edit-form"]
    form["version"].force_value("²")
    refused = form.submit(status=400)
    assert "The form is damaged (its version)" in text_of(refused, "form-refused")
    assert stored(app, created["id"])["version"] == 1 and booking_actions(app) == []


def test_the_state_may_be_typed_in_lower_case(app):
    created = book_as_guest(app)
    submit(
        page_of(staff_browser(app), created["id"]),
        "edit",
        pickup_state="ct",
        pickup_city="Greenwich",
        pickup_postal_code="06830",
    )
    assert stored(app, created["id"])["city"] == "Greenwich"


def test_a_scripted_edit_may_send_only_what_changes(app):
    created = book_as_guest(app)
    browser = staff_browser(app)
    token = token_in(page_of(browser, created["id"]))
    answer = browser.post(
        f"{LIST}/{created['id']}/edit", {"csrf_token": token, "notes": "Only the notes"}, status=303
    )
    assert answer.location.endswith("done=booking_saved")
    now = stored(app, created["id"])
    assert (now["notes"], now["date"], now["city"]) == ("Only the notes", DAY, "New York")


# --- status and cancel ---------------------------------------------------------------------------


def test_the_status_form_offers_the_next_states_and_changes_the_status(app):
    created = book_as_guest(app)
    browser = staff_browser(app)
    page = page_of(browser, created["id"])
    options = [value for value, _, _ in page.forms["status-form"]["status"].options]
    assert options == ["", "confirmed"]  # cancelling has its own form
    answer = submit(page, "status", status="confirmed", reason="Paid by phone")
    assert answer.location.endswith("?done=status_changed")
    after = answer.follow()
    assert text_of(after, "flash") == "Status changed."
    assert text_of(after, "booking-status") == "Confirmed"
    assert "Paid by phone" in text_of(after, "history")
    options = [value for value, _, _ in after.forms["status-form"]["status"].options]
    assert options == ["", "in_progress"]
    assert stored(app, created["id"])["status"] == "confirmed"
    [record] = booking_actions(app)
    assert record["action"] == "booking.status_changed"
    assert record["changes"]["after"] == {"status": "confirmed", "reason": "Paid by phone"}


def test_a_refused_transition_is_409_at_the_status(app):
    created = book_as_guest(app)
    browser = staff_browser(app)
    page = page_of(browser, created["id"])
    form = page.forms["status-form"]
    form["status"].force_value("completed")
    refused = form.submit(status=409)
    assert "cannot go from pending_payment to completed" in text_of(refused, "error-status-status")
    form = refused.forms["status-form"]
    form["status"].force_value("cancelled")
    refused = form.submit(status=400)
    assert "cancel form" in text_of(refused, "error-status-status")
    form["status"].force_value("")
    assert "Choose the new status." in text_of(form.submit(status=400), "error-status-status")
    assert stored(app, created["id"])["status"] == "pending_payment"
    assert booking_actions(app) == []


class PaymentsFirst:
    """A plugin that refuses to confirm an unpaid booking, once the status has moved."""

    @hookimpl
    def totetaxi_booking_status_changed(self, ctx, booking, old_status, new_status, reason):
        if new_status == "confirmed":
            raise Refused(409, "status", "Take the payment before confirming.")


def test_a_plugin_refusing_a_status_change_is_shown_and_nothing_changes(app):
    created = book_as_guest(app)
    browser = staff_browser(app)
    page = page_of(browser, created["id"])
    app.app.registry.hooks.register(PaymentsFirst(), "payments-first")
    refused = submit(page, "status", expect=409, status="confirmed")
    assert text_of(refused, "error-status-status") == "Take the payment before confirming."
    assert text_of(refused, "booking-status") == "Pending payment"  # as it is, not half-moved
    assert stored(app, created["id"])["status"] == "pending_payment"
    assert booking_actions(app) == [] and len(events(app, created["id"])) == 1


def test_cancel_needs_the_box_ticked_then_releases_the_van(app):
    created = book_as_guest(app)
    browser = staff_browser(app)
    page = page_of(browser, created["id"])
    refused = submit(page, "cancel", expect=400, reason="Customer called")
    assert "Tick the box" in text_of(refused, "error-cancel-confirm")
    assert refused.forms["cancel-form"]["reason"].value == "Customer called"
    assert stored(app, created["id"])["status"] == "pending_payment" and remaining(app) == 3
    answer = submit(refused, "cancel", confirm=True)
    assert answer.location.endswith("?done=booking_cancelled")
    after = answer.follow()
    assert text_of(after, "flash") == "Booking cancelled; its van is released."
    assert text_of(after, "booking-status") == "Cancelled"
    assert has(after, "not-editable")
    assert not any(has(after, f"{f}-form") for f in ("edit", "status", "cancel"))
    now = stored(app, created["id"])
    assert (now["status"], now["reason"]) == ("cancelled", "Customer called")
    assert remaining(app) == 4
    [record] = booking_actions(app)
    assert record["changes"]["after"] == {"status": "cancelled", "reason": "Customer called"}
    # Posted again (a second tab): refused, said at the top since the form is gone.
    again = browser.post(
        f"{LIST}/{created['id']}/cancel",
        {"csrf_token": token_in(after), "confirm": "1"},
        status=409,
    )
    assert "cannot go from cancelled to cancelled" in text_of(again, "form-refused")


def test_a_completed_booking_can_no_longer_be_edited(app):
    created = book_as_guest(app)
    browser = staff_browser(app)
    page = page_of(browser, created["id"])
    token = token_in(page)
    for new in ("confirmed", "in_progress", "completed"):
        page = submit(page, "status", status=new).follow()
    assert text_of(page, "booking-status") == "Completed" and has(page, "not-editable")
    refused = browser.post(
        f"{LIST}/{created['id']}/edit", {"csrf_token": token, "notes": "late"}, status=409
    )
    assert "A completed booking can no longer be edited." in text_of(refused, "form-refused")


# --- who may -------------------------------------------------------------------------------------


def test_a_viewer_reads_the_page_without_forms_and_every_post_is_403(app):
    created = book_as_guest(app)
    viewer = staff_browser(app, "viewer")
    page = page_of(viewer, created["id"])
    assert has(page, "read-only")
    assert not any(has(page, f"{f}-form") for f in ("edit", "status", "cancel"))
    token = token_in(page)  # the sign-out form's
    for action, body in (
        ("edit", {"notes": "x"}),
        ("status", {"status": "confirmed"}),
        ("cancel", {"confirm": "1"}),
    ):
        answer = viewer.post(
            f"{LIST}/{created['id']}/{action}", {"csrf_token": token, **body}, status=403
        )
        assert "your role does not allow this page" in answer.text
    now = stored(app, created["id"])
    assert (now["status"], now["notes"], now["version"]) == ("pending_payment", "", 1)
    assert booking_actions(app) == []


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_posts_without_the_right_csrf_token_are_refused(app, token):
    created = book_as_guest(app)
    browser = staff_browser(app, "admin")
    for action, body in (
        ("edit", {"notes": "x"}),
        ("status", {"status": "confirmed"}),
        ("cancel", {"confirm": "1"}),
    ):
        if token is not None:
            body["csrf_token"] = token
        page = browser.post(f"{LIST}/{created['id']}/{action}", body, status=403)
        assert "did not come from this site" in page.text
    now = stored(app, created["id"])
    assert (now["status"], now["notes"], now["version"]) == ("pending_payment", "", 1)
    assert booking_actions(app) == []


def test_anonymous_and_customers_never_reach_the_pages(app):
    created = book_as_guest(app)
    anonymous = TestApp(app.app)
    for path in (LIST, f"{LIST}/{created['id']}", CUSTOMERS):
        answer = anonymous.get(path, status=302)
        assert answer.location.startswith("http://localhost/console/login?next=")
    _, headers = customer(app)
    TestApp(app.app).get(LIST, headers=headers, status=403)
    TestApp(app.app).post(
        f"{LIST}/{created['id']}/cancel", {"confirm": "1"}, headers=headers, status=403
    )
    assert stored(app, created["id"])["status"] == "pending_payment"


# --- a save racing ours: a second connection commits in the middle ------------------------------


class Racer:
    """Commits another change of the booking while ours is being priced (once)."""

    def __init__(self, registry: Any, booking_id: str) -> None:
        self.registry, self.booking_id, self.done = registry, uuid.UUID(booking_id), False

    @hookimpl
    def totetaxi_validate_booking(self, ctx, draft, quote, customer):
        if not self.done:
            self.done = True

            def other(own):
                booking = own.dbsession.get(Booking, self.booking_id)
                booking.notes = "Raced in"

            in_transaction(self.registry, other)
        return []


@pytest.mark.both_databases
def test_a_save_racing_ours_is_409_with_the_form_showing_the_other_save(app):
    created = book_as_guest(app)
    browser = staff_browser(app)
    page = page_of(browser, created["id"])
    app.app.registry.hooks.register(Racer(app.app.registry, created["id"]), "racer")
    refused = submit(page, "edit", expect=409, date=SATURDAY.isoformat(), notes="Ours")
    assert "at the same time" in text_of(refused, "form-refused")
    assert refused.forms["edit-form"]["notes"].value == "Raced in"
    assert refused.forms["edit-form"]["version"].value == "2"
    now = stored(app, created["id"])
    assert (now["notes"], now["date"], now["version"]) == ("Raced in", DAY, 2)
    assert remaining(app) == 3 and remaining(app, SATURDAY) == 4


# --- customers -----------------------------------------------------------------------------------


def customers_named(page: Any) -> list[str]:
    return re.findall(r'<tr data-email="([^"]+)"', page.text)


@pytest.mark.both_databases
def test_the_customers_list_searches_and_pages(app):
    first, second, third = (customer(app)[0] for _ in range(3))
    fourth, headers = customer(app)
    book(app, customer_body(), headers)
    browser = staff_browser(app, "viewer")
    page = browser.get(CUSTOMERS)
    listed = customers_named(page)
    assert listed == [fourth["email"], third["email"], second["email"], first["email"]]
    page = browser.get(CUSTOMERS, params={"q": second["email"][:8]})
    assert customers_named(page) == [second["email"]]
    page = browser.get(CUSTOMERS, params={"q": "casey", "limit": "2"})
    assert len(customers_named(page)) == 2
    link = re.search(r'href="([^"]+)" rel="next"', page.text).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query)["q"] == ["casey"]
    rest = browser.get(link)
    assert len(customers_named(rest)) == 2 and has(rest, "first-page")
    page = browser.get(CUSTOMERS, params={"q": "x" * 201}, status=400)
    assert "q is at most 200 characters." in text_of(page, "error-q")


@pytest.mark.both_databases
def test_the_customers_list_shows_counts_spent_and_last_booking(app):
    me, headers = customer(app)
    done = book(app, customer_body(), headers)
    book(app, customer_body(OTHER_DAY), headers)
    staff = staff_headers(app)
    for new in ("confirmed", "in_progress", "completed"):
        TestApp(app.app).post_json(
            f"/api/v1/staff/bookings/{done['id']}/status", {"status": new}, headers=staff
        )
    page = staff_browser(app, "viewer").get(CUSTOMERS)
    row = re.search(rf'<tr data-email="{re.escape(me["email"])}".*?</tr>', page.text, re.S)
    cells = [
        " ".join(re.sub(r"<[^>]+>", " ", c).split())
        for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    ]
    assert cells[0] == "Casey Client" and cells[1] == me["email"]
    assert cells[2] == "+1 212 555 0100" and cells[3] == "2" and cells[4] == PETITE
    assert cells[5].endswith(("EST", "EDT"))


class Summary:
    @hookimpl
    def totetaxi_customer_summary(self, request, customer):
        return {"Saved cards": 2, "Note": "<b>VIP</b>"}


@pytest.mark.both_databases
def test_the_customer_page_shows_profile_addresses_summary_and_history(app):
    app.app.registry.hooks.register(Summary(), "summary")
    me, headers = customer(app)
    save_address(app, headers, PICKUP)
    older = book(app, customer_body(), headers)
    newer = book(app, customer_body(OTHER_DAY), headers)
    book_as_guest(app)  # someone else's
    browser = staff_browser(app, "viewer")
    page = browser.get(f"{CUSTOMERS}/{me['id']}")
    assert text_of(page, "customer-name") == "Casey Client"
    assert me["email"] in text_of(page, "profile")
    assert text_of(page, "count-bookings") == "2"
    assert "200 E 62nd St, Apt 5B New York, NY 10065" in text_of(page, "addresses")
    summary = text_of(page, "summary")
    assert "Saved cards 2" in summary and "Note <b>VIP</b>" in summary
    assert "<b>VIP</b>" not in page.text and "&lt;b&gt;VIP&lt;/b&gt;" in page.text
    assert numbers(page) == [newer["number"], older["number"]]
    assert f'href="http://localhost/console/bookings/{older["id"]}"' in page.text
    link = re.search(r'href="([^"]+)" data-testid="all-bookings"', page.text).group(1)
    assert parse_qs(urlsplit(link).query) == {"customer_id": [me["id"]]}
    assert numbers(browser.get(link)) == [newer["number"], older["number"]]
    browser.get(f"{CUSTOMERS}/{MISSING_ID}", status=404)
    browser.get(f"{CUSTOMERS}/nope", status=404)
