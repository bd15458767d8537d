"""pyramid_retry replays a request that hit a PostgreSQL serialization failure."""

from __future__ import annotations

import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import waitress

from totetaxi_core import make_app
from totetaxi_core.platform import prepare
from totetaxi_core.testing import base_settings

pytestmark = pytest.mark.postgresql


@pytest.fixture
def server(pg_backend):
    url = pg_backend.new_url()
    settings = base_settings(url, **{"retry.attempts": 30, "example.counter_delay_ms": 20})
    app = make_app(prepare(settings, environ={}))
    srv = waitress.create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}"
    srv.close()
    app.registry["dbengine"].dispose()
    pg_backend.drop(url)


def _post(url: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=b"{}", method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_concurrent_serializable_writes_are_retried_not_lost(server):
    counter = f"{server}/api/v1/example/counters/hits"
    assert _post(counter)[0] == 200  # the row exists before the race
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: _post(counter), range(24)))
    assert [status for status, _ in answers] == [200] * 24
    values = sorted(body["value"] for _, body in answers)
    assert values == list(range(2, 26))  # no lost update, no duplicate
    assert max(body["attempt"] for _, body in answers) > 0  # some were replayed
