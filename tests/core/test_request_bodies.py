"""Request bodies: bounded in size, never quoted back, and a 400 naming the field for JSON that
parses but no schema can judge (too deep, lone surrogates)."""

from __future__ import annotations

import json

import pytest

from totetaxi_core.testing import register_customer

REGISTER = "/api/v1/auth/register"


def post_raw(app, path, body: str | bytes, status, **kw):
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    return app.post(path, data, content_type="application/json", status=status, **kw)


def only_error(answer) -> dict:
    [error] = answer.json["errors"]
    return error


def test_a_body_over_the_limit_is_413_before_it_is_read(make_testapp):
    app = make_testapp(**{"totetaxi.max_body_bytes": 4096})
    body = json.dumps({"email": "a@example.com", "junk": "x" * 5000})
    answer = post_raw(app, REGISTER, body, status=413)
    assert only_error(answer)["name"] == "body"
    assert "at most 4,096" in only_error(answer)["description"]
    assert len(answer.body) < 300  # the body is not quoted back


def test_the_default_limit_is_one_megabyte(testapp):
    assert testapp.app.registry.settings["totetaxi.max_body_bytes"] == 1_048_576
    post_raw(testapp, REGISTER, json.dumps({"x": "y" * 1_048_576}), status=413)


def test_unknown_keys_are_named_without_their_values(testapp):
    huge = "v" * 200_000
    answer = testapp.post_json(REGISTER, {"email": "a@example.com", "nickname": huge}, status=400)
    descriptions = [e["description"] for e in answer.json["errors"]]
    assert "Unknown field: 'nickname'." in descriptions
    assert len(answer.body) < 2000
    answer = testapp.post_json(REGISTER, {"k" * 5000: 1, "a": 1, "b": 2}, status=400)
    [unknown] = [d for d in (e["description"] for e in answer.json["errors"]) if "Unknown" in d]
    assert unknown.startswith("Unknown fields: 'kkkk") and "…'" in unknown and len(unknown) < 200


def test_a_long_value_is_shown_cut_short_in_an_error(testapp):
    customer = register_customer(testapp)
    headers = {"X-CSRF-Token": customer["csrf"]}
    answer = testapp.patch_json(
        "/api/v1/me", {"first_name": ["x" * 100_000]}, headers=headers, status=400
    )
    assert len(answer.body) < 500 and "is not a string" in only_error(answer)["description"]


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ("[" * 3000 + "]" * 3000, "body"),  # RecursionError in the parser
        ('{"preferences": ' + '{"a": ' * 900 + "1" + "}" * 900 + "}", "preferences"),
        ('{"first_name": "\\ud800"}', "first_name"),
        ('{"preferences": {"theme": ["ok", "\\udfff"]}}', "preferences.theme.1"),
    ],
)
def test_parseable_json_no_schema_can_judge_is_a_400_naming_the_field(testapp, body, name):
    customer = register_customer(testapp)
    headers = {"X-CSRF-Token": customer["csrf"]}
    answer = testapp.patch(
        "/api/v1/me", body, content_type="application/json", headers=headers, status=400
    )
    assert only_error(answer)["name"] == name


@pytest.mark.both_databases  # the driver could not encode the lone surrogate: a 500 on both
@pytest.mark.parametrize("path", [REGISTER, "/api/v1/bookings"])
def test_a_lone_surrogate_never_reaches_the_database(testapp, path):
    body = {"email": "a@example.com", "first_name": "\ud800", "last_name": "X"}
    answer = post_raw(testapp, path, json.dumps(body, ensure_ascii=True), status=400)
    assert only_error(answer)["name"] == "first_name"


@pytest.mark.parametrize(
    ("preferences", "message"),
    [
        ({"blob": "x" * 9000}, "at most 8,192 bytes as JSON"),
        ({f"k{i}": i for i in range(51)}, "at most 50 keys"),
        ({"a": {"b": {"c": {"d": {"e": 1}}}}}, "nested more than 4 levels deep"),
        ({"k" * 65: 1}, "keys are at most 64 characters"),
        ([1, 2], "must be an object"),
    ],
)
def test_preferences_are_bounded(testapp, preferences, message):
    customer = register_customer(testapp)
    headers = {"X-CSRF-Token": customer["csrf"]}
    answer = testapp.patch_json(
        "/api/v1/me", {"preferences": preferences}, headers=headers, status=400
    )
    error = only_error(answer)
    assert error["name"] == "preferences" and message in error["description"]


def test_preferences_are_bounded_together_with_the_stored_ones(testapp):
    customer = register_customer(testapp)
    headers = {"X-CSRF-Token": customer["csrf"]}
    for n in range(2):
        batch = {f"k{n}-{i}": i for i in range(25)}
        testapp.patch_json("/api/v1/me", {"preferences": batch}, headers=headers, status=200)
    answer = testapp.patch_json(
        "/api/v1/me", {"preferences": {"one": 1}}, headers=headers, status=400
    )
    assert "Together with the stored ones: at most 50 keys" in only_error(answer)["description"]
    stored = testapp.get("/api/v1/me").json["preferences"]
    assert len(stored) == 50 and "one" not in stored


def test_a_choice_error_shows_a_long_value_cut_short(testapp):
    customer = register_customer(testapp)
    headers = {"X-CSRF-Token": customer["csrf"]}
    body = {"guest": {}, "time_window": "w" * 100_000}
    answer = testapp.post_json("/api/v1/bookings", body, headers=headers, status=400)
    [error] = [e for e in answer.json["errors"] if e["name"] == "time_window"]
    assert "is not one of morning, afternoon" in error["description"]
    assert len(error["description"]) < 120
