"""The app factory, operations endpoints, error shape, request ids and the example plugin."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from totetaxi_core.ops import JsonFormatter


def test_healthz_and_readyz(testapp):
    assert testapp.get("/healthz").json == {"status": "ok"}
    ready = testapp.get("/readyz").json
    assert ready["status"] == "ok"
    assert list(ready["checks"]) == ["database"]
    assert ready["checks"]["database"]["status"] == "ok"
    assert ready["checks"]["database"]["latency_ms"] >= 0


def test_readyz_reports_an_unreachable_broker(make_testapp):
    from totetaxi_core.testing import free_port

    app = make_testapp(
        **{
            "totetaxi.tasks_mode": "broker",
            "totetaxi.broker_url": f"redis://127.0.0.1:{free_port()}/0",
        }
    )
    answer = app.get("/readyz", status=503).json
    assert answer["status"] == "error"
    assert answer["errors"] == [
        {"location": "dependency", "name": "broker", "description": "broker is unavailable."}
    ]  # details go to the log, not the caller
    assert answer["checks"]["database"]["status"] == "ok"
    assert answer["checks"]["broker"]["status"] == "unavailable"


def test_request_id_is_echoed_or_made(testapp):
    given = testapp.get("/healthz", headers={"X-Request-ID": "abc12345-trace"})
    assert given.headers["X-Request-ID"] == "abc12345-trace"
    made = testapp.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["X-Request-ID"] != "bad id with spaces"
    assert len(made.headers["X-Request-ID"]) == 32


def test_request_log_line_is_structured(testapp, caplog):
    with caplog.at_level(logging.INFO, logger="totetaxi.request"):
        testapp.get("/healthz", headers={"X-Request-ID": "req-00000001"})
    record = next(r for r in caplog.records if r.name == "totetaxi.request")
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-00000001"
    assert line["method"] == "GET" and line["path"] == "/healthz" and line["status"] == 200
    assert line["duration_ms"] >= 0


def test_plugin_route_answers_with_its_setting(make_testapp):
    app = make_testapp(**{"example.greeting": "good morning"})
    assert app.get("/api/v1/example/hello").json == {"greeting": "good morning"}


def test_plugin_seed_data_is_there(testapp):
    items = testapp.get("/api/v1/example/notes").json["items"]
    assert [item["text"] for item in items] == ["Welcome note (seed)"]


def test_plugin_hook_is_called(testapp):
    bus = testapp.app.registry.hooks
    assert "totetaxi_example.hooks" in bus.implementers("totetaxi_dashboard_tiles")
    tiles = bus.call("totetaxi_dashboard_tiles", request=None, period="week")
    assert [{"title": "Example notes", "value": "week", "plugin": "example"}] in tiles


def test_auto_install_glue_plugin_was_included(testapp):
    platform = testapp.app.registry.platform
    assert platform.enabled_names == ["example", "example_glue"]
    assert testapp.app.registry.settings["example_glue.included"] is True


@pytest.mark.both_databases  # NUL bytes: PostgreSQL refuses them in text
@pytest.mark.parametrize(
    ("method", "path", "body", "status", "name"),
    [
        ("get", "/api/v1/nothing-here", None, 404, "path"),
        ("put", "/api/v1/example/notes", None, 405, "method"),
        ("post", "/api/v1/example/notes", {"text": 7}, 400, "text"),
        ("post", "/api/v1/example/notes", {"text": "a\x00b"}, 400, "text"),
        ("post", "/api/v1/example/notes", {"text": "x", "flaky_times": True}, 400, "flaky_times"),
        ("post", "/api/v1/example/notes", {"text": "x", "flaky_times": 2.5}, 400, "flaky_times"),
        ("post", "/api/v1/example/notes", {}, 400, "text"),
    ],
)
def test_api_errors_have_one_shape(testapp, method, path, body, status, name):
    if body is None:
        response = getattr(testapp, method)(path, status=status)
    else:
        response = getattr(testapp, method + "_json")(path, body, status=status)
    document = response.json
    assert document["status"] == "error"
    assert document["errors"][0]["name"] == name
    assert document["errors"][0]["description"]
    assert document["errors"][0]["location"] in ("body", "path", "querystring", "header")


def test_unexpected_error_is_a_json_500_with_request_id(testapp, db_url):
    response = testapp.post_json(
        "/api/v1/example/notes",
        {"text": "boom", "fail_after_enqueue": True},
        headers={"X-Request-ID": "req-boom-0001"},
        status=500,
    )
    assert response.json["status"] == "error"
    assert "req-boom-0001" in response.json["errors"][0]["description"]


def test_openapi_is_generated_from_the_services(testapp):
    document = testapp.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    post = document["paths"]["/api/v1/example/notes"]["post"]
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert schema["properties"]["text"]["type"] == "string"
    assert schema["properties"]["flaky_times"]["type"] == "integer"
    assert schema["properties"]["fail_after_enqueue"]["type"] == "boolean"
    assert "text" in schema["required"]
    # Validators reach the document, so clients (and fuzzers) know what a valid request is.
    assert schema["properties"]["text"]["minLength"] == 1
    assert schema["properties"]["text"]["maxLength"] == 500
    assert schema["properties"]["flaky_times"]["maximum"] == 10


def test_soft_deleted_rows_are_hidden_from_the_api(testapp):
    from totetaxi_example.models import ExampleNote

    registry = testapp.app.registry
    session = registry["dbsession_factory"]()
    note = session.scalars(select(ExampleNote)).one()
    note.soft_delete()
    session.commit()
    assert testapp.get("/api/v1/example/notes").json["items"] == []
    session.close()


def test_a_query_string_that_is_not_utf8_is_a_400_not_a_500(make_testapp):
    app = make_testapp(**{"totetaxi.plugins": "pricing"})
    answer = app.get("/api/v1/availability?start=%FF", status=400)
    assert answer.json["errors"][0]["name"] == "querystring"
    assert "UTF-8" in answer.json["errors"][0]["description"]
    page = app.get("/console/login?next=%FF", status=400)
    assert "UTF-8" in page.text
