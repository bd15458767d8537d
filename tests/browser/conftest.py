"""Browser-test harness: the real app behind a real HTTP server, driven by headless Chromium.

* ``make_live_server(**overrides)`` / ``live_server``: the WSGI app (SQLite, one fresh migrated
  database per test) served by waitress on an ephemeral loopback port in a daemon thread.
* ``browser`` (session): Debian's ``/usr/bin/chromium`` driven by the ``playwright`` package. This
  machine never downloads browsers (no ``playwright install``), and the network is closed, so
  Chromium is launched with the flags in ``CHROMIUM_ARGS``. Skips when Chromium or playwright is
  missing, fails instead under ``CI=true`` (``service_unavailable``).
* ``page``: a fresh browser context and page per test, 10 s default timeout, and any request to a
  non-loopback address aborted.
* ``csp_violations``: the Content-Security-Policy violations Chromium logs for ``page`` (its
  frames included) while the test runs; a test asserts it stays empty.

Every test under tests/browser is marked ``browser`` (``pytest -m "not browser"`` leaves them out).

This directory is a package (``__init__.py``) so its module names (``browser.test_console``) never
clash with the core's tests of the same file name.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import waitress
from pyramid.registry import Registry
from pyramid.router import Router
from waitress import wasyncore

from totetaxi_core import make_app
from totetaxi_core.platform import prepare
from totetaxi_core.testing import base_settings, get_backend, service_unavailable

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 10_000
#: Any URL that is not http(s) to a loopback host; such requests are aborted by ``page``.
NOT_LOOPBACK = re.compile(r"^(?!https?://(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?([/?#]|$))")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


# --- the app behind a real server ---------------------------------------------------------------


@pytest.fixture
def browser_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh, migrated SQLite database (one backend is enough for UI tests)."""
    return get_backend("sqlite", tmp_path_factory).new_url()


@dataclass
class LiveServer:
    """A running server: ``url`` is ``http://127.0.0.1:PORT`` (no trailing slash)."""

    url: str
    app: Router
    db_url: str
    server: Any = field(repr=False)
    thread: threading.Thread = field(repr=False)

    @property
    def registry(self) -> Registry:
        return self.app.registry

    def close(self) -> None:
        # Close the listening socket and every open (keep-alive) channel from the server's own
        # loop thread, so its socket map is never changed under it; the loop ends once it's empty.
        self.server.trigger.pull_trigger(lambda: wasyncore.close_all(self.server._map))
        self.thread.join(timeout=5)
        if self.thread.is_alive():  # pragma: no cover - the loop did not answer the trigger
            wasyncore.close_all(self.server._map, ignore_all=True)
            self.thread.join(timeout=5)
        self.server.task_dispatcher.shutdown()
        self.app.registry["dbengine"].dispose()


LiveServerFactory = Callable[..., LiveServer]


@pytest.fixture
def make_live_server(browser_db_url: str) -> Iterator[LiveServerFactory]:
    """Start the app on the test's database with settings overrides; stopped at teardown.

    ``make_live_server(**{"example.greeting": "hi"})``; ``environ`` is handed to ``prepare``
    (``{}`` by default, so the machine's TOTETAXI_* variables never leak in). Servers started in
    one test share its database.
    """
    servers: list[LiveServer] = []

    def factory(environ: dict[str, str] | None = None, **overrides: Any) -> LiveServer:
        app = make_app(prepare(base_settings(browser_db_url, **overrides), environ=environ or {}))
        try:
            server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
        except Exception:
            app.registry["dbengine"].dispose()
            raise
        # The socket listens already; the loop thread only starts answering.
        thread = threading.Thread(target=server.run, name="live-server", daemon=True)
        thread.start()
        live = LiveServer(
            url=f"http://127.0.0.1:{server.effective_port}",
            app=app,
            db_url=browser_db_url,
            server=server,
            thread=thread,
        )
        servers.append(live)
        return live

    yield factory
    for live in reversed(servers):
        live.close()


@pytest.fixture
def live_server(make_live_server: LiveServerFactory) -> LiveServer:
    """The app with the default test settings (example plugin, tasks eager)."""
    return make_live_server()


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium, one per session; skips (fails under CI=true) when missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        service_unavailable(
            "playwright (the browser tests' driver)", f"{exc}; pip install -e '.[test]'"
        )
    if not os.access(CHROMIUM, os.X_OK):
        service_unavailable(
            "Chromium for the browser tests",
            f"{CHROMIUM} not found; install Debian's package (apt-get install chromium, "
            "or `make browser-deps` as root), never `playwright install`",
        )
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
    except Exception:
        playwright.stop()
        raise
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A new context and page per test; requests to anything but loopback are aborted."""
    context = browser.new_context()
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.route(NOT_LOOPBACK, lambda route: route.abort("blockedbyclient"))
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def csp_violations(page: Any) -> list[str]:
    """The browser console's Content-Security-Policy messages for ``page`` and its frames.

    Chromium reports a blocked inline script, style or event handler, or a load the policy
    refuses, as a console error naming the "Content Security Policy"; the list fills as the test
    drives the page.
    """
    found: list[str] = []

    def listen(message: Any) -> None:
        if "Content Security Policy" in message.text:
            found.append(f"{message.location.get('url', '?')}: {message.text}")

    page.on("console", listen)
    return found
