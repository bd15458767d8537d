"""The API document a frontend developer reads (issue 18, item 2).

* ``GET /api/v1/openapi.json`` is OpenAPI 3.1, valid by ``openapi-spec-validator``, for the app
  with every installed plugin enabled (the test plugin from "outside" included);
* every operation carries one tag, named after the plugin that serves it (from its view's
  module, nothing declared) or the core's domain, and every tag is described;
* the main flows (quote, booking, sign-in and tokens, payment) have examples, each valid
  against its own schema;
* Swagger UI at ``/api/v1/docs`` and the files it loads, under the console's CSP.

The contract of each operation (error shapes, security, schemathesis over real HTTP) is
``test_openapi_contract.py``'s; the page in a real browser is ``tests/browser/test_api_docs.py``.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate
from webtest import TestApp

from totetaxi_core.api.docs_page import ASSETS
from totetaxi_core.api.openapi3 import schema_31, to_openapi31
from totetaxi_core.ops.headers import html_policy
from totetaxi_core.testing.databases import migrated_plugins

#: Every test reads only: the apps are built once per module (the kit's ``validation_only``).
pytestmark = pytest.mark.validation_only

DOCUMENT = "/api/v1/openapi.json"
DOCS = "/api/v1/docs"

#: One operation of each plugin (or core domain), and the tag it must carry.
TAGGED = {
    ("post", "/api/v1/auth/token"): "identity",
    ("get", "/api/v1/staff/me"): "identity",  # identity.staff_self: the domain, not the module
    ("post", "/api/v1/bookings"): "bookings",
    ("get", "/api/v1/staff/bookings"): "bookings",
    ("get", "/api/v1/staff/audit-log"): "audit",
    ("post", "/api/v1/quotes"): "pricing",
    ("post", "/api/v1/bookings/{id}/payments"): "payments",
    ("post", "/api/v1/payments/mock/confirm"): "payments_mock",  # an adapter inside payments
    ("get", "/api/v1/staff/reports/{name}.csv"): "crm",
    ("get", "/api/v1/staff/documents"): "documents",
    ("get", "/api/v1/logistics/tasks"): "logistics",
    ("get", "/api/v1/me/notifications"): "notifications",
    ("get", "/api/v1/example/notes"): "example",  # tests/example_plugin: a third party's
}

#: The main flows' operations: (method, path) -> the success status with an example.
EXAMPLES = {
    ("post", "/api/v1/quotes"): "200",
    ("post", "/api/v1/bookings"): "201",
    ("post", "/api/v1/auth/login"): "200",
    ("post", "/api/v1/auth/token"): "200",
    ("post", "/api/v1/staff/auth/token"): "200",
    ("post", "/api/v1/bookings/{id}/payments"): "201",
}


@pytest.fixture(scope="module")
def everything(_module_apps: Any) -> TestApp:
    """The app with every installed plugin enabled (one per slot), built once per module."""
    return TestApp(_module_apps.get({}, {"totetaxi.plugins": " ".join(migrated_plugins())}))


@pytest.fixture(scope="module")
def document(everything: TestApp) -> dict[str, Any]:
    return everything.get(DOCUMENT, status=200).json


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    ]


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Validator:
    """A 2020-12 validator for ``schema``, its ``#/components/...`` references resolvable."""
    root = {**schema, "components": document["components"]}
    return jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker())


# --- the document --------------------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on the first problem, naming it
    assert len(_operations(document)) >= 70


def test_the_core_alone_is_valid_too(make_testapp: Any) -> None:
    validate(make_testapp().get(DOCUMENT).json)


def test_every_operation_is_tagged_with_its_plugin_or_core_domain(
    everything: TestApp, document: dict[str, Any]
) -> None:
    described = {tag["name"]: tag for tag in document["tags"]}
    for method, path, operation in _operations(document):
        assert len(operation["tags"]) == 1, f"{method} {path}"
        assert operation["tags"][0] in described, f"{method} {path}"
        assert operation["operationId"], f"{method} {path}"
    assert len({op["operationId"] for _, _, op in _operations(document)}) == len(
        _operations(document)
    )
    for (method, path), tag in TAGGED.items():
        assert document["paths"][path][method]["tags"] == [tag], f"{method} {path}"
    # Every enabled plugin that serves an operation has its tag, described by its manifest.
    platform = everything.app.registry.platform
    serving = {tag for _, _, op in _operations(document) for tag in op["tags"]}
    for plugin in platform.enabled:
        if plugin.name in serving:
            assert described[plugin.name]["description"] == plugin.manifest.summary
            assert described[plugin.name]["x-distribution"] == plugin.distribution
    assert {"pricing", "payments", "payments_mock", "crm", "documents", "logistics"} <= serving
    assert {"notifications", "example", "identity", "bookings", "audit"} <= serving
    # Core domains first, then the plugins; no tag without an operation.
    names = [tag["name"] for tag in document["tags"]]
    assert names[:3] == ["identity", "bookings", "audit"] and set(names) == serving
    assert all(tag["description"] for tag in document["tags"])


def test_a_plugin_of_its_own_tags_its_services_without_declaring_anything(
    make_testapp: Any,
) -> None:
    """The example plugin (tests/example_plugin, installed as a third party's) sets no tag."""
    document = make_testapp().get(DOCUMENT).json
    tags = {op["tags"][0] for _, path, op in _operations(document) if "/example/" in path}
    assert tags == {"example"}
    assert "pricing" not in {tag["name"] for tag in document["tags"]}  # not enabled here


def test_the_main_flows_have_examples_that_match_their_schemas(
    document: dict[str, Any],
) -> None:
    for (method, path), status in EXAMPLES.items():
        operation = document["paths"][path][method]
        request = operation["requestBody"]["content"]["application/json"]
        answer = operation["responses"][status]["content"]["application/json"]
        for where, media in (("request", request), (status, answer)):
            assert "example" in media, f"{method} {path} {where}"
            _validator(document, media["schema"]).validate(media["example"])
    # Any example a view declares, not only the main flows'.
    for _, _, operation in _operations(document):
        bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
        for body in bodies:
            for media in body.get("content", {}).values():
                if "example" in media:
                    _validator(document, media["schema"]).validate(media["example"])
    # The examples go to the named component too, for clients that read schemas only.
    assert document["components"]["schemas"]["QuoteBody"]["examples"]


def test_examples_that_break_their_schema_are_caught(document: dict[str, Any]) -> None:
    """The check above can fail: a booking example without its date does not validate."""
    body = document["paths"]["/api/v1/bookings"]["post"]["requestBody"]["content"]
    media = body["application/json"]
    broken = {k: v for k, v in media["example"].items() if k != "date"}
    with pytest.raises(jsonschema.ValidationError, match="'date' is a required property"):
        _validator(document, media["schema"]).validate(broken)


def test_answers_that_are_not_json_say_their_type(document: dict[str, Any]) -> None:
    csv = document["paths"]["/api/v1/staff/reports/{name}.csv"]["get"]["responses"]
    assert list(csv["200"]["content"]) == ["text/csv"]
    assert list(csv["404"]["content"]) == ["application/json"]
    check = document["paths"]["/api/v1/logistics/webhook"]["get"]["responses"]
    assert list(check["200"]["content"]) == ["text/plain"]
    # `{name}.csv`: a path parameter that is not a whole segment is declared too.
    parameters = document["paths"]["/api/v1/staff/reports/{name}.csv"]["parameters"]
    assert [p["name"] for p in parameters if p["in"] == "path"] == ["name"]


def test_nullable_fields_are_type_lists(document: dict[str, Any]) -> None:
    booking = document["components"]["schemas"]["NewBookingOut"]["properties"]
    assert booking["customer_id"]["type"] == ["string", "null"]
    assert booking["cancelled_at"] == {
        "type": ["string", "null"],
        "title": "Cancelled At",
        "format": "date-time",
    }


def test_query_arrays_are_comma_separated(document: dict[str, Any]) -> None:
    parameters = document["paths"]["/api/v1/staff/bookings"]["get"]["parameters"]
    [status] = [p for p in parameters if p["name"] == "status"]
    assert (status["style"], status["explode"]) == ("form", False)
    assert status["schema"]["items"]["enum"][0] == "pending_payment"


# --- the conversion, on its own ------------------------------------------------------------------


def test_conversion_of_the_2_0_shapes() -> None:
    swagger = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "basePath": "/",
        "securityDefinitions": {
            "bearer": {"type": "apiKey", "in": "header", "name": "Authorization"},
            "key": {"type": "apiKey", "in": "query", "name": "token"},
        },
        "definitions": {
            "Thing": {"type": "object", "properties": {"a": {"$ref": "#/definitions/B"}}}
        },
        "paths": {
            "/things": {
                "post": {
                    "consumes": ["application/json"],
                    "produces": ["application/json"],
                    "parameters": [
                        {
                            "name": "Thing",
                            "in": "body",
                            "required": True,
                            "schema": {
                                "type": "object",
                                "title": "ThingBody",
                                "properties": {
                                    "n": {"type": "string", "x-nullable": True, "enum": ["x"]}
                                },
                            },
                        },
                        {"name": "Key", "in": "header", "type": "string", "allowEmptyValue": True},
                    ],
                    "responses": {
                        "201": {
                            "description": "ok",
                            "schema": {"$ref": "#/definitions/Thing"},
                            "examples": {"application/json": {"a": 1}},
                        },
                        "204": {"description": "none"},
                        "429": {
                            "description": "slow",
                            "headers": {"Retry-After": {"type": "integer"}},
                        },
                    },
                }
            }
        },
    }
    document = to_openapi31(swagger)
    assert "servers" not in document and "definitions" not in document
    post = document["paths"]["/things"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ThingBody"
    }
    named = document["components"]["schemas"]["ThingBody"]["properties"]["n"]
    assert named == {"type": ["string", "null"], "enum": ["x", None]}
    assert post["parameters"] == [
        {"name": "Key", "in": "header", "schema": {"type": "string"}}
    ]  # allowEmptyValue belongs to query parameters only
    created = post["responses"]["201"]["content"]["application/json"]
    assert created == {"schema": {"$ref": "#/components/schemas/Thing"}, "example": {"a": 1}}
    assert "content" not in post["responses"]["204"]
    assert post["responses"]["429"]["headers"] == {"Retry-After": {"schema": {"type": "integer"}}}
    thing = document["components"]["schemas"]["Thing"]
    assert thing["properties"]["a"] == {"$ref": "#/components/schemas/B"}
    schemes = document["components"]["securitySchemes"]
    assert schemes == {
        "bearer": {"type": "http", "scheme": "bearer"},
        "key": {"type": "apiKey", "in": "query", "name": "token"},
    }
    assert schema_31({"$ref": "#/definitions/X", "x-nullable": True}) == {
        "anyOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}]
    }


# --- Swagger UI ----------------------------------------------------------------------------------


def test_the_docs_page_loads_swagger_ui_from_this_app_only(testapp: TestApp) -> None:
    page = testapp.get(DOCS, status=200)
    assert page.content_type == "text/html"
    # The console's policy, unwidened: scripts and styles from this origin's files only.
    assert page.headers["Content-Security-Policy"] == html_policy()
    html = page.text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert " on" not in re.sub(r"<(script|noscript)[^>]*>.*?</\1>", "", html, flags=re.S).lower()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert all(url.startswith("/api/v1/") for url in urls), urls  # nothing from a CDN
    assert 'data-openapi-url="/api/v1/openapi.json"' in html
    for url in urls:
        if url.startswith("/api/v1/docs/assets/"):
            testapp.get(url, status=200)


@pytest.mark.parametrize("name", sorted(ASSETS))
def test_each_asset_is_served_with_its_type_and_cached(testapp: TestApp, name: str) -> None:
    answer = testapp.get(f"{DOCS}/assets/{name}", status=200)
    expected = {".css": "text/css", ".js": "text/javascript", ".png": "image/png"}
    assert answer.content_type == expected[name[name.rindex(".") :]]
    assert set(answer.headers["Cache-Control"].split(", ")) == {"public", "max-age=3600"}
    assert answer.body == ASSETS[name].read_bytes()


def test_swagger_ui_is_version_5_and_starts_with_persisted_authorization(
    testapp: TestApp,
) -> None:
    bundle = testapp.get(f"{DOCS}/assets/swagger-ui-bundle.js").text
    # Swagger UI reads OpenAPI 3.1 from version 5 on; 4 shows "Unable to render this definition".
    version = re.search(r'PACKAGE_VERSION:"(\d+)\.', bundle)
    assert version and int(version.group(1)) >= 5
    init = testapp.get(f"{DOCS}/assets/swagger-init.js").text
    assert "persistAuthorization: true" in init and "validatorUrl: null" in init


def test_only_the_pages_files_are_served(testapp: TestApp) -> None:
    """The bundle's demo index.html (a remote petstore, an inline script) is not reachable."""
    for name in ("index.html", "..%2F..%2Fsetup.cfg", "swagger-ui-standalone-preset.js"):
        answer = testapp.get(f"{DOCS}/assets/{name}", status=404)
        assert answer.json["status"] == "error"
