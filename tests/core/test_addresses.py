"""Saved addresses: the owner's only (404 to everyone else), validated, paginated."""

from __future__ import annotations

import pytest

from totetaxi_core.testing import bearer, register_customer

HOME = {
    "label": "Home",
    "line1": "200 E 62nd St",
    "line2": "Apt 5B",
    "city": "New York",
    "state": "NY",
    "postal_code": "10065",
}
BEACH = {
    "label": "Hamptons",
    "line1": "12 Dune Rd",
    "city": "Southampton",
    "state": "NY",
    "postal_code": "11968",
}


@pytest.mark.both_databases
def test_crud_of_saved_addresses(testapp):
    me = register_customer(testapp)
    csrf = {"X-CSRF-Token": me["csrf"]}
    home = testapp.post_json("/api/v1/me/addresses", HOME, headers=csrf, status=201).json
    assert home["label"] == "Home" and home["line2"] == "Apt 5B"
    beach = testapp.post_json("/api/v1/me/addresses", BEACH, headers=csrf, status=201).json
    assert beach["line2"] == ""
    listed = testapp.get("/api/v1/me/addresses").json
    assert [a["label"] for a in listed["items"]] == ["Hamptons", "Home"]  # newest first
    assert listed["next_cursor"] is None
    changed = testapp.patch_json(
        f"/api/v1/me/addresses/{home['id']}", {"label": "City apartment"}, headers=csrf
    ).json
    assert changed["label"] == "City apartment" and changed["city"] == "New York"
    testapp.delete(f"/api/v1/me/addresses/{home['id']}", headers=csrf, status=204)
    testapp.get(f"/api/v1/me/addresses/{home['id']}", status=404)
    assert [a["label"] for a in testapp.get("/api/v1/me/addresses").json["items"]] == ["Hamptons"]


def test_another_customers_address_is_404_for_every_method(testapp, new_client):
    owner = register_customer(testapp)
    home = testapp.post_json(
        "/api/v1/me/addresses", HOME, headers={"X-CSRF-Token": owner["csrf"]}
    ).json
    intruder = new_client()
    other = register_customer(intruder)
    path = f"/api/v1/me/addresses/{home['id']}"
    headers = {"X-CSRF-Token": other["csrf"]}
    for answer in (
        intruder.get(path, status=404),
        intruder.patch_json(path, {"label": "Mine"}, headers=headers, status=404),
        intruder.delete(path, headers=headers, status=404),
    ):
        assert answer.json["errors"][0]["location"] == "path"
    # The same as an id that does not exist at all: no way to probe.
    missing_id = "00000000-0000-4000-8000-000000000000"
    missing = intruder.get(f"/api/v1/me/addresses/{missing_id}", status=404).json
    foreign = intruder.get(path, status=404).json
    assert foreign == {
        "status": "error",
        "errors": [
            {
                "location": "path",
                "name": "path",
                "description": f"No saved address with id {home['id']}.",
            }
        ],
    }
    assert missing["errors"][0]["description"] == f"No saved address with id {missing_id}."
    assert testapp.get(path).json["label"] == "Home"
    assert [a["label"] for a in intruder.get("/api/v1/me/addresses").json["items"]] == []


def test_address_validation_names_the_field(testapp):
    me = register_customer(testapp)
    csrf = {"X-CSRF-Token": me["csrf"]}
    for patch, field in (
        ({"state": "Narnia"}, "state"),
        ({"postal_code": "1006"}, "postal_code"),
        ({"line1": ""}, "line1"),
        ({"label": None}, "label"),
    ):
        answer = testapp.post_json(
            "/api/v1/me/addresses", {**HOME, **patch}, headers=csrf, status=400
        )
        assert answer.json["errors"][0]["name"] == field
    testapp.get("/api/v1/me/addresses/not-a-uuid", status=404)


@pytest.mark.both_databases
def test_addresses_paginate_with_a_cursor(testapp, new_client):
    me = register_customer(testapp)
    api = new_client()
    headers = bearer(api, me["email"])
    for n in range(5):
        api.post_json("/api/v1/me/addresses", {**BEACH, "label": f"Place {n}"}, headers=headers)
    first = api.get("/api/v1/me/addresses?limit=2", headers=headers).json
    assert [a["label"] for a in first["items"]] == ["Place 4", "Place 3"]
    second = api.get(
        f"/api/v1/me/addresses?limit=2&cursor={first['next_cursor']}", headers=headers
    ).json
    assert [a["label"] for a in second["items"]] == ["Place 2", "Place 1"]
    third = api.get(
        f"/api/v1/me/addresses?limit=2&cursor={second['next_cursor']}", headers=headers
    ).json
    assert [a["label"] for a in third["items"]] == ["Place 0"]
    assert third["next_cursor"] is None
    for bad in ("limit=0", "limit=101", "limit=abc", "cursor=garbage"):
        answer = api.get(f"/api/v1/me/addresses?{bad}", headers=headers, status=400)
        assert answer.json["errors"][0]["location"] == "querystring"


def test_addresses_need_a_customer(testapp):
    testapp.get("/api/v1/me/addresses", status=401)
