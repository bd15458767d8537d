"""Which database errors are worth replaying the whole request for (pyramid_retry).

pyramid_tm tags retryable errors only when they escape the view; an error raised while
committing is rendered by our exception view first and would never be retried. So the API's
exception view asks :func:`is_transient` itself and tags the error with
``pyramid_retry.mark_error_retryable``, and :func:`flush_tween_factory` flushes the session
inside the view's scope so that most conflicts surface there, where pyramid_tm sees them too.
"""

from __future__ import annotations

from collections.abc import Callable

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy.exc import DBAPIError

#: SQLSTATEs of errors that a fresh attempt of the same transaction can get past:
#: serialization failure and deadlock (PostgreSQL, PITFALLS 11).
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})


def is_transient(exc: BaseException) -> bool:
    """True for a serialization failure or deadlock reported by the database."""
    if not isinstance(exc, DBAPIError):
        return False
    code = getattr(exc.orig, "pgcode", None) or getattr(exc.orig, "sqlstate", None)
    return code in TRANSIENT_SQLSTATES


def flush_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    """Flush ``request.dbsession`` before the response leaves the exception-view scope."""

    def tween(request: Request) -> Response:
        response = handler(request)
        if "dbsession" in request.__dict__ and request.exception is None:
            request.dbsession.flush()
        return response

    return tween
