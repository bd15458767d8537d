"""The account API: register, log in and out, tokens, CSRF, /me, password change and reset."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from webtest import TestApp

from totetaxi_core.hooks import hookimpl
from totetaxi_core.identity import passwords
from totetaxi_core.identity.models import ApiToken, AuthSession, Customer, PasswordResetToken
from totetaxi_core.testing import (
    STRONG_PASSWORD,
    bearer,
    in_transaction,
    make_staff,
    register_customer,
)


def error_of(response) -> dict:
    assert response.json["status"] == "error"
    return response.json["errors"][0]


def cookie_of(app: TestApp) -> str | None:
    return app.cookies.get("tt_session")


# --- register ---------------------------------------------------------------------------------


def test_register_signs_the_customer_in_with_a_safe_cookie(testapp):
    answer = testapp.post_json(
        "/api/v1/auth/register",
        {
            "email": "  Ana@Example.COM ",
            "password": STRONG_PASSWORD,
            "first_name": "Ana",
            "last_name": "Lopez",
            "phone": "212-555-0101",
        },
        status=201,
    )
    customer = answer.json["customer"]
    assert customer["email"] == "ana@example.com"
    assert {"id", "email", "first_name", "last_name", "phone"} <= set(customer)
    set_cookie = answer.headers["Set-Cookie"]
    assert "tt_session=" in set_cookie and "HttpOnly" in set_cookie
    assert "SameSite=Lax" in set_cookie and "secure" not in set_cookie.lower()
    me = testapp.get("/api/v1/me").json
    assert me["email"] == "ana@example.com" and me["counts"]["total_bookings"] == 0


def test_the_session_cookie_is_secure_in_production_settings(make_testapp):
    app = make_testapp(**{"totetaxi.cookie_secure": "true"})
    answer = register_customer(app)
    assert answer["email"]
    # WebTest keeps Secure cookies only over https; read the header instead.
    response = app.post_json(
        "/api/v1/auth/login",
        {"email": answer["email"], "password": STRONG_PASSWORD},
        headers={"X-CSRF-Token": answer["csrf"]},
    )
    assert "secure" in response.headers["Set-Cookie"].lower()


@pytest.mark.both_databases  # NUL bytes: PostgreSQL refuses them in text
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short1"}, "password"),
        ({"password": "password2024!"}, "password"),
        ({"phone": "call me maybe"}, "phone"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": 7}, "first_name"),
        ({"last_name": "a\x00b"}, "last_name"),
    ],
)
def test_register_refuses_bad_input_naming_the_field(testapp, body, field):
    full = {
        "email": "b@example.com",
        "password": STRONG_PASSWORD,
        "first_name": "B",
        "last_name": "C",
        "phone": "2125550100",
        **body,
    }
    answer = testapp.post_json("/api/v1/auth/register", full, status=400)
    assert error_of(answer)["name"] == field


def test_register_refuses_unknown_fields(testapp):
    answer = testapp.post_json(
        "/api/v1/auth/register",
        {
            "email": "b@example.com",
            "password": STRONG_PASSWORD,
            "first_name": "B",
            "last_name": "C",
            "phone": "2125550100",
            "is_staff": True,
        },
        status=400,
    )
    assert "is_staff" in error_of(answer)["description"]


@pytest.mark.parametrize(
    ("password", "sentence"),
    [
        ("482915730264", "Use letters or symbols too, not only digits."),
        ("short1!", "Use at least 10 characters."),
        ("aaaabbbbaaaa", "Use more different characters."),
    ],
)
def test_passwords_a_search_finds_quickly_are_refused(password, sentence):
    assert passwords.password_problem(password) == sentence
    assert passwords.password_problem("4829-1573-0264x") is None


def test_weak_password_message_is_clear(testapp):
    answer = testapp.post_json(
        "/api/v1/auth/register",
        {
            "email": "w@example.com",
            "password": "password123",
            "first_name": "W",
            "last_name": "X",
            "phone": "2125550100",
        },
        status=400,
    )
    assert error_of(answer) == {
        "location": "body",
        "name": "password",
        "description": "Password too weak: This password is too "
        "common; choose one that is hard to guess.",
    }


@pytest.mark.both_databases
def test_duplicate_registration_is_a_conflict(testapp, new_client):
    customer = register_customer(testapp)
    answer = new_client().post_json(
        "/api/v1/auth/register",
        {
            "email": customer["email"].upper(),
            "password": STRONG_PASSWORD,
            "first_name": "D",
            "last_name": "E",
            "phone": "2125550100",
        },
        status=409,
    )
    assert error_of(answer)["name"] == "email"


# --- login, logout, sessions ------------------------------------------------------------------


def test_login_rotates_the_session_id(testapp, new_client):
    customer = register_customer(testapp)
    browser = new_client()
    csrf = browser.get("/api/v1/auth/csrf").json["csrf_token"]
    before = cookie_of(browser)
    assert before
    browser.post_json(
        "/api/v1/auth/login",
        {"email": customer["email"], "password": STRONG_PASSWORD},
        headers={"X-CSRF-Token": csrf},
    )
    after = cookie_of(browser)
    assert after and after != before
    # The pre-login key is dead: a planted session id is worth nothing.
    stale = new_client()
    stale.set_cookie("tt_session", before)
    stale.get("/api/v1/me", status=401)
    assert browser.get("/api/v1/me").json["email"] == customer["email"]


def test_wrong_password_and_unknown_email_get_the_same_answer(testapp, new_client):
    customer = register_customer(testapp)
    client = new_client()
    wrong = client.post_json(
        "/api/v1/auth/login",
        {"email": customer["email"], "password": "Wrong-Password-1"},
        status=401,
    )
    unknown = client.post_json(
        "/api/v1/auth/login",
        {"email": "nobody@example.com", "password": "Wrong-Password-1"},
        status=401,
    )
    assert wrong.json == unknown.json
    assert error_of(wrong)["description"] == "Email or password is wrong."


def test_an_unknown_email_still_costs_an_argon2_verification(testapp, monkeypatch, new_client):
    calls = []
    real = passwords._hasher

    class Spy:
        def verify(self, stored, password):
            calls.append(stored)
            return real.verify(stored, password)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(passwords, "_hasher", Spy())
    new_client().post_json(
        "/api/v1/auth/login", {"email": "ghost@example.com", "password": "Whatever-123"}, status=401
    )
    assert calls == [passwords._DUMMY_HASH]


def test_logout_ends_the_session(testapp):
    customer = register_customer(testapp)
    testapp.post("/api/v1/auth/logout", headers={"X-CSRF-Token": customer["csrf"]}, status=204)
    testapp.get("/api/v1/me", status=401)


def test_rehash_on_login_when_parameters_changed(make_testapp):
    from argon2 import PasswordHasher

    # The production profile: a weaker stored hash is upgraded to it at the next sign-in.
    testapp = make_testapp(**{"totetaxi.password_hash_profile": "production"})
    customer = register_customer(testapp)
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

    def downgrade(ctx):
        ctx.dbsession.execute(
            update(Customer)
            .where(Customer.email == customer["email"])
            .values(password_hash=weak.hash(STRONG_PASSWORD))
        )

    in_transaction(testapp.app.registry, downgrade)
    TestApp(testapp.app).post_json(
        "/api/v1/auth/login", {"email": customer["email"], "password": STRONG_PASSWORD}
    )
    stored = in_transaction(
        testapp.app.registry,
        lambda ctx: ctx.dbsession.scalar(
            select(Customer.password_hash).where(Customer.email == customer["email"])
        ),
    )
    assert "m=1024" not in stored
    assert not passwords._hasher.check_needs_rehash(stored)


def test_a_cheaper_profile_never_downgrades_a_stored_hash(testapp, new_client):
    from argon2 import PasswordHasher

    customer = register_customer(testapp)  # the kit's fast profile: t=1, m=8
    stronger = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1).hash(STRONG_PASSWORD)

    def store(ctx):
        ctx.dbsession.execute(
            update(Customer)
            .where(Customer.email == customer["email"])
            .values(password_hash=stronger)
        )

    in_transaction(testapp.app.registry, store)
    new_client().post_json(
        "/api/v1/auth/login", {"email": customer["email"], "password": STRONG_PASSWORD}
    )
    stored = in_transaction(
        testapp.app.registry,
        lambda ctx: ctx.dbsession.scalar(
            select(Customer.password_hash).where(Customer.email == customer["email"])
        ),
    )
    assert stored == stronger


# --- CSRF -------------------------------------------------------------------------------------


def test_cookie_writes_need_the_csrf_token(testapp):
    customer = register_customer(testapp)
    refused = testapp.patch_json("/api/v1/me", {"first_name": "Nope"}, status=403)
    assert error_of(refused)["name"] == "X-CSRF-Token"
    wrong = testapp.patch_json(
        "/api/v1/me", {"first_name": "Nope"}, headers={"X-CSRF-Token": "forged"}, status=403
    )
    assert error_of(wrong)["name"] == "X-CSRF-Token"
    assert testapp.get("/api/v1/me").json["first_name"] == "Casey"
    ok = testapp.patch_json(
        "/api/v1/me", {"first_name": "Yes"}, headers={"X-CSRF-Token": customer["csrf"]}
    )
    assert ok.json["first_name"] == "Yes"


def test_bearer_requests_are_exempt_from_csrf(testapp, new_client):
    customer = register_customer(testapp)
    api = new_client()
    headers = bearer(api, customer["email"])
    answer = api.patch_json("/api/v1/me", {"phone": "+1 631 555 0199"}, headers=headers)
    assert answer.json["phone"] == "+1 631 555 0199"
    assert cookie_of(api) is None  # a token client never got a cookie


# --- tokens -----------------------------------------------------------------------------------


def test_tokens_expire(testapp, new_client):
    customer = register_customer(testapp)
    api = new_client()
    headers = bearer(api, customer["email"])
    api.get("/api/v1/me", headers=headers, status=200)
    in_transaction(
        testapp.app.registry,
        lambda ctx: ctx.dbsession.execute(
            update(ApiToken).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        ),
    )
    api.get("/api/v1/me", headers=headers, status=401)


def test_tokens_are_stored_hashed_and_revoked_by_logout(testapp, new_client):
    customer = register_customer(testapp)
    api = new_client()
    headers = bearer(api, customer["email"])
    raw = headers["Authorization"].split()[1]
    hashes = in_transaction(
        testapp.app.registry, lambda ctx: list(ctx.dbsession.scalars(select(ApiToken.token_hash)))
    )
    assert raw not in hashes and len(hashes) == 1 and len(hashes[0]) == 64
    api.post("/api/v1/auth/logout", headers=headers, status=204)
    api.get("/api/v1/me", headers=headers, status=401)


def test_garbage_bearer_tokens_are_401(testapp):
    for value in ("Bearer nope", "Bearer tt_" + "x" * 200, "Bearer "):
        answer = testapp.get("/api/v1/me", headers={"Authorization": value}, status=401)
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


# --- password change and reset ----------------------------------------------------------------


def test_password_change_ends_other_sessions_and_tokens(testapp, new_client):
    customer = register_customer(testapp)
    other = new_client()
    other.post_json("/api/v1/auth/login", {"email": customer["email"], "password": STRONG_PASSWORD})
    api = new_client()
    headers = bearer(api, customer["email"])
    new_password = "Another-Strong-Pass-42"
    answer = testapp.post_json(
        "/api/v1/me/password",
        {"current_password": STRONG_PASSWORD, "new_password": new_password},
        headers={"X-CSRF-Token": customer["csrf"]},
        status=204,
    )
    assert answer.headers["X-CSRF-Token"] != customer["csrf"]  # this session was renewed
    testapp.get("/api/v1/me", status=200)
    other.get("/api/v1/me", status=401)
    api.get("/api/v1/me", headers=headers, status=401)
    new_client().post_json(
        "/api/v1/auth/login", {"email": customer["email"], "password": new_password}, status=200
    )


def test_password_change_needs_the_current_password(testapp):
    customer = register_customer(testapp)
    answer = testapp.post_json(
        "/api/v1/me/password",
        {"current_password": "wrong-one-123", "new_password": "X" * 12},
        headers={"X-CSRF-Token": customer["csrf"]},
        status=400,
    )
    assert error_of(answer)["name"] == "current_password"


class ResetCatcher:
    """Stands in for the notifications plugin: keeps the reset links it is given."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    @hookimpl
    def totetaxi_password_reset_requested(self, principal, reset_url):
        self.urls.append(reset_url)


@pytest.fixture
def reset_links(testapp):
    catcher = ResetCatcher()
    testapp.app.registry.hooks.register(catcher, "reset-catcher")
    return catcher.urls


def test_reset_answers_the_same_for_unknown_emails(testapp, new_client, reset_links):
    customer = register_customer(testapp)
    client = new_client()
    known = client.post_json(
        "/api/v1/auth/password-reset", {"email": customer["email"]}, status=202
    )
    unknown = client.post_json(
        "/api/v1/auth/password-reset", {"email": "x@example.com"}, status=202
    )
    assert known.json == unknown.json
    assert len(reset_links) == 1
    assert reset_links[0].startswith("http://127.0.0.1:6543/reset-password?token=")


def test_reset_token_is_single_use_and_ends_every_session(testapp, new_client, reset_links):
    customer = register_customer(testapp)
    new_client().post_json("/api/v1/auth/password-reset", {"email": customer["email"]})
    token = reset_links[0].split("token=")[1]
    new_password = "Reset-Password-Works-7"
    client = new_client()
    client.post_json(
        "/api/v1/auth/password-reset/confirm",
        {"token": token, "password": new_password},
        status=204,
    )
    testapp.get("/api/v1/me", status=401)  # the registration session ended
    again = client.post_json(
        "/api/v1/auth/password-reset/confirm",
        {"token": token, "password": "Yet-Another-Pass-8"},
        status=400,
    )
    assert error_of(again)["name"] == "token"
    client.post_json(
        "/api/v1/auth/login", {"email": customer["email"], "password": new_password}, status=200
    )


def test_reset_tokens_expire_after_an_hour(testapp, new_client, reset_links):
    customer = register_customer(testapp)
    new_client().post_json("/api/v1/auth/password-reset", {"email": customer["email"]})
    rows = in_transaction(
        testapp.app.registry, lambda ctx: list(ctx.dbsession.scalars(select(PasswordResetToken)))
    )
    assert rows[0].expires_at - rows[0].created_at == dt.timedelta(hours=1)
    in_transaction(
        testapp.app.registry,
        lambda ctx: ctx.dbsession.execute(
            update(PasswordResetToken).values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            )
        ),
    )
    token = reset_links[0].split("token=")[1]
    new_client().post_json(
        "/api/v1/auth/password-reset/confirm",
        {"token": token, "password": "Reset-Password-Works-7"},
        status=400,
    )


def test_without_a_mailer_development_logs_the_link(testapp, new_client, caplog):
    customer = register_customer(testapp)
    with caplog.at_level("WARNING", logger="totetaxi.identity"):
        new_client().post_json("/api/v1/auth/password-reset", {"email": customer["email"]})
    assert any("reset-password?token=" in r.getMessage() for r in caplog.records)


# --- throttling -------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_login_is_throttled_per_account(make_testapp):
    app = make_testapp(**{"totetaxi.login_limit_per_account": 3})
    customer = register_customer(app)
    client = TestApp(app.app, extra_environ={"REMOTE_ADDR": "10.9.9.9"})
    for _ in range(3):
        client.post_json(
            "/api/v1/auth/login",
            {"email": customer["email"], "password": "Wrong-Password-1"},
            status=401,
        )
    refused = client.post_json(
        "/api/v1/auth/login", {"email": customer["email"], "password": STRONG_PASSWORD}, status=429
    )
    assert 1 <= int(refused.headers["Retry-After"]) <= 900
    assert error_of(refused)["name"] == "throttled"
    # Another account from the same address is not locked by this one.
    other = register_customer(TestApp(app.app))
    client.post_json(
        "/api/v1/auth/login", {"email": other["email"], "password": STRONG_PASSWORD}, status=200
    )


def test_login_is_throttled_per_client_address(make_testapp):
    app = make_testapp(**{"totetaxi.login_limit_per_address": 4})
    client = TestApp(app.app, extra_environ={"REMOTE_ADDR": "10.1.2.3"})
    for n in range(4):
        client.post_json(
            "/api/v1/auth/login",
            {"email": f"guess{n}@example.com", "password": "Wrong-Password-1"},
            status=401,
        )
    client.post_json(
        "/api/v1/auth/login",
        {"email": "guess9@example.com", "password": "Wrong-Password-1"},
        status=429,
    )
    elsewhere = TestApp(app.app, extra_environ={"REMOTE_ADDR": "10.1.2.4"})
    elsewhere.post_json(
        "/api/v1/auth/login",
        {"email": "guess9@example.com", "password": "Wrong-Password-1"},
        status=401,
    )


def test_password_reset_is_throttled(make_testapp):
    app = make_testapp(**{"totetaxi.reset_limit_per_account": 2})
    for _ in range(2):
        app.post_json("/api/v1/auth/password-reset", {"email": "r@example.com"}, status=202)
    refused = app.post_json("/api/v1/auth/password-reset", {"email": "r@example.com"}, status=429)
    assert int(refused.headers["Retry-After"]) > 0


# --- staff and customers are kept apart -------------------------------------------------------


def test_staff_credentials_are_not_a_customer_login(testapp, new_client):
    staff = make_staff(testapp.app.registry, "admin")
    client = new_client()
    client.post_json(
        "/api/v1/auth/login", {"email": staff.email, "password": STRONG_PASSWORD}, status=401
    )
    headers = bearer(client, staff.email, staff=True)
    answer = client.get("/api/v1/me", headers=headers, status=403)
    assert error_of(answer)["name"] == "permission"
    token = client.post_json(
        "/api/v1/staff/auth/token", {"email": staff.email, "password": STRONG_PASSWORD}
    ).json
    assert token["role"] == "admin"


def test_customer_credentials_are_not_a_staff_login(testapp, new_client):
    customer = register_customer(testapp)
    new_client().post_json(
        "/api/v1/staff/auth/token",
        {"email": customer["email"], "password": STRONG_PASSWORD},
        status=401,
    )


def test_sessions_are_stored_by_digest(testapp):
    register_customer(testapp)
    keys = in_transaction(
        testapp.app.registry, lambda ctx: list(ctx.dbsession.scalars(select(AuthSession.key_hash)))
    )
    assert cookie_of(testapp) not in keys


def test_the_address_budget_counts_failures_not_successes(make_testapp):
    """An office behind one NAT: its staff's correct logins never lock the address out."""
    app = make_testapp(**{"totetaxi.login_limit_per_address": 3})
    customer = register_customer(TestApp(app.app))

    def office() -> TestApp:  # each colleague's own browser, one address
        return TestApp(app.app, extra_environ={"REMOTE_ADDR": "10.9.9.9"})

    right = {"email": customer["email"], "password": STRONG_PASSWORD}
    for _ in range(7):  # more than the budget, all correct
        office().post_json("/api/v1/auth/login", right, status=200)
    for n in range(3):
        office().post_json(
            "/api/v1/auth/login",
            {"email": f"g{n}@example.com", "password": "Nope-Nope-1"},
            status=401,
        )
    office().post_json("/api/v1/auth/login", right, status=429)  # failures still count
