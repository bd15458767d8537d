"""``/healthz`` (the process answers) and ``/readyz`` (its database and broker answer)."""

from __future__ import annotations

import logging
from typing import Any

from pyramid.request import Request
from sqlalchemy import text

log = logging.getLogger("totetaxi.readyz")


def healthz(request: Request) -> dict[str, Any]:
    return {"status": "ok"}


def _check_database(request: Request) -> str | None:
    try:
        with request.registry["dbengine"].connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        # The details (host, user, database) are for the logs, not for anonymous callers.
        log.exception("readiness: database unreachable")
        return "unreachable"
    return None


def _check_broker(request: Request) -> str | None:
    try:
        with request.registry.celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        log.exception("readiness: broker unreachable")
        return "unreachable"
    return None


def readyz(request: Request) -> dict[str, Any]:
    checks: dict[str, Any] = {"database": _check_database(request)}
    if request.registry.settings["totetaxi.tasks_mode"] == "broker":
        checks["broker"] = _check_broker(request)
    ready = all(problem is None for problem in checks.values())
    request.response.status_code = 200 if ready else 503
    return {
        "status": "ok" if ready else "unavailable",
        "checks": {name: problem or "ok" for name, problem in checks.items()},
    }
