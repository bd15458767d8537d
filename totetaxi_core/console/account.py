"""My account (every staff role: change my password) and the plugins page (admins only: the
facts of ``totetaxi plugins list``)."""

from __future__ import annotations

import os
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.view import view_config
from sqlalchemy import select

from ..identity.api import Throttled
from ..identity.permissions import Permission
from ..identity.services import IdentityError
from ..identity.staff_self import change_password, held_permissions
from ..platform import disabled_from_environment
from ..plugins.listing import plugin_facts
from ..plugins.models import InstalledPlugin
from .helpers import flash

TEMPLATES = "totetaxi_core:console/templates/"


def _account(request: Request, errors: dict[str, str] | None = None, status: int = 200) -> dict:
    request.response.status_int = status
    return {
        "me": request.identity.principal,
        "permissions": held_permissions(request),
        "errors": errors or {},
        "message": flash(request),
        "can_change": request.identity.via == "session",
    }


@view_config(
    route_name="console_account",
    request_method="GET",
    renderer=TEMPLATES + "account.jinja2",
    permission=Permission.STAFF_READ,
)
def account(request: Request) -> dict[str, Any]:
    return _account(request)


@view_config(
    route_name="console_account",
    request_method="POST",
    renderer=TEMPLATES + "account.jinja2",
    permission=Permission.STAFF_READ,
)
def account_password(request: Request) -> Any:
    """Change my password; my other sessions and tokens end, this browser stays signed in."""
    current = request.POST.get("current_password", "")
    new = request.POST.get("new_password", "")
    errors: dict[str, str] = {}
    if not current:
        errors["current_password"] = "Enter your current password."  # noqa: S105 - a message
    if not new:
        errors["new_password"] = "Choose a new password."  # noqa: S105 - a message
    elif new != request.POST.get("new_password_confirm", ""):
        errors["new_password_confirm"] = "The two passwords differ."  # noqa: S105 - a message
    if errors:
        return _account(request, errors, 400)
    try:
        change_password(request, current, new)
    except IdentityError as exc:
        return _account(request, {exc.field: exc.description}, exc.status)
    except Throttled as exc:
        request.response.headers["Retry-After"] = str(exc.retry_after)
        message = f"Too many attempts; try again in {exc.retry_after} seconds."
        return _account(request, {"current_password": message}, 429)
    return HTTPSeeOther(
        location=request.route_url("console_account", _query={"done": "password_changed"})
    )


@view_config(
    route_name="console_plugins",
    request_method="GET",
    renderer=TEMPLATES + "plugins.jinja2",
    permission=Permission.ADMIN,
)
def plugins(request: Request) -> dict[str, Any]:
    """Every discovered plugin: version, state, depends, provides, requires, installed schema."""
    platform = request.registry.platform
    installed = dict(
        request.dbsession.execute(select(InstalledPlugin.name, InstalledPlugin.version)).all()
    )
    rows = plugin_facts(
        platform.discovered,
        platform.enabled_names,
        disabled_from_environment(os.environ),
        installed,
    )
    return {"plugins": rows, "core_installed": installed.get("core")}
