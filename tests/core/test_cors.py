"""CORS for the API (issue 18, item 1; totetaxi_core/ops/cors.py).

A listed site's page (``totetaxi.trusted_origins``: the React app on http://localhost:3000 in
development) may preflight and call ``/api/``, with the visitor's session; any other site's
preflight is refused and its answers carry no CORS header (the browser keeps them from the
page). The console never carries CORS headers. The grant is not an authorisation: the CSRF token
and the cross-site write guard still apply, to exactly the same list.
"""

from __future__ import annotations

import configparser
import uuid
from pathlib import Path

import colander
import pytest
from cornice import Service
from cornice.validators import colander_validator
from support.bookings import NOW, guest_body, set_clock
from webtest import TestApp

from totetaxi_core.api.idempotency import REPLAYED_HEADER
from totetaxi_core.errors import SettingsError
from totetaxi_core.ops.cors import ALLOWED_HEADERS, route_headers
from totetaxi_core.origins import origin_of
from totetaxi_core.platform import prepare
from totetaxi_core.testing import base_settings, register_customer

SITE = "http://localhost:3000"
SITE_BY_ADDRESS = "http://127.0.0.1:3000"
HOSTILE = "https://evil.example"
LISTED = {"totetaxi.trusted_origins": f"{SITE} {SITE_BY_ADDRESS}", "totetaxi.plugins": "pricing"}
ROOT = Path(__file__).resolve().parents[2]
PLACE = {"line1": "1 Main St", "city": "New York", "state": "NY", "postal_code": "10001"}


@pytest.fixture
def app(make_testapp) -> TestApp:
    """The app with the two development origins listed and the pricing plugin (quotes)."""
    return make_testapp(**LISTED)


def preflight(app: TestApp, path: str, method: str, origin: str = SITE, headers: str = "", **kw):
    sent = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        sent["Access-Control-Request-Headers"] = headers
    return app.options(path, headers=sent, **kw)


def listed(header: str) -> set[str]:
    return {part.strip() for part in header.split(",") if part.strip()}


def no_cors(answer) -> None:
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]


def granted(answer, origin: str = SITE) -> None:
    assert answer.headers["Access-Control-Allow-Origin"] == origin
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"


def varies_on_origin(answer) -> None:
    assert "Origin" in listed(answer.headers.get("Vary", ""))


def only_error(answer, name: str, location: str = "header") -> str:
    assert answer.json["status"] == "error"
    [error] = answer.json["errors"]
    assert (error["name"], error["location"]) == (name, location)
    return error["description"]


# --- preflight ------------------------------------------------------------------------------------


@pytest.mark.validation_only
def test_a_listed_origin_preflight_gets_the_route_methods_and_headers(app):
    wanted = "content-type, idempotency-key, x-csrf-token, authorization"
    answer = preflight(app, "/api/v1/quotes", "POST", headers=wanted, status=204)
    granted(answer)
    assert listed(answer.headers["Access-Control-Allow-Methods"]) == {"POST"}
    allowed = {name.lower() for name in listed(answer.headers["Access-Control-Allow-Headers"])}
    assert listed(wanted) <= allowed
    assert int(answer.headers["Access-Control-Max-Age"]) > 0
    varies_on_origin(answer)
    assert answer.body == b""
    # The methods are the route's own: an address takes these, a plain Pyramid view (the
    # OpenAPI document) its GET.
    address = preflight(app, f"/api/v1/me/addresses/{uuid.uuid4()}", "DELETE", SITE_BY_ADDRESS)
    granted(address, SITE_BY_ADDRESS)
    methods = listed(address.headers["Access-Control-Allow-Methods"])
    assert methods == {"GET", "HEAD", "PATCH", "DELETE"}
    document = preflight(app, "/api/v1/openapi.json", "GET", status=204)
    assert listed(document.headers["Access-Control-Allow-Methods"]) == {"GET", "HEAD"}


@pytest.mark.validation_only
def test_an_unlisted_origin_preflight_is_refused(app):
    answer = preflight(app, "/api/v1/quotes", "POST", HOSTILE, "content-type", status=403)
    assert HOSTILE in only_error(answer, "Origin")
    assert "Access-Control-Allow-Origin" not in answer.headers
    varies_on_origin(answer)
    # A sandboxed frame or a file says "null": not listed either.
    preflight(app, "/api/v1/quotes", "POST", "null", status=403)


@pytest.mark.validation_only
def test_a_preflight_to_no_route_is_404_and_to_a_method_the_route_lacks_405(app):
    missing = preflight(app, "/api/v1/nothing-here", "GET", status=404)
    only_error(missing, "path", "path")
    wrong = preflight(app, "/api/v1/quotes", "DELETE", status=405)
    assert "DELETE" in only_error(wrong, "Access-Control-Request-Method")
    assert listed(wrong.headers["Allow"]) == {"POST"}
    lower = preflight(app, "/api/v1/quotes", "post", status=405)
    assert "case-sensitive" in only_error(lower, "Access-Control-Request-Method")


@pytest.mark.validation_only
def test_a_preflight_asking_for_a_header_the_api_does_not_read_is_refused(app):
    answer = preflight(app, "/api/v1/quotes", "POST", headers="content-type, x-debug", status=403)
    assert "x-debug" in only_error(answer, "Access-Control-Request-Headers")


# --- actual requests ------------------------------------------------------------------------------


@pytest.mark.validation_only
def test_a_get_from_a_listed_origin_may_be_read_and_from_another_not(app):
    answer = app.get("/api/v1/services", headers={"Origin": SITE})
    granted(answer)
    exposed = {name.lower() for name in listed(answer.headers["Access-Control-Expose-Headers"])}
    expected = {"location", "retry-after", REPLAYED_HEADER.lower(), "x-request-id", "x-csrf-token"}
    assert expected <= exposed
    varies_on_origin(answer)
    for headers in ({"Origin": HOSTILE}, {}):
        other = app.get("/api/v1/services", headers=headers)
        assert other.body == answer.body  # answered: the browser, not the server, withholds it
        no_cors(other)
        varies_on_origin(other)


@pytest.mark.validation_only
def test_an_error_answer_before_any_view_is_readable_by_a_listed_origin(app):
    refused = app.get("/api/v1/services?q=%00", headers={"Origin": SITE}, status=400)
    granted(refused)  # the input guard's 400: the page can show why


@pytest.mark.validation_only
def test_the_console_has_no_cors(app):
    granted(app.get("/api/v1/services", headers={"Origin": SITE}))
    page = app.get("/console/login", headers={"Origin": SITE})
    no_cors(page)
    asked = preflight(app, "/console/login", "POST", expect_errors=True)
    assert asked.status_int != 204
    no_cors(asked)


def test_credentialed_reads_from_a_listed_origin(app):
    browser = TestApp(app.app)
    customer = register_customer(browser)  # signed in by cookie
    me = browser.get("/api/v1/me", headers={"Origin": SITE})
    granted(me)
    assert me.json["email"] == customer["email"]
    no_cors(browser.get("/api/v1/me", headers={"Origin": HOSTILE}))
    token = TestApp(app.app).post_json(
        "/api/v1/auth/token",
        {"email": customer["email"], "password": customer["password"]},
        headers={"Origin": SITE},
    )
    granted(token)
    bearer = {"Authorization": f"Bearer {token.json['token']}"}
    granted(TestApp(app.app).get("/api/v1/me", headers={**bearer, "Origin": SITE}))
    no_cors(TestApp(app.app).get("/api/v1/me", headers={**bearer, "Origin": HOSTILE}))


def test_a_cookie_authenticated_write_still_needs_the_csrf_token(app):
    browser = TestApp(app.app)
    customer = register_customer(browser)
    body = {"label": "Home", **PLACE}
    preflight(browser, "/api/v1/me/addresses", "POST", headers="content-type, x-csrf-token")
    refused = browser.post_json("/api/v1/me/addresses", body, headers={"Origin": SITE}, status=403)
    only_error(refused, "X-CSRF-Token")
    granted(refused)  # the page may read why
    csrf = {"X-CSRF-Token": customer["csrf"]}
    saved = browser.post_json(
        "/api/v1/me/addresses", body, headers={"Origin": SITE, **csrf}, status=201
    )
    granted(saved)
    # Another site's page with a stolen token is still refused by the write guard.
    hostile = browser.post_json(
        "/api/v1/me/addresses", body, headers={"Origin": HOSTILE, **csrf}, status=403
    )
    no_cors(hostile)
    assert [a["id"] for a in browser.get("/api/v1/me/addresses").json["items"]] == [
        saved.json["id"]
    ]


def test_a_keyed_booking_from_a_listed_origin_and_its_replay(app):
    set_clock(app, NOW)
    client = TestApp(app.app)
    wanted = "content-type, idempotency-key"
    granted(preflight(client, "/api/v1/bookings", "POST", headers=wanted, status=204))
    key = {"Idempotency-Key": str(uuid.uuid4()), "Origin": SITE}
    first = client.post_json("/api/v1/bookings", guest_body(), headers=key, status=201)
    granted(first)
    again = client.post_json("/api/v1/bookings", guest_body(), headers=key, status=201)
    granted(again)
    assert again.headers[REPLAYED_HEADER] == "true"
    exposed = {name.lower() for name in listed(again.headers["Access-Control-Expose-Headers"])}
    assert REPLAYED_HEADER.lower() in exposed
    assert again.json["number"] == first.json["number"]
    # Another site's page books nothing: the write guard refuses it, unreadable to the page.
    hostile = {"Idempotency-Key": str(uuid.uuid4()), "Origin": HOSTILE}
    no_cors(client.post_json("/api/v1/bookings", guest_body(), headers=hostile, status=403))


# --- the setting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry", ["*", "https://*.totetaxi.com", "localhost:3000", "http://localhost:3000/app"]
)
def test_a_wildcard_or_a_malformed_origin_stops_start_up(entry):
    settings = base_settings("sqlite://", **{"totetaxi.trusted_origins": f"{SITE} {entry}"})
    with pytest.raises(SettingsError) as refused:
        prepare(settings, environ={})
    assert "totetaxi.trusted_origins" in str(refused.value)
    assert repr(entry) in str(refused.value)


def test_origins_are_compared_in_their_normal_form(make_testapp):
    assert origin_of("HTTPS://WWW.Totetaxi.com:443/") == "https://www.totetaxi.com"
    assert origin_of("wss://live.totetaxi.com") == "https://live.totetaxi.com"
    assert origin_of("http://[::1]:3000") == "http://[::1]:3000"
    assert origin_of("null") == origin_of("") == ""
    app = make_testapp(**{"totetaxi.trusted_origins": "HTTPS://WWW.Totetaxi.com:443/"})
    answer = preflight(app, "/api/v1/auth/login", "POST", "https://www.totetaxi.com", status=204)
    granted(answer, "https://www.totetaxi.com")


def test_development_lists_the_react_dev_servers_and_production_none():
    def origins(name: str) -> str:
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(ROOT / name)
        return parser["app:main"].get("totetaxi.trusted_origins", "")

    assert origins("development.ini").split() == [SITE, SITE_BY_ADDRESS]
    assert origins("production.ini").strip() == ""
    assert (
        prepare(base_settings("sqlite://"), environ={}).settings["totetaxi.trusted_origins"] == []
    )


def test_a_header_a_route_validates_is_allowed_in_its_preflight():
    class Headers(colander.MappingSchema):
        if_match = colander.SchemaNode(colander.String(), name="If-Match")

    class Request(colander.MappingSchema):
        header = Headers()

    service = Service(name="parcels_item", path="/api/v1/parcels/{id}")
    service.add_view("PUT", lambda request: {}, schema=Request(), validators=(colander_validator,))

    class Registry:
        cornice_services = {service.path: service}

    assert route_headers(Registry(), "parcels_item") == (*ALLOWED_HEADERS, "If-Match")
    assert route_headers(Registry(), "another_route") == ALLOWED_HEADERS
