"""Monitoring Sentry: errors of the web app and of the Celery workers sent to Sentry, scrubbed.

Manifest and wiring only (DESIGN §1): the options are made in :mod:`.options`, Sentry is started
(app start, worker start) in :mod:`.client`, and what is removed from every event before it
leaves is in :mod:`.scrubbing`. Without a DSN the plugin does nothing (one line at info).
"""

from __future__ import annotations

import logging
import os

from pyramid.config import Configurator
from pyramid.events import ApplicationCreated
from totetaxi_core.plugin_api import Manifest, Setting

from .options import check_dsn, check_sample_rate, client_options, resolve_dsn

log = logging.getLogger("totetaxi.monitoring_sentry")

manifest = Manifest(
    name="monitoring_sentry",  # = entry point name = settings prefix
    version="1.0.0",
    summary="Error monitoring: Sentry for the web app and the workers, secrets and PII scrubbed",
    core=">=1.0,<2",
    settings=(
        Setting(
            "monitoring_sentry.dsn",
            "",
            kind="secret",
            help="the Sentry project's DSN; empty: SENTRY_DSN, else nothing is sent. In "
            "production set TOTETAXI_MONITORING_SENTRY__DSN (or SENTRY_DSN), not the file",
            check=check_dsn,
        ),
        Setting(
            "monitoring_sentry.environment",
            "",
            help="the environment events are filed under (default: totetaxi.environment)",
        ),
        Setting(
            "monitoring_sentry.traces_sample_rate",
            "0",
            help="share of requests and tasks sent as performance traces, 0 to 1 (0: errors only)",
            check=check_sample_rate,
        ),
        Setting(
            "monitoring_sentry.include_local_variables",
            False,
            kind="bool",
            help="send the local variables of each stack frame (scrubbed like the rest; off: "
            "a variable's name is no sure sign of what it holds)",
        ),
    ),
)


def includeme(config: Configurator) -> None:
    """Start Sentry when the app is created (and in Celery workers) if a DSN is configured."""
    from . import client

    settings = config.get_settings()
    dsn = resolve_dsn(settings, os.environ)
    if not dsn:
        client.forget()
        log.info(
            "monitoring_sentry: no DSN (monitoring_sentry.dsn, TOTETAXI_MONITORING_SENTRY__DSN "
            "or SENTRY_DSN); nothing is sent to Sentry"
        )
        return
    options = client_options(settings, dsn)
    config.add_subscriber(lambda event: client.start(options), ApplicationCreated)
