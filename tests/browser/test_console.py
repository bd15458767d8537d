"""The console in a real headless Chromium: sign-in, staff administration, roles, CSRF refusal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from totetaxi_core.audit.models import AuditRecord
from totetaxi_core.identity.models import Role, StaffUser
from totetaxi_core.testing import STRONG_PASSWORD, in_transaction, make_staff

NEW_PASSWORD = "Velvet-Lobster-Harbor-42"


def sign_in(
    page: Any, live: Any, email: str, password: str = STRONG_PASSWORD, path: str = "/console/"
) -> Any:
    """Open ``path`` (anonymous: the login page), fill the form, land back on ``path``."""
    page.goto(live.url + path)
    assert "/console/login" in page.url
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation() as navigation:
        page.click("button:has-text('Sign in')")
    return navigation.value


def staff_row(live: Any, email: str) -> dict[str, Any] | None:
    def work(ctx):
        staff = ctx.dbsession.scalars(select(StaffUser).where(StaffUser.email == email)).first()
        if staff is None:
            return None
        return {
            "id": staff.id,
            "role": staff.role,
            "active": staff.is_active,
            "department": staff.profile.department,
            "hire_date": staff.profile.hire_date,
        }

    return in_transaction(live.registry, work)


def actions(live: Any) -> list[str]:
    return in_transaction(
        live.registry,
        lambda ctx: list(
            ctx.dbsession.scalars(select(AuditRecord.action).order_by(AuditRecord.at))
        ),
    )


def nav_titles(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("nav.main a").all_inner_texts()]


def test_an_admin_creates_promotes_and_disables_a_staff_user(
    make_live_server, page, tmp_path, csp_violations
):
    live = make_live_server()
    make_staff(live.registry, "admin", email="olivia@totetaxi.test")

    answer = sign_in(page, live, "olivia@totetaxi.test", path="/console/staff")
    assert answer.status == 200 and page.url == live.url + "/console/staff"
    assert page.locator("[data-testid=user-name]").inner_text() == "Admin Tester"
    assert page.locator("[data-testid=user-role]").text_content() == "admin"
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

    # Create.
    page.fill("#f-email", "morgan@totetaxi.test")
    page.fill("#f-first_name", "Morgan")
    page.fill("#f-last_name", "Reyes")
    page.select_option("#f-role", "viewer")
    page.fill("#f-phone", "+1 631 555 0188")
    page.fill("#f-department", "Hamptons dispatch")
    page.fill("#f-hire_date", "2024-05-20")
    page.fill("#f-password", NEW_PASSWORD)
    page.fill("#f-password_confirm", NEW_PASSWORD)
    with page.expect_navigation():
        page.click("button:has-text('Create staff user')")
    assert (
        "Staff user created. (morgan@totetaxi.test)"
        in page.locator("[data-testid=flash]").inner_text()
    )
    row = page.locator('tr[data-email="morgan@totetaxi.test"]')
    assert "Morgan Reyes" in row.inner_text() and "Hamptons dispatch" in row.inner_text()
    stored = staff_row(live, "morgan@totetaxi.test")
    assert stored["role"] == Role.VIEWER and stored["active"]
    assert stored["department"] == "Hamptons dispatch" and str(stored["hire_date"]) == "2024-05-20"

    # Change the role.
    row.locator("select[name=role]").select_option("staff")
    with page.expect_navigation():
        row.locator("button:has-text('Change')").click()
    assert "Role changed." in page.locator("[data-testid=flash]").inner_text()
    row = page.locator('tr[data-email="morgan@totetaxi.test"]')
    assert row.locator("select[name=role]").input_value() == "staff"
    assert staff_row(live, "morgan@totetaxi.test")["role"] == Role.STAFF

    # Disable.
    with page.expect_navigation():
        row.locator("button:has-text('Disable')").click()
    assert "Staff user disabled" in page.locator("[data-testid=flash]").inner_text()
    row = page.locator('tr[data-email="morgan@totetaxi.test"]')
    assert "disabled" in row.inner_text() and row.locator("button:has-text('Enable')").count()
    assert staff_row(live, "morgan@totetaxi.test")["active"] is False
    assert actions(live)[-3:] == ["staff.created", "staff.role_changed", "staff.disabled"]

    # The admin's own row offers no Disable button.
    own = page.locator('tr[data-email="olivia@totetaxi.test"]')
    assert own.locator("button:has-text('Disable')").count() == 0

    shot = tmp_path / "staff.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.is_file() and shot.stat().st_size > 0
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Sign out through the header's form.
    with page.expect_navigation():
        page.click("button:has-text('Sign out')")
    assert "/console/login" in page.url and "You are signed out." in page.content()
    # Its stylesheet (a file, as the Content-Security-Policy requires) applies: the sign-in
    # card's white background; and no page logged a refusal of the policy.
    card = page.locator(".standalone .card")
    assert card.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 255)"
    assert csp_violations == []
    page.goto(live.url + "/console/staff")
    assert "/console/login" in page.url


def test_a_viewer_sees_no_staff_entry_and_gets_the_403_page(make_live_server, page):
    live = make_live_server()
    make_staff(live.registry, "viewer", email="val@totetaxi.test")

    page.goto(live.url + "/console/login")
    page.fill("#email", "val@totetaxi.test")
    page.fill("#password", "Not-The-Password-1")
    with page.expect_navigation() as navigation:
        page.click("button:has-text('Sign in')")
    assert navigation.value.status == 401
    assert page.locator("[data-testid=login-error]").inner_text() == "Email or password is wrong."

    page.fill("#password", STRONG_PASSWORD)
    with page.expect_navigation():
        page.click("button:has-text('Sign in')")
    assert page.url == live.url + "/console/"
    assert nav_titles(page) == [
        "Dashboard",
        "Bookings",
        "Notes",
        "Customers",
        "Cancellation policy",
        "Audit log",
        "My account",
    ]
    assert page.locator("[data-testid=user-role]").text_content() == "viewer"

    answer = page.goto(live.url + "/console/staff")
    assert answer.status == 403
    assert page.locator("h1").inner_text() == "Not allowed"
    assert (
        "your role does not allow this page"
        in page.locator("[data-testid=forbidden-reason]").inner_text()
    )
    # The layout, for a signed-in viewer.
    assert nav_titles(page) == [
        "Dashboard",
        "Bookings",
        "Notes",
        "Customers",
        "Cancellation policy",
        "Audit log",
        "My account",
    ]

    answer = page.goto(live.url + "/console/no/such/page")
    assert answer.status == 404 and page.locator("h1").inner_text() == "Not found"


def test_a_tampered_csrf_token_is_refused(make_live_server, page):
    live = make_live_server()
    make_staff(live.registry, "admin", email="olivia@totetaxi.test")
    sign_in(page, live, "olivia@totetaxi.test", path="/console/staff")
    before = actions(live)

    page.fill("#f-email", "mallory@totetaxi.test")
    page.select_option("#f-role", "admin")
    page.fill("#f-password", NEW_PASSWORD)
    page.fill("#f-password_confirm", NEW_PASSWORD)
    page.evaluate(
        "document.querySelector('#create input[name=csrf_token]').value = 'forged-by-mallory'"
    )
    with page.expect_navigation() as navigation:
        page.click("button:has-text('Create staff user')")
    assert navigation.value.status == 403
    assert page.locator("h1").inner_text() == "Not allowed"
    assert (
        "did not come from this site" in page.locator("[data-testid=forbidden-reason]").inner_text()
    )
    assert staff_row(live, "mallory@totetaxi.test") is None

    # Without the field at all: refused the same way.
    page.goto(live.url + "/console/staff")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    row = page.locator('tr[data-email="olivia@totetaxi.test"]')
    row.locator("select[name=role]").select_option("viewer")
    with page.expect_navigation() as navigation:
        row.locator("button:has-text('Change')").click()
    assert navigation.value.status == 403
    assert staff_row(live, "olivia@totetaxi.test")["role"] == Role.ADMIN
    assert actions(live) == before

    # The genuine form still works afterwards.
    page.goto(live.url + "/console/staff")
    page.fill("#f-email", "nia@totetaxi.test")
    page.fill("#f-password", NEW_PASSWORD)
    page.fill("#f-password_confirm", NEW_PASSWORD)
    with page.expect_navigation() as navigation:
        page.click("button:has-text('Create staff user')")
    assert navigation.value.status == 200
    assert staff_row(live, "nia@totetaxi.test")["role"] == Role.VIEWER
