"""Fixtures of the Sentry plugin's tests: the fake ingestion endpoint and a clean SDK per test.

Sentry's client is process-wide: a test that starts it leaves it running for whatever the same
xdist worker runs next, so every test here ends with it closed (its queue flushed first) and its
scope's tags and breadcrumbs dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sentry_sdk
from support.sentry_stub import PLUGINS, SentryStub
from totetaxi_monitoring_sentry import client
from webtest import TestApp


@pytest.fixture(autouse=True)
def _no_sentry_left_behind(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    yield
    active = sentry_sdk.get_client()
    if active.is_active():
        active.close(timeout=2)
    sentry_sdk.get_global_scope().set_client(None)
    for scope in (sentry_sdk.get_global_scope(), sentry_sdk.get_isolation_scope()):
        scope.remove_tag("process")
        scope.clear_breadcrumbs()
    client.forget()


@pytest.fixture
def sentry() -> Iterator[SentryStub]:
    """Sentry's envelope endpoint on loopback."""
    with SentryStub() as stub:
        yield stub


@pytest.fixture
def monitored_app(make_testapp: Callable[..., TestApp], sentry: SentryStub) -> TestApp:
    """The example plugin and this one, sending to :func:`sentry`."""
    return make_testapp(**{"totetaxi.plugins": PLUGINS, "monitoring_sentry.dsn": sentry.dsn})
