"""One check of the request before any view: no NUL byte and valid UTF-8 in the path and the
query string; a body within ``totetaxi.max_body_bytes``; a JSON body the schemas can judge
(:mod:`.body_guard`).

PostgreSQL refuses a NUL in text, so a ``%00`` that reached a query was a 500 (anonymous
requests included: ``/track/TT-000001%00``); checking here, once, keeps every view, present
and future, from having to remember it. What a body's fields mean is the schemas' business.
"""

from __future__ import annotations

from collections.abc import Callable

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from ..api.errors import API_PREFIX, json_error
from .body_guard import BodyProblem, check_json, check_size

Handler = Callable[[Request], Response]


def _line_problem(request: Request) -> tuple[str, str, str] | None:
    """``(location, name, description)`` of the first unusable part of the request line."""
    try:
        path = request.path_info
    except UnicodeDecodeError:
        return "path", "path", "The path is not valid UTF-8."
    if "\x00" in path:
        return "path", "path", "The path contains a NUL character."
    try:
        items = list(request.GET.items())
    except UnicodeDecodeError:
        return "querystring", "querystring", "The query string is not valid UTF-8."
    for name, value in items:
        if "\x00" in name or "\x00" in value:
            shown = name.replace("\x00", "") or "querystring"
            return "querystring", shown, f"{shown}: NUL characters are not allowed."
    return None


def input_guard_tween_factory(handler: Handler, registry: Registry) -> Handler:
    """A 400 for a request line no view could use safely; everything else passes untouched."""

    limit = registry.settings["totetaxi.max_body_bytes"]

    def tween(request: Request) -> Response:
        status, problem = 400, _line_problem(request)
        if problem is None:
            try:
                # A path registered with ``accept_any_body(path, max_bytes=)`` has its own.
                limits = getattr(registry, "body_limits", None)
                check_size(request, limits.get(request.path, limit) if limits else limit)
                check_json(request)
            except BodyProblem as exc:
                status, problem = exc.status, ("body", exc.name, exc.description)
        if problem is None:
            return handler(request)
        location, name, description = problem
        # The raw PATH_INFO: decoding it is what may have failed.
        if request.environ.get("PATH_INFO", "").startswith(API_PREFIX):
            return json_error(request, status, name, description, location)
        return Response(description, status=status, content_type="text/plain", charset="utf-8")

    return tween
