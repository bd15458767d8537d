"""One check of the request line before any view: no NUL byte and valid UTF-8 in the path and
the query string.

PostgreSQL refuses a NUL in text, so a ``%00`` that reached a query was a 500 (anonymous
requests included: ``/track/TT-000001%00``); checking here, once, keeps every view, present
and future, from having to remember it. Bodies are the schemas' business.
"""

from __future__ import annotations

from collections.abc import Callable

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from ..api.errors import API_PREFIX, json_error

Handler = Callable[[Request], Response]


def _problem(request: Request) -> tuple[str, str, str] | None:
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

    def tween(request: Request) -> Response:
        problem = _problem(request)
        if problem is None:
            return handler(request)
        location, name, description = problem
        # The raw PATH_INFO: decoding it is what may have failed.
        if request.environ.get("PATH_INFO", "").startswith(API_PREFIX):
            return json_error(request, 400, name, description, location)
        return Response(description, status=400, content_type="text/plain", charset="utf-8")

    return tween
