"""Staff-console helpers shared by the console tests of the core and of the plugins."""

from __future__ import annotations

import html
import re
from typing import Any

from sqlalchemy import select
from webtest import TestApp

from totetaxi_core.audit.models import AuditRecord
from totetaxi_core.identity.models import StaffUser
from totetaxi_core.testing import (
    STRONG_PASSWORD,
    console_sign_in,
    csrf_token_in,
    in_transaction,
    make_staff,
)

OTHER_PASSWORD = "Velvet-Lobster-Harbor-42"


# --- helpers ----------------------------------------------------------------------------------


def client(app: TestApp) -> TestApp:
    """Another browser on the same app (its own cookie jar)."""
    return TestApp(app.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})


token_in = csrf_token_in  # the CSRF token of a console page


def login(
    app: TestApp,
    email: str,
    password: str = STRONG_PASSWORD,
    next_path: str = "",
    status: int | str = 303,
):
    page = app.get("/console/login" + (f"?next={next_path}" if next_path else ""))
    form = page.forms[0]
    form["email"] = email
    form["password"] = password
    return form.submit(status=status)


def signed_in(app: TestApp, role: str, **kw: Any) -> StaffUser:
    staff = make_staff(app.app.registry, role, **kw)
    return console_sign_in(app, staff, password=kw.get("password", STRONG_PASSWORD))


def csrf(app: TestApp) -> str:
    return token_in(app.get("/console/"))


def audit_rows(app: TestApp, action: str | None = None) -> list[dict[str, Any]]:
    def work(ctx):
        statement = select(AuditRecord).order_by(AuditRecord.at)
        if action:
            statement = statement.where(AuditRecord.action == action)
        return [
            {
                "action": r.action,
                "actor_id": r.actor_id,
                "target_id": r.target_id,
                "changes": r.changes,
            }
            for r in ctx.dbsession.scalars(statement)
        ]

    return in_transaction(app.app.registry, work)


def staff_by_email(app: TestApp, email: str) -> StaffUser:
    return in_transaction(
        app.app.registry,
        lambda ctx: ctx.dbsession.scalars(select(StaffUser).where(StaffUser.email == email)).one(),
    )


def nav_titles(response) -> list[str]:
    nav = re.search(r'<nav class="main".*?</nav>', response.text, re.S).group(0)
    return re.findall(r"<a [^>]*>([^<]+)</a>", nav)


def staff_browser(app: TestApp, role: str = "staff") -> TestApp:
    """A browser of its own, signed in to the console as a new staff user of ``role``."""
    browser = TestApp(app.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    member = make_staff(app.app.registry, role)
    login(browser, member.email)
    browser.member = member
    return browser


def page_of(browser: TestApp, booking_id: str, status: int = 200) -> Any:
    return browser.get(f"/console/bookings/{booking_id}", status=status)


def text_of(page: Any, name: str) -> str:
    """The text of the element with ``data-testid=name`` (tags removed, spaces collapsed)."""
    match = re.search(
        rf'<(\w+)[^>]*data-testid="{re.escape(name)}"[^>]*>(.*?)</\1>', page.text, re.S
    )
    assert match, f"no data-testid={name!r} on the page"
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", match.group(2)).split()))
