"""Addresses are standardised, not refused for case (issue 13, defect B).

What a careful clerk would fix is fixed — the state's case and spacing or its full name, ZIP+4
however it is separated, runs of whitespace, USPS street suffixes and unit designators — and
what cannot be an address is a 400 naming the field. The standard form is stored (so equal
addresses compare equal), the text as typed beside it (``as_typed``) for display. Every schema
taking an address does it: saved addresses, guest and customer bookings, the staff edit (API
and console). The normaliser's own rules are tested in ``test_address_normaliser.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
import support.bookings as bookings_support
from support.bookings import (
    DELIVERY,
    PICKUP,
    book,
    client,
    customer,
    customer_body,
    error_named,
    get_booking,
    guest_body,
    quote_fields,
    remaining,
    save_address,
    staff_headers,
    token_of,
)
from support.console import page_of, staff_browser, text_of

from totetaxi_core.addresses import ADDRESS_FIELDS
from totetaxi_core.testing import register_customer

app = bookings_support.app  # the fixture: pricing plugin, clock on NOW
ADDRESSES = "/api/v1/me/addresses"
STAFF_BOOKINGS = "/api/v1/staff/bookings"

#: A pickup address as a hurried customer types it, and what it is stored as.
TYPED = {
    "line1": "200   east 62nd street",
    "line2": "apartment 5b",
    "city": "new york",
    "state": " ny ",
    "postal_code": "10065 1234",
}
STANDARD = {
    "line1": "200 E 62nd St",
    "line2": "Apt 5B",
    "city": "New York",
    "state": "NY",
    "postal_code": "10065-1234",
}
#: ``TYPED`` as the API keeps it (JSON strings are trimmed on the way in).
KEPT = {**TYPED, "state": "ny"}


def parts(address: dict[str, Any]) -> dict[str, str]:
    return {field: address[field] for field in ADDRESS_FIELDS}


# --- saved addresses -----------------------------------------------------------------------------


def test_a_saved_address_is_stored_standard_and_kept_as_typed(app):
    _, headers = customer(app)
    saved = (
        client(app)
        .post_json(ADDRESSES, {"label": "Home", **TYPED}, headers=headers, status=201)
        .json
    )
    assert parts(saved) == STANDARD
    assert saved["as_typed"] == KEPT
    assert saved["label"] == "Home"
    again = client(app).get(f"{ADDRESSES}/{saved['id']}", headers=headers).json
    assert parts(again) == STANDARD and again["as_typed"] == KEPT


@pytest.mark.parametrize("state", ["ny", "Ny", " ny ", "New York", "NY"])
def test_a_customer_may_type_the_state_in_lower_case(app, state):
    me = register_customer(app)
    answer = app.post_json(
        ADDRESSES,
        {"label": "Hamptons", **DELIVERY, "state": state},
        headers={"X-CSRF-Token": me["csrf"]},
        status=201,
    ).json
    assert answer["state"] == "NY"
    assert answer["as_typed"]["state"] == state.strip()


def test_a_patch_standardises_what_it_changes_and_keeps_the_rest_as_typed(app):
    _, headers = customer(app)
    saved = (
        client(app)
        .post_json(ADDRESSES, {"label": "Home", **TYPED}, headers=headers, status=201)
        .json
    )
    changed = (
        client(app)
        .patch_json(
            f"{ADDRESSES}/{saved['id']}",
            {"state": "new jersey", "postal_code": "07030", "line1": "1 hudson street"},
            headers=headers,
        )
        .json
    )
    assert parts(changed) == {
        **STANDARD,
        "line1": "1 Hudson St",
        "state": "NJ",
        "postal_code": "07030",
    }
    assert changed["as_typed"] == {
        **KEPT,
        "line1": "1 hudson street",
        "state": "new jersey",
        "postal_code": "07030",
    }
    relabelled = (
        client(app)
        .patch_json(f"{ADDRESSES}/{saved['id']}", {"label": "Office"}, headers=headers)
        .json
    )
    assert relabelled["as_typed"] == changed["as_typed"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"state": "XX"}, "state"),
        ({"state": "Narnia"}, "state"),
        ({"postal_code": "1196"}, "postal_code"),
        ({"postal_code": "11968-12"}, "postal_code"),
        ({"line1": ""}, "line1"),
        ({"line1": "   "}, "line1"),
        ({"line1": "---"}, "line1"),
        ({"city": "12345"}, "city"),
    ],
)
def test_a_saved_address_that_cannot_be_one_is_a_400_naming_the_field(app, change, field):
    _, headers = customer(app)
    answer = (
        client(app)
        .post_json(ADDRESSES, {"label": "Home", **PICKUP, **change}, headers=headers, status=400)
        .json
    )
    assert [e["name"] for e in answer["errors"]] == [field]
    saved = client(app).post_json(ADDRESSES, {"label": "Home", **PICKUP}, headers=headers).json
    answer = (
        client(app)
        .patch_json(f"{ADDRESSES}/{saved['id']}", change, headers=headers, status=400)
        .json
    )
    assert [e["name"] for e in answer["errors"]] == [field]
    assert parts(client(app).get(f"{ADDRESSES}/{saved['id']}", headers=headers).json) == {
        "line2": "Apt 5B",
        **{k: v for k, v in PICKUP.items() if k != "label"},
    }


def test_every_problem_of_an_address_is_named_at_once(app):
    _, headers = customer(app)
    body = {"label": "Home", **PICKUP, "state": "XX", "postal_code": "123"}
    answer = client(app).post_json(ADDRESSES, body, headers=headers, status=400).json
    assert sorted(e["name"] for e in answer["errors"]) == ["postal_code", "state"]
    assert all(e["location"] == "body" for e in answer["errors"])


# --- bookings ------------------------------------------------------------------------------------


def test_a_guest_books_with_a_lower_case_state_and_the_booking_keeps_both_forms(app):
    created = book(
        app, guest_body(pickup_address=TYPED, delivery_address={**DELIVERY, "state": "ny"})
    )
    assert parts(created["pickup_address"]) == STANDARD
    assert created["pickup_address"]["as_typed"] == KEPT
    assert created["delivery_address"]["state"] == "NY"
    assert created["delivery_address"]["as_typed"]["state"] == "ny"
    stored = get_booking(app, created["id"], params=token_of(created)).json
    assert parts(stored["pickup_address"]) == STANDARD
    assert stored["pickup_address"]["as_typed"] == KEPT


def test_a_customer_books_with_a_lower_case_state(app):
    _, headers = customer(app)
    body = customer_body(pickup_address={**PICKUP, "state": "ny"})
    created = book(app, body, headers)
    assert created["pickup_address"]["state"] == "NY"


def test_a_saved_address_used_by_id_brings_its_text_as_typed(app):
    _, headers = customer(app)
    body = quote_fields()
    body["pickup_address_id"] = save_address(app, headers, TYPED)
    body["delivery_address_id"] = save_address(app, headers, DELIVERY)
    created = book(app, body, headers)
    assert parts(created["pickup_address"]) == STANDARD
    assert created["pickup_address"]["as_typed"] == KEPT


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"pickup_address": {**PICKUP, "state": "XX"}}, "pickup_address.state"),
        ({"delivery_address": {**DELIVERY, "postal_code": "1196"}}, "delivery_address.postal_code"),
        ({"delivery_address": {**DELIVERY, "line1": "..."}}, "delivery_address.line1"),
        ({"pickup_address": {**PICKUP, "city": "  "}}, "pickup_address.city"),
    ],
)
def test_a_booking_address_that_cannot_be_one_is_a_400_naming_the_field(app, change, name):
    answer = book(app, guest_body(**change), status=400)
    assert error_named(answer, name)["name"] == name
    assert remaining(app) == 4


def test_a_staff_edit_with_the_same_address_in_other_words_changes_nothing(app):
    headers = staff_headers(app)
    created = book(app, guest_body(pickup_address=STANDARD))
    path = f"{STAFF_BOOKINGS}/{created['id']}"
    before = client(app).get(path, headers=headers).json
    same = client(app).patch_json(path, {"pickup_address": TYPED}, headers=headers).json
    assert same["version"] == before["version"]  # nothing to save, nothing audited
    moved = (
        client(app)
        .patch_json(
            path,
            {"pickup_address": {**TYPED, "line1": "12 dune road", "city": "southampton"}},
            headers=headers,
        )
        .json
    )
    assert moved["version"] == before["version"] + 1
    assert moved["pickup_address"]["line1"] == "12 Dune Rd"
    assert moved["pickup_address"]["city"] == "Southampton"
    assert moved["pickup_address"]["as_typed"]["line1"] == "12 dune road"
    refused = (
        client(app)
        .patch_json(
            path, {"pickup_address": {**STANDARD, "state": "XX"}}, headers=headers, status=400
        )
        .json
    )
    assert error_named(refused, "pickup_address.state")["name"] == "pickup_address.state"


# --- the console ---------------------------------------------------------------------------------


def test_the_console_shows_the_standard_form_and_the_text_as_typed(app):
    created = book(app, guest_body(pickup_address=TYPED))
    browser = staff_browser(app)
    page = page_of(browser, created["id"])
    assert text_of(page, "pickup-address").startswith(
        "200 E 62nd St, Apt 5B New York, NY 10065-1234 As typed: 200 east 62nd street"
    )
    assert "As typed" not in text_of(page, "delivery-address")  # typed in the standard form
    # The form holds the standard form: saving it again changes nothing.
    answer = page.forms["edit-form"].submit(status=303)
    assert answer.location.endswith("done=booking_unchanged")
    # A lower-case state and a ZIP+4 with a space are standardised, not refused.
    form = page_of(browser, created["id"]).forms["edit-form"]
    form["delivery_state"], form["delivery_postal_code"] = "ny", "11968 0001"
    form.submit(status=303)
    stored = get_booking(app, created["id"], params=token_of(created)).json
    assert (stored["delivery_address"]["state"], stored["delivery_address"]["postal_code"]) == (
        "NY",
        "11968-0001",
    )
