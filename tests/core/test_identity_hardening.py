"""Abuse cases: throttles that hold, cross-site writes, stale credentials."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from webtest import TestApp

from totetaxi_core.errors import PluginError
from totetaxi_core.hooks import hookimpl
from totetaxi_core.identity import passwords
from totetaxi_core.identity.models import AuthSession, StaffUser
from totetaxi_core.identity.secrets import digest
from totetaxi_core.identity.services import set_active
from totetaxi_core.platform import prepare
from totetaxi_core.testing import (
    STRONG_PASSWORD,
    base_settings,
    bearer,
    console_sign_in,
    in_transaction,
    make_staff,
    race,
    register_customer,
)

WRONG = "Wrong-Password-1"


def login(app, email, password, **kw):
    return app.post_json("/api/v1/auth/login", {"email": email, "password": password}, **kw)


def test_attempts_are_counted_before_the_password_is_checked(make_testapp, monkeypatch):
    app = make_testapp(**{"totetaxi.login_limit_per_account": 3})
    customer = register_customer(app)
    verified = []
    real = passwords._hasher

    class Spy:
        def verify(self, stored, password):
            verified.append(password)
            return real.verify(stored, password)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(passwords, "_hasher", Spy())
    client = TestApp(app.app)
    variants = [customer["email"].upper(), f"  {customer['email']} ", customer["email"]]
    for email in variants:  # case and spaces are the same account
        login(client, email, WRONG, status=401)
    login(client, customer["email"], STRONG_PASSWORD, status=429)
    assert len(verified) == 3  # the 4th attempt never reached argon2


@pytest.mark.postgresql
def test_parallel_guesses_cannot_exceed_the_limit(pg_backend, monkeypatch):
    from totetaxi_core import make_app

    url = pg_backend.new_url()
    app = make_app(
        prepare(
            base_settings(
                url,
                **{"totetaxi.login_limit_per_account": 3, "totetaxi.login_limit_per_address": 1000},
            ),
            environ={},
        )
    )
    try:
        customer = register_customer(TestApp(app))
        clients = [TestApp(app) for _ in range(12)]
        statuses = race(
            *[
                (lambda c=client: login(c, customer["email"], WRONG, expect_errors=True).status_int)
                for client in clients
            ]
        )
        assert sorted(statuses) == [401] * 3 + [429] * 9
    finally:
        app.registry["dbengine"].dispose()
        pg_backend.drop(url)


def test_a_stale_session_cookie_does_not_break_the_throttle(make_testapp):
    app = make_testapp(**{"totetaxi.login_limit_per_account": 2})
    customer = register_customer(app)
    browser = TestApp(app.app)
    browser.get("/api/v1/auth/csrf")
    in_transaction(
        app.app.registry,
        lambda ctx: ctx.dbsession.execute(
            update(AuthSession).values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        ),
    )
    csrf = browser.get("/api/v1/auth/csrf").json["csrf_token"]
    for _ in range(2):
        login(browser, customer["email"], WRONG, headers={"X-CSRF-Token": csrf}, status=401)
    login(browser, customer["email"], STRONG_PASSWORD, headers={"X-CSRF-Token": csrf}, status=429)


def test_cross_site_writes_are_refused(make_testapp):
    app = make_testapp(**{"totetaxi.trusted_origins": "https://www.totetaxi.com"})
    customer = register_customer(TestApp(app.app))
    client = TestApp(app.app)
    # A hostile page's form: not JSON.
    client.post(
        "/api/v1/auth/login", {"email": customer["email"], "password": STRONG_PASSWORD}, status=415
    )
    # A hostile page's fetch: another origin.
    answer = login(
        client,
        customer["email"],
        STRONG_PASSWORD,
        headers={"Origin": "https://evil.example"},
        status=403,
    )
    assert answer.json["errors"][0]["name"] == "X-CSRF-Token"
    login(
        client,
        customer["email"],
        STRONG_PASSWORD,
        headers={"Origin": "https://www.totetaxi.com"},
        status=200,
    )
    login(
        TestApp(app.app),
        customer["email"],
        STRONG_PASSWORD,
        headers={"Origin": "http://localhost"},
        status=200,
    )  # this site itself


def test_a_junk_bearer_header_cannot_end_the_cookie_session(testapp):
    register_customer(testapp)
    testapp.post("/api/v1/auth/logout", headers={"Authorization": "Bearer junk"}, status=204)
    testapp.get("/api/v1/me", status=200)
    testapp.get("/api/v1/auth/csrf", headers={"Authorization": "Bearer junk"}, status=400)
    testapp.get("/api/v1/me", status=200)


@pytest.mark.both_databases
def test_logout_kills_the_session_on_the_server(testapp):
    customer = register_customer(testapp)
    old = testapp.cookies["tt_session"]
    keys = in_transaction(
        testapp.app.registry, lambda ctx: list(ctx.dbsession.scalars(select(AuthSession.key_hash)))
    )
    assert digest(old) in keys
    testapp.post("/api/v1/auth/logout", headers={"X-CSRF-Token": customer["csrf"]}, status=204)
    replay = TestApp(testapp.app)
    replay.set_cookie("tt_session", old)
    replay.get("/api/v1/me", status=401)


class Links:
    def __init__(self):
        self.urls = []

    @hookimpl
    def totetaxi_password_reset_requested(self, reset_url):
        self.urls.append(reset_url)


def test_using_one_reset_link_kills_the_others(testapp):
    links = Links()
    testapp.app.registry.hooks.register(links, "links")
    customer = register_customer(testapp)
    client = TestApp(testapp.app)
    for _ in range(2):
        client.post_json("/api/v1/auth/password-reset", {"email": customer["email"]})
    first, second = (url.split("token=")[1] for url in links.urls)
    client.post_json(
        "/api/v1/auth/password-reset/confirm",
        {"token": second, "password": "Fresh-Password-Here-3"},
        status=204,
    )
    client.post_json(
        "/api/v1/auth/password-reset/confirm",
        {"token": first, "password": "Other-Password-Here-4"},
        status=400,
    )


def test_password_change_is_throttled(make_testapp):
    app = make_testapp(**{"totetaxi.login_limit_per_account": 2})
    customer = register_customer(app)
    headers = {"X-CSRF-Token": customer["csrf"]}
    for _ in range(2):
        app.post_json(
            "/api/v1/me/password",
            {"current_password": WRONG, "new_password": "Brand-New-Pass-77"},
            headers=headers,
            status=400,
        )
    app.post_json(
        "/api/v1/me/password",
        {"current_password": STRONG_PASSWORD, "new_password": "Brand-New-Pass-77"},
        headers=headers,
        status=429,
    )


def test_disabling_staff_revokes_their_tokens(testapp):
    registry = testapp.app.registry
    make_staff(registry, "admin")
    member = make_staff(registry, "staff")
    client = TestApp(testapp.app)
    headers = bearer(client, member.email, staff=True)
    client.get("/api/v1/openapi.json", headers=headers, status=200)
    in_transaction(
        registry, lambda ctx: set_active(ctx, ctx.dbsession.get(StaffUser, member.id), False)
    )
    answer = client.get("/console/", headers=headers, status=302)
    assert "/console/login" in answer.location


def test_production_cookies_are_secure_by_default(tmp_path):
    settings = base_settings(
        f"sqlite:///{tmp_path / 'p.sqlite'}",
        **{
            "totetaxi.environment": "production",
            "totetaxi.secret": "Kq3!vB9#zL0@mN7$pR2%tY5^wE8&uI1*oP4(",
        },
    )
    assert prepare(settings, environ={}).settings["totetaxi.cookie_secure"] is True
    assert (
        prepare(base_settings(f"sqlite:///{tmp_path / 'd.sqlite'}"), environ={}).settings[
            "totetaxi.cookie_secure"
        ]
        is False
    )


def test_plugins_cannot_grant_core_permissions():
    from types import SimpleNamespace

    from totetaxi_core.identity import _plugin_grants
    from totetaxi_core.plugins import Manifest

    def config_with(permissions):
        manifest = Manifest(name="sneaky", version="1", permissions=permissions)
        plugin = SimpleNamespace(name="sneaky", manifest=manifest)
        return SimpleNamespace(registry=SimpleNamespace(platform=SimpleNamespace(enabled=[plugin])))

    with pytest.raises(PluginError, match="core permissions cannot be granted"):
        _plugin_grants(config_with({"admin": "customer"}))
    with pytest.raises(PluginError, match="unknown 'janitor'"):
        _plugin_grants(config_with({"sneaky.thing": "janitor"}))
    grants = _plugin_grants(config_with({"sneaky.read": "viewer"}))
    assert ("sneaky.read", "viewer") in grants


@pytest.mark.both_databases  # SQLite's one writer: the token's first use must not lock it
def test_a_bearer_token_changes_the_password_on_its_first_use(make_testapp):
    app = make_testapp()
    customer = register_customer(app)
    client = TestApp(app.app)
    headers = bearer(client, customer["email"])  # issued, never used yet
    client.post_json(
        "/api/v1/me/password",
        {"current_password": STRONG_PASSWORD, "new_password": "Brand-New-Pass-77"},
        headers=headers,
        status=204,
    )
    client.get("/api/v1/me", headers=headers, status=401)  # every token ended with the change
    login(client, customer["email"], STRONG_PASSWORD, status=401)
    assert (
        login(client, customer["email"], "Brand-New-Pass-77").json["customer"]["email"]
        == customer["email"]
    )


def test_a_tokens_use_is_recorded_even_when_the_answer_is_an_error(testapp):
    from totetaxi_core.identity.models import ApiToken

    customer = register_customer(testapp)
    client = TestApp(testapp.app)
    headers = bearer(client, customer["email"])

    def last_used(ctx):
        return ctx.dbsession.scalars(select(ApiToken.last_used_at)).one()

    assert in_transaction(testapp.app.registry, last_used) is None
    client.patch_json("/api/v1/me", {"phone": "not a phone"}, headers=headers, status=400)
    assert in_transaction(testapp.app.registry, last_used) is not None


def _session_rows(app) -> int:
    from sqlalchemy import func

    return in_transaction(
        app.app.registry,
        lambda ctx: ctx.dbsession.scalar(select(func.count()).select_from(AuthSession)),
    )


def test_anonymous_visitors_cost_no_stored_row(testapp):
    for _ in range(20):
        TestApp(testapp.app).head("/console/login", status=200)
        TestApp(testapp.app).get("/api/v1/auth/csrf", status=200)
    assert _session_rows(testapp) == 0
    # The anonymous token still guards the login form, and signing in stores the one row.
    staff = make_staff(testapp.app.registry, "staff")
    browser = TestApp(testapp.app)
    console_sign_in(browser, staff)  # GET the form (anonymous token), POST it with the token
    assert _session_rows(testapp) == 1
    assert browser.get("/console/", status=200)


def test_an_anonymous_cookie_is_signed_and_expires(testapp, monkeypatch):
    from totetaxi_core.identity import sessions

    browser = TestApp(testapp.app)
    csrf = browser.get("/api/v1/auth/csrf").json["csrf_token"]
    cookie = browser.cookies[sessions.COOKIE_NAME]
    assert cookie.startswith("anon.") and csrf in cookie
    customer = {"email": "x@example.com", "password": WRONG}
    # Forged: the attacker's own token under a made-up signature is no session at all.
    forged = TestApp(testapp.app)
    forged.set_cookie(sessions.COOKIE_NAME, cookie.rsplit(".", 1)[0] + ".0000")
    forged.post_json("/api/v1/auth/login", customer, headers={"X-CSRF-Token": csrf}, status=403)
    # Expired: two hours later the token is refused.
    later = dt.datetime.now(dt.UTC) + sessions.ANONYMOUS_MAX_AGE + dt.timedelta(seconds=1)
    monkeypatch.setattr(sessions, "utcnow", lambda: later)
    browser.post_json("/api/v1/auth/login", customer, headers={"X-CSRF-Token": csrf}, status=403)


def test_a_reset_request_does_the_same_work_for_any_email(testapp, monkeypatch):
    """The request only queues the task; what differs (a token, an email) happens in the task."""
    from totetaxi_core.identity.models import PasswordResetToken
    from totetaxi_core.tasks import outbox
    from totetaxi_core.tasks.models import OutboxMessage

    customer = register_customer(TestApp(testapp.app))
    relayed: list = []
    monkeypatch.setattr(outbox, "relay", lambda registry, ids: relayed.extend(ids))

    def rows(ctx):
        messages = ctx.dbsession.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at))
        tokens = ctx.dbsession.scalars(select(PasswordResetToken)).all()
        return [(m.task, m.args) for m in messages], len(tokens)

    for email in (customer["email"], "nobody@example.com"):
        answer = TestApp(testapp.app).post_json(
            "/api/v1/auth/password-reset", {"email": email}, status=202
        )
        assert answer.json["status"] == "accepted"
    queued, tokens = in_transaction(testapp.app.registry, rows)
    resets = [q for q in queued if q[0] == "identity.password_reset"]
    assert resets == [
        ("identity.password_reset", [customer["email"]]),
        ("identity.password_reset", ["nobody@example.com"]),
    ]
    assert tokens == 0 and len(relayed) == 2
    monkeypatch.undo()
    outbox.relay(testapp.app.registry, relayed)  # the worker's part
    assert in_transaction(testapp.app.registry, rows)[1] == 1  # a link for the account only


def test_a_rotated_secret_keeps_forms_and_sessions_made_under_the_old_one(make_testapp):
    """Rotation: the new secret signs, the old one (``totetaxi.previous_secrets``) still
    checks; nobody is signed out, and a form served before the switch still posts."""
    from totetaxi_core.identity import sessions

    old, new = "Old-" + "kQ8vZ3mW1xR7tY2u" * 3, "New-" + "pL4nB6cV9jH0gF5d" * 3
    before = make_testapp(**{"totetaxi.secret": old})
    staff = make_staff(before.app.registry, "staff")
    signed_in = TestApp(before.app)
    console_sign_in(signed_in, staff)
    visitor = TestApp(before.app)
    csrf = visitor.get("/api/v1/auth/csrf").json["csrf_token"]
    anonymous = visitor.cookies[sessions.COOKIE_NAME]
    session = signed_in.cookies[sessions.COOKIE_NAME]
    wrong = {"email": "x@example.com", "password": WRONG}

    def after(**settings):
        app = TestApp(make_testapp(**{"totetaxi.secret": new, **settings}).app)
        return app

    rotated = after(**{"totetaxi.previous_secrets": old})
    rotated.set_cookie(sessions.COOKIE_NAME, anonymous)
    # The old form's token is accepted: the password is what is refused (401, not 403).
    rotated.post_json("/api/v1/auth/login", wrong, headers={"X-CSRF-Token": csrf}, status=401)
    # A new visitor's cookie is signed with the new secret only.
    fresh = after(**{"totetaxi.previous_secrets": old})
    fresh.get("/api/v1/auth/csrf")
    body = fresh.cookies[sessions.COOKIE_NAME][len("anon.") :].rpartition(".")[0]
    assert fresh.cookies[sessions.COOKIE_NAME].endswith(
        sessions._anonymous_mac(fresh.app.registry, body, new)
    )
    # Once the old secret is dropped, its forms are refused...
    dropped = after()
    dropped.set_cookie(sessions.COOKIE_NAME, anonymous)
    dropped.post_json("/api/v1/auth/login", wrong, headers={"X-CSRF-Token": csrf}, status=403)
    # ...while signed-in sessions never depended on it (random keys kept by the store).
    dropped.set_cookie(sessions.COOKIE_NAME, session)
    assert dropped.get("/console/", status=200)


def test_previous_secrets_come_from_the_environment(tmp_path):
    from totetaxi_core.identity.secrets import accepted_secrets

    url = f"sqlite:///{tmp_path}/x.sqlite"
    settings = prepare(
        base_settings(url, **{"totetaxi.secret": "current-" + "aB3dE5gH7jK9" * 3}),
        environ={"TOTETAXI_PREVIOUS_SECRETS": "first-old, second-old first-old"},
    ).settings
    assert settings["totetaxi.previous_secrets"] == ["first-old", "second-old", "first-old"]
    assert accepted_secrets(settings) == [
        settings["totetaxi.secret"],
        "first-old",
        "second-old",
    ]
