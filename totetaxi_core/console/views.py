"""Console sign-in and sign-out, the dashboard shell, and the console's not-found page."""

from __future__ import annotations

from typing import Any

from pyramid.csrf import check_csrf_token, get_csrf_token
from pyramid.httpexceptions import HTTPMovedPermanently, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import notfound_view_config, view_config

from ..identity import sessions
from ..identity.api import Throttled, authenticate_throttled
from ..identity.models import PrincipalKind
from ..identity.permissions import Permission
from ..identity.security import session_of
from .helpers import flash, safe_next

TEMPLATES = "totetaxi_core:console/templates/"
BAD_CREDENTIALS = "Email or password is wrong."


def _home(request: Request) -> str:
    return request.route_url("console_home")


def _redirect(request: Request, next_path: str | None) -> HTTPSeeOther:
    location = request.host_url + next_path if next_path else _home(request)
    return HTTPSeeOther(location=location)


def _login_page(
    request: Request,
    *,
    email: str = "",
    next_path: str | None = None,
    error: str | None = None,
    status: int = 200,
    fresh_token: bool = False,
) -> dict[str, Any]:
    """The login form's values.

    On a refused attempt the answer is a 4xx, so the request's transaction rolls back: a session
    started now would not exist afterwards and the cookie would point at nothing. The form then
    carries the token of an existing session, or none (a request without the cookie needs none).
    """
    if fresh_token:
        token = get_csrf_token(request)
    else:
        data = session_of(request)
        token = data.csrf_token if data is not None else ""
    request.response.status_int = status
    return {
        "email": email,
        "next": next_path or "",
        "error": error,
        "csrf": token,
        "message": flash(request),
    }


@view_config(
    route_name="console_login",
    request_method="GET",
    renderer=TEMPLATES + "login.jinja2",
    permission=NO_PERMISSION_REQUIRED,
)
def login_form(request: Request) -> Any:
    """The form, for anyone (signing in again simply starts a new session)."""
    return _login_page(request, next_path=safe_next(request.GET.get("next")), fresh_token=True)


@view_config(
    route_name="console_login",
    request_method="POST",
    renderer=TEMPLATES + "login.jinja2",
    permission=NO_PERMISSION_REQUIRED,
)
def login_submit(request: Request) -> Any:
    """Sign a staff user in: the same throttles and keys as the API's staff login."""
    email = request.POST.get("email", "").strip()
    password = request.POST.get("password", "")
    next_path = safe_next(request.POST.get("next"))
    if not email or not password:  # refused like wrong credentials, but not counted
        return _login_page(
            request, email=email, next_path=next_path, status=401, error=BAD_CREDENTIALS
        )
    kind = PrincipalKind.STAFF
    try:
        staff = authenticate_throttled(request, kind, email, password)
    except Throttled as exc:
        request.response.headers["Retry-After"] = str(exc.retry_after)
        return _login_page(
            request,
            email=email,
            next_path=next_path,
            status=429,
            error=f"Too many attempts; try again in {exc.retry_after} seconds.",
        )
    if staff is None:
        return _login_page(
            request, email=email, next_path=next_path, status=401, error=BAD_CREDENTIALS
        )
    sessions.start(request, kind, staff.id)
    return _redirect(request, next_path)


@view_config(
    route_name="console_logout",
    request_method="POST",
    permission=NO_PERMISSION_REQUIRED,
    require_csrf=False,
)
def logout(request: Request) -> Any:
    """End the session and go back to the login page.

    A live session's form must carry its CSRF token (checked here rather than by the default
    check, which would refuse a cookie whose session has already expired: signing out of an
    ended session just clears the cookie).
    """
    if session_of(request) is not None:
        check_csrf_token(request, token="csrf_token", header="X-CSRF-Token")  # noqa: S106
    sessions.end(request)
    return HTTPSeeOther(location=request.route_url("console_login", _query={"done": "signed_out"}))


@view_config(route_name="console_bare", permission=NO_PERMISSION_REQUIRED)
def bare(request: Request) -> Any:
    return HTTPMovedPermanently(location=_home(request))


@view_config(
    route_name="console_home",
    request_method="GET",
    renderer=TEMPLATES + "dashboard.jinja2",
    permission=Permission.STAFF_READ,
)
def dashboard(request: Request) -> dict[str, Any]:
    """A welcome, the tiles plugins contribute and the sections they add (hook
    ``totetaxi_dashboard_sections``) for ``?period=`` (``day``, ``week`` or ``month``)."""
    period = request.GET.get("period", "day")
    period = period if period in ("day", "week", "month") else "day"
    sections: list[dict[str, Any]] = []
    for answer in (
        request.hooks.call("totetaxi_dashboard_sections", request=request, period=period) or ()
    ):
        sections.extend(s for s in answer or () if isinstance(s, dict) and "template" in s)
    sections.sort(key=lambda s: s.get("order", 100) if isinstance(s.get("order"), int) else 100)
    tiles: list[dict[str, Any]] = []
    for answer in (
        request.hooks.call("totetaxi_dashboard_tiles", request=request, period=period) or ()
    ):
        tiles.extend(t for t in answer or () if isinstance(t, dict) and "title" in t)
    tiles.sort(
        key=lambda t: (
            t.get("order", 100) if isinstance(t.get("order"), int) else 100,
            str(t["title"]).lower(),
        )
    )
    return {"tiles": tiles, "sections": sections, "message": flash(request)}


@notfound_view_config(path_info=r"^/console(/|$)")
def console_not_found(exc: HTTPNotFound, request: Request) -> Response:
    """An HTML 404 for any unknown console path (the API keeps its JSON answers)."""
    return render_to_response(
        TEMPLATES + "404.jinja2", {}, request=request, response=Response(status=404)
    )
