"""The pytest plugin (entry point ``pytest11: totetaxi``): fixtures, markers and the matrix.

Loaded automatically in any environment where ``totetaxi-core[test]`` is installed, so a plugin
kept in another repository gets the same fixtures as the core's own suite:

* ``backend`` / ``db_url`` — a fresh migrated database per test. SQLite only, unless the test
  is marked ``both_databases`` (its answer depends on the database: locking, concurrency,
  ON CONFLICT, triggers, migrations, NUL bytes, keyset paging, retries, ordering) or the run is
  the full matrix (``--matrix`` or ``TOTETAXI_TEST_MATRIX=1``, ``make test-matrix``).
* ``pg_backend`` — PostgreSQL only; ``make_testapp``, ``testapp``, ``new_client``,
  ``redis_url``, ``redis_app``.
* a "services exercised" summary: how many tests really ran against PostgreSQL, Redis and a
  worker (counted in the controller, so it also adds up under ``pytest-xdist``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    # WebTest is imported where a fixture needs it: this module is registered as a pytest
    # plugin wherever the core is installed, and must not break pytest without the test extra.
    from webtest import TestApp

from .contracts import SlotContract
from .databases import (
    REDIS_URL,
    Backend,
    base_settings,
    close_backends,
    get_backend,
    service_unavailable,
)

MATRIX_ENV = "TOTETAXI_TEST_MATRIX"
SERVICE_MARKERS = ("postgresql", "redis", "worker")
MARKERS = {
    "both_databases": "the answer depends on the database: runs on SQLite and PostgreSQL",
    "postgresql": "needs the PostgreSQL server",
    "redis": "needs the Redis server",
    "worker": "starts a real Celery worker process",
    "validation_only": "writes nothing and changes no app state: shares one app per module",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("totetaxi")
    group.addoption(
        "--matrix",
        action="store_true",
        default=False,
        help=f"run every test using `backend` on SQLite and PostgreSQL (also {MATRIX_ENV}=1)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    _let_pkg_resources_read_the_core()


def _let_pkg_resources_read_the_core() -> None:
    """Let Pyramid's static views serve the core's files (the console's stylesheet) in tests.

    pytest imports this distribution, a pytest plugin, through its assertion-rewriting import
    hook, and pkg_resources (which Pyramid's static views ask whether a file exists) refuses
    modules whose loader it does not know; pytest stopped registering its hook with it. The
    modules are plain files on disk, which pkg_resources' default provider reads.
    """
    import pkg_resources

    import totetaxi_core

    # Harmless when the loader is an ordinary one: it maps to the default provider already.
    pkg_resources.register_loader_type(
        type(totetaxi_core.__spec__.loader), pkg_resources.DefaultProvider
    )


def full_matrix(config: pytest.Config) -> bool:
    """Whether every ``backend`` test runs on both databases in this run."""
    return bool(config.getoption("--matrix")) or os.environ.get(MATRIX_ENV, "") in ("1", "true")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    cls = metafunc.cls
    if (
        cls is not None
        and issubclass(cls, SlotContract)
        and "slot_provider" in metafunc.fixturenames
    ):
        metafunc.parametrize("slot_provider", list(cls.providers), indirect=True)
    # ``backend`` is parametrized here rather than by the fixture, so that the marker (or the
    # matrix switch) decides which databases a test runs on.
    if "backend" not in metafunc.fixturenames:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", "")
        if "backend" in (
            [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        ):
            return  # the test chose its database itself
    kinds: list[Any] = ["sqlite"]
    if full_matrix(metafunc.config) or metafunc.definition.get_closest_marker("both_databases"):
        kinds.append(pytest.param("postgresql", marks=pytest.mark.postgresql))
    metafunc.parametrize("backend", kinds, indirect=True)


def _worker(config: pytest.Config) -> str:
    return getattr(config, "workerinput", {}).get("workerid", "")


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """The database kind under test (``backend.kind``): SQLite, and PostgreSQL as well for
    tests marked ``both_databases`` or in the full matrix."""
    kind = getattr(request, "param", "sqlite")
    return get_backend(kind, tmp_path_factory, _worker(request.config))


@pytest.fixture
def pg_backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """PostgreSQL only (concurrency and worker tests); skips, or fails under CI, when down."""
    return get_backend("postgresql", tmp_path_factory, _worker(request.config))


@pytest.fixture
def db_url(backend: Backend) -> Iterator[str]:
    """A fresh, migrated database of the current backend, dropped afterwards."""
    url = backend.new_url()
    yield url
    backend.drop(url)


AppFactory = Callable[..., "TestApp"]


class _ModuleApps:
    """The apps of one test module's ``validation_only`` tests, one per set of settings, on one
    SQLite database of the module's own."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.apps: dict[str, Any] = {}

    def get(self, environ: dict[str, str] | None, overrides: dict[str, Any]) -> Any:
        from .. import make_app
        from ..platform import prepare

        key = repr((sorted((environ or {}).items()), sorted(overrides.items())))
        if key not in self.apps:
            settings = base_settings(self.url, **overrides)
            self.apps[key] = make_app(prepare(settings, environ=environ or {}))
        return self.apps[key]

    def close(self) -> None:
        for app in self.apps.values():
            app.registry["dbengine"].dispose()


@pytest.fixture(scope="module")
def _module_apps(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[_ModuleApps]:
    backend = get_backend("sqlite", tmp_path_factory, _worker(request.config))
    apps = _ModuleApps(backend.new_url())
    yield apps
    apps.close()
    backend.drop(apps.url)


@pytest.fixture
def make_testapp(
    request: pytest.FixtureRequest, db_url: str, backend: Backend
) -> Iterator[AppFactory]:
    """``make_testapp(environ=None, **settings)``: a WebTest app on the test's database, with
    :func:`~totetaxi_core.testing.base_settings` plus the overrides given.

    A test marked ``validation_only`` (it writes nothing and changes no app state: clock, hooks,
    caches) gets, on SQLite, an app shared by the module's other such tests with the same
    settings — building an app is most of a small test's time. Each call still returns a client
    with its own cookie jar.
    """
    from .. import make_app
    from ..platform import prepare

    engines = []
    shared = (
        request.node.get_closest_marker("validation_only") is not None and backend.kind == "sqlite"
    )

    from webtest import TestApp

    def factory(environ: dict[str, str] | None = None, **overrides: Any) -> TestApp:
        if shared:
            app = request.getfixturevalue("_module_apps").get(environ, overrides)
        else:
            settings = base_settings(db_url, **overrides)
            app = make_app(prepare(settings, environ=environ or {}))
            engines.append(app.registry["dbengine"])
        return TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})

    yield factory
    for engine in engines:
        engine.dispose()


@pytest.fixture
def testapp(make_testapp: AppFactory) -> TestApp:
    """The app with the default test plugins (``example``), tasks eager."""
    return make_testapp()


@pytest.fixture
def new_client(testapp: TestApp) -> Callable[[], TestApp]:
    """Another browser on the same app: its own cookie jar."""
    from webtest import TestApp

    def factory() -> TestApp:
        return TestApp(testapp.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})

    return factory


@pytest.fixture
def redis_url() -> str:
    """The machine's Redis (a database index of its own); skip, or fail under CI, when down."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        service_unavailable("Redis at " + REDIS_URL, str(exc))
    return REDIS_URL


@pytest.fixture
def redis_app(make_testapp: AppFactory, redis_url: str) -> Iterator[TestApp]:
    """The app with sessions and throttle counters in Redis, under a key prefix of its own
    (removed afterwards), and a login limit of 2 per account."""
    import redis

    app = make_testapp(
        **{
            "totetaxi.state_backend": "redis",
            "totetaxi.redis_url": redis_url,
            "totetaxi.login_limit_per_account": 2,
        }
    )
    prefix = f"tt-test-{uuid.uuid4().hex[:8]}:"
    app.app.registry.session_store.prefix = prefix
    for throttle in vars(app.app.registry.throttles).values():
        throttle.backend.prefix = prefix + "throttle:"
    yield app
    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter(f"{prefix}*"):
        connection.delete(key)


# --- slot contracts -------------------------------------------------------------------------


@pytest.fixture
def slot_provider(request: pytest.FixtureRequest) -> str:
    """The provider a :class:`~totetaxi_core.testing.SlotContract` test runs against."""
    return request.param


# --- services exercised ---------------------------------------------------------------------

_service_counts: dict[str, dict[str, int]] = {}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    close_backends()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Under xdist this runs in the controller too (with the workers' reports), which is where
    # the summary is printed; in a worker nobody prints it, so the double count is harmless.
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    for marker in SERVICE_MARKERS:
        if marker in report.keywords:
            counts = _service_counts.setdefault(marker, {"passed": 0, "failed": 0, "skipped": 0})
            counts[report.outcome] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Show how many tests really ran against each service (CI must not skip them)."""
    terminalreporter.section("services exercised")
    for marker in SERVICE_MARKERS:
        counts = _service_counts.get(marker, {"passed": 0, "failed": 0, "skipped": 0})
        terminalreporter.write_line(
            f"{marker} tests - passed {counts['passed']}, failed {counts['failed']}, "
            f"skipped {counts['skipped']}"
        )
