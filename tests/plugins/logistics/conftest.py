"""Fixtures of the logistics tests: the platform with the mock fleet, on a fixed clock.

The helpers (bookings paid through the mock gateway, the tasks of a booking, ...) are in
``support.logistics``: a module of its own name, since every test folder's ``conftest`` is
the same module name to Python.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from support.logistics import NOW, PLUGINS
from webtest import TestApp

from totetaxi_core.testing import bearer, make_staff


@pytest.fixture
def app(make_testapp: Callable[..., TestApp]) -> TestApp:
    """Everything a delivery needs, tasks eager, the clock at :data:`NOW`."""
    testapp = make_testapp(**{"totetaxi.plugins": PLUGINS})
    testapp.app.registry.clock = lambda: NOW
    return testapp


@pytest.fixture
def staff(app: TestApp) -> dict[str, str]:
    """Bearer headers of a ``staff`` member."""
    member = make_staff(app.app.registry, "staff")
    return bearer(app, member.email, staff=True)
