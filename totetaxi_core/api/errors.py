"""One error body for the whole API, Cornice's (DESIGN §7):
``{"status": "error", "errors": [{"location", "name", "description"}]}``.
"""

from __future__ import annotations

import logging
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPBadRequest, HTTPException, HTTPInternalServerError
from pyramid.request import Request
from pyramid.response import Response
from pyramid_retry import is_last_attempt, mark_error_retryable
from sqlalchemy.orm.exc import StaleDataError

from ..db.retry import is_transient
from ..errors import CapacityExhausted, InvalidDraft, Refused

log = logging.getLogger("totetaxi.api")

API_PREFIX = "/api/v1"


def error_body(status: int, name: str, description: str, location: str = "body") -> dict[str, Any]:
    """The error document for one problem."""
    return {
        "status": "error",
        "errors": [{"location": location, "name": name, "description": description}],
    }


def json_error(
    request: Request, status: int, name: str, description: str, location: str = "body"
) -> Response:
    """A JSON error response in the API's shape."""
    response = Response(status=status, json_body=error_body(status, name, description, location))
    response.content_type = "application/json"
    return response


def no_content(request: Request) -> Response:
    """An empty 204 answer that keeps the headers set on ``request.response`` (cookies).

    It has no body, yet says ``Content-Type: application/json``: Swagger 2.0 gives one list of
    media types (``produces``) for all of an operation's answers, its JSON errors included, and
    clients check every answer against it (schemathesis' ``content_type_conformance`` refuses an
    answer without a type). No ``Content-Length`` either: RFC 9110 forbids it on a 204.
    """
    response = request.response
    response.status_code = 204
    response.content_type = "application/json"
    response.content_length = None
    return response


def _is_api(request: Request) -> bool:
    return request.path.startswith(API_PREFIX + "/") or request.path == API_PREFIX


def http_exception_view(exc: HTTPException, request: Request) -> Response:
    if not _is_api(request):
        return exc
    if exc.code is not None and exc.code < 400:
        return exc
    code = exc.code or 500
    detail = exc.detail if isinstance(exc.detail, str) else None
    if code == 404:
        name, location = "path", "path"
        description = (
            detail if detail and detail != request.path else (f"Nothing is at {request.path}.")
        )
    elif code == 405:
        name, location = "method", "header"
        description = f"{request.method} is not allowed on {request.path}."
    else:
        name, location = exc.title.lower().replace(" ", "_"), "body"
        description = detail or exc.explanation or exc.title
    response = json_error(request, code, name, description, location)
    for header in ("Retry-After", "Allow", "WWW-Authenticate"):
        if header in exc.headers:
            response.headers[header] = exc.headers[header]
    return response


def invalid_draft_view(exc: InvalidDraft, request: Request) -> Response:
    return json_error(request, 400, exc.field, exc.description, exc.location)


def refused_view(exc: Refused, request: Request) -> Response:
    return json_error(request, exc.status, exc.field, exc.description, exc.location)


def capacity_view(exc: CapacityExhausted, request: Request) -> Response:
    return json_error(request, 409, exc.field, exc.description)


def stale_view(exc: StaleDataError, request: Request) -> Response:
    # The optimistic version (version_id_col) of a row moved under a concurrent save.
    return json_error(
        request,
        409,
        "version",
        "Someone else changed this record at the same time; reload it and apply your change again.",
    )


def undecodable_view(exc: UnicodeDecodeError, request: Request) -> Response:
    # WebOb decodes the query string and form bodies lazily, as UTF-8: bad bytes from a client
    # are its mistake (400), not ours.
    location = "querystring" if request.method in ("GET", "HEAD") else "body"
    description = "The request's text is not valid UTF-8."
    if not _is_api(request):
        return HTTPBadRequest(description)
    return json_error(request, 400, location, description, location)


def unexpected_error_view(exc: Exception, request: Request) -> Response:
    if is_transient(exc):
        # Tag it so pyramid_retry replays the request (see totetaxi_core.db.retry).
        mark_error_retryable(exc)
        if not is_last_attempt(request):
            return Response(status=503)  # discarded: pyramid_retry runs the request again
        log.warning("giving up on %s %s after retries: %s", request.method, request.path, exc)
        response = json_error(
            request, 503, "server", "The system is busy with a conflicting change; try again."
        )
        response.headers["Retry-After"] = "1"
        return response
    # Log with the request id so the answer a client saw can be found in the logs.
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    if not _is_api(request):
        return HTTPInternalServerError()
    return json_error(
        request,
        500,
        "server",
        f"Something went wrong on our side; quote request id {request.request_id} to support.",
    )


def includeme(config: Configurator) -> None:
    config.add_exception_view(http_exception_view, context=HTTPException)
    config.add_exception_view(invalid_draft_view, context=InvalidDraft)
    config.add_exception_view(capacity_view, context=CapacityExhausted)
    config.add_exception_view(refused_view, context=Refused)
    config.add_exception_view(stale_view, context=StaleDataError)
    config.add_exception_view(undecodable_view, context=UnicodeDecodeError)
    config.add_exception_view(unexpected_error_view, context=Exception)
