"""The import contracts of ``make lint`` (pyproject's ``[tool.importlinter]``, DESIGN §3).

* The real tree keeps them.
* A misfit plugin (``tests/misfits/lint/totetaxi_misfit``: it imports a core internal and another
  plugin) breaks them: the same contracts, read from pyproject.toml with the misfit added to
  their plugin lists, written to a temporary config, fail naming the offending imports.
* Migration version folders are loaded by path, not imported as packages, so import-linter never
  sees them: their imports are checked here instead.

Each ``lint-imports`` run takes about a second (no cache, a few hundred modules).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MISFITS = ROOT / "tests" / "misfits" / "lint"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PLUGIN_PACKAGES = {
    "totetaxi_pricing",
    "totetaxi_payments",
    "totetaxi_notifications",
    "totetaxi_logistics",
    "totetaxi_documents",
    "totetaxi_crm",
    "totetaxi_monitoring_sentry",
    "totetaxi_example",
}
#: What a migration may import of the core.
MIGRATION_ALLOWED = ("totetaxi_core.db.types", "totetaxi_core.db.append_only")


def contracts_config() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def lint_imports(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    # From the repository root, where pyproject.toml is; the custom contract type is the core's
    # totetaxi_core.lint_contracts.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def toml_value(value: Any) -> str:
    """Strings and lists of strings as TOML (JSON's escapes are TOML's for these)."""
    return json.dumps(value)


def write_toml(path: Path, config: dict[str, Any]) -> None:
    lines = ["[tool.importlinter]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in config.items() if key != "contracts"]
    for contract in config["contracts"]:
        lines.append("[[tool.importlinter.contracts]]")
        lines += [f"{key} = {toml_value(value)}" for key, value in contract.items()]
    path.write_text("\n".join(lines) + "\n")


def test_the_contracts_are_the_ones_the_design_asks_for():
    config = contracts_config()
    assert set(config["root_packages"]) == {"totetaxi_core", *PLUGIN_PACKAGES}
    by_id = {c["id"]: c for c in config["contracts"]}
    core = by_id["core-imports-no-plugin"]
    assert core["type"] == "forbidden" and core["source_modules"] == ["totetaxi_core"]
    assert set(core["forbidden_modules"]) == PLUGIN_PACKAGES
    independent = by_id["plugins-independent"]
    assert independent["type"] == "independence"
    assert set(independent["modules"]) == PLUGIN_PACKAGES
    public = by_id["plugins-use-public-api"]
    assert public["type"] == "public_api" and set(public["source_modules"]) == PLUGIN_PACKAGES
    # Runtime code gets the facade only; migrations and tests are checked elsewhere.
    assert public["allowed_modules"] == ["totetaxi_core.plugin_api"]
    # The contract type ships with the core, for a plugin's own repository to use too.
    assert config["contract_types"] == [
        "public_api: totetaxi_core.lint_contracts.PublicApiContract"
    ]


def test_the_core_never_imports_its_contract_type():
    """import-linter is a test extra: only ``lint-imports`` loads totetaxi_core.lint_contracts."""
    import grimp

    graph = grimp.build_graph("totetaxi_core", cache_dir=None)
    assert "totetaxi_core.lint_contracts" in graph.modules
    assert graph.find_modules_that_directly_import("totetaxi_core.lint_contracts") == set()
    assert not (ROOT / "tools").exists()


def test_the_tree_keeps_every_contract():
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_a_plugin_importing_a_core_internal_and_another_plugin_breaks_the_contracts(tmp_path):
    config = contracts_config()
    config["root_packages"] = [*config["root_packages"], "totetaxi_misfit"]
    for contract in config["contracts"]:
        for key in ("forbidden_modules", "modules", "source_modules"):
            if key in contract and set(contract[key]) & PLUGIN_PACKAGES:
                contract[key] = [*contract[key], "totetaxi_misfit"]
    path = tmp_path / "contracts.toml"
    write_toml(path, config)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(MISFITS), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    }

    result = lint_imports(str(path), env=env)
    out = " ".join(result.stdout.split())  # the report wraps long lines
    assert result.returncode == 1, result.stdout + result.stderr
    assert "The core never imports a plugin KEPT" in out
    assert "Plugins are independent of each other BROKEN" in out
    assert "Plugins import the core only through totetaxi_core.plugin_api BROKEN" in out
    assert "1 kept, 2 broken" in out
    # Each broken contract names the offending import (and its line).
    assert "totetaxi_misfit -> totetaxi_pricing.catalog (l.7)" in out
    assert "totetaxi_misfit -> totetaxi_core.bookings.lifecycle (l.9)" in out
    assert "totetaxi_misfit -> totetaxi_core.testing.databases (l.16)" in out
    assert (
        "totetaxi_core.plugin_api"
        not in out.split("other than its public API:")[1].split("Import it from")[0]
    )  # the allowed import is not reported


def migration_files() -> list[Path]:
    found = [
        path
        for path in ROOT.glob("plugins/*/totetaxi_*/**/*.py")
        if "versions" in path.parts or path.parent.name.endswith("_migrations")
    ]
    found += ROOT.glob("tests/example_plugin/totetaxi_*/migrations/versions/*.py")
    return sorted(found)


def imported_modules(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(), str(path))
    names: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append((node.module, node.lineno))
    return names


def test_import_linter_does_not_see_migrations_so_their_imports_are_checked_here():
    files = migration_files()
    assert len(files) >= 5  # every plugin's branch, and the mock gateway's
    import grimp

    graph = grimp.build_graph(*sorted(PLUGIN_PACKAGES), cache_dir=None)
    assert not any(".versions." in module for module in graph.modules)
    offending = []
    for path in files:
        owner = path.relative_to(ROOT).parts[2]  # plugins/<dist>/<package>, tests/<dist>/<package>
        for module, line in imported_modules(path):
            top = module.split(".")[0]
            core_internal = top == "totetaxi_core" and module not in MIGRATION_ALLOWED
            other_plugin = top.startswith("totetaxi_") and top not in ("totetaxi_core", owner)
            if core_internal or other_plugin:
                offending.append(f"{path.relative_to(ROOT)}:{line} {module}")
    assert offending == []
