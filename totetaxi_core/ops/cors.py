"""CORS for the API: the listed sites' pages (the React apps) may call it with the visitor's
session; no other site may read an answer.

One tween, for paths under ``/api/`` only (the console is served to its own origin and gets no
CORS header at all). The sites are ``totetaxi.trusted_origins``
(:func:`totetaxi_core.origins.listed_origins`), the list the cross-site write guard and the
live updates trust; a ``*`` there stops start-up, so a credentialed answer never says ``*``.

* **Preflight** (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``), answered
  here, before any view: from an unlisted origin 403; a path no route takes 404; a method the
  route does not take 405 with ``Allow``; a requested header the API does not read 403 — each in
  the API's error shape, naming the header at fault. Otherwise 204 with the origin, credentials,
  the route's own methods (found once per route from Pyramid's view introspection: the methods
  its views, Cornice's or plain, are registered for), the headers it reads, and ``Max-Age``.
* **Actual requests** from a listed origin get ``Access-Control-Allow-Origin`` (that origin),
  ``-Allow-Credentials`` and ``-Expose-Headers`` (the answer headers a frontend reads); from any
  other origin nothing, so the browser keeps the answer from the page.
* Every ``/api/`` answer says ``Vary: Origin``: caches must not hand one site's answer to another.

The grant is not an authorisation: cookie-authenticated writes still need ``X-CSRF-Token``, and
the write guard (:mod:`totetaxi_core.identity.security`) still refuses unlisted origins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.interfaces import IRoutesMapper
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from ..api.errors import json_error
from ..api.idempotency import HEADER as IDEMPOTENCY_HEADER
from ..api.idempotency import REPLAYED_HEADER
from ..origins import is_trusted, listed_origins

Handler = Callable[[Request], Response]

PREFIX = "/api/"
#: Request headers every API route reads (besides the CORS-safelisted ones a browser sends
#: without asking): JSON bodies, bearer tokens, retries, the session's CSRF token, and the
#: caller's request id (echoed and logged).
ALLOWED_HEADERS = (
    "Content-Type",
    "Authorization",
    IDEMPOTENCY_HEADER,
    "X-CSRF-Token",
    "X-Request-ID",
)
#: Answer headers a frontend reads, which a browser hides from another origin's script unless
#: listed: where a created thing is, when to retry (429, 503), that an answer is a replay, the
#: request id to quote to support, the session's CSRF token at sign-in, pagination links, and a
#: download's file name (CSV exports).
EXPOSED_HEADERS = (
    "Location",
    "Retry-After",
    REPLAYED_HEADER,
    "X-Request-ID",
    "X-CSRF-Token",
    "Link",
    "Content-Disposition",
)
#: How long a browser may reuse a preflight's answer. Chromium caps it at two hours; an origin
#: taken off the list loses access at once anyway, since every actual answer is checked again.
MAX_AGE_SECONDS = 7200
#: What a route with a view for any method (no ``request_method``) takes.
ANY_METHOD = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class RouteTable:
    """The methods and request headers of each route, read from the configuration the first time
    a preflight names the route, then kept (the configuration does not change after start-up)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._known: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def route_for(self, request: Request, path: str) -> Any | None:
        """The route Pyramid would dispatch ``path`` to (its patterns and route predicates)."""
        mapper = self.registry.queryUtility(IRoutesMapper)
        if mapper is None:
            return None
        for route in mapper.get_routes():
            match = route.match(path)
            if match is None:
                continue
            info = {"match": match, "route": route}
            if all(predicate(info, request) for predicate in route.predicates):
                return route
        return None

    def allowed(self, route_name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """``(methods, headers)`` of the route named ``route_name``."""
        if route_name not in self._known:
            self._known[route_name] = (
                route_methods(self.registry, route_name),
                route_headers(self.registry, route_name),
            )
        return self._known[route_name]


def route_methods(registry: Registry, route_name: str) -> tuple[str, ...]:
    """The methods the views of ``route_name`` are registered for. Cornice also adds a view for
    any method (its fallback, which answers 405): such views count only for a route that has no
    other."""
    methods: list[str] = []
    any_method = False
    for item in registry.introspector.get_category("views"):
        view = item["introspectable"]
        if view["route_name"] != route_name:
            continue
        declared = view["request_methods"]
        if declared is None:
            any_method = True
            continue
        methods.extend([declared] if isinstance(declared, str) else declared)
    if not methods and any_method:
        methods.extend(ANY_METHOD)
    if "GET" in methods:
        methods.append("HEAD")  # Pyramid answers HEAD with a GET view
    return tuple(dict.fromkeys(m.upper() for m in methods))


def route_headers(registry: Registry, route_name: str) -> tuple[str, ...]:
    """:data:`ALLOWED_HEADERS`, plus the headers a Cornice service of the route validates (the
    ``header`` child of its colander schema)."""
    names = list(ALLOWED_HEADERS)
    for service in getattr(registry, "cornice_services", {}).values():
        if service.name != route_name:
            continue
        for _method, _view, args in service.definitions:
            schema = args.get("schema")
            header = schema.get("header") if hasattr(schema, "get") else None
            if header is not None:
                names.extend(child.name for child in header.children)
    known = {name.lower() for name in ALLOWED_HEADERS}
    return ALLOWED_HEADERS + tuple(n for n in dict.fromkeys(names) if n.lower() not in known)


def _add_vary(response: Response) -> None:
    vary = response.headers.get("Vary")
    if vary is None:
        response.headerlist.append(("Vary", "Origin"))
    elif "origin" not in (value.strip().lower() for value in vary.split(",")):
        response.headers["Vary"] = f"{vary}, Origin"


def _grant(response: Response, origin: str) -> None:
    # Appended, not set: no view sets these, and the header list's setter scans it each time.
    response.headerlist.append(("Access-Control-Allow-Origin", origin))
    response.headerlist.append(("Access-Control-Allow-Credentials", "true"))


def _listed_tokens(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _refusal(request: Request, status: int, name: str, description: str) -> Response:
    return json_error(request, status, name, description, "header")


def _preflight(request: Request, origin: str, listed: bool, routes: RouteTable) -> Response:
    if not listed:
        return _refusal(
            request,
            403,
            "Origin",
            # The setting is not named: a caller learns nothing about the configuration.
            f"Pages from {origin} may not call this API.",
        )
    try:
        path = request.path_info
    except UnicodeDecodeError:
        path = None
    route = routes.route_for(request, path) if path is not None else None
    if route is None:
        response = json_error(request, 404, "path", f"Nothing is at {request.path}.", "path")
        _grant(response, origin)
        return response
    methods, headers = routes.allowed(route.name)
    wanted = request.headers["Access-Control-Request-Method"].strip()
    if wanted not in methods:
        hint = (
            f" (methods are case-sensitive: {wanted.upper()})" if wanted.upper() in methods else ""
        )
        response = _refusal(
            request,
            405,
            "Access-Control-Request-Method",
            f"{wanted} is not allowed on {request.path}{hint}; it takes {', '.join(methods)}.",
        )
        response.headers["Allow"] = ", ".join(methods)
        _grant(response, origin)
        return response
    known = {name.lower() for name in headers}
    for name in _listed_tokens(request.headers.get("Access-Control-Request-Headers", "")):
        if name.lower() not in known:
            response = _refusal(
                request,
                403,
                "Access-Control-Request-Headers",
                f"This API does not read the header {name}; it reads {', '.join(headers)}.",
            )
            _grant(response, origin)
            return response
    response = Response(status=204)
    response.content_type = None
    response.content_length = None
    _grant(response, origin)
    response.headers["Access-Control-Allow-Methods"] = ", ".join(methods)
    response.headers["Access-Control-Allow-Headers"] = ", ".join(headers)
    response.headers["Access-Control-Max-Age"] = str(MAX_AGE_SECONDS)
    return response


def cors_tween_factory(handler: Handler, registry: Registry) -> Handler:
    """Answer preflights to ``/api/`` and mark the API's answers for the listed origins."""
    allowed = listed_origins(registry.settings)
    routes = RouteTable(registry)
    exposed = ", ".join(EXPOSED_HEADERS)

    def tween(request: Request) -> Response:
        if not request.environ.get("PATH_INFO", "").startswith(PREFIX):
            return handler(request)
        origin = request.headers.get("Origin")
        listed = is_trusted(origin, allowed)
        if (
            origin is not None
            and request.method == "OPTIONS"
            and "Access-Control-Request-Method" in request.headers
        ):
            response = _preflight(request, origin, listed, routes)
        else:
            response = handler(request)
            if listed:
                assert origin is not None
                _grant(response, origin)
                response.headerlist.append(("Access-Control-Expose-Headers", exposed))
        _add_vary(response)
        return response

    return tween
