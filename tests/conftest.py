"""This repository's suite: the fixtures come from the test kit (``totetaxi_core.testing``,
loaded by pytest through its ``pytest11`` entry point), as they would in a plugin's own repo.

All this file adds is the plugin distributions kept under tests/, installed into the
environment the way a third party's plugin would be (``make test`` installs them up front; this
is for a bare ``pytest`` in a fresh environment). It is also what puts tests/ on ``sys.path``
(pytest's rootdir conftest rule), so the helper package ``support`` and the misfit plugins
(``misfits``) import by name.
"""

from __future__ import annotations

import importlib
import site
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
#: Plugin distributions kept under tests/ and installed into the environment by the suite itself.
TEST_DISTRIBUTIONS = {"totetaxi-example": HERE / "example_plugin"}


def pytest_configure(config: pytest.Config) -> None:
    missing = []
    for name, path in TEST_DISTRIBUTIONS.items():
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(path)
    if missing:
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        for path in missing:
            command += ["-e", str(path)]
        subprocess.run(command, check=True)
        # Make the new editable install importable in this very process.
        for directory in site.getsitepackages():
            site.addsitedir(directory)
        importlib.invalidate_caches()
