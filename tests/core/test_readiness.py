"""``/readyz``: each dependency with its status and latency, and a 503 naming what is down —
Redis on a closed port, and a plugin's check through ``totetaxi_readiness_checks``."""

from __future__ import annotations

import pytest

from totetaxi_core.hooks import hookimpl
from totetaxi_core.ops.health import redis_urls
from totetaxi_core.testing import free_port


class StorageChecks:
    """A plugin's readiness hook: ``storage`` answers or raises as told."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0

    def check(self) -> None:
        self.calls += 1
        if self.down:
            raise ConnectionError("bucket unreachable at 10.0.0.9")

    @hookimpl
    def totetaxi_readiness_checks(self, registry):
        assert registry.settings  # called with the app's registry
        return {"storage": self.check, "database": self.check}  # a core name is not taken over


def test_a_plugin_check_is_reported_and_its_failure_is_a_503_naming_it(testapp, caplog):
    plugin = StorageChecks()
    testapp.app.registry.hooks.register(plugin, "readiness-test")
    ready = testapp.get("/readyz").json
    assert ready["status"] == "ok"
    assert set(ready["checks"]) == {"database", "storage"}
    for result in ready["checks"].values():
        assert result["status"] == "ok" and isinstance(result["latency_ms"], float)
    assert plugin.calls == 1  # once, as storage: database stays the core's

    plugin.down = True
    answer = testapp.get("/readyz", status=503)
    assert answer.headers["Retry-After"] == "5"
    body = answer.json
    assert body["status"] == "error"
    assert body["errors"] == [
        {"location": "dependency", "name": "storage", "description": "storage is unavailable."}
    ]
    assert body["checks"]["storage"]["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "ok"
    assert "10.0.0.9" not in answer.text  # the reason is for the log
    logged = [r for r in caplog.records if r.name == "totetaxi.readyz" and r.exc_info]
    assert "10.0.0.9" in str(logged[-1].exc_info[1])


def test_redis_on_a_closed_port_is_a_503_naming_redis(make_testapp):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    app = make_testapp(**{"totetaxi.state_backend": "redis", "totetaxi.redis_url": closed})
    body = app.get("/readyz", status=503).json
    assert [error["name"] for error in body["errors"]] == ["redis"]
    assert body["checks"]["redis"]["status"] == "unavailable"
    assert body["checks"]["redis"]["latency_ms"] < 2500  # refused at once, never a hang
    assert body["checks"]["database"]["status"] == "ok"


@pytest.mark.redis
def test_a_reachable_redis_is_ready(make_testapp, redis_url):
    app = make_testapp(**{"totetaxi.live_backend": "redis", "totetaxi.redis_url": redis_url})
    checks = app.get("/readyz").json["checks"]
    assert checks["redis"]["status"] == "ok"


def test_which_redis_servers_are_checked():
    base = {"totetaxi.state_backend": "database", "totetaxi.live_backend": "memory"}
    assert redis_urls({**base, "totetaxi.redis_url": "redis://a/0"}) == {}  # set but unused
    sessions = {**base, "totetaxi.state_backend": "redis", "totetaxi.redis_url": "redis://a/0"}
    assert redis_urls(sessions) == {"redis": "redis://a/0"}
    live = {**sessions, "totetaxi.live_backend": "redis", "totetaxi.live_redis_url": "redis://b/0"}
    assert redis_urls(live) == {"redis": "redis://a/0", "live_redis": "redis://b/0"}
