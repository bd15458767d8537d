"""Operations endpoints (``/healthz``, ``/readyz``, ``/metrics``), request logging with the log
context, the metrics, the request guards, the security headers and CORS."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.tweens import EXCVIEW

from . import log_context
from .health import healthz, readyz
from .logging import JsonFormatter, request_id
from .metrics import watch_pool
from .metrics_view import metrics_view

__all__ = ["JsonFormatter", "healthz", "readyz"]


def includeme(config: Configurator) -> None:
    log_context.install()
    watch_pool(config.registry["dbengine"])
    config.add_request_method(request_id, "request_id", reify=True)
    config.include(".outages")
    config.add_tween("totetaxi_core.ops.logging.request_logging_tween_factory", over=EXCVIEW)
    # Under the logging tween (a refused host is logged with its 400), over the input guard
    # (whose answers get the security headers too).
    config.add_tween(
        "totetaxi_core.ops.headers.headers_tween_factory",
        under="totetaxi_core.ops.logging.request_logging_tween_factory",
    )
    config.add_tween(
        "totetaxi_core.ops.input_guard.input_guard_tween_factory",
        under="totetaxi_core.ops.headers.headers_tween_factory",
    )
    # CORS under the host check and the security headers (a preflight is checked and marked like
    # any answer), over the input guard (whose 400s a listed site's page must be able to read).
    config.add_tween(
        "totetaxi_core.ops.cors.cors_tween_factory",
        under="totetaxi_core.ops.headers.headers_tween_factory",
        over="totetaxi_core.ops.input_guard.input_guard_tween_factory",
    )
    config.add_route("healthz", "/healthz")
    config.add_route("readyz", "/readyz")
    config.add_route("metrics", "/metrics")
    public = NO_PERMISSION_REQUIRED
    config.add_view(
        healthz, route_name="healthz", renderer="json", request_method="GET", permission=public
    )
    config.add_view(
        readyz, route_name="readyz", renderer="json", request_method="GET", permission=public
    )
    config.add_view(metrics_view, route_name="metrics", request_method="GET", permission=public)
