"""Test databases: one migrated template per backend and per process, a fresh copy per test.

Each pytest process (each ``pytest-xdist`` worker included) migrates a template once — a file for
SQLite, a ``CREATE DATABASE … TEMPLATE`` source for PostgreSQL — under a name unique to the process,
so workers never share or drop each other's databases. Every test then gets its own copy and
commits for real (the outbox, the worker and the retry tests need real commits).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..db import make_engine
from ..db.session import database_url
from ..migrate import migrate
from ..platform import prepare
from ..plugins.registry import ENTRY_POINT_GROUP, discover

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get(
    "TOTETAXI_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TOTETAXI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
#: The plugins a test app enables unless the test says otherwise.
TEST_PLUGINS = os.environ.get("TOTETAXI_TEST_PLUGINS", "example")


def service_unavailable(what: str, why: str) -> None:
    """Skip the current test when ``what`` is unreachable; fail it loudly under ``CI=true``.

    A CI run must exercise every service, so there an unreachable PostgreSQL or Redis is an
    error, never a quiet skip.
    """
    import pytest  # only ever called from a test

    message = f"{what} unreachable: {why}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: PostgreSQL and Redis tests must run)", pytrace=False)
    pytest.skip(message)


def base_settings(url: str, **overrides: Any) -> dict[str, Any]:
    """The settings of a test app on database ``url``, with ``overrides`` (values made strings).

    Test environment, the example plugin, eager tasks, no automatic sweep (tests drive it so it
    never races their assertions) and the cheap ``fast`` password-hash profile.
    """
    settings = {
        "sqlalchemy.url": url,
        "totetaxi.environment": "test",
        "totetaxi.plugins": TEST_PLUGINS,
        "totetaxi.tasks_mode": "eager",
        "totetaxi.config_file": "testing.ini",
        "retry.attempts": "3",
        "totetaxi.eager_sweep": "false",
        # argon2 at full cost is ~275 ms a hash: most of a typical test. Production refuses it.
        "totetaxi.password_hash_profile": "fast",
    }
    settings.update({k: str(v) if not isinstance(v, str) else v for k, v in overrides.items()})
    if (
        settings["totetaxi.environment"] != "test"
        and "totetaxi.password_hash_profile" not in overrides
    ):
        # Only the test environment accepts the cheap profile: a production- or development-like
        # test app gets the real cost.
        del settings["totetaxi.password_hash_profile"]
    return settings


def migrated_plugins(entry_points: Any = None) -> list[str]:
    """Every installed plugin that goes into the test template, by name.

    Discovered through the ``totetaxi.plugins`` entry points (a plugin pip-installed from another
    repository is included with no list to edit). Where several installed plugins provide the
    same slot, only the development-only ones (mock, console) are taken — a slot has one provider
    — and their real siblings' tables are left out; ``auto_install`` glue plugins come in by
    themselves when their dependencies do. Plugins that fail to import are left to the registry
    tests.
    """
    found = [p for p in discover(entry_points) if p.loaded]
    providers: dict[str, list[Any]] = {}
    for plugin in found:
        for slot in plugin.manifest.provides:
            providers.setdefault(slot, []).append(plugin)
    skipped: set[str] = set()
    for candidates in providers.values():
        if len(candidates) > 1:
            preferred = [p for p in candidates if p.manifest.development_only] or candidates[:1]
            skipped.update(p.name for p in candidates if p not in preferred[:1])
    return sorted(p.name for p in found if p.name not in skipped and not p.manifest.auto_install)


def _pg_admin_engine() -> sa.Engine:
    # database_url: a plain postgresql:// in TOTETAXI_TEST_PG_URL works as it does for the app.
    return sa.create_engine(
        database_url(PG_ADMIN_URL, "TOTETAXI_TEST_PG_URL"),
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=True,
    )


def pg_url(name: str) -> str:
    """The URL of database ``name`` on the test PostgreSQL server."""
    return str(sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False))


def _drop_pg(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Backend:
    """One database server kind (``sqlite`` or ``postgresql``): a fresh migrated database per test.

    ``kind`` is also what tests compare against (``if backend.kind == "postgresql"``).
    """

    def __init__(self, kind: str, tmp: Path, worker: str = "") -> None:
        self.kind = kind
        self.tmp = tmp
        # Unique per process: two xdist workers (or two concurrent runs) never collide.
        self.session_tag = f"{worker}{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []
        self.counter = 0
        self.plugins = migrated_plugins()
        if kind == "sqlite":
            self.template = tmp / "template.sqlite"
            url = f"sqlite:///{self.template}"
        else:
            self.admin = _pg_admin_engine()
            self.template_name = f"tt_test_{self.session_tag}_tpl"
            with self.admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{self.template_name}"'))
            self.created.append(self.template_name)
            url = pg_url(self.template_name)
        platform = prepare(
            base_settings(url, **{"totetaxi.plugins": " ".join(self.plugins)}), environ={}
        )
        engine = make_engine(platform.settings)
        migrate(platform, engine)
        engine.dispose()

    def new_url(self) -> str:
        """A fresh copy of the migrated template."""
        self.counter += 1
        if self.kind == "sqlite":
            path = self.tmp / f"db{self.counter}.sqlite"
            shutil.copyfile(self.template, path)
            return f"sqlite:///{path}"
        name = f"tt_test_{self.session_tag}_{self.counter}"
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template_name}"'))
        self.created.append(name)
        return pg_url(name)

    def empty_url(self) -> str:
        """A database with nothing in it (to migrate from scratch)."""
        self.counter += 1
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp / f'empty{self.counter}.sqlite'}"
        name = f"tt_test_{self.session_tag}_e{self.counter}"
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return pg_url(name)

    def drop(self, url: str) -> None:
        """Remove a database made by :meth:`new_url` or :meth:`empty_url` (files stay in tmp)."""
        if self.kind == "postgresql":
            name = sa.make_url(url).database
            _drop_pg(self.admin, name)
            self.created.remove(name)
        else:
            path = sa.make_url(url).database
            if path and os.path.exists(path):
                os.remove(path)  # keeps a long run's temp folder small

    def close(self) -> None:
        """Drop every database this backend still holds."""
        if self.kind == "postgresql":
            for name in reversed(self.created):
                _drop_pg(self.admin, name)
            self.admin.dispose()


_backends: dict[str, Backend] = {}


def get_backend(kind: str, tmp_path_factory: Any, worker: str = "") -> Backend:
    """The process's :class:`Backend` of ``kind``, made (and migrated) on first use.

    PostgreSQL being unreachable skips the test, or fails it under ``CI=true``.
    """
    if kind not in _backends:
        if kind == "postgresql":
            try:
                with _pg_admin_engine().connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
            except Exception as exc:
                service_unavailable("PostgreSQL at " + PG_ADMIN_URL, str(exc).splitlines()[0])
        _backends[kind] = Backend(kind, tmp_path_factory.mktemp(kind), worker)
    return _backends[kind]


def close_backends() -> None:
    """Drop every database of every backend of this process (end of session)."""
    for backend in _backends.values():
        backend.close()
    _backends.clear()


__all__ = [
    "ENTRY_POINT_GROUP",
    "IN_CI",
    "PG_ADMIN_URL",
    "REDIS_URL",
    "TEST_PLUGINS",
    "Backend",
    "base_settings",
    "close_backends",
    "get_backend",
    "migrated_plugins",
    "pg_url",
    "service_unavailable",
]
