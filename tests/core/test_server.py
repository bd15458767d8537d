"""The production server (totetaxi_core/server.py): gunicorn from ``[server:main]``.

The option checks and the WSGI wrappers are plain function calls; one test starts the real
thing — ``pserve`` on a loopback port with two workers — asks ``/healthz``, sends ``HUP`` and
asks again from the new workers, then ``TERM`` (a few seconds, bounded by deadlines).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plaster
import pytest
from webob import Request

from totetaxi_core.errors import SettingsError
from totetaxi_core.server import limit_body, server_options, wrap
from totetaxi_core.testing import base_settings, free_port

ROOT = Path(__file__).resolve().parents[2]


def section(ini: str, name: str) -> dict[str, Any]:
    return dict(plaster.get_loader(str(ROOT / ini), protocols=["wsgi"]).get_settings(name))


def test_production_serves_with_gunicorn_and_its_options_parse() -> None:
    conf = section("production.ini", "server:main")
    assert conf["use"] == "egg:totetaxi-core#gunicorn"
    options, own = server_options(conf, environ={})
    assert options["workers"] == 2 and options["threads"] == 4
    assert options["worker_class"] == "gthread" and options["preload_app"] is True
    assert options["bind"] == ["0.0.0.0:6543"]
    assert options["max_requests"] == "10000" and options["max_requests_jitter"] == "1000"
    assert options["forwarded_allow_ips"] == own["trusted_proxy"] == "127.0.0.1"
    # the single-process alternatives are waitress
    assert section("production.ini", "server:waitress")["use"] == "egg:waitress#main"
    assert section("development.ini", "server:waitress")["use"] == "egg:waitress#main"
    # development serves the web app and the live app from one process (tests/core/test_live)
    assert section("development.ini", "server:main")["use"] == "egg:totetaxi-core#development"


def test_worker_and_thread_counts_come_from_the_environment() -> None:
    conf = {"workers": "2", "threads": "4"}
    options, _ = server_options(conf, {"TOTETAXI_WEB_WORKERS": "3", "TOTETAXI_WEB_THREADS": "8"})
    assert (options["workers"], options["threads"]) == (3, 8)
    options, _ = server_options({"workers": "auto"}, {})
    assert options["workers"] >= 1


def test_the_listen_address_comes_from_the_environment() -> None:
    conf = {"listen": "0.0.0.0:6543"}
    options, _ = server_options(conf, {"TOTETAXI_WEB_LISTEN": "127.0.0.1:7001 [::1]:7001"})
    assert options["bind"] == ["127.0.0.1:7001", "[::1]:7001"]
    assert server_options(conf, {})[0]["bind"] == ["0.0.0.0:6543"]


@pytest.mark.parametrize(
    ("conf", "environ", "named"),
    [
        ({"wokers": "2"}, {}, "'wokers'"),
        ({"workers": "0"}, {}, "'workers'"),
        ({"workers": "2"}, {"TOTETAXI_WEB_WORKERS": "many"}, "TOTETAXI_WEB_WORKERS"),
        ({"timeout": "soon"}, {}, "'timeout'"),
        ({"preload_app": "false"}, {}, "'preload_app'"),
        ({"listen": "127.0.0.1:1", "bind": "127.0.0.1:2"}, {}, "'listen'"),
    ],
)
def test_a_bad_server_option_stops_start_up_naming_it(
    conf: dict[str, str], environ: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        server_options(conf, environ)


def seen(app_environ: dict[str, Any]) -> Any:
    """A WSGI app recording what it was given."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        app_environ.update(environ)
        app_environ["body"] = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    return app


PROXY = {"trusted_proxy": "10.0.0.1", "trusted_proxy_headers": "x-forwarded-for x-forwarded-proto"}


def test_forwarded_headers_are_believed_from_the_trusted_proxy_only() -> None:
    got: dict[str, Any] = {}
    app = wrap(seen(got), PROXY)
    spoofed = {"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"}
    Request.blank("/", remote_addr="203.0.113.9", headers=spoofed).get_response(app)
    assert Request(got).client_addr == "203.0.113.9"
    assert "HTTP_X_FORWARDED_FOR" not in got and got["wsgi.url_scheme"] == "http"
    got.clear()
    # the proxy appends the peer it saw; what the client wrote before that is not believed
    forwarded = {"X-Forwarded-For": "1.2.3.4, 198.51.100.7", "X-Forwarded-Proto": "https"}
    Request.blank("/", remote_addr="10.0.0.1", headers=forwarded).get_response(app)
    assert Request(got).client_addr == "198.51.100.7" == got["REMOTE_ADDR"]
    assert got["wsgi.url_scheme"] == "https"


def test_a_body_over_the_limit_is_413_without_reading_it_all() -> None:
    got: dict[str, Any] = {}
    app = limit_body(seen(got), 10)
    assert Request.blank("/", method="POST", body=b"x" * 11).get_response(app).status_int == 413
    assert got == {}
    stream = io.BytesIO(b"y" * 1000)
    chunked = Request.blank("/", method="POST", headers={"Transfer-Encoding": "chunked"})
    chunked.environ.pop("CONTENT_LENGTH", None)
    chunked.environ["wsgi.input"] = stream
    assert chunked.get_response(app).status_int == 413
    assert stream.tell() == 11 and got == {}
    small = Request.blank("/", method="POST", headers={"Transfer-Encoding": "chunked"})
    small.environ.pop("CONTENT_LENGTH", None)
    small.environ["wsgi.input"] = io.BytesIO(b"hello")
    assert small.get_response(app).status_int == 200
    assert got["body"] == b"hello" and got["CONTENT_LENGTH"] == "5"


# -- the real server -------------------------------------------------------------------------


def children(pid: int) -> set[int]:
    """Ids of the live processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":  # a worker exited but not yet reaped
            found.add(int(stat.parent.name))
    return found


def wait_for(check: Any, what: str, deadline: float, process: subprocess.Popen, log: Path) -> Any:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server stopped while waiting for {what}:\n{log.read_text()[-3000:]}")
        result = check()
        if result:
            return result
        time.sleep(0.05)
    pytest.fail(f"no {what} before the deadline:\n{log.read_text()[-3000:]}")


def healthz(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int, Path]]:
    port = free_port()
    settings = "\n".join(f"{k} = {v}" for k, v in base_settings(db_url).items())
    ini = tmp_path / "server.ini"
    ini.write_text(
        f"[app:main]\nuse = egg:totetaxi-core\n{settings}\n\n"
        "[server:main]\nuse = egg:totetaxi-core#gunicorn\n"
        f"listen = 127.0.0.1:{port}\nworkers = 2\nthreads = 2\ngraceful_timeout = 10\n"
    )
    log = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOTETAXI_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "pserve"), str(ini)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        yield process, port, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_gunicorn_serves_with_two_workers_and_survives_a_hup(served: Any) -> None:
    process, port, log = served
    deadline = time.monotonic() + 60
    wait_for(lambda: healthz(port), "answer from /healthz", deadline, process, log)
    first = wait_for(
        lambda: (lambda w: w if len(w) == 2 else None)(children(process.pid)),
        "two workers",
        deadline,
        process,
        log,
    )
    process.send_signal(signal.SIGHUP)
    # two new workers, the old ones gone: the master replaced them and kept its socket
    wait_for(
        lambda: (lambda w: len(w) == 2 and not w & first)(children(process.pid)),
        "two new workers after HUP",
        time.monotonic() + 30,
        process,
        log,
    )
    assert healthz(port)
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert not healthz(port)
