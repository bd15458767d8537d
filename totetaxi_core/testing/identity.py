"""Principals for tests: staff made through the service, customers through the API, sign-ins."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # WebTest is a test extra: never imported by the core at run time
    from webtest import TestApp

#: A password every strength rule accepts.
STRONG_PASSWORD = "Correct-Horse-Battery-9"


def in_transaction(registry: Any, work: Callable[[Any], Any]) -> Any:
    """Run ``work(ctx)`` in a committed transaction of its own (set-up outside a request).

    ``ctx`` is a :class:`totetaxi_core.context.Context` on ``registry``; a returned row (anything
    with an ``id``) is flushed and detached so the test can read it after the commit.
    """
    from ..context import Context
    from ..db import unit_of_work

    with unit_of_work(registry["dbsession_factory"]) as (dbsession, tm):
        result = work(Context(registry=registry, dbsession=dbsession, transaction_manager=tm))
        dbsession.flush()
        if hasattr(result, "id"):
            dbsession.expunge(result)
        return result


def make_staff(
    registry: Any, role: str, email: str | None = None, password: str = STRONG_PASSWORD
) -> Any:
    """A staff user (``admin``, ``staff`` or ``viewer``) created through the service, audited as
    ``totetaxi staff create`` would; returns the detached :class:`StaffUser`."""
    from ..identity.services import create_staff

    email = email or f"{role}-{uuid.uuid4().hex[:6]}@totetaxi.test"
    return in_transaction(
        registry,
        lambda ctx: create_staff(
            ctx,
            email=email,
            password=password,
            role=role,
            first_name=role.title(),
            last_name="Tester",
        ),
    )


def register_customer(
    app: TestApp, email: str | None = None, password: str = STRONG_PASSWORD
) -> dict[str, Any]:
    """Register a customer through the API; ``app``'s cookie jar is then signed in as them.

    Returns the customer as the API shows it, plus ``password`` and the session's ``csrf`` token.
    """
    email = email or f"c-{uuid.uuid4().hex[:6]}@example.com"
    answer = app.post_json(
        "/api/v1/auth/register",
        {
            "email": email,
            "password": password,
            "first_name": "Casey",
            "last_name": "Client",
            "phone": "+1 212 555 0100",
        },
        status=201,
    )
    return {**answer.json["customer"], "password": password, "csrf": answer.headers["X-CSRF-Token"]}


def bearer(
    app: TestApp, email: str, password: str = STRONG_PASSWORD, staff: bool = False
) -> dict[str, str]:
    """``Authorization`` headers carrying a fresh bearer token for a customer (or ``staff``)."""
    path = "/api/v1/staff/auth/token" if staff else "/api/v1/auth/token"
    token = app.post_json(path, {"email": email, "password": password}).json["token"]
    return {"Authorization": f"Bearer {token}"}


_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_sign_in(
    app: TestApp,
    staff_or_role: Any,
    *,
    password: str = STRONG_PASSWORD,
    next_path: str = "",
    status: int | str = 303,
) -> Any:
    """Sign ``app`` (a WebTest app, its cookie jar) into the staff console through the login form.

    ``staff_or_role`` is a staff user (anything with an ``email``), an email address, or a role
    name (``admin``, ``staff``, ``viewer``) for which a new staff user is made. Returns the staff
    user when one was made or given, else the email. ``status`` is the login answer expected
    (303 on success); ``next_path`` is passed as ``?next=``.
    """
    staff: Any = staff_or_role
    if isinstance(staff_or_role, str) and "@" not in staff_or_role:
        staff = make_staff(app.app.registry, staff_or_role, password=password)
    email = staff if isinstance(staff, str) else staff.email
    page = app.get("/console/login" + (f"?next={next_path}" if next_path else ""))
    form = page.forms[0]
    form["email"] = email
    form["password"] = password
    form.submit(status=status)
    return staff


def csrf_token_in(response: Any) -> str:
    """The CSRF token of the first console form in ``response`` (an HTML page)."""
    found = _CSRF_FIELD.search(response.text)
    assert found, "no csrf_token field on the page"
    return found.group(1)
