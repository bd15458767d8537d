"""A dependency down (Redis, PostgreSQL): 503 with Retry-After in the error shape, no traceback."""

from __future__ import annotations

import psycopg2
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from webtest import TestApp

from totetaxi_core import make_app
from totetaxi_core.ops.outages import RETRY_AFTER_SECONDS, unavailable
from totetaxi_core.platform import prepare
from totetaxi_core.testing import base_settings, free_port, register_customer


def assert_outage(answer, what: str) -> None:
    assert answer.status_int == 503
    assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    [error] = answer.json["errors"]
    assert (answer.json["status"], error["name"], error["location"]) == ("error", what, "server")
    assert "Traceback" not in answer.text


def test_redis_down_answers_503_and_the_console_a_plain_503(make_testapp, caplog):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    app = make_testapp(**{"totetaxi.state_backend": "redis", "totetaxi.redis_url": closed})
    # Public reads need no Redis.
    app.get("/api/v1/auth/csrf", status=200)
    browser = TestApp(app.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    browser.set_cookie("tt_session", "a-stored-session-key")
    assert_outage(browser.get("/api/v1/me", expect_errors=True), "redis")
    page = browser.get("/console/", expect_errors=True)
    assert page.status_int == 503 and page.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "Traceback" not in page.text
    # A login counts attempts in Redis: refused as an outage, not as bad credentials.
    csrf = TestApp(app.app).get("/api/v1/auth/csrf")
    visitor = TestApp(app.app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    visitor.set_cookie("tt_session", csrf.headers["Set-Cookie"].split(";")[0].split("=", 1)[1])
    answer = visitor.post_json(
        "/api/v1/auth/login",
        {"email": "x@example.com", "password": "Wrong-Password-1"},
        headers={"X-CSRF-Token": csrf.json["csrf_token"]},
        expect_errors=True,
    )
    assert_outage(answer, "redis")
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # warnings, no tracebacks


@pytest.mark.postgresql
def test_a_database_connection_lost_answers_503_then_serves_again(pg_backend):
    url = pg_backend.new_url()
    # No pre-ping (the default): the pooled connection is used as it is, as when PostgreSQL
    # restarts under a connection the pool holds.
    app = make_app(prepare(base_settings(url), environ={}))
    try:
        client = TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
        register_customer(client)
        with sa.create_engine(url).connect() as admin:
            admin.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        assert_outage(client.get("/api/v1/me", expect_errors=True), "database")
        # The invalidated connection was dropped from the pool: the next request reconnects.
        assert client.get("/api/v1/me").json["first_name"] == "Casey"
    finally:
        app.registry["dbengine"].dispose()
        pg_backend.drop(url)


def _wrapped(orig: Exception) -> OperationalError:
    return OperationalError("SELECT 1", {}, orig)


class _Coded(Exception):
    def __init__(self, pgcode: str) -> None:
        super().__init__(pgcode)
        self.pgcode = pgcode


@pytest.mark.parametrize(
    ("pgcode", "what"),
    [("08006", "database"), ("57P01", "database"), ("57014", None), ("40001", None)],
)
def test_only_a_lost_connection_is_an_outage(pgcode, what):
    # 57014 (statement timeout) and 40001 (serialization failure) are answers of a live server.
    assert unavailable(_wrapped(_Coded(pgcode))) == what


def test_a_server_that_never_answered_is_an_outage():
    try:
        psycopg2.connect(host="127.0.0.1", port=free_port(), connect_timeout=2)
    except psycopg2.OperationalError as exc:
        assert unavailable(_wrapped(exc)) == "database"
    assert unavailable(ValueError("no")) is None
