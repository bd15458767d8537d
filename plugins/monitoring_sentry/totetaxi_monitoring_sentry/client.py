"""Starting Sentry in a web process and in each Celery worker process, with the scrubber in front.

Sentry is started when the app is created (Pyramid's ``ApplicationCreated``, so a process that
fails to build the app never reports as started) and again when a Celery worker starts
(``worker_init``: the worker's main process, any pool) and in each prefork child
(``worker_process_init``): a child gets a client and a sending thread of its own instead of a
copy of its parent's queue, and every event of a worker carries the tag ``process: worker``.

Every event, transaction and breadcrumb goes through :mod:`.scrubbing` before it is queued for
sending. A failure of the scrubber drops what it was given (logged): nothing unscrubbed leaves.
"""

from __future__ import annotations

import logging
from typing import Any

import sentry_sdk
from celery import signals
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.pyramid import PyramidIntegration

from .scrubbing import scrub, scrub_event

log = logging.getLogger("totetaxi.monitoring_sentry")

#: The options of the app built last in this process (a worker builds one), read by the Celery
#: signal receivers; ``None`` when it has no DSN.
_current: dict[str, Any] | None = None


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    """Sentry's ``before_send``: the error event scrubbed, or dropped if scrubbing failed."""
    return _scrubbed(event, "event")


def before_send_transaction(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    """Sentry's ``before_send_transaction``: the transaction (spans, request) scrubbed."""
    return _scrubbed(event, "transaction")


def before_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    """Sentry's ``before_breadcrumb``: the breadcrumb scrubbed, or dropped if that failed.

    (Sentry keeps a breadcrumb *unchanged* when this callback raises, so it must not raise.)
    """
    try:
        return scrub(crumb)
    except Exception:
        log.exception("monitoring_sentry: a breadcrumb could not be scrubbed; dropped")
        return None


def _scrubbed(event: dict[str, Any], what: str) -> dict[str, Any] | None:
    try:
        return scrub_event(event)
    except Exception:
        log.exception("monitoring_sentry: a Sentry %s could not be scrubbed; dropped", what)
        return None


def start(options: dict[str, Any]) -> None:
    """``sentry_sdk.init`` with ``options`` (:func:`.options.client_options`), the Pyramid and
    Celery integrations and the scrubbing callbacks; remembered for the worker signals."""
    global _current
    _current = options
    sentry_sdk.init(
        **options,
        integrations=[PyramidIntegration(transaction_style="route_pattern"), CeleryIntegration()],
        before_send=before_send,
        before_send_transaction=before_send_transaction,
        before_breadcrumb=before_breadcrumb,
    )
    log.info(
        "monitoring_sentry: errors go to Sentry (release %s, environment %s, traces %s)",
        options["release"],
        options["environment"],
        options["traces_sample_rate"],
    )


def forget() -> None:
    """No options for the worker signals: an app without a DSN was built last."""
    global _current
    _current = None


def start_in_worker(**_: Any) -> None:
    """Celery's ``worker_init`` and ``worker_process_init``: a client of this process's own,
    tagged ``process: worker``; nothing when the app has no DSN."""
    if _current is None:
        return
    start(_current)
    sentry_sdk.get_global_scope().set_tag("process", "worker")


# Module functions are kept alive by the module: Celery's default weak reference is enough, and
# connecting once (at import) means a process building several apps still starts Sentry once.
signals.worker_init.connect(start_in_worker)
signals.worker_process_init.connect(start_in_worker)
