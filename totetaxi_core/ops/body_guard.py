"""Checks of a request body before any view reads it: its size, and, for JSON, that the parsed
document is one the schemas can judge.

A 31 MB body used to be read, parsed and quoted back in the error; an object nested 3,000 deep
made the parser raise ``RecursionError``, and one nested 900 deep made colander do so; a lone
surrogate (``"\\ud800"``, valid JSON) reached the database driver, which cannot encode it. Each was
a 500. Here each is a 400 (413 for the size) in the API's error shape, naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from pyramid.request import Request

from ..api.errors import API_PREFIX, json_error
from ..request import PARSED_JSON

#: How deep a JSON body may nest (objects and arrays); the deepest API schema needs 4.
MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyProblem(Exception):
    """The body cannot be used: ``status``, the field ``name`` and a ``description``."""

    def __init__(self, status: int, name: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.name = name
        self.description = description


def _shown(path: list[str | int]) -> str:
    return ".".join(str(p) for p in path) or "body"


def check_size(request: Request, limit: int) -> None:
    """Refuse a body longer than ``limit`` bytes by its declared length, before reading it."""
    length = request.content_length
    if length is not None and length > limit:
        raise BodyProblem(
            413, "body", f"The body is {length:,} bytes; at most {limit:,} are accepted."
        )


#: Methods whose API request must carry a body: a PATCH says what to change.
BODY_REQUIRED = frozenset({"PATCH"})


def body_required_view(view: Callable[..., Any], info: Any) -> Callable[..., Any]:
    """View deriver: a PATCH view of the API refuses a request without a body (none, or zero
    bytes) with a 400 naming ``body``.

    Without it an empty PATCH was read as ``{}`` and answered 200 having changed nothing, while
    the document (and every client generated from it) says the body is required. ``{}`` itself
    is a patch that changes nothing, and is accepted. A deriver rather than the input guard: it
    runs only where a PATCH view was found, after the permission check, so a PATCH to a path
    without one is still 405 and an anonymous one still 401.
    """
    methods = info.options.get("request_method") or ()
    methods = {methods} if isinstance(methods, str) else set(methods)
    if not methods & BODY_REQUIRED:
        return view

    def wrapper(context: Any, request: Request) -> Any:
        if (
            request.method in BODY_REQUIRED
            and request.path.startswith(API_PREFIX + "/")
            and not request.body
        ):
            return json_error(
                request, 400, "body", f"A {request.method} needs a JSON body: the fields to change."
            )
        return view(context, request)

    return wrapper


def check_json(request: Request) -> None:
    """Parse a JSON body once and refuse what no schema could judge safely (see module doc).

    A body that is not JSON at all is left to the views (their answer names the problem).
    """
    if request.content_type != "application/json" or not request.content_length:
        return
    body = request.body
    try:
        document = json.loads(body)
    except RecursionError:
        raise BodyProblem(
            400, "body", f"The JSON is nested more than {MAX_DEPTH} levels deep."
        ) from None
    except ValueError:
        return  # not JSON: Cornice's answer says so
    _walk(document)
    request.environ[PARSED_JSON] = (body, document)


def _walk(document: Any) -> None:
    # Iterative: a recursive walk would hit the very limit it is guarding.
    stack: list[tuple[Any, list[str | int]]] = [(document, [])]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_DEPTH:
            raise BodyProblem(
                400,
                _shown(path[:1]),
                f"{_shown(path[:1])}: nested more than {MAX_DEPTH} levels deep.",
            )
        if isinstance(value, str):
            if _SURROGATE.search(value):
                name = _shown(path)
                raise BodyProblem(400, name, f"{name}: not a valid Unicode string.")
        elif isinstance(value, dict):
            for key, item in value.items():
                if _SURROGATE.search(key):
                    raise BodyProblem(400, _shown(path), "A key is not a valid Unicode string.")
                stack.append((item, [*path, key]))
        elif isinstance(value, list):
            stack.extend((item, [*path, index]) for index, item in enumerate(value))
