"""Sessions and throttle counters in Redis (the production state backend)."""

from __future__ import annotations

import time

import pytest
import redis
from webtest import TestApp

from totetaxi_core.testing import STRONG_PASSWORD, register_customer

pytestmark = pytest.mark.redis


def _keys(redis_url, app, pattern):
    client = redis.Redis.from_url(redis_url)
    return list(client.scan_iter(app.app.registry.session_store.prefix + pattern))


def test_sessions_live_in_redis_with_a_ttl(redis_app, redis_url):
    register_customer(redis_app)
    assert redis_app.get("/api/v1/me").json["first_name"] == "Casey"
    [key] = _keys(redis_url, redis_app, "session:*")
    ttl = redis.Redis.from_url(redis_url).ttl(key)
    assert 0 < ttl <= 14 * 86400
    from sqlalchemy import func, select

    from totetaxi_core.identity.models import AuthSession

    with redis_app.app.registry["dbsession_factory"]() as s:
        assert s.scalar(select(func.count()).select_from(AuthSession)) == 0


def test_logout_and_password_change_end_redis_sessions(redis_app, redis_url):
    customer = register_customer(redis_app)
    other = TestApp(redis_app.app)
    other.post_json("/api/v1/auth/login", {"email": customer["email"], "password": STRONG_PASSWORD})
    assert len(_keys(redis_url, redis_app, "session:*")) == 2
    redis_app.post_json(
        "/api/v1/me/password",
        {"current_password": STRONG_PASSWORD, "new_password": "Brand-New-Password-5"},
        headers={"X-CSRF-Token": customer["csrf"]},
        status=204,
    )
    other.get("/api/v1/me", status=401)
    redis_app.get("/api/v1/me", status=200)
    csrf = redis_app.get("/api/v1/auth/csrf").json["csrf_token"]
    redis_app.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}, status=204)
    redis_app.get("/api/v1/me", status=401)
    assert _keys(redis_url, redis_app, "session:*") == []


def test_throttle_counters_live_in_redis(redis_app, redis_url):
    customer = register_customer(redis_app)
    client = TestApp(redis_app.app, extra_environ={"REMOTE_ADDR": "10.7.7.7"})
    for _ in range(2):
        client.post_json(
            "/api/v1/auth/login",
            {"email": customer["email"], "password": "Wrong-Password-1"},
            status=401,
        )
    client.post_json(
        "/api/v1/auth/login", {"email": customer["email"], "password": STRONG_PASSWORD}, status=429
    )
    assert _keys(redis_url, redis_app, "throttle:login-account:*")


def test_redis_counters_forgive_a_success(redis_app, redis_url):
    throttle = redis_app.app.registry.throttles.login_address
    now = time.time()
    assert throttle.admit("10.0.0.1", now) is None
    throttle.forgive("10.0.0.1", now)
    throttle.forgive("10.0.0.1", now)  # never below zero
    assert throttle.backend.count(throttle._key("10.0.0.1"), throttle._window(now)) == 0
    throttle.forgive("10.0.0.2", now)  # a counter that does not exist is not created
    name = f"{throttle.backend.prefix}{throttle._key('10.0.0.2')}:{throttle._window(now)}"
    assert not redis.Redis.from_url(redis_url).exists(name)
