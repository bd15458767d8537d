"""What every console page needs: navigation, the CSRF field, the layout, safe redirects.

The functions taking ``request`` are also Jinja globals (see :func:`register_globals`), so a
plugin's console template that extends ``layout.jinja2`` gets the navigation and the sign-out
form without its view doing anything. Display filters for every console template: ``money``
(integer cents to ``$1,234.50``: amounts stay cents until the template), ``local_time`` (an aware
datetime in New York time), ``day`` (a calendar date) and ``static_path`` (pyramid_jinja2's: an
asset spec to the path of its static view, for stylesheets and scripts).
"""

from __future__ import annotations

import datetime as dt
import logging
import string
import time
from typing import Any
from urllib.parse import quote, urlsplit

from markupsafe import Markup, escape
from pyramid.csrf import get_csrf_token
from pyramid.request import Request
from pyramid_jinja2.filters import static_path_filter

from ..business_time import format_local
from ..identity.models import Role
from ..money import format_money
from .forms import control_characters

log = logging.getLogger("totetaxi.console")

#: The layout of a page shown to a signed-in staff user, and the standalone one otherwise.
LAYOUT = "totetaxi_core:console/templates/layout.jinja2"
STANDALONE = "totetaxi_core:console/templates/public.jinja2"

#: The groups of the navigation, in the order they are shown; an entry names its ``group``
#: (default :data:`DEFAULT_GROUP`); a group no entry names is not shown, a name not listed here
#: is a group of its own after these (sorted by name).
NAV_GROUPS: tuple[str, ...] = ("Operations", "Customers", "Money", "Messages", "Settings")
DEFAULT_GROUP = "Operations"

#: The core's own navigation entries; plugins add theirs through ``totetaxi_console_nav``.
CORE_NAV: tuple[dict[str, Any], ...] = (
    {"title": "Dashboard", "route": "console_home", "role": "viewer", "order": 0},
    {"title": "Bookings", "route": "console_bookings", "role": "viewer", "order": 10},
    {
        "title": "Customers",
        "route": "console_customers",
        "role": "viewer",
        "order": 20,
        "group": "Customers",
    },
    {
        "title": "Cancellation policy",
        "route": "console_cancellation",
        "role": "viewer",
        "order": 800,
        "group": "Settings",
    },
    {
        "title": "Audit log",
        "route": "console_audit",
        "role": "viewer",
        "order": 850,
        "group": "Settings",
    },
    {
        "title": "My account",
        "route": "console_account",
        "role": "viewer",
        "order": 860,
        "group": "Settings",
    },
    {
        "title": "Staff",
        "route": "console_staff",
        "role": "admin",
        "order": 900,
        "group": "Settings",
    },
    {
        "title": "Plugins",
        "route": "console_plugins",
        "role": "admin",
        "order": 910,
        "group": "Settings",
    },
)

#: One-shot messages after a POST: the query carries a code, never text (nothing reflected).
MESSAGES: dict[str, str] = {
    "signed_out": "You are signed out.",
    "created": "Staff user created.",
    "role_changed": "Role changed.",
    "disabled": "Staff user disabled; their sessions and tokens have ended.",
    "enabled": "Staff user enabled.",
    "booking_saved": "Booking saved.",
    "booking_repriced": "Booking saved and priced again; the new total is below.",
    "booking_unchanged": "Nothing changed: the booking already had those values.",
    "status_changed": "Status changed.",
    "booking_cancelled": "Booking cancelled; its van is released.",
    "policy_saved": "Cancellation policy saved; new quotes and bookings use it.",
    "password_changed": "Password changed; your other sessions and tokens have ended.",
}


def staff_identity(request: Request) -> Any:
    """The request's identity when it is a signed-in staff user, else ``None``."""
    identity = getattr(request, "identity", None)
    return identity if identity is not None and identity.is_staff else None


def console_layout(request: Request) -> str:
    """The template a console page extends: the full layout for staff, standalone otherwise."""
    return LAYOUT if staff_identity(request) is not None else STANDALONE


def _route_exists(request: Request, name: str) -> bool:
    from pyramid.interfaces import IRoutesMapper

    mapper = request.registry.queryUtility(IRoutesMapper)
    return mapper is not None and mapper.get_route(name) is not None


def _current_entry(request: Request, entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The entry of the current page: its own route, else the entry whose path is the longest
    prefix of the page's (a booking's page is under Bookings); the dashboard only for itself."""
    current = getattr(getattr(request, "matched_route", None), "name", None)
    for entry in entries:
        if entry["route"] == current:
            return entry
    best, length = None, 0
    for entry in entries:
        path = urlsplit(entry["url"]).path.rstrip("/")
        if path in ("", "/console"):
            continue
        if request.path.startswith(path + "/") and len(path) > length:
            best, length = entry, len(path)
    return best


def console_nav(request: Request) -> list[dict[str, Any]]:
    """The navigation entries the signed-in staff user may see, by group, then order and title.

    Each entry: ``title``, ``url``, ``route``, ``group``, ``order``, ``active`` (the current
    page's section). Entries with an unknown role or route are left out (and logged), so one
    plugin's typo never breaks every page.
    """
    identity = staff_identity(request)
    if identity is None:
        return []
    cached = getattr(request, "_totetaxi_console_nav", None)
    if cached is not None:
        return cached
    gathered: list[dict[str, Any]] = list(CORE_NAV)
    for answer in request.hooks.call("totetaxi_console_nav", request=request) or ():
        gathered.extend(answer or ())
    entries = []
    for entry in gathered:
        try:
            role = Role(entry.get("role", Role.ADMIN))
            title, route = str(entry["title"]), str(entry["route"])
            order = int(entry.get("order", 100))
            group = str(entry.get("group") or DEFAULT_GROUP).strip() or DEFAULT_GROUP
        except (KeyError, TypeError, ValueError, AttributeError):
            log.warning("console navigation entry left out (malformed): %r", entry)
            continue
        if not identity.role.includes(role):
            continue
        if not _route_exists(request, route):
            log.warning("console navigation entry %r names unknown route %r", title, route)
            continue
        entries.append(
            {
                "title": title,
                "route": route,
                "url": request.route_url(route),
                "order": order,
                "group": group,
                "active": False,
            }
        )

    def rank(entry: dict[str, Any]) -> tuple:
        group = entry["group"]
        known = NAV_GROUPS.index(group) if group in NAV_GROUPS else len(NAV_GROUPS)
        return (known, group.lower(), entry["order"], entry["title"].lower())

    entries.sort(key=rank)
    current = _current_entry(request, entries)
    if current is not None:
        current["active"] = True
    request._totetaxi_console_nav = entries
    return entries


def console_nav_groups(request: Request) -> list[dict[str, Any]]:
    """:func:`console_nav` as groups: ``[{"title", "active", "entries"}]`` in the order of
    :data:`NAV_GROUPS` (``active``: the current page is one of its entries)."""
    groups: list[dict[str, Any]] = []
    for entry in console_nav(request):
        if not groups or groups[-1]["title"] != entry["group"]:
            groups.append({"title": entry["group"], "active": False, "entries": []})
        groups[-1]["entries"].append(entry)
        groups[-1]["active"] = groups[-1]["active"] or entry["active"]
    return groups


def console_csrf(request: Request) -> str:
    """The CSRF token for a console form of a cookie session ('' for a bearer-token caller)."""
    identity = getattr(request, "identity", None)
    if identity is not None and identity.via != "session":
        return ""
    return get_csrf_token(request)


def csrf_input(request: Request) -> Markup:
    """``<input type="hidden" name="csrf_token" ...>`` for a console form."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(
        escape(console_csrf(request))
    )


def flash(request: Request) -> str | None:
    """The one-shot message named by ``?done=`` (a fixed sentence, never request text)."""
    return MESSAGES.get(request.GET.get("done", ""))


def safe_next(value: str | None) -> str | None:
    """``value`` when it is a relative path inside the console, else ``None`` (no open redirect).

    Refused: absolute and scheme-relative URLs (``//evil``), backslashes (browsers read
    ``/\\evil`` as ``//evil``), control characters, dot segments, and the login page itself.
    """
    if not value or len(value) > 2000:
        return None
    if "\\" in value or control_characters(value):
        return None
    if not value.startswith("/") or value.startswith("//"):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    path = parts.path
    if not (path == "/console" or path.startswith("/console/")):
        return None
    if any(segment in (".", "..") for segment in path.split("/")):
        return None
    if path.rstrip("/") in ("/console/login", "/console/logout"):
        return None
    # It becomes a Location header, which is Latin-1: spaces and characters beyond ASCII travel
    # percent-encoded (UTF-8), as a browser would have sent them; the rest stays as is.
    return quote(value, safe=string.punctuation)


def money(cents: int | None, currency: str = "USD") -> str:
    """Integer cents as dollars for display: ``123450`` -> ``"$1,234.50"`` (``None`` -> "—")."""
    return format_money(cents, currency)


def local_time(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    """An aware (UTC) datetime as New York wall-clock time; naive ones are taken as UTC."""
    return format_local(value, fmt)


def day(value: dt.date | None) -> str:
    """A calendar date (a pickup day) for display: ``Thu Dec 3, 2026``."""
    if value is None:
        return "—"
    return f"{value:%a} {value:%b} {value.day}, {value.year}"


def live_since() -> str:
    """The live position of a page being rendered, for its ``data-live-since``: the live script
    resumes from it, so an event between the render and the connection is not missed. Event
    ids are milliseconds; two seconds earlier allows for another machine's clock (an event seen
    twice only refreshes the page once more)."""
    return f"{int(time.time() * 1000) - 2000}-0"


def register_globals(config: Any) -> None:
    """Make the helpers Jinja globals once pyramid_jinja2 has built its environment."""

    def register() -> None:
        env = config.get_jinja2_environment(".jinja2")
        env.globals.update(
            console_nav=console_nav,
            console_nav_groups=console_nav_groups,
            console_csrf=console_csrf,
            csrf_input=csrf_input,
            console_layout=console_layout,
            staff_identity=staff_identity,
            console_flash=flash,
            money=money,
            local_time=local_time,
            live_since=live_since,
        )
        # static_path: the URL path of a file served by a static view
        # ('totetaxi_core:console/static/console.css'|static_path); macros imported without the
        # template's context use it too (the filter falls back to the current request).
        env.filters.update(
            money=money, local_time=local_time, day=day, static_path=static_path_filter
        )

    # After pyramid_jinja2's own action that creates the environment.
    config.action(("totetaxi-console-jinja2-globals",), register, order=999)
