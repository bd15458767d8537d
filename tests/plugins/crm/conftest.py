"""Fixtures of the CRM tests (the helpers are in ``support.crm``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support.crm import NOW, PLUGINS
from webtest import TestApp

from totetaxi_core.testing import bearer, make_staff


@pytest.fixture
def app(make_testapp: Callable[..., TestApp]) -> TestApp:
    """Payments, logistics and CRM, tasks eager, the clock at :data:`support.crm.NOW`."""
    testapp = make_testapp(**{"totetaxi.plugins": PLUGINS})
    testapp.app.registry.clock = lambda: NOW
    return testapp


def _headers(app: TestApp, role: str) -> dict[str, str]:
    member = make_staff(app.app.registry, role)
    return bearer(app, member.email, staff=True)


@pytest.fixture
def staff(app: TestApp) -> dict[str, str]:
    """Bearer headers of a ``staff`` member."""
    return _headers(app, "staff")


@pytest.fixture
def viewer(app: TestApp) -> dict[str, str]:
    """Bearer headers of a ``viewer``."""
    return _headers(app, "viewer")
