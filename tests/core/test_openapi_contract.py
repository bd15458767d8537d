"""The OpenAPI document against the server (issue 13, defect 13).

Two kinds of test:

* plain ones over the document: strict request bodies say ``additionalProperties: false``,
  nested objects too; every operation documents a 2xx answer, no "UNDOCUMENTED RESPONSE", and
  each error answer has the one error shape (``#/components/schemas/Error``), and so does the
  ``5XX`` answer every operation has; a PATCH needs its body;
  a 204 says ``application/json`` and has no body;
* schemathesis (its engine, as ``schemathesis run`` drives it) with every check, over every
  operation of the app with all the plugins: public operations anonymously, customer operations
  with a customer's bearer token, staff operations with an admin's. Path ids are real (a booking
  of that customer, its saved address), so the success answers are checked against the
  document too. The app is served by waitress on a loopback port in this process: schemathesis
  4.32's WSGI transport fails the ``ignored_auth`` check's probes (it hands werkzeug the
  ``max_redirects`` of a requests session: ``TypeError``), and waitress is what production
  runs anyway (it is what drops ``Content-Length`` from a 204, for one).

A second, bounded run covers what the first leaves out: every GET of the app with every
installed plugin enabled (crm, documents, logistics...), a few examples each, checked for server
errors and for answers that match the document (it found the crm dashboard's lists documented
as objects).

What is left out is listed below with the reason; everything else schemathesis finds is a
failure of this test. Bounded for the suite: a few examples per operation in the fuzzing phase
(the coverage phase's cases are a fixed set), derandomized, no deadline (schemathesis' default);
it takes about 15 seconds on one core, most of it the coverage phase.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import support.notifications as notifications_support
import waitress
from schemathesis.engine import events, from_schema
from support.bookings import NOW, customer_body, save_address
from support.payments import book, client, customer, staff_member
from waitress import wasyncore
from webtest import TestApp

from totetaxi_core.api.pagination import encode_cursor
from totetaxi_core.testing.databases import migrated_plugins

app = notifications_support.app  # the fixture: pricing, payments_mock, notifications, mail_console

DOCUMENT = "/api/v1/openapi.json"
STRICT_BODIES_AT_LEAST = 10
MAX_EXAMPLES = 8

#: Operations schemathesis does not call, and why.
EXCLUDED = {
    "POST /api/v1/payments/webhook": (
        "Only the gateway can sign an event (Stripe-Signature: an HMAC of the raw body under the "
        "webhook secret), so every generated request is a 400 by design; a signed one would "
        "settle payments. Covered by tests/plugins/payments/test_payments_webhooks.py."
    ),
}

#: Operations where a request the document accepts can still be refused with 400 or 422 (the
#: ``positive_data_acceptance`` check expects 2xx, or 401/403/404/409/429): what decides is
#: not expressible in a schema. Product decisions, each with its reason; every other check
#: still runs on them.
SCHEMA_CANNOT_SAY = {
    "POST /api/v1/auth/register": (
        "A password must also not be common, not be the email or a name, and have enough "
        "different characters (README, Identity and security): 400 naming `password`. (Its "
        "length and that it is not digits only are in the document.)"
    ),
    "POST /api/v1/auth/password-reset/confirm": (
        "The token must be one a reset email carried, unused and under an hour old: 400 "
        "naming `token`."
    ),
    "POST /api/v1/me/password": (
        "current_password must be the account's, and the new one must pass the strength rules."
    ),
    "POST /api/v1/quotes": (
        "The date is judged against today and the booking horizon, and a service's own fields "
        "(a Mini Move's package, a delivery's item count) against the catalog: 400 naming them."
    ),
    "POST /api/v1/bookings": (
        "As for quotes, plus the addresses (given or saved, one of them) and the guest block "
        "when not signed in: 400, and 422 for the booking rules."
    ),
    "GET /api/v1/availability": (
        "start must not be in the past and the range at most 93 days: 400 naming them."
    ),
    "PATCH /api/v1/staff/bookings/{id}": (
        "A change is re-priced and checked like a new booking (dates, catalog, rules)."
    ),
    "POST /api/v1/staff/bookings/{id}/status": (
        "The move is checked by the lifecycle (409), a cancellation's reason by the policy."
    ),
    "POST /api/v1/bookings/{id}/payments": (
        "payment_method_id must be one of the customer's saved cards: 400 naming it."
    ),
    "POST /api/v1/staff/refunds": ("payment_id must name a payment: 400 naming it."),
    "POST /api/v1/payments/mock/confirm": (
        "card_number must be one of Stripe's test cards, and exactly one of payment_id and "
        "setup_intent_id given: 400 naming them."
    ),
    "POST /api/v1/payments/mock/authenticate": "payment_id must name a payment.",
    "GET /api/v1/staff/bookings": "date_to before date_from is refused: 400 naming date_to.",
    "POST /api/v1/me/addresses": (
        "The address is standardised (totetaxi_core/addresses.py): a state code or name, a ZIP "
        "or ZIP+4 in any spelling, a street and city with letters; what cannot be an address "
        "is 400 naming the part. The document says string: the forms it accepts are too many."
    ),
    "PATCH /api/v1/me/addresses/{id}": "Each address part sent is standardised as on POST.",
    "POST /api/v1/bookings/{id}/reschedule": (
        "The new date is judged against today, the horizon and the catalog like a quote's."
    ),
    "POST /api/v1/staff/refunds/{id}/approve": (
        "amount_cents below the request needs a note saying why: 400 naming note."
    ),
}

#: Operations a guest reaches with ``?token=`` (the ``guest`` scheme). Without any credential
#: the answer is 404, not the 401 schemathesis' ``ignored_auth`` expects: API.md promises that a
#: booking without its token is 404 to anyone but its customer and staff, so that no request
#: tells whether a booking exists. Product decision; every other check still runs on them.
GUEST_REACHABLE_404 = "guest"


def _document(app: TestApp) -> dict[str, Any]:
    return client(app).get(DOCUMENT, status=200).json


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    ]


ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    return document["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


def _body_schema(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON request body's schema of ``operation`` (a named one resolved), if it has one."""
    body = operation.get("requestBody")
    if body is None:
        return None
    [media] = body["content"].values()
    return _resolve(document, media["schema"])


def _json_schema(answer: dict[str, Any]) -> dict[str, Any]:
    return answer["content"]["application/json"]["schema"]


# --- the document itself -------------------------------------------------------------------------


def _objects(schema: dict[str, Any], where: str) -> list[tuple[str, dict[str, Any]]]:
    """Every object schema in ``schema``, with where it is."""
    found = []
    if schema.get("type") == "object":
        found.append((where, schema))
        for name, child in schema.get("properties", {}).items():
            found += _objects(child, f"{where}.{name}")
    if schema.get("type") == "array":
        found += _objects(schema.get("items", {}), f"{where}[]")
    return found


def test_strict_request_bodies_refuse_unknown_fields_nested_too(app: TestApp) -> None:
    document = _document(app)
    checked = nested = 0
    for method, path, operation in _operations(document):
        body = _body_schema(document, operation)
        if body is not None:
            for where, schema in _objects(body, f"{method} {path} body"):
                if schema.get("maxProperties"):  # a free-form object (preferences), bounded
                    assert schema["additionalProperties"] is True, where
                    continue
                assert schema.get("additionalProperties") is False, where
                checked += 1
                nested += "." in where or "[]" in where
    assert checked >= STRICT_BODIES_AT_LEAST and nested >= 4
    # The booking's addresses, its guest and its specialty lines, specifically.
    body = _body_schema(document, document["paths"]["/api/v1/bookings"]["post"])
    assert body is not None
    for name in ("pickup_address", "delivery_address", "guest"):
        assert body["properties"][name]["additionalProperties"] is False
    assert body["properties"]["specialty_items"]["items"]["additionalProperties"] is False


def test_every_operation_documents_its_success_and_errors(app: TestApp) -> None:
    document = _document(app)
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["status", "errors"]
    assert set(error["properties"]["errors"]["items"]["required"]) == {
        "location",
        "name",
        "description",
    }
    for method, path, operation in _operations(document):
        label = f"{method} {path}"
        responses = operation["responses"]
        assert "default" not in responses, f"{label}: UNDOCUMENTED RESPONSE"
        successes = [code for code in responses if code.startswith("2")]
        assert len(successes) == 1, label
        [success] = successes
        if success == "204":
            assert "content" not in responses[success], label
        elif "application/json" in responses[success]["content"]:
            body = _resolve(document, _json_schema(responses[success]))
            assert body["type"] == "object" and body.get("properties"), label
        else:  # a CSV or plain-text answer
            [media] = responses[success]["content"].values()
            assert media["schema"]["type"] == "string", label
        errors = {code: answer for code, answer in responses.items() if code >= "400"}
        assert "400" in errors and "5XX" in errors, label
        for code, answer in errors.items():
            assert list(answer["content"]) == ["application/json"], f"{label} {code}"
            assert _json_schema(answer) == ERROR_REF, f"{label} {code}"
            assert answer["description"], f"{label} {code}"
        if operation.get("security"):
            assert {"401", "403"} <= set(errors), label
        if "{" in path:
            assert "404" in errors, label
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            assert {"403", "413", "415"} <= set(errors), label
        if method == "PATCH":
            assert operation["requestBody"]["required"] is True, label


def test_security_says_which_account_each_operation_needs(app: TestApp) -> None:
    document = _document(app)
    schemes = {
        f"{method} {path}": sorted(s for requirement in op.get("security", []) for s in requirement)
        for method, path, op in _operations(document)
    }
    assert schemes["GET /api/v1/services"] == []
    assert schemes["GET /api/v1/me"] == ["customer"]
    assert schemes["GET /api/v1/staff/bookings"] == ["staff"]
    assert schemes["POST /api/v1/staff/refunds/{id}/approve"] == ["staff"]
    assert schemes["GET /api/v1/bookings/{id}"] == ["customer", "guest", "staff"]
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"customer", "staff", "guest"}
    # Both accounts send a bearer token: Swagger UI's "Authorize" asks for the token alone.
    for bearer in ("customer", "staff"):
        assert {k: schemes[bearer][k] for k in ("type", "scheme")} == {
            "type": "http",
            "scheme": "bearer",
        }
    assert {k: schemes["guest"][k] for k in ("type", "in", "name")} == {
        "type": "apiKey",
        "in": "query",
        "name": "token",
    }


def test_the_document_shows_only_what_this_app_serves(app: TestApp, make_testapp: Any) -> None:
    """Cornice keeps every service imported in the process; the document lists only the
    enabled plugins' (a disabled plugin's route answers 404, so documenting it was a lie)."""
    assert "/api/v1/payments/webhook" in _document(app)["paths"]
    core_only = make_testapp()
    paths = _document(core_only)["paths"]
    assert "/api/v1/payments/webhook" not in paths and "/api/v1/quotes" not in paths
    assert "/api/v1/example/notes" in paths


def test_a_patch_without_a_body_is_a_400_naming_it(app: TestApp) -> None:
    _, headers = customer(app)
    no_body = client(app).patch("/api/v1/me", headers=headers, status=400)
    empty = client(app).patch(
        "/api/v1/me", b"", headers=headers, content_type="application/json", status=400
    )
    for answer in (no_body, empty):
        assert answer.json["errors"][0]["name"] == "body"
    # An empty patch is a patch that changes nothing.
    assert client(app).patch_json("/api/v1/me", {}, headers=headers).json["email"]


def test_a_204_has_no_body_and_the_documented_content_type(app: TestApp) -> None:
    answer = client(app).post("/api/v1/auth/logout", status=204)
    assert answer.body == b""
    assert answer.headers["Content-Type"] == "application/json"
    assert "Content-Length" not in answer.headers


# --- schemathesis --------------------------------------------------------------------------------


def _callers(app: TestApp) -> dict[str, Any]:
    """The accounts the run acts as, and real ids for the paths."""
    me, customer_headers = customer(app)
    _, staff_headers = staff_member(app, "admin")
    booking = book(app, customer_body(), customer_headers)
    address_id = save_address(
        app,
        customer_headers,
        {"line1": "1 Main St", "city": "New York", "state": "NY", "postal_code": "10001"},
    )
    return {
        "customer": customer_headers["Authorization"],
        "staff": staff_headers["Authorization"],
        "booking_id": booking["id"],
        "number": booking["number"],
        "address_id": address_id,
        "customer_id": me["id"],
    }


def _operation_configs(document: dict[str, Any], callers: dict[str, Any]) -> list[dict[str, Any]]:
    configs = []
    for method, path, operation in _operations(document):
        label = f"{method} {path}"
        config: dict[str, Any] = {"include-name": label}
        if label in EXCLUDED:
            configs.append({**config, "enabled": False})
            continue
        schemes = {s for requirement in operation.get("security", []) for s in requirement}
        if schemes:
            # The customer where a customer may act (a booking is its customer's), else staff.
            who = "customer" if "customer" in schemes else "staff"
            config["headers"] = {"Authorization": callers[who]}
        parameters = {}
        if "{id}" in path:
            if path.startswith("/api/v1/me/addresses/"):
                parameters["path.id"] = callers["address_id"]
            elif path.startswith("/api/v1/staff/customers/"):
                parameters["path.id"] = callers["customer_id"]
            elif "/bookings/" in path:
                parameters["path.id"] = callers["booking_id"]
        if "{number}" in path:
            parameters["path.number"] = callers["number"]
        if parameters:
            config["parameters"] = parameters
        checks = {}
        if label in SCHEMA_CANNOT_SAY:
            checks["positive_data_acceptance"] = {"enabled": False}
        if GUEST_REACHABLE_404 in schemes:
            checks["ignored_auth"] = {"enabled": False}
        if checks:
            config["checks"] = checks
        if len(config) > 1:
            configs.append(config)
    return configs


@contextlib.contextmanager
def _serving(wsgi_app: Any) -> Iterator[str]:
    """``wsgi_app`` on a loopback port (one thread: schemathesis sends one request at a time)."""
    server = waitress.create_server(wsgi_app, host="127.0.0.1", port=0, threads=1)
    thread = threading.Thread(target=server.run, name="contract-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Close every socket from the server's own loop thread (its socket map must not change
        # under it); the loop ends once the map is empty. As tests/browser/conftest.py does.
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()


@pytest.fixture
def served(app: TestApp) -> Iterator[str]:
    """``app`` on a loopback port."""
    with _serving(app.app) as url:
        yield url


def _run(schema: Any) -> tuple[dict[str, list[str]], list[str], set[str]]:
    """Run schemathesis' engine over ``schema``: its failures by operation, its errors, and
    the operations it tested."""
    failures: dict[str, list[str]] = {}
    errors: list[str] = []
    tested: set[str] = set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.label:
            tested.add(event.label)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        text = (
                            f"{failure.title}: {failure.message}\n{check.failure_info.code_sample}"
                        )
                        failures.setdefault(failure.operation, [])
                        if text not in failures[failure.operation]:
                            failures[failure.operation].append(text)
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return failures, errors, tested


def _report(failures: dict[str, list[str]]) -> str:
    return "\n\n".join(
        f"== {operation}\n" + "\n".join(found) for operation, found in sorted(failures.items())
    )


def test_schemathesis_finds_nothing(app: TestApp, served: str) -> None:
    document = _document(app)
    callers = _callers(app)
    config = schemathesis.config.SchemathesisConfig.from_dict(
        {
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "mode": "all",
                "database": "none",
                # The API refuses NUL in every string (PostgreSQL cannot store it): the input
                # guard and the strict types answer 400, as README says.
                "allow-x00": False,
            },
            "checks": {"enabled": True},
            "phases": {"stateful": {"enabled": False}},
            "workers": 1,
            "continue-on-failure": True,
            # A cursor is opaque: only one the server gave out means something (any other is a
            # 400 naming it). The run pages from a well-formed one, as a client would.
            "parameters": {"query.cursor": encode_cursor(NOW, uuid.UUID(int=0))},
            "operations": _operation_configs(document, callers),
        }
    )
    schema = schemathesis.openapi.from_url(served + DOCUMENT, config=config)
    failures, errors, tested = _run(schema)
    assert not errors, "\n".join(errors)
    assert not failures, _report(failures)
    served = {f"{m} {p}" for m, p, _ in _operations(document)}
    assert tested == served - set(EXCLUDED)


#: The bounded run over every plugin's reads: examples per operation, and a time limit that
#: fails the test rather than let it grow (it takes about 10 seconds on one core).
READS_MAX_EXAMPLES = 3
READS_SECONDS = 30


def test_every_plugins_reads_answer_no_5xx(make_testapp: Any) -> None:
    """schemathesis over every GET of the app with every installed plugin enabled (crm,
    documents, logistics... which the run above leaves out), as an admin and as a customer,
    over real HTTP: no answer may be a server error, and each must match the document."""
    everything = make_testapp(**{"totetaxi.plugins": " ".join(migrated_plugins())})
    document = _document(everything)
    _, customer_headers = customer(everything)
    _, staff_headers = staff_member(everything, "admin")
    operations = []
    for method, path, operation in _operations(document):
        if method != "GET":
            operations.append({"include-name": f"{method} {path}", "enabled": False})
            continue
        schemes = {s for requirement in operation.get("security", []) for s in requirement}
        who = customer_headers if "customer" in schemes else staff_headers
        operations.append({"include-name": f"GET {path}", "headers": dict(who)})
    config = schemathesis.config.SchemathesisConfig.from_dict(
        {
            "generation": {
                "max-examples": READS_MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                "allow-x00": False,
            },
            "checks": {
                "enabled": False,
                "not_a_server_error": {"enabled": True},
                "status_code_conformance": {"enabled": True},
                "content_type_conformance": {"enabled": True},
                "response_schema_conformance": {"enabled": True},
            },
            "phases": {"stateful": {"enabled": False}},
            "workers": 1,
            "continue-on-failure": True,
            "parameters": {"query.cursor": encode_cursor(NOW, uuid.UUID(int=0))},
            "operations": operations,
        }
    )
    started = time.monotonic()
    with _serving(everything.app) as url:
        schema = schemathesis.openapi.from_url(url + DOCUMENT, config=config)
        failures, errors, tested = _run(schema)
    assert not errors, "\n".join(errors)
    assert not failures, _report(failures)
    assert tested == {f"GET {p}" for m, p, _ in _operations(document) if m == "GET"}
    assert {"GET /api/v1/staff/reports", "GET /api/v1/logistics/tasks"} <= tested
    assert time.monotonic() - started < READS_SECONDS
