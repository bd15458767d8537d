"""Fixtures of the documents tests: the platform with the local storage on a fixed clock.

The helpers (uploads as a browser makes them, high-value bookings, ...) are in
``support.documents``: a module of its own name, since every test folder's ``conftest`` is
the same module name to Python.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.documents import NOW, PLUGINS
from webtest import TestApp

from totetaxi_core.testing import bearer, make_staff


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "documents"


@pytest.fixture
def app(make_testapp: Callable[..., TestApp], folder: Path) -> TestApp:
    testapp = make_testapp(**{"totetaxi.plugins": PLUGINS, "storage_local.folder": str(folder)})
    testapp.app.registry.clock = lambda: NOW
    return testapp


@pytest.fixture
def staff(app: TestApp) -> dict[str, str]:
    member = make_staff(app.app.registry, "staff")
    return bearer(app, member.email, staff=True)
