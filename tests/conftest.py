"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, apps, services.

Each backend is migrated once per session into a template (a file for SQLite, a template
database for PostgreSQL); every test gets its own copy, so tests commit for real (the outbox and
the worker need real commits) and never see each other's rows. PostgreSQL and Redis tests skip
with a reason when the service is unreachable, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import importlib
import os
import shutil
import site
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from webtest import TestApp

from totetaxi_core import make_app
from totetaxi_core.db import make_engine
from totetaxi_core.migrate import migrate
from totetaxi_core.platform import prepare

HERE = Path(__file__).resolve().parent
#: Plugin distributions kept under tests/ and installed into the environment by the suite itself,
#: as a third party's plugin would be (``make test`` installs them up front as well).
TEST_DISTRIBUTIONS = {"totetaxi-example": HERE / "example_plugin"}
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get(
    "TOTETAXI_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TOTETAXI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_PLUGINS = "example"
#: Installed into every test database (tables and seed data); tests enable what they need.
MIGRATED_PLUGINS = "example pricing payments_mock notifications mail_console"


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


def service_unavailable(what: str, why: str) -> None:
    """Skip outside CI, fail loudly under CI (a CI run must exercise every service)."""
    message = f"{what} unreachable: {why}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: PostgreSQL and Redis tests must run)", pytrace=False)
    pytest.skip(message)


def base_settings(url: str, **overrides: Any) -> dict[str, Any]:
    settings = {
        "sqlalchemy.url": url,
        "totetaxi.environment": "test",
        "totetaxi.plugins": TEST_PLUGINS,
        "totetaxi.tasks_mode": "eager",
        "totetaxi.config_file": "testing.ini",
        "retry.attempts": "3",
        # Tests drive the sweep themselves; an automatic one would race their assertions.
        "totetaxi.eager_sweep": "false",
    }
    settings.update({k: str(v) if not isinstance(v, str) else v for k, v in overrides.items()})
    return settings


def _pg_admin_engine() -> sa.Engine:
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def _pg_url(name: str) -> str:
    return str(sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False))


def _drop_pg(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Backend:
    """One database server kind: makes a fresh, migrated database per test."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.tmp = tmp
        self.session_tag = uuid.uuid4().hex[:8]
        self.created: list[str] = []
        self.counter = 0
        if kind == "sqlite":
            self.template = tmp / "template.sqlite"
            url = f"sqlite:///{self.template}"
        else:
            self.admin = _pg_admin_engine()
            self.template_name = f"tt_test_{self.session_tag}_tpl"
            with self.admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{self.template_name}"'))
            self.created.append(self.template_name)
            url = _pg_url(self.template_name)
        platform = prepare(base_settings(url, **{"totetaxi.plugins": MIGRATED_PLUGINS}),
                           environ={})
        engine = make_engine(platform.settings)
        migrate(platform, engine)
        engine.dispose()

    def new_url(self) -> str:
        self.counter += 1
        if self.kind == "sqlite":
            path = self.tmp / f"db{self.counter}.sqlite"
            shutil.copyfile(self.template, path)
            return f"sqlite:///{path}"
        name = f"tt_test_{self.session_tag}_{self.counter}"
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template_name}"'))
        self.created.append(name)
        return _pg_url(name)

    def empty_url(self) -> str:
        """A database with nothing in it (to migrate from scratch)."""
        self.counter += 1
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp / f'empty{self.counter}.sqlite'}"
        name = f"tt_test_{self.session_tag}_e{self.counter}"
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return _pg_url(name)

    def drop(self, url: str) -> None:
        if self.kind == "postgresql":
            name = sa.make_url(url).database
            _drop_pg(self.admin, name)
            self.created.remove(name)

    def close(self) -> None:
        if self.kind == "postgresql":
            for name in reversed(self.created):
                _drop_pg(self.admin, name)
            self.admin.dispose()


_backends: dict[str, Backend] = {}


def _backend(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    if kind not in _backends:
        if kind == "postgresql":
            try:
                with _pg_admin_engine().connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
            except Exception as exc:
                service_unavailable("PostgreSQL at " + PG_ADMIN_URL, str(exc).splitlines()[0])
        _backends[kind] = Backend(kind, tmp_path_factory.mktemp(kind))
    return _backends[kind]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for backend in _backends.values():
        backend.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """The database kind under test; every test using a database runs on both."""
    return _backend(request.param, tmp_path_factory)


@pytest.fixture
def pg_backend(tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """PostgreSQL only (concurrency, worker tests)."""
    return _backend("postgresql", tmp_path_factory)


@pytest.fixture
def db_url(backend: Backend) -> Iterator[str]:
    """A fresh, migrated database of the current backend, dropped afterwards."""
    url = backend.new_url()
    yield url
    backend.drop(url)


AppFactory = Callable[..., TestApp]


@pytest.fixture
def make_testapp(db_url: str) -> Iterator[AppFactory]:
    """Build a WebTest app on the test's database, with settings overrides."""
    engines = []

    def factory(environ: dict[str, str] | None = None, **overrides: Any) -> TestApp:
        settings = base_settings(db_url, **overrides)
        app = make_app(prepare(settings, environ=environ or {}))
        engines.append(app.registry["dbengine"])
        return TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})

    yield factory
    for engine in engines:
        engine.dispose()


@pytest.fixture
def testapp(make_testapp: AppFactory) -> TestApp:
    """The app with the example plugin, tasks eager."""
    return make_testapp()


@pytest.fixture
def redis_url() -> str:
    """The machine's Redis (a database index of its own); skip or fail when unreachable."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        service_unavailable("Redis at " + REDIS_URL, str(exc))
    return REDIS_URL


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_service_counts: dict[str, dict[str, int]] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    for marker in ("postgresql", "redis", "worker"):
        if marker in report.keywords:
            counts = _service_counts.setdefault(marker, {"passed": 0, "failed": 0, "skipped": 0})
            counts[report.outcome] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Show how many tests really ran against each service (CI must not skip them)."""
    terminalreporter.section("services exercised")
    for marker in ("postgresql", "redis", "worker"):
        counts = _service_counts.get(marker, {"passed": 0, "failed": 0, "skipped": 0})
        terminalreporter.write_line(
            f"{marker} tests - passed {counts['passed']}, failed {counts['failed']}, "
            f"skipped {counts['skipped']}"
        )


# --- identity helpers ---------------------------------------------------------------------

STRONG_PASSWORD = "Correct-Horse-Battery-9"


def in_transaction(registry: Any, work: Callable[[Any], Any]) -> Any:
    """Run ``work(ctx)`` in a committed transaction of its own (set-up outside a request)."""
    from totetaxi_core.context import Context
    from totetaxi_core.db import unit_of_work

    with unit_of_work(registry["dbsession_factory"]) as (dbsession, tm):
        result = work(Context(registry=registry, dbsession=dbsession, transaction_manager=tm))
        dbsession.flush()
        if hasattr(result, "id"):
            dbsession.expunge(result)
        return result


def make_staff(registry: Any, role: str, email: str | None = None,
               password: str = STRONG_PASSWORD) -> Any:
    """A staff user created through the service (audited like the CLI would)."""
    from totetaxi_core.identity.services import create_staff

    email = email or f"{role}-{uuid.uuid4().hex[:6]}@totetaxi.test"
    return in_transaction(
        registry, lambda ctx: create_staff(ctx, email=email, password=password, role=role,
                                           first_name=role.title(), last_name="Tester")
    )


def register_customer(app: TestApp, email: str | None = None,
                      password: str = STRONG_PASSWORD) -> dict[str, Any]:
    """Register through the API (the app's cookie jar is then signed in as that customer)."""
    email = email or f"c-{uuid.uuid4().hex[:6]}@example.com"
    answer = app.post_json("/api/v1/auth/register", {
        "email": email, "password": password, "first_name": "Casey", "last_name": "Client",
        "phone": "+1 212 555 0100",
    }, status=201)
    return {**answer.json["customer"], "password": password,
            "csrf": answer.headers["X-CSRF-Token"]}


def bearer(app: TestApp, email: str, password: str = STRONG_PASSWORD, staff: bool = False) -> dict:
    """Authorization headers for a fresh bearer token."""
    path = "/api/v1/staff/auth/token" if staff else "/api/v1/auth/token"
    token = app.post_json(path, {"email": email, "password": password}).json["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def new_client(testapp: TestApp) -> Callable[[], TestApp]:
    """Another browser on the same app: its own cookie jar."""

    def factory() -> TestApp:
        return TestApp(testapp.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})

    return factory


@pytest.fixture
def redis_app(make_testapp, redis_url: str) -> Iterator[TestApp]:
    """The app with sessions and throttle counters in Redis, under a key prefix of its own
    (removed afterwards), and a login limit of 2 per account."""
    import redis

    app = make_testapp(**{"totetaxi.state_backend": "redis", "totetaxi.redis_url": redis_url,
                          "totetaxi.login_limit_per_account": 2})
    prefix = f"tt-test-{uuid.uuid4().hex[:8]}:"
    app.app.registry.session_store.prefix = prefix
    for throttle in vars(app.app.registry.throttles).values():
        throttle.backend.prefix = prefix + "throttle:"
    yield app
    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter(f"{prefix}*"):
        connection.delete(key)
