"""The console shell: login and logout, navigation by role, error pages, staff administration."""

from __future__ import annotations

import re
import uuid

import pytest
from support.console import (
    OTHER_PASSWORD,
    audit_rows,
    client,
    csrf,
    login,
    nav_titles,
    signed_in,
    staff_by_email,
    token_in,
)

from totetaxi_core.console.helpers import safe_next
from totetaxi_core.hooks import hookimpl
from totetaxi_core.identity.models import Role, StaffUser
from totetaxi_core.testing import STRONG_PASSWORD, in_transaction, make_staff, register_customer

# --- login ------------------------------------------------------------------------------------


def test_login_page_is_public_with_csrf_and_next(testapp):
    page = testapp.get("/console/login?next=/console/staff")
    assert page.status_int == 200 and page.content_type == "text/html"
    assert "tt_session" in testapp.cookies  # an anonymous session holds the CSRF token
    form = page.forms[0]
    assert form["csrf_token"].value == token_in(page)
    assert form["next"].value == "/console/staff"
    assert form.method.lower() == "post"


def test_login_signs_in_rotates_the_session_and_lands_on_the_dashboard(testapp):
    admin = make_staff(testapp.app.registry, "admin")
    testapp.get("/console/login")
    anonymous = testapp.cookies["tt_session"]
    answer = login(testapp, admin.email)
    assert answer.location == "http://localhost/console/"
    assert testapp.cookies["tt_session"] != anonymous
    dashboard = answer.follow()
    assert "Welcome, Admin" in dashboard.text
    assert 'data-testid="user-name">Admin Tester<' in dashboard.text
    assert 'data-testid="user-role">admin<' in dashboard.text
    assert "Example notes" in dashboard.text  # a tile from the example plugin
    assert staff_by_email(testapp, admin.email).last_login_at is not None


@pytest.mark.parametrize("email", ["known", "unknown@totetaxi.test"])
def test_bad_credentials_are_401_with_one_message(testapp, email):
    staff = make_staff(testapp.app.registry, "staff")
    email = staff.email if email == "known" else email
    answer = login(testapp, email, "Wrong-Password-123", status=401)
    assert "Email or password is wrong." in answer.text
    assert answer.forms[0]["email"].value == email
    # The re-rendered form still works with the session the browser holds.
    again = answer.forms[0]
    again["password"] = STRONG_PASSWORD
    if email == staff.email:
        assert again.submit(status=303).location.endswith("/console/")


@pytest.mark.both_databases
def test_a_scripted_login_without_cookie_is_retried_after_a_failure(testapp):
    staff = make_staff(testapp.app.registry, "viewer")
    testapp.post("/console/login", {"email": staff.email, "password": "nope-nope-nope"}, status=401)
    assert "tt_session" not in testapp.cookies  # no session that the rollback would orphan
    testapp.post("/console/login", {"email": staff.email, "password": STRONG_PASSWORD}, status=303)
    assert testapp.get("/console/").status_int == 200


def test_empty_fields_are_refused_without_counting(make_testapp):
    app = make_testapp(**{"totetaxi.login_limit_per_address": 1})
    for _ in range(3):
        answer = app.post("/console/login", {"email": "", "password": ""}, status=401)
        assert "Email or password is wrong." in answer.text
    staff = make_staff(app.app.registry, "staff")
    app.post("/console/login", {"email": staff.email, "password": STRONG_PASSWORD}, status=303)


def test_a_customer_never_signs_in_to_the_console(testapp):
    customer = register_customer(client(testapp))
    answer = login(client(testapp), customer["email"], customer["password"], status=401)
    assert "Email or password is wrong." in answer.text


def test_a_disabled_staff_user_cannot_sign_in(testapp):
    admin = make_staff(testapp.app.registry, "admin")
    staff = make_staff(testapp.app.registry, "staff")

    def disable(ctx):
        from totetaxi_core.identity.services import get_staff, set_active

        ctx.actor = ctx.dbsession.get(StaffUser, admin.id)
        set_active(ctx, get_staff(ctx, staff.id), False)

    in_transaction(testapp.app.registry, disable)
    login(testapp, staff.email, status=401)


def test_login_is_throttled_per_account_with_retry_after(make_testapp):
    app = make_testapp(**{"totetaxi.login_limit_per_account": 2})
    staff = make_staff(app.app.registry, "staff")
    for _ in range(2):
        login(app, staff.email, "Wrong-Password-123", status=401)
    answer = login(app, staff.email, STRONG_PASSWORD, status=429)
    assert int(answer.headers["Retry-After"]) > 0
    assert "Too many attempts" in answer.text
    assert "tt_session" in app.cookies
    assert app.get("/console/", status=302).location.startswith("http://localhost/console/login")
    # The API's staff login shares the account's budget.
    api = client(app).post_json(
        "/api/v1/staff/auth/token", {"email": staff.email, "password": STRONG_PASSWORD}, status=429
    )
    assert api.headers["Retry-After"]


def test_login_is_throttled_per_address(make_testapp):
    app = make_testapp(**{"totetaxi.login_limit_per_address": 2})
    staff = make_staff(app.app.registry, "staff")
    login(app, "a@totetaxi.test", "Wrong-Password-123", status=401)
    login(app, "b@totetaxi.test", "Wrong-Password-123", status=401)
    login(app, staff.email, status=429)


# --- next: never an open redirect -------------------------------------------------------------


def test_next_inside_the_console_is_followed(testapp):
    staff = make_staff(testapp.app.registry, "admin")
    answer = login(testapp, staff.email, next_path="/console/staff%3Fdone%3Dcreated")
    assert answer.location == "http://localhost/console/staff?done=created"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/console/",
        "//evil.example/console/",
        "/\\evil.example/console",
        "/api/v1/me",
        "/consolex",
        "/console/../api/v1/me",
        "javascript:alert(1)",
        "http:/console/",
        "/console/login",
        "",
    ],
)
def test_next_outside_the_console_is_refused(testapp, target):
    staff = make_staff(testapp.app.registry, "viewer")
    page = testapp.get("/console/login")
    form = page.forms[0]
    form["email"], form["password"] = staff.email, STRONG_PASSWORD
    form["next"].force_value(target)
    assert form.submit(status=303).location == "http://localhost/console/"


def test_a_next_outside_latin_1_is_sent_percent_encoded(testapp):
    # A header is Latin-1: the raw U+2028 made waitress answer 500 and drop the session cookie.
    staff = make_staff(testapp.app.registry, "viewer")
    page = testapp.get("/console/login?next=/console/%E2%80%A8")  # U+2028, as a browser sends it
    form = page.forms[0]
    form["email"], form["password"] = staff.email, STRONG_PASSWORD
    answer = form.submit(status=303)
    assert answer.location == "http://localhost/console/%E2%80%A8"
    answer.location.encode("latin-1")
    assert "Set-Cookie" in answer.headers


def test_safe_next_unit():
    assert safe_next("/console/") == "/console/"
    assert safe_next("/console") == "/console"
    assert safe_next("/console/staff?x=1#a") == "/console/staff?x=1#a"
    for bad in (
        None,
        "",
        "console/",
        "//x/console",
        "/\\x",
        "/console/\r\nSet-Cookie: a=b",
        "https://x/console",
        "/console/./staff",
        "/consoles",
        "/console/logout",
    ):
        assert safe_next(bad) is None, bad


def test_the_login_page_escapes_what_it_echoes(testapp):
    page = testapp.get('/console/login?next=/console/"><script>alert(1)</script>')
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;" in page.text


@pytest.mark.both_databases
def test_signing_in_again_starts_a_new_session(testapp):
    staff = signed_in(testapp, "viewer")
    first = testapp.cookies["tt_session"]
    login(testapp, staff.email)
    assert testapp.cookies["tt_session"] != first
    replay = client(testapp)
    replay.set_cookie("tt_session", first)
    replay.get("/console/", status=302)


# --- logout -----------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_logout_ends_the_session_and_the_old_cookie_is_worthless(testapp):
    signed_in(testapp, "staff")
    old = testapp.cookies["tt_session"]
    token = csrf(testapp)
    answer = testapp.post("/console/logout", {"csrf_token": token}, status=303)
    assert answer.location == "http://localhost/console/login?done=signed_out"
    assert "You are signed out." in answer.follow().text
    replay = client(testapp)
    replay.set_cookie("tt_session", old)
    assert replay.get("/console/", status=302).location.startswith("http://localhost/console/login")


def test_logout_needs_post_and_the_csrf_token(testapp):
    signed_in(testapp, "staff")
    testapp.get("/console/logout", status=404)
    refused = testapp.post("/console/logout", {}, status=403)
    assert "did not come from this site" in refused.text
    assert testapp.get("/console/").status_int == 200  # still signed in


def test_logout_of_an_ended_session_just_clears_the_cookie(testapp):
    testapp.post("/console/logout", status=303)  # nobody signed in: nothing to end
    staff = signed_in(testapp, "staff")
    token = csrf(testapp)

    def end_everything(ctx):
        from totetaxi_core.identity.models import PrincipalKind

        ctx.registry.session_store.delete_for(ctx.dbsession, PrincipalKind.STAFF, staff.id)

    in_transaction(testapp.app.registry, end_everything)
    answer = testapp.post("/console/logout", {"csrf_token": token}, status=303)
    assert "tt_session=;" in answer.headers["Set-Cookie"].replace('""', "")
    assert "tt_session" not in testapp.cookies


# --- navigation and roles ---------------------------------------------------------------------


def test_a_viewer_does_not_see_staff_in_the_navigation(testapp):
    signed_in(testapp, "viewer")
    titles = nav_titles(testapp.get("/console/"))
    # Notes: the example plugin's entry (order 90, no group: Operations).
    assert titles == [
        "Dashboard",
        "Bookings",
        "Notes",
        "Customers",
        "Cancellation policy",
        "Audit log",
        "My account",
    ]


def test_an_admin_sees_staff_in_the_navigation(testapp):
    signed_in(testapp, "admin")
    page = testapp.get("/console/")
    assert nav_titles(page) == [
        "Dashboard",
        "Bookings",
        "Notes",
        "Customers",
        "Cancellation policy",
        "Audit log",
        "My account",
        "Staff",
        "Plugins",
    ]
    assert 'href="http://localhost/console/staff"' in page.text


class NavPlugin:
    @hookimpl
    def totetaxi_console_nav(self, request):
        return [
            {"title": "Dispatch", "route": "console_home", "role": "staff", "order": 10},
            {"title": "Audit", "route": "console_home", "role": "admin", "order": 10},
            {"title": "Alpha", "route": "console_home", "role": "staff", "order": 10},
            {"title": "Broken role", "route": "console_home", "role": "owner", "order": 1},
            {"title": "Broken route", "route": "no_such_route", "role": "viewer"},
            {"route": "console_home"},
        ]


SETTINGS = ["Cancellation policy", "Audit log", "My account"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("viewer", ["Dashboard", "Bookings", "Notes", "Customers", *SETTINGS]),
        (
            "staff",
            ["Dashboard", "Alpha", "Bookings", "Dispatch", "Notes", "Customers", *SETTINGS],
        ),
        (
            "admin",
            [
                "Dashboard",
                "Alpha",
                "Audit",
                "Bookings",
                "Dispatch",
                "Notes",
                "Customers",
                *SETTINGS,
                "Staff",
                "Plugins",
            ],
        ),
    ],
)
def test_plugin_entries_are_filtered_by_role_and_sorted(testapp, role, expected):
    testapp.app.registry.hooks.register(NavPlugin(), "test-nav")
    signed_in(testapp, role)
    assert nav_titles(testapp.get("/console/")) == expected


def test_anonymous_console_requests_go_to_login_with_next(testapp):
    for path in ("/console/", "/console/staff"):
        answer = testapp.get(path, status=302)
        assert answer.location == (
            "http://localhost/console/login?next=" + path.replace("/", "%2F")
        )
    assert testapp.get("/console", status=301).location == "http://localhost/console/"
    testapp.post("/console/staff", {"email": "x@y.z"}, status=302)


@pytest.mark.parametrize("role", ["viewer", "staff"])
def test_viewer_and_staff_get_403_on_staff_admin(testapp, role):
    target = make_staff(testapp.app.registry, "viewer")
    signed_in(testapp, role)
    token = csrf(testapp)
    page = testapp.get("/console/staff", status=403)
    assert page.content_type == "text/html"
    assert "your role does not allow this page" in page.text
    assert 'class="top"' in page.text  # the layout, since a staff user is signed in
    testapp.post(
        "/console/staff",
        {
            "csrf_token": token,
            "email": "new@totetaxi.test",
            "role": "admin",
            "password": STRONG_PASSWORD,
            "password_confirm": STRONG_PASSWORD,
        },
        status=403,
    )
    testapp.post(
        f"/console/staff/{target.id}/role", {"csrf_token": token, "role": "admin"}, status=403
    )
    testapp.post(
        f"/console/staff/{target.id}/active", {"csrf_token": token, "active": "0"}, status=403
    )
    after = staff_by_email(testapp, target.email)
    assert after.role == Role.VIEWER and after.is_active
    assert not audit_rows(testapp, "staff.role_changed") + audit_rows(testapp, "staff.disabled")


def test_a_customer_session_gets_403_on_the_console(testapp):
    register_customer(testapp)
    page = testapp.get("/console/", status=403)
    assert page.content_type == "text/html" and "Not allowed" in page.text
    assert 'class="top"' not in page.text  # standalone: no staff layout for a customer
    testapp.get("/console/staff", status=403)


# --- CSRF -------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_console_posts_without_the_right_csrf_token_are_refused(testapp, token):
    signed_in(testapp, "admin")
    body = {
        "email": "new@totetaxi.test",
        "role": "staff",
        "password": STRONG_PASSWORD,
        "password_confirm": STRONG_PASSWORD,
    }
    if token is not None:
        body["csrf_token"] = token
    page = testapp.post("/console/staff", body, status=403)
    assert "Your form expired or did not come from this site" in page.text
    assert not audit_rows(testapp, "staff.created")[1:]  # only the admin's own creation


def test_login_post_with_the_session_cookie_needs_the_token(testapp):
    staff = make_staff(testapp.app.registry, "staff")
    testapp.get("/console/login")
    page = testapp.post(
        "/console/login", {"email": staff.email, "password": STRONG_PASSWORD}, status=403
    )
    assert "did not come from this site" in page.text


# --- not found --------------------------------------------------------------------------------


def test_unknown_console_paths_are_html_404(testapp):
    page = testapp.get("/console/nowhere", status=404)
    assert page.content_type == "text/html" and "Not found" in page.text
    signed_in(testapp, "viewer")
    page = testapp.get("/console/nowhere/at/all", status=404)
    assert "Not found" in page.text and 'class="top"' in page.text


def test_other_not_found_answers_are_unchanged(testapp):
    api = testapp.get("/api/v1/nowhere", status=404)
    assert api.content_type == "application/json" and api.json["status"] == "error"
    other = testapp.get("/nowhere", status=404)
    assert other.content_type != "application/json" and "Staff console" not in other.text


def test_unknown_staff_ids_are_404(testapp):
    signed_in(testapp, "admin")
    token = csrf(testapp)
    for ident in (uuid.uuid4(), "not-a-uuid"):
        page = testapp.post(
            f"/console/staff/{ident}/role", {"csrf_token": token, "role": "staff"}, status=404
        )
        assert "Not found" in page.text


def test_flash_codes_reflect_nothing(testapp):
    signed_in(testapp, "admin")
    page = testapp.get("/console/?done=<script>alert(1)</script>")
    assert "<script>alert(1)" not in page.text
    page = testapp.get("/console/staff?done=created&staff=<b>x</b>")
    assert "Staff user created." in page.text and "<b>x</b>" not in page.text


# --- staff administration ---------------------------------------------------------------------


@pytest.mark.both_databases
def test_admin_lists_creates_changes_role_and_disables_staff(testapp):
    admin = signed_in(testapp, "admin")
    page = testapp.get("/console/staff")
    row = re.search(rf'<tr id="s-{admin.id}".*?</tr>', page.text, re.S).group(0)
    assert admin.email in row and "Admin Tester" in row and " UTC" in row  # last sign-in
    token = token_in(page)
    answer = testapp.post(
        "/console/staff",
        {
            "csrf_token": token,
            "email": "Morgan@TOTETAXI.test",
            "first_name": "Morgan",
            "last_name": "Reyes",
            "role": "viewer",
            "phone": "+1 631 555 0188",
            "department": "Hamptons dispatch",
            "hire_date": "2024-05-20",
            "password": OTHER_PASSWORD,
            "password_confirm": OTHER_PASSWORD,
        },
        status=303,
    )
    morgan = staff_by_email(testapp, "morgan@totetaxi.test")
    assert answer.location.startswith("http://localhost/console/staff?done=created")
    listed = answer.follow()
    assert "Staff user created. (morgan@totetaxi.test)" in listed.text
    assert "Hamptons dispatch" in listed.text and "Morgan Reyes" in listed.text
    assert morgan.role == Role.VIEWER and morgan.profile.department == "Hamptons dispatch"
    assert str(morgan.profile.hire_date) == "2024-05-20" and morgan.profile.phone
    created = audit_rows(testapp, "staff.created")[-1]
    assert created["actor_id"] == admin.id and created["target_id"] == str(morgan.id)

    # Morgan signs in elsewhere; the session is live.
    other = client(testapp)
    login(other, "morgan@totetaxi.test", OTHER_PASSWORD)
    assert other.get("/console/").status_int == 200

    testapp.post(
        f"/console/staff/{morgan.id}/role", {"csrf_token": token, "role": "staff"}, status=303
    )
    assert staff_by_email(testapp, morgan.email).role == Role.STAFF
    [changed] = audit_rows(testapp, "staff.role_changed")
    assert changed["changes"] == {"before": {"role": "viewer"}, "after": {"role": "staff"}}
    assert changed["actor_id"] == admin.id
    # The same role again changes nothing and writes nothing.
    testapp.post(
        f"/console/staff/{morgan.id}/role", {"csrf_token": token, "role": "staff"}, status=303
    )
    assert len(audit_rows(testapp, "staff.role_changed")) == 1

    answer = testapp.post(
        f"/console/staff/{morgan.id}/active", {"csrf_token": token, "active": "0"}, status=303
    )
    assert "Staff user disabled" in answer.follow().text
    assert not staff_by_email(testapp, morgan.email).is_active
    [disabled] = audit_rows(testapp, "staff.disabled")
    assert disabled["actor_id"] == admin.id and disabled["target_id"] == str(morgan.id)
    # Their live session stops working, and they can no longer sign in.
    assert other.get("/console/", status=302).location.startswith("http://localhost/console/login")
    login(client(testapp), "morgan@totetaxi.test", OTHER_PASSWORD, status=401)

    testapp.post(
        f"/console/staff/{morgan.id}/active", {"csrf_token": token, "active": "1"}, status=303
    )
    assert staff_by_email(testapp, morgan.email).is_active
    assert len(audit_rows(testapp, "staff.enabled")) == 1
    login(client(testapp), "morgan@totetaxi.test", OTHER_PASSWORD)


@pytest.mark.parametrize(
    ("fields", "field", "status", "message"),
    [
        ({"password": "short"}, "password", 400, "Password too weak"),
        ({"password_confirm": "Something-Else-77"}, "password_confirm", 400, "differ"),
        ({"email": "not-an-email"}, "email", 400, "valid email"),
        ({"role": "owner"}, "role", 400, "Role must be one of"),
        ({"hire_date": "20/05/2024"}, "hire_date", 400, "YYYY-MM-DD"),
        ({"email": "DUPLICATE"}, "email", 409, "already exists"),
    ],
)
def test_create_refusals_show_next_to_the_field(testapp, fields, field, status, message):
    admin = signed_in(testapp, "admin")
    body = {
        "csrf_token": csrf(testapp),
        "email": "new@totetaxi.test",
        "first_name": "Nia",
        "last_name": "Park",
        "role": "staff",
        "department": "Operations",
        "password": OTHER_PASSWORD,
        "password_confirm": OTHER_PASSWORD,
    }
    body.update(fields)
    if body["email"] == "DUPLICATE":
        body["email"] = admin.email.upper()
    if "password" in fields:
        body["password_confirm"] = fields["password"]
    page = testapp.post("/console/staff", body, status=status)
    error = re.search(rf'data-testid="error-{field}">([^<]+)<', page.text)
    assert error and message in error.group(1)
    assert 'value="Operations"' in page.text  # the form keeps what was typed ...
    assert OTHER_PASSWORD not in page.text  # ... but never the password
    assert len(audit_rows(testapp, "staff.created")) == 1  # only the admin's own


def test_an_admin_cannot_disable_themselves(testapp):
    admin = signed_in(testapp, "admin")
    make_staff(testapp.app.registry, "admin")  # another admin exists: still refused
    page = testapp.post(
        f"/console/staff/{admin.id}/active",
        {"csrf_token": csrf(testapp), "active": "0"},
        status=409,
    )
    assert "You cannot disable your own account." in page.text
    assert staff_by_email(testapp, admin.email).is_active
    assert not audit_rows(testapp, "staff.disabled")


def test_the_last_admin_cannot_step_down(testapp):
    admin = signed_in(testapp, "admin")
    page = testapp.post(
        f"/console/staff/{admin.id}/role",
        {"csrf_token": csrf(testapp), "role": "staff"},
        status=409,
    )
    assert "last active admin" in page.text
    assert staff_by_email(testapp, admin.email).role == Role.ADMIN
    assert not audit_rows(testapp, "staff.role_changed")


def test_the_last_other_admin_cannot_be_disabled_or_demoted_away(testapp):
    # Two admins; one is disabled, so the remaining one is the last active admin.
    first = signed_in(testapp, "admin")
    second = make_staff(testapp.app.registry, "admin")
    token = csrf(testapp)
    testapp.post(
        f"/console/staff/{second.id}/active", {"csrf_token": token, "active": "0"}, status=303
    )
    page = testapp.post(
        f"/console/staff/{first.id}/role", {"csrf_token": token, "role": "viewer"}, status=409
    )
    assert "last active admin" in page.text


def test_an_admin_who_steps_down_lands_on_the_dashboard(testapp):
    admin = signed_in(testapp, "admin")
    make_staff(testapp.app.registry, "admin")
    answer = testapp.post(
        f"/console/staff/{admin.id}/role",
        {"csrf_token": csrf(testapp), "role": "staff"},
        status=303,
    )
    assert answer.location == "http://localhost/console/"
    testapp.get("/console/staff", status=403)


# --- with the production state backend --------------------------------------------------------


@pytest.mark.both_databases
@pytest.mark.redis
def test_console_sessions_and_throttles_in_redis(redis_app):
    admin = signed_in(redis_app, "admin")
    assert redis_app.get("/console/").status_int == 200
    victim = make_staff(redis_app.app.registry, "staff")
    other = client(redis_app)
    login(other, victim.email)
    redis_app.post(
        f"/console/staff/{victim.id}/active",
        {"csrf_token": csrf(redis_app), "active": "0"},
        status=303,
    )
    other.get("/console/", status=302)  # the victim's Redis session is gone
    stranger = client(redis_app)
    for _ in range(2):
        login(stranger, admin.email, "Wrong-Password-123", status=401)
    login(stranger, admin.email, status=429)
    old = redis_app.cookies["tt_session"]
    redis_app.post("/console/logout", {"csrf_token": csrf(redis_app)}, status=303)
    replay = client(redis_app)
    replay.set_cookie("tt_session", old)
    replay.get("/console/", status=302)
