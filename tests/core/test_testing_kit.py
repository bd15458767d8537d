"""The test kit itself (``totetaxi_core.testing``): what a plugin's suite relies on."""

from __future__ import annotations

import subprocess
import sys
import threading
from importlib import metadata

import pytest

from totetaxi_core.testing import base_settings, migrated_plugins, race
from totetaxi_core.testing.permissions import ENTRY_POINT_GROUP, permission_matrix


def test_importing_the_core_imports_neither_pytest_nor_webtest():
    code = (
        "import sys, totetaxi_core, totetaxi_core.platform, totetaxi_core.cli; "
        "print(sorted({'pytest', 'webtest'} & set(sys.modules)))"
    )
    answer = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert answer.stdout.strip() == "[]"


def test_the_kit_loads_without_webtest():
    # pytest loads the kit wherever the core is installed, with or without the test extra.
    code = (
        "import sys; sys.modules['webtest'] = None; "
        "import totetaxi_core.testing, totetaxi_core.testing.plugin; print('loaded')"
    )
    answer = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert answer.stdout.strip() == "loaded"


def test_the_kit_is_registered_as_a_pytest_plugin(pytestconfig):
    [entry_point] = [
        ep
        for ep in metadata.entry_points(group="pytest11")
        if ep.value == "totetaxi_core.testing.plugin"
    ]
    assert entry_point.name == "totetaxi"
    assert pytestconfig.pluginmanager.has_plugin("totetaxi")


def test_the_test_databases_hold_the_installed_plugins_development_variants():
    plugins = migrated_plugins()
    assert {"example", "pricing", "payments_mock", "notifications", "mail_console"} <= set(plugins)
    # One provider per slot: the real adapters stay out, glue comes in by itself.
    assert not {"payments_stripe", "mail_ses", "example_glue"} & set(plugins)


def test_base_settings_are_cheap_but_never_in_production():
    assert base_settings("sqlite://")["totetaxi.password_hash_profile"] == "fast"
    production = base_settings("sqlite://", **{"totetaxi.environment": "production"})
    assert "totetaxi.password_hash_profile" not in production


def test_race_releases_everyone_together_and_keeps_the_order():
    barrier = threading.Barrier(3, timeout=10)  # only passes if all three run at once

    def waiter(value):
        return lambda: (barrier.wait(), value)[1]

    assert race(waiter("a"), waiter("b"), waiter("c"), timeout=10) == ["a", "b", "c"]


def test_race_raises_the_first_error_or_returns_it():
    def boom():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        race(lambda: 1, boom)
    ok, error = race(lambda: 1, boom, return_exceptions=True)
    assert ok == 1 and isinstance(error, ValueError)


def test_every_plugin_contributes_its_permission_rows():
    names = {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    assert {
        "core",
        "pricing",
        "payments",
        "payments_mock",
        "notifications",
        "mail_console",
        "example",
    } <= names
    core_only = permission_matrix([])
    assert ("GET", "/healthz") in core_only
    assert ("GET", "/api/v1/services") not in core_only  # pricing's row, pricing not enabled
    assert ("GET", "/api/v1/services") in permission_matrix(["pricing"])


def test_both_databases_decides_the_backends(request):
    # This test uses no database: its own parametrization is the proof that only tests that
    # ask for ``backend`` are parametrized.
    assert "backend" not in request.fixturenames


@pytest.mark.both_databases
def test_a_both_databases_test_runs_on_each(backend, request):
    assert backend.kind in ("sqlite", "postgresql")
    assert request.node.callspec.params["backend"] == backend.kind


def test_other_tests_run_on_sqlite(backend, request):
    if request.config.getoption("--matrix"):
        assert backend.kind in ("sqlite", "postgresql")
    else:
        assert backend.kind == "sqlite"
