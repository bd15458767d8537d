"""``/healthz`` (the process answers) and ``/readyz`` (every dependency it needs answers).

``/readyz`` checks, each timed: ``database`` (``SELECT 1``), ``redis`` (a ``PING``, when sessions,
throttles or live updates use it), ``broker`` (in ``broker`` mode) and what the enabled plugins
add through the ``totetaxi_readiness_checks(registry)`` hook (the documents' ``storage``). The
answer is ``{"status": "ok", "checks": {name: {"status": "ok", "latency_ms": 1.2}}}``, or a 503
in the API's error shape, one error per dependency down (its ``name``), with the same
``checks``. Why a dependency failed goes to the log, not to the anonymous caller.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from pyramid.registry import Registry
from pyramid.request import Request
from sqlalchemy import text

from ..api.errors import error_body

log = logging.getLogger("totetaxi.readyz")

#: A readiness check: returns when the dependency answers, raises when it does not.
Check = Callable[[], Any]

#: Seconds a Redis or broker check waits for a connection or an answer.
TIMEOUT_SECONDS = 2


def healthz(request: Request) -> dict[str, Any]:
    return {"status": "ok"}


def _database(registry: Registry) -> Check:
    def check() -> None:
        with registry["dbengine"].connect() as connection:
            connection.execute(text("SELECT 1"))

    return check


def _redis(registry: Registry, url: str) -> Check:
    def check() -> None:
        import redis

        # One client per URL for the app's life: its connection is reused by the next probe.
        clients: dict[str, Any] = registry.__dict__.setdefault("readiness_redis_clients", {})
        client = clients.get(url)
        if client is None:
            client = clients.setdefault(
                url,
                redis.Redis.from_url(
                    url,
                    socket_connect_timeout=TIMEOUT_SECONDS,
                    socket_timeout=TIMEOUT_SECONDS,
                ),
            )
        client.ping()

    return check


def _broker(registry: Registry) -> Check:
    def check() -> None:
        with registry.celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)

    return check


def redis_urls(settings: dict[str, Any]) -> dict[str, str]:
    """The Redis servers the app uses, by check name: ``redis`` (sessions, throttles, live
    updates) and ``live_redis`` when the live updates have a server of their own."""
    urls: dict[str, str] = {}
    main = settings.get("totetaxi.redis_url") or ""
    uses_main = settings.get("totetaxi.state_backend") == "redis"
    if settings.get("totetaxi.live_backend") == "redis":
        live = settings.get("totetaxi.live_redis_url") or main
        if live == main:
            uses_main = True
        elif live:
            urls["live_redis"] = live
    if uses_main and main:
        urls["redis"] = main
    return urls


def readiness_checks(registry: Registry) -> dict[str, Check]:
    """Every check ``/readyz`` runs, by name: the core's, then the plugins' (hook
    ``totetaxi_readiness_checks``; a name given twice keeps the first)."""
    settings = registry.settings
    checks: dict[str, Check] = {"database": _database(registry)}
    for name, url in redis_urls(settings).items():
        checks[name] = _redis(registry, url)
    if settings["totetaxi.tasks_mode"] == "broker":
        checks["broker"] = _broker(registry)
    for answer in registry.hooks.call("totetaxi_readiness_checks", registry=registry):
        for name, check in (answer or {}).items():
            if name in checks:
                log.warning("readiness: check %r is declared twice; the first is kept", name)
                continue
            checks[name] = check
    return checks


def run_checks(checks: dict[str, Check]) -> dict[str, dict[str, Any]]:
    """Run each check once: ``{name: {"status": "ok" | "unavailable", "latency_ms"}}``."""
    results: dict[str, dict[str, Any]] = {}
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            check()
            status = "ok"
        except Exception:
            # The details (host, user, bucket) are for the logs, not for anonymous callers.
            log.exception("readiness: %s unavailable", name)
            status = "unavailable"
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        results[name] = {"status": status, "latency_ms": latency_ms}
    return results


def readyz(request: Request) -> dict[str, Any]:
    results = run_checks(readiness_checks(request.registry))
    down = [name for name, result in results.items() if result["status"] != "ok"]
    if not down:
        return {"status": "ok", "checks": results}
    request.response.status_code = 503
    request.response.headers["Retry-After"] = "5"
    errors = [
        error_body(503, name, f"{name} is unavailable.", "dependency")["errors"][0] for name in down
    ]
    return {"status": "error", "errors": errors, "checks": results}
