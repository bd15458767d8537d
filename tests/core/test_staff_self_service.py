"""Staff self-service (issue 17 item 6): ``/staff/me``, password change, token renewal, the
console's "My account" page and the admins' plugins page; and the grouped navigation (item 7)."""

from __future__ import annotations

import re

import pytest
from support.console import audit_rows, client, login, signed_in, token_in

from totetaxi_core.hooks import hookimpl
from totetaxi_core.testing import STRONG_PASSWORD, bearer, make_staff

ME = "/api/v1/staff/me"
PASSWORD = "/api/v1/staff/me/password"
RENEW = "/api/v1/staff/auth/token/renew"
NEW_PASSWORD = "Quiet-Harbor-Lantern-77"


def staff_token(app, role="staff"):
    member = make_staff(app.app.registry, role)
    return member, bearer(client(app), member.email, staff=True)


# --- /staff/me ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "core"),
    [
        ("viewer", ["staff.read"]),
        ("staff", ["staff.read", "staff.write"]),
        ("admin", ["admin", "staff.read", "staff.write"]),
    ],
)
def test_me_tells_role_and_permissions(make_testapp, role, core):
    app = make_testapp(**{"totetaxi.plugins": "crm"})  # crm grants crm.care, crm.export to staff
    member, headers = staff_token(app, role)
    me = client(app).get(ME, headers=headers).json
    assert me["id"] == str(member.id) and me["email"] == member.email
    assert me["name"] == f"{role.title()} Tester" and me["role"] == role
    expected = sorted(core + (["crm.care", "crm.export"] if role != "viewer" else []))
    assert me["permissions"] == expected
    assert "customer.self" not in me["permissions"]


def test_me_refuses_customers_and_anonymous(testapp):
    from totetaxi_core.testing import register_customer

    customer = register_customer(client(testapp))
    headers = bearer(client(testapp), customer["email"])
    client(testapp).get(ME, headers=headers, status=403)
    client(testapp).get(ME, status=401)


# --- password change ---------------------------------------------------------------------------


def test_wrong_current_password_is_400_naming_it(testapp):
    _, headers = staff_token(testapp)
    answer = client(testapp).post_json(
        PASSWORD,
        {"current_password": "Not-My-Password-1", "new_password": NEW_PASSWORD},
        headers=headers,
        status=400,
    )
    assert answer.json["errors"][0]["name"] == "current_password"


def test_weak_new_password_is_400(testapp):
    _, headers = staff_token(testapp)
    answer = client(testapp).post_json(
        PASSWORD,
        {"current_password": STRONG_PASSWORD, "new_password": "password"},
        headers=headers,
        status=400,
    )
    assert answer.json["errors"][0]["name"] == "new_password"
    client(testapp).get(ME, headers=headers)  # nothing changed: the token still works


def test_change_by_token_ends_other_sessions_and_tokens_and_keeps_the_callers(testapp):
    member, headers = staff_token(testapp)
    other_token = bearer(client(testapp), member.email, staff=True)
    browser = client(testapp)
    login(browser, member.email)
    assert browser.get("/console/").status_int == 200
    client(testapp).post_json(
        PASSWORD,
        {"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD},
        headers=headers,
        status=204,
    )
    client(testapp).get(ME, headers=headers, status=200)  # the caller's token stays
    client(testapp).get(ME, headers=other_token, status=401)
    assert browser.get("/console/", status=302).location.startswith(
        "http://localhost/console/login"
    )
    login(client(testapp), member.email, STRONG_PASSWORD, status=401)
    login(client(testapp), member.email, NEW_PASSWORD)
    records = [r for r in audit_rows(testapp, "staff.password_changed")]
    assert records[-1]["target_id"] == str(member.id)
    assert records[-1]["changes"]["after"] == {"by": "self", "via": "token"}


def test_change_by_session_keeps_this_browser_with_a_new_session(testapp):
    member = signed_in(testapp, "viewer")
    other = client(testapp)
    login(other, member.email)
    token = bearer(client(testapp), member.email, staff=True)
    before = testapp.cookies["tt_session"]
    page = testapp.get("/console/account")
    assert 'data-testid="me-role">viewer<' in page.text
    form = next(f for f in page.forms.values() if "new_password" in f.fields)
    form["current_password"] = STRONG_PASSWORD
    form["new_password"] = NEW_PASSWORD
    form["new_password_confirm"] = NEW_PASSWORD
    done = form.submit(status=303)
    assert done.location.endswith("/console/account?done=password_changed")
    assert testapp.cookies["tt_session"] != before
    assert "Password changed" in done.follow().text
    assert other.get("/console/", status=302)
    client(testapp).get(ME, headers=token, status=401)


def test_the_account_form_shows_refusals(testapp):
    signed_in(testapp, "staff")
    page = testapp.get("/console/account")
    csrf = token_in(page)
    wrong = testapp.post(
        "/console/account",
        {
            "csrf_token": csrf,
            "current_password": "Not-It-At-All-9",
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
        status=400,
    )
    assert 'data-testid="error-current_password"' in wrong.text
    weak = testapp.post(
        "/console/account",
        {
            "csrf_token": csrf,
            "current_password": STRONG_PASSWORD,
            "new_password": "short",
            "new_password_confirm": "short",
        },
        status=400,
    )
    assert 'data-testid="error-new_password"' in weak.text
    differ = testapp.post(
        "/console/account",
        {
            "csrf_token": csrf,
            "current_password": STRONG_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD + "x",
        },
        status=400,
    )
    assert 'data-testid="error-new_password_confirm"' in differ.text


# --- token renewal -----------------------------------------------------------------------------


def test_renewal_gives_a_new_token_and_revokes_the_old(testapp):
    member, headers = staff_token(testapp, "viewer")
    answer = client(testapp).post(RENEW, headers=headers).json
    assert answer["role"] == "viewer" and answer["token"].startswith("tt_")
    fresh = {"Authorization": f"Bearer {answer['token']}"}
    assert client(testapp).get(ME, headers=fresh).json["id"] == str(member.id)
    client(testapp).get(ME, headers=headers, status=401)
    client(testapp).post(RENEW, headers=headers, status=401)
    assert audit_rows(testapp, "staff.token_renewed")[-1]["target_id"] == str(member.id)


def test_renewal_needs_a_bearer_token(testapp):
    signed_in(testapp, "staff")
    csrf = token_in(testapp.get("/console/"))
    answer = testapp.post(RENEW, headers={"X-CSRF-Token": csrf}, status=400)
    assert answer.json["errors"][0]["name"] == "Authorization"
    client(testapp).post(RENEW, status=401)


# --- the plugins page ------------------------------------------------------------------------


def test_the_plugins_page_is_for_admins(testapp):
    signed_in(testapp, "admin")
    page = testapp.get("/console/plugins")
    row = page.html.find("tr", attrs={"data-plugin": "example"})
    assert row is not None and "1.0.0" in row.text
    assert page.html.find(attrs={"data-testid": "state-example"}).text.strip() == "yes"
    # Discovered but not enabled here: listed, not enabled.
    crm = page.html.find(attrs={"data-testid": "state-crm"})
    assert crm is not None and crm.text.strip() == "no"
    assert 'aria-current="page">Plugins<' in page.text
    for role in ("staff", "viewer"):
        browser = client(testapp)
        signed_in(browser, role)
        browser.get("/console/plugins", status=403)


# --- navigation groups --------------------------------------------------------------------------


def groups_of(page) -> list[tuple[str, bool, list[str]]]:
    nav = page.html.find("nav", class_="main")
    return [
        (
            li["data-group"],
            "active" in li["class"],
            [a.text for a in li.find_all("a")],
        )
        for li in nav.find_all("li", class_="group")
    ]


class GroupedPlugin:
    @hookimpl
    def totetaxi_console_nav(self, request):
        return [
            {"title": "Refund queue", "route": "console_home", "role": "viewer", "group": "Money"},
            {"title": "Outbox", "route": "console_home", "role": "viewer", "group": "Messages"},
            {"title": "Odd", "route": "console_home", "role": "viewer", "group": "Zeta"},
        ]


def test_the_navigation_is_grouped_with_the_current_section_marked(testapp):
    testapp.app.registry.hooks.register(GroupedPlugin(), "grouped-nav")
    signed_in(testapp, "admin")
    page = testapp.get("/console/customers")
    groups = groups_of(page)
    assert [g[0] for g in groups] == [
        "Operations",
        "Customers",
        "Money",
        "Messages",
        "Settings",
        "Zeta",
    ]
    by_name = {name: (active, titles) for name, active, titles in groups}
    assert by_name["Operations"] == (False, ["Dashboard", "Bookings", "Notes"])  # Notes: no group
    assert by_name["Customers"] == (True, ["Customers"])
    assert by_name["Money"][1] == ["Refund queue"]
    assert by_name["Settings"][1] == [
        "Cancellation policy",
        "Audit log",
        "My account",
        "Staff",
        "Plugins",
    ]
    assert page.text.count('aria-current="page"') == 1
    assert re.search(r'class="active" aria-current="page">Customers<', page.text)
    # no inline script or style: the only script is the layout's live.js, a file
    assert re.findall(r"<script[^>]*>", page.text) == [
        '<script src="/console/static/core/live.js" defer>'
    ]
    assert "style=" not in page.text


def test_a_page_under_a_section_marks_it(testapp):
    signed_in(testapp, "viewer")
    page = testapp.get("/console/customers/00000000-0000-4000-8000-000000000000", status=404)
    # Not found pages still carry the layout: the section is the customers list's.
    assert [g for g in groups_of(page) if g[1]] == [("Customers", True, ["Customers"])]
    account = testapp.get("/console/account")
    assert [g[0] for g in groups_of(account) if g[1]] == ["Settings"]
