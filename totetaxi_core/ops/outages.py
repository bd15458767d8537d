"""Answers while a dependency is down: a 503 with ``Retry-After``, never a traceback.

When PostgreSQL restarts or Redis (sessions, throttles) stops answering, a request fails with the
driver's connection error. That is an outage, not a bug of ours: the client should come back in a
few seconds, so the API answers 503 in its error shape (``name`` says which dependency) and the
console a plain 503 page, both with ``Retry-After``; the log gets one warning line, not a
traceback per request. Nothing committed is affected: a request that failed this way committed
nothing (pyramid_tm aborts), and work queued by earlier requests waits in the outbox.

Two places catch them: exception views (the view, the security policy and the flush run inside
the exception-view scope) and a tween at the top of the stack for what fails above it — pyramid_tm
committing, a response callback saving the session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis.exceptions
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPServiceUnavailable
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import INGRESS
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ..api.errors import API_PREFIX, json_error, unexpected_error_view

log = logging.getLogger("totetaxi.outages")

#: Seconds a client is asked to wait: a PostgreSQL restart or a Redis failover takes a few.
RETRY_AFTER_SECONDS = 5

#: SQLSTATEs of a server going away or not yet accepting connections: class 08 (connection
#: exception) and 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now).
_GONE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})

_REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def unavailable(exc: BaseException) -> str | None:
    """``"database"`` or ``"redis"`` when ``exc`` says that dependency is unreachable; else None.

    A database error counts only when the connection itself failed (SQLAlchemy marks it
    invalidated, or PostgreSQL's code says so, or psycopg2 had no answer at all); a statement
    timeout, a lock timeout or a serialization failure is not an outage.
    """
    if isinstance(exc, _REDIS_DOWN):
        return "redis"
    if not isinstance(exc, DBAPIError):
        return None
    if exc.connection_invalidated:
        return "database"
    if not isinstance(exc, OperationalError | InterfaceError):
        return None
    orig = exc.orig
    code = getattr(orig, "pgcode", None)
    if code:
        return "database" if code.startswith("08") or code in _GONE_SQLSTATES else None
    # psycopg2 without a code: the server closed the connection or never answered.
    return "database" if type(orig).__module__.startswith("psycopg2") else None


def outage_response(request: Request, what: str) -> Response:
    """The 503 answer for ``what`` being down (the API's error shape under /api/v1)."""
    description = (
        f"The service is briefly unavailable ({what} unreachable); "
        f"try again in {RETRY_AFTER_SECONDS} seconds."
    )
    path = request.path
    if path.startswith(API_PREFIX + "/") or path == API_PREFIX:
        response = json_error(request, 503, what, description, "server")
    else:
        response = HTTPServiceUnavailable(description)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _warn(request: Request, what: str, exc: BaseException) -> None:
    log.warning(
        "503 on %s %s: %s unreachable (%s: %s)",
        request.method,
        request.path,
        what,
        type(exc).__name__,
        str(exc).strip().splitlines()[0] if str(exc).strip() else "",
    )


def outage_view(exc: Exception, request: Request) -> Response:
    """Exception view for the drivers' errors: an outage answers 503, anything else goes to the
    API's unexpected-error view (which retries serialization failures, logs the rest)."""
    what = unavailable(exc)
    if what is None:
        return unexpected_error_view(exc, request)
    _warn(request, what, exc)
    return outage_response(request, what)


def outage_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """The 503 for an outage that surfaces above the exception views (a commit, a callback)."""

    def tween(request: Request) -> Response:
        try:
            return handler(request)
        except (DBAPIError, *_REDIS_DOWN) as exc:
            what = unavailable(exc)
            if what is None:
                raise
            _warn(request, what, exc)
            return outage_response(request, what)

    return tween


def includeme(config: Configurator) -> None:
    for context in (OperationalError, InterfaceError, DBAPIError, *_REDIS_DOWN):
        config.add_exception_view(outage_view, context=context)
    config.add_tween("totetaxi_core.ops.outages.outage_tween_factory", under=INGRESS)
