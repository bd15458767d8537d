"""The platform's Prometheus metrics (``prometheus_client``), served at ``/metrics``.

What is measured, and where:

* requests — ``totetaxi_http_request_duration_seconds{route,method}`` (histogram) and
  ``totetaxi_http_requests_total{route,method,status,status_class}``, observed by the request
  logging tween. ``route`` is the matched route's *name* (never the raw path: ids in paths would
  make a series per booking); a request no route matched is ``unmatched``; an unusual method is
  ``other``.
* tasks — ``totetaxi_task_runs_total{task,outcome}`` (``success``, ``failure``, ``retry``) and
  ``totetaxi_task_duration_seconds{task}``: Celery's ``task_prerun``/``task_postrun`` signals in a
  worker (:mod:`totetaxi_core.tasks.observability`), the outbox runner in eager mode.
* the outbox — ``totetaxi_outbox_pending_messages`` and
  ``totetaxi_outbox_oldest_pending_age_seconds``, read from the database at each scrape.
* partners — ``totetaxi_webhook_failures_total{provider,reason}`` and
  ``totetaxi_email_failures_total{provider,outcome}``, counted by the plugins through
  :func:`count_webhook_failure` and :func:`count_email_failure` (``plugin_api``).
* the database pool — ``totetaxi_db_pool_checked_out_connections`` and
  ``totetaxi_db_pool_size_connections``, kept by the pool's checkout and checkin events.

**Several processes.** gunicorn's workers, Celery's pool children and beat each count in their
own memory; a scrape reaches one of them. With ``totetaxi.metrics_dir`` (``TOTETAXI_METRICS_DIR``)
every process writes its values to files in that folder (prometheus_client's multiprocess mode,
``PROMETHEUS_MULTIPROC_DIR``) and ``/metrics`` adds them up, whichever process answers. The folder
is shared by every process of one deployment and must be emptied before it starts (``make prod``
does); the gauges of processes that exited are dropped (gunicorn's ``child_exit``, Celery's
``worker_process_shutdown``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import values as prometheus_values
from prometheus_client.core import GaugeMetricFamily, Metric
from pyramid.registry import Registry
from sqlalchemy import event, func, select

from ..errors import SettingsError

log = logging.getLogger("totetaxi.metrics")

#: prometheus_client's variable naming the multiprocess folder.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The content type of the text exposition format: 0.0.4, which every Prometheus reads (the
#: library's latest, 1.0.0, only adds UTF-8 metric names, which none of ours needs).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
TASK_OUTCOMES = ("success", "failure", "retry")
EMAIL_OUTCOMES = ("retrying", "failed")

# Request latencies of this app: most answers are a few milliseconds, a slow report a second.
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_TASK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0)


class Metrics:
    """The metric objects of this process (one set, made by :func:`metrics`)."""

    def __init__(self) -> None:
        # A registry of our own, not prometheus_client's global one: /metrics shows the
        # platform's series, and nothing a library happened to register.
        self.registry = CollectorRegistry()
        r = self.registry
        self.request_seconds = Histogram(
            "totetaxi_http_request_duration_seconds",
            "Time to answer a request, by route name and method.",
            ["route", "method"],
            buckets=_REQUEST_BUCKETS,
            registry=r,
        )
        self.requests = Counter(
            "totetaxi_http_requests",
            "Requests answered, by route name, method, status code and class (2xx...).",
            ["route", "method", "status", "status_class"],
            registry=r,
        )
        self.task_runs = Counter(
            "totetaxi_task_runs",
            "Background task runs, by task name and outcome (success, failure, retry).",
            ["task", "outcome"],
            registry=r,
        )
        self.task_seconds = Histogram(
            "totetaxi_task_duration_seconds",
            "Time a background task ran, by task name.",
            ["task"],
            buckets=_TASK_BUCKETS,
            registry=r,
        )
        self.webhook_failures = Counter(
            "totetaxi_webhook_failures",
            "Webhook deliveries refused or not applied, by provider and reason.",
            ["provider", "reason"],
            registry=r,
        )
        self.email_failures = Counter(
            "totetaxi_email_failures",
            "Failed email attempts, by provider and outcome (retrying, failed: given up).",
            ["provider", "outcome"],
            registry=r,
        )
        # livesum: each process counts its own pool; exited processes' values are dropped.
        self.pool_checked_out = Gauge(
            "totetaxi_db_pool_checked_out_connections",
            "Database connections checked out of the pools (all processes).",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.pool_size = Gauge(
            "totetaxi_db_pool_size_connections",
            "Configured size of the database pools (all processes that used one).",
            multiprocess_mode="livesum",
            registry=r,
        )


_metrics: Metrics | None = None
_lock = threading.Lock()


def metrics() -> Metrics:
    """The process's :class:`Metrics`, made on first use (after :func:`use_directory`)."""
    global _metrics
    if _metrics is None:
        with _lock:
            if _metrics is None:
                _metrics = Metrics()
    return _metrics


def multiprocess_directory() -> str | None:
    """The folder of multiprocess mode in this process, or ``None`` (single process)."""
    return os.environ.get(MULTIPROC_ENV) or None


def use_directory(path: str) -> None:
    """Switch this process to multiprocess mode, writing to ``path`` (created when missing).

    Must run before the first metric is made (the app factory calls it while it builds); its
    children (gunicorn's workers, Celery's pool) inherit it. Raises :class:`SettingsError` when
    the folder cannot be made, or when the process already counts elsewhere.
    """
    path = str(Path(path).resolve())
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"Setting 'totetaxi.metrics_dir' names a folder that cannot be made: {exc}."
        ) from None
    if not os.access(path, os.W_OK):
        raise SettingsError(f"Setting 'totetaxi.metrics_dir': {path} is not writable.")
    current = os.environ.get(MULTIPROC_ENV)
    if current == path and _metrics is not None:
        return
    if _metrics is not None:
        raise SettingsError(
            "Setting 'totetaxi.metrics_dir' is set, but this process already counts "
            + (f"in {current}" if current else "in memory")
            + ": one process serves one app (or set it before any app is built)."
        )
    os.environ[MULTIPROC_ENV] = path
    # prometheus_client chose in-memory values when it was imported; what it would choose now.
    prometheus_values.ValueClass = prometheus_values.get_value_class()


def configure(settings: dict[str, Any]) -> None:
    """Multiprocess mode when ``totetaxi.metrics_dir`` is set (see :func:`use_directory`)."""
    folder = settings.get("totetaxi.metrics_dir") or ""
    if folder:
        use_directory(folder)


def mark_process_dead(pid: int) -> None:
    """Drop the gauges of an exited process (its counters stay: they are totals)."""
    if multiprocess_directory():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


# --- what the platform and plugins count -------------------------------------------------------


def route_label(request: Any) -> str:
    """The route-name label of ``request``: the matched route's name, or ``unmatched``."""
    route = getattr(request, "matched_route", None)
    return route.name if route is not None else UNMATCHED


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request (the logging tween calls it)."""
    m = metrics()
    method = method if method in _METHODS else "other"
    m.request_seconds.labels(route, method).observe(seconds)
    m.requests.labels(route, method, str(status), f"{status // 100}xx").inc()


def observe_task(task: str, outcome: str, seconds: float | None = None) -> None:
    """Count one run of ``task``: ``outcome`` is ``success``, ``failure`` or ``retry``."""
    if outcome not in TASK_OUTCOMES:
        raise ValueError(f"unknown task outcome {outcome!r}; one of {', '.join(TASK_OUTCOMES)}")
    m = metrics()
    m.task_runs.labels(task, outcome).inc()
    if seconds is not None:
        m.task_seconds.labels(task).observe(seconds)


def count_webhook_failure(provider: str, reason: str = "signature") -> None:
    """Count a webhook delivery the plugin refused or could not apply.

    ``provider`` names the sender, as the plugin that talks to it is named (``payments_stripe``,
    ``logistics_onfleet``, ``mail_ses``...), ``reason`` why: e.g.
    ``signature`` (missing, bad or stale), ``not_ready`` (answered 503 to be sent again),
    ``payload`` (unreadable). Both must come from the plugin's code, never from the request (a
    label value per caller-chosen string would grow without bound).
    """
    metrics().webhook_failures.labels(provider, reason).inc()


def count_email_failure(provider: str, outcome: str) -> None:
    """Count a failed email attempt of ``provider`` (``ses``, ``console``...).

    ``outcome`` is ``retrying`` (it will be tried again) or ``failed`` (given up: staff may
    resend it).
    """
    if outcome not in EMAIL_OUTCOMES:
        raise ValueError(f"unknown email outcome {outcome!r}; one of {', '.join(EMAIL_OUTCOMES)}")
    metrics().email_failures.labels(provider, outcome).inc()


def watch_pool(engine: Any) -> None:
    """Keep the pool gauges from ``engine``'s checkout and checkin events.

    Counted as events rather than read from the pool at scrape time: in multiprocess mode the
    scrape is answered by one process, which cannot see the others' pools. A pool without a
    size (SQLite's) is not watched.
    """
    if not callable(getattr(engine.pool, "size", None)):
        return
    m = metrics()

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        m.pool_checked_out.inc()
        # Set at every checkout, not once: a forked child starts its own values at zero.
        m.pool_size.set(engine.pool.size())

    def checkin(dbapi_connection: Any, record: Any) -> None:
        m.pool_checked_out.dec()

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)


# --- the scrape --------------------------------------------------------------------------------


class OutboxCollector:
    """The outbox's backlog, read from the database at each scrape (one query)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        from ..tasks.models import OutboxMessage, OutboxStatus

        pending = GaugeMetricFamily(
            "totetaxi_outbox_pending_messages",
            "Outbox messages committed but not yet handed to the broker (or run).",
        )
        oldest = GaugeMetricFamily(
            "totetaxi_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox message (0 when none).",
        )
        try:
            with self.registry["dbsession_factory"]() as session:
                count, first = session.execute(
                    select(func.count(), func.min(OutboxMessage.created_at)).where(
                        OutboxMessage.status == OutboxStatus.PENDING
                    )
                ).one()
        except Exception:
            log.exception("metrics: the outbox could not be read")
            return
        now = dt.datetime.now(dt.UTC)
        if first is not None and first.tzinfo is None:  # SQLite hands back naive UTC
            first = first.replace(tzinfo=dt.UTC)
        pending.add_metric([], count)
        oldest.add_metric([], max(0.0, (now - first).total_seconds()) if first else 0.0)
        yield pending
        yield oldest


class _Joined:
    """Several collectors read as one registry (``generate_latest`` only calls ``collect``)."""

    def __init__(self, sources: Iterable[Any]) -> None:
        self.sources = list(sources)

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source.collect()


def render(registry: Registry) -> bytes:
    """The text exposition of every metric: this process's (or, in multiprocess mode, every
    process's from the folder) and the outbox's."""
    folder = multiprocess_directory()
    if folder:
        from prometheus_client import multiprocess

        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes, path=folder)
    else:
        processes = metrics().registry
    return generate_latest(_Joined([processes, OutboxCollector(registry)]))  # type: ignore[arg-type]
