"""Structured request logging with a request id, and the request metrics.

Every request gets ``request.request_id`` (the caller's ``X-Request-ID`` when it is a sane token,
else a new one), echoed in the ``X-Request-ID`` response header and written on the one log line
per request. The fields travel as the record's ``extra``; :class:`JsonFormatter` (the formatter of
``production.ini``) writes them as one JSON object per line. While the request runs, its id is
bound to the log context (:mod:`.log_context`): every record logged by any code it calls (a
webhook's handling, a hook, an eager task) carries ``request_id`` too, and the outbox row keeps
it for the worker. The same tween observes the request's latency and status for ``/metrics``
(:mod:`.metrics`), by route name.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from . import log_context
from .metrics import observe_request, route_label

log = logging.getLogger("totetaxi.request")

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id(request: Request) -> str:
    incoming = request.headers.get("X-Request-ID", "")
    return incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """One JSON object per log record, with the record's structured ``extra`` fields."""

    FIELDS = ("request_id", "task", "task_id", "method", "path", "status", "duration_ms", "client")

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        bound = getattr(record, "log_context", None) or {}
        for name in self.FIELDS:
            if hasattr(record, name):
                document[name] = getattr(record, name)
            elif name in bound:
                document[name] = bound[name]
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document)


def _log_line(request: Request, status: int, started: float) -> None:
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    # Quoted (a %0A in the URL stays %0A: no forged log lines); webob quotes on every access.
    method, path = request.method, request.path
    log.info(
        "%s %s %s %.2fms",
        method,
        path,
        status,
        duration_ms,
        extra={
            "request_id": request.request_id,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "client": request.client_addr,
        },
    )


def request_logging_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    def tween(request: Request) -> Response:
        started = time.perf_counter()
        status = 500
        token = log_context.bind(request_id=request.request_id)
        try:
            response = handler(request)
            status = response.status_code
            response.headers["X-Request-ID"] = request.request_id
            return response
        finally:
            observe_request(
                route_label(request), request.method, status, time.perf_counter() - started
            )
            if log.isEnabledFor(logging.INFO):
                _log_line(request, status, started)
            log_context.unbind(token)

    return tween
