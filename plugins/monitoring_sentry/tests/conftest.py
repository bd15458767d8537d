"""Fixtures of the 'monitoring_sentry' plugin's tests.

The database fixtures (``backend``, ``db_url``, ``make_testapp``, ...) come from the
``totetaxi_core.testing`` pytest plugin, active wherever totetaxi-core is installed: every test
gets a fresh database, migrated with every installed plugin (this one included), on SQLite and,
when it is reachable, PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from webtest import TestApp

#: What the app of these tests enables: the plugin.
PLUGINS = "monitoring_sentry"


@pytest.fixture
def app(make_testapp: Callable[..., TestApp]) -> TestApp:
    """The app with this plugin enabled, tasks run eagerly after each commit."""
    return make_testapp(**{"totetaxi.plugins": PLUGINS})


@pytest.fixture
def staff_headers(app: TestApp) -> Callable[[str], dict[str, Any]]:
    """``staff_headers(role)``: bearer headers of a new staff user with that role."""
    from totetaxi_core.testing import bearer, make_staff

    def headers(role: str) -> dict[str, Any]:
        staff = make_staff(app.app.registry, role)
        return bearer(app, staff.email, staff=True)

    return headers
