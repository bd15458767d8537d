"""Staff administration (admins only): list, create, change role, disable and enable.

The identity services do the work and write the audit records; these views only read the form,
call them, and show a refusal next to the field at fault.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.view import view_config
from sqlalchemy import select

from ..db.lookup import get_or_404
from ..identity import services
from ..identity.models import Role, StaffUser
from ..identity.permissions import Permission
from ..identity.services import IdentityError
from .helpers import flash

TEMPLATE = "totetaxi_core:console/templates/staff.jinja2"
FORM_FIELDS = ("email", "first_name", "last_name", "role", "phone", "department", "hire_date")


def _page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    row_errors: dict[str, str] | None = None,
    status: int = 200,
) -> dict[str, Any]:
    staff = request.dbsession.scalars(
        select(StaffUser).order_by(StaffUser.is_active.desc(), StaffUser.email)
    ).all()
    done_id = request.GET.get("staff", "")
    highlighted = next((s for s in staff if str(s.id) == done_id), None)
    request.response.status_int = status
    return {
        "staff": staff,
        "roles": list(Role),
        "form": form or {"role": Role.VIEWER.value},
        "errors": errors or {},
        "row_errors": row_errors or {},
        "message": flash(request),
        "highlighted": highlighted,
        "me": request.identity.principal,
    }


def _done(request: Request, code: str, staff: StaffUser) -> HTTPSeeOther:
    return HTTPSeeOther(
        location=request.route_url(
            "console_staff", _query={"done": code, "staff": str(staff.id)}, _anchor=f"s-{staff.id}"
        )
    )


def _target(request: Request) -> StaffUser:
    return get_or_404(request.dbsession, StaffUser, request.matchdict["id"])


@view_config(
    route_name="console_staff", request_method="GET", renderer=TEMPLATE, permission=Permission.ADMIN
)
def staff_list(request: Request) -> dict[str, Any]:
    return _page(request)


@view_config(
    route_name="console_staff",
    request_method="POST",
    renderer=TEMPLATE,
    permission=Permission.ADMIN,
)
def staff_create(request: Request) -> Any:
    form = {name: request.POST.get(name, "").strip() for name in FORM_FIELDS}
    password = request.POST.get("password", "")
    errors: dict[str, str] = {}
    hire_date = None
    if form["hire_date"]:
        try:
            hire_date = dt.date.fromisoformat(form["hire_date"])
        except ValueError:
            errors["hire_date"] = "Enter the hire date as YYYY-MM-DD."
    if not password:
        errors["password"] = "Choose a password."  # noqa: S105 - a message, not a secret
    elif password != request.POST.get("password_confirm", ""):
        errors["password_confirm"] = "The two passwords differ."  # noqa: S105 - a message
    for name, limit in (
        ("first_name", 100),
        ("last_name", 100),
        ("phone", 40),
        ("department", 100),
    ):
        if len(form[name]) > limit:
            errors[name] = f"At most {limit} characters."
    if errors:
        return _page(request, form=form, errors=errors, status=400)
    try:
        staff = services.create_staff(
            request.ctx,
            email=form["email"],
            password=password,
            role=form["role"],
            first_name=form["first_name"],
            last_name=form["last_name"],
            phone=form["phone"],
            department=form["department"],
            hire_date=hire_date,
        )
    except IdentityError as exc:
        return _page(request, form=form, errors={exc.field: exc.description}, status=exc.status)
    return _done(request, "created", staff)


@view_config(
    route_name="console_staff_role",
    request_method="POST",
    renderer=TEMPLATE,
    permission=Permission.ADMIN,
)
def staff_role(request: Request) -> Any:
    staff = _target(request)
    try:
        services.change_role(request.ctx, staff, request.POST.get("role", ""))
    except IdentityError as exc:
        return _page(request, row_errors={str(staff.id): exc.description}, status=exc.status)
    if staff.id == request.identity.principal.id and staff.role != Role.ADMIN:
        # An admin who stepped down can no longer see this page.
        return HTTPSeeOther(location=request.route_url("console_home"))
    return _done(request, "role_changed", staff)


@view_config(
    route_name="console_staff_active",
    request_method="POST",
    renderer=TEMPLATE,
    permission=Permission.ADMIN,
)
def staff_active(request: Request) -> Any:
    staff = _target(request)
    value = request.POST.get("active", "")
    if value not in ("0", "1"):
        return _page(
            request, row_errors={str(staff.id): "Choose to disable or enable."}, status=400
        )
    active = value == "1"
    if not active and staff.id == request.identity.principal.id:
        return _page(
            request, row_errors={str(staff.id): "You cannot disable your own account."}, status=409
        )
    try:
        services.set_active(request.ctx, staff, active)
    except IdentityError as exc:
        return _page(request, row_errors={str(staff.id): exc.description}, status=exc.status)
    return _done(request, "enabled" if active else "disabled", staff)
