"""Security headers on every answer and the production Host allow-list (issue 13).

The console's HTML gets a Content-Security-Policy without inline script or style, everything else
one that loads nothing; no answer may be framed; no URL leaves for another site in a Referer;
production adds Strict-Transport-Security and answers only for its own host names.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from totetaxi_core.errors import SettingsError
from totetaxi_core.ops.headers import host_allowed, host_name, html_policy
from totetaxi_core.platform import prepare
from totetaxi_core.plugins import discover
from totetaxi_core.testing import base_settings, console_sign_in

STRONG = "Kq3!vB9#zL0@mN7$pR2%tY5^wE8&uI1*oP4("
PUBLIC_URL = "https://www.totetaxi.example"
API_POLICY = "default-src 'none'; frame-ancestors 'none'"


def directives(header: str) -> dict[str, list[str]]:
    """``"a x y; b z"`` → ``{"a": ["x", "y"], "b": ["z"]}``."""
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def production(make_testapp, **settings):
    return make_testapp(
        **{
            "totetaxi.environment": "production",
            "totetaxi.secret": STRONG,
            "totetaxi.public_url": PUBLIC_URL,
            **settings,
        }
    )


# --- every answer --------------------------------------------------------------------------------


@pytest.mark.validation_only
def test_an_api_answer_loads_nothing_and_cannot_be_framed(testapp):
    answer = testapp.get("/api/v1/openapi.json")
    assert answer.headers["Content-Security-Policy"] == API_POLICY
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in answer.headers  # production only


def test_a_console_page_allows_only_its_own_files(testapp):
    answer = testapp.get("/console/login")
    policy = directives(answer.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert answer.headers["X-Frame-Options"] == "DENY"
    # same-origin, not no-referrer: under no-referrer the page's own form posts carry
    # "Origin: null", which the cross-site write check refuses. Nothing goes to other sites.
    assert answer.headers["Referrer-Policy"] == "same-origin"
    # Its stylesheet is a file the app serves (to anyone: the login page needs it).
    [href] = re.findall(r'<link rel="stylesheet" href="([^"]+)"', answer.text)
    assert href == "/console/static/core/console.css"
    css = testapp.get(href)
    assert css.content_type == "text/css" and "--ink" in css.text


@pytest.mark.validation_only
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/track/TT-1%00", 400),  # the input guard
        ("/api/v1/nothing-here", 404),
        ("/console/nothing-here", 404),
        ("/healthz", 200),
    ],
)
def test_refusals_and_probes_carry_the_headers_too(testapp, path, status):
    answer = testapp.get(path, status=status)
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Referrer-Policy"] in ("no-referrer", "same-origin")


def test_a_signed_in_console_page_has_the_strict_policy(make_testapp):
    app = make_testapp()
    console_sign_in(app, "viewer")
    page = app.get("/console/")
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "same-origin"


def test_a_page_may_widen_its_policy():
    policy = directives(html_policy({"style-src": ["'unsafe-inline'"], "frame-src": ["https:"]}))
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["frame-src"] == ["https:"]  # not "'none' https:": 'none' goes
    assert policy["script-src"] == ["'self'"]


# --- no inline script or style in any console template ----------------------------------------

INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),
    "<style> element": re.compile(r"<style\b", re.I),
    "style= attribute": re.compile(r"\sstyle\s*=", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}

#: A Jinja comment (it may name what it explains: "no inline <style>").
COMMENT = re.compile(r"{#.*?#}", re.S)


def console_templates() -> list[Path]:
    """Every Jinja template of the core, of each installed plugin's distribution and of the
    scaffold of a new plugin."""
    core = Path(importlib.import_module("totetaxi_core").__file__).parent
    roots = {core}
    for plugin in discover():
        if plugin.loaded:
            top = plugin.module.__name__.partition(".")[0]
            roots.add(Path(importlib.import_module(top).__file__).parent)
    found = []
    for root in sorted(roots):
        found += sorted(root.rglob("*.jinja2")) + sorted(root.rglob("*.jinja2.tmpl"))
    return found


def test_no_console_template_has_inline_script_or_style():
    templates = console_templates()
    names = {path.name for path in templates}
    assert {"layout.jinja2", "email_template.jinja2", "_pricing.jinja2"} <= names
    problems = [
        f"{path}: {what}"
        for path in templates
        for what, pattern in INLINE.items()
        if pattern.search(COMMENT.sub("", path.read_text()))
    ]
    assert problems == [], "the console's Content-Security-Policy refuses these"


# --- production: HSTS and the Host allow-list ----------------------------------------------------

WWW = {"Host": "www.totetaxi.example"}


def test_production_sends_hsts(make_testapp):
    app = production(make_testapp)
    answer = app.get("/api/v1/openapi.json", headers=WWW)
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"
    shorter = production(make_testapp, **{"totetaxi.hsts_max_age_seconds": "600"})
    assert shorter.get("/healthz").headers["Strict-Transport-Security"] == "max-age=600"


def test_production_refuses_a_host_it_does_not_serve(make_testapp):
    app = production(make_testapp)
    evil = {"Host": "evil.example"}
    answer = app.get("/api/v1/openapi.json", headers=evil, status=400)
    [error] = answer.json["errors"]
    assert (error["location"], error["name"]) == ("header", "Host")
    assert "allowed_hosts" not in answer.text  # the configuration stays private
    assert app.get("/console/login", headers=evil, status=400).content_type == "text/plain"
    assert app.get("/console/login", headers={"Host": "evil.example:443"}, status=400)
    # The refusal carries the headers too.
    refused = app.get("/console/login", headers=evil, status=400)
    assert refused.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" in refused.headers
    # public_url's host, whatever its case, port or final dot.
    app.get("/console/login", headers=WWW, status=200)
    app.get("/console/login", headers={"Host": "WWW.TOTETAXI.EXAMPLE"}, status=200)
    app.get("/console/login", headers={"Host": "www.totetaxi.example.:8443"}, status=200)
    # Load balancers probe by address.
    app.get("/healthz", headers={"Host": "10.0.0.7:6543"}, status=200)


def test_production_uses_the_listed_hosts(make_testapp):
    app = production(make_testapp, **{"totetaxi.allowed_hosts": ".totetaxi.example, 10.0.0.7"})
    app.get("/console/login", headers={"Host": "console.totetaxi.example"}, status=200)
    app.get("/console/login", headers={"Host": "totetaxi.example"}, status=200)
    app.get("/console/login", headers={"Host": "10.0.0.7:6543"}, status=200)
    app.get("/console/login", headers={"Host": "totetaxi.example.evil.example"}, status=400)
    app.get("/console/login", headers={"Host": "eviltotetaxi.example"}, status=400)


@pytest.mark.parametrize("environment", ["development", "test"])
def test_development_and_test_answer_any_host(make_testapp, environment):
    app = make_testapp(**{"totetaxi.environment": environment})
    app.get("/console/login", headers={"Host": "evil.example"}, status=200)
    assert "Strict-Transport-Security" not in app.get("/healthz").headers


def test_a_listed_host_is_enforced_in_any_environment(make_testapp):
    app = make_testapp(**{"totetaxi.allowed_hosts": "localhost"})
    app.get("/console/login", status=200)  # WebTest's Host: localhost:80
    app.get("/console/login", headers={"Host": "evil.example"}, status=400)


def test_production_derives_the_allowed_hosts_from_public_url():
    def hosts(**settings):
        settings = (
            base_settings(
                "sqlite://", **{"totetaxi.environment": "production", "totetaxi.secret": STRONG}
            )
            | settings
        )
        return prepare(settings, environ={}).settings["totetaxi.allowed_hosts"]

    assert hosts(**{"totetaxi.public_url": "https://WWW.totetaxi.example:8443/x"}) == [
        "www.totetaxi.example"
    ]
    assert hosts(**{"totetaxi.public_url": "http://[::1]:6543"}) == ["[::1]"]
    assert hosts(**{"totetaxi.allowed_hosts": "A.example b.example"}) == ["a.example", "b.example"]
    with pytest.raises(SettingsError) as refused:
        hosts(**{"totetaxi.public_url": "/relative"})
    assert refused.value.problems == [
        "Setting 'totetaxi.allowed_hosts' is required in production when totetaxi.public_url "
        "names no host (list the host names the app is served under)."
    ]
    assert prepare(base_settings("sqlite://"), environ={}).settings["totetaxi.allowed_hosts"] == []


@pytest.mark.parametrize(
    "entry", ["https://www.totetaxi.example", "www.totetaxi.example:443", "a.example/x", "."]
)
def test_an_allowed_host_must_be_a_host_name(entry):
    with pytest.raises(SettingsError) as refused:
        prepare(base_settings("sqlite://", **{"totetaxi.allowed_hosts": entry}), environ={})
    [problem] = refused.value.problems
    assert problem.startswith("Setting 'totetaxi.allowed_hosts' must list host names")
    assert repr(entry) in problem


def test_host_names_are_compared_without_port_case_or_final_dot():
    assert host_name("Example.COM.:8443") == "example.com"
    assert host_name("[::1]:6543") == "[::1]"
    assert host_allowed("anything", []) and host_allowed("anything", ["*"])
    assert host_allowed("[::1]:6543", ["[::1]"])
    assert not host_allowed("example.com.evil", [".example.com"])


def test_production_on_a_loopback_public_url_warns_at_start_up(make_testapp, caplog):
    with caplog.at_level("WARNING", logger="totetaxi.request"):
        production(make_testapp, **{"totetaxi.public_url": "http://127.0.0.1:6543"})
    assert any(
        "production answers only for 127.0.0.1" in record.getMessage() for record in caplog.records
    )
