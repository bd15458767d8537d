"""Benchmark: what the platform's plumbing costs, as ratios against a baseline in the same run.

- pricing: a quote against reading the catalog; 93 days of availability against one day;

- hook dispatch: ``HookBus.call`` against calling pluggy's hook caller directly;
- the outbox: a request that writes a row and queues a task (eager mode: the task runs in its own
  transaction after commit) against a request that only writes a row;
- broker mode: the same request publishing to Redis after commit (skipped without Redis).

Bounded: a fixed number of iterations each, in-process (WebTest), SQLite in a temporary folder.
Run with ``make bench`` (needs the example plugin from tests/, which ``make bench`` installs).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from webtest import TestApp

from totetaxi_core import make_app
from totetaxi_core.db import make_engine
from totetaxi_core.migrate import migrate
from totetaxi_core.platform import prepare

ITERATIONS = int(os.environ.get("BENCH_ITERATIONS", "200"))
REDIS_URL = os.environ.get("TOTETAXI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def timed(func: Callable[[int], object], n: int) -> float:
    """Median seconds per call over ``n`` calls (after 10 warm-up calls)."""
    for i in range(10):
        func(-1 - i)
    samples = []
    for i in range(n):
        started = time.perf_counter()
        func(i)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def settings(url: str, **extra: str) -> dict[str, str]:
    return {
        "sqlalchemy.url": url,
        "totetaxi.plugins": "example pricing",
        "totetaxi.environment": "test",
        "example.max_notes": "1000",
        **extra,
    }


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="tt-bench-"))
    url = f"sqlite:///{folder / 'bench.sqlite'}"
    platform = prepare(settings(url), environ={})
    migrate(platform, make_engine(platform.settings))
    app = TestApp(make_app(platform))
    bus = app.app.registry.hooks

    direct = bus.pm.hook.totetaxi_dashboard_tiles
    t_direct = timed(lambda i: direct(request=None, period="day"), ITERATIONS * 50)
    t_bus = timed(
        lambda i: bus.call("totetaxi_dashboard_tiles", request=None, period="day"), ITERATIONS * 50
    )

    app.post_json("/api/v1/example/counters/bench", {})
    t_write = timed(lambda i: app.post_json("/api/v1/example/counters/bench", {}), ITERATIONS)
    t_outbox = timed(
        lambda i: app.post_json(
            "/api/v1/example/notes", {"text": f"n{i}"}, extra_environ={"REMOTE_ADDR": "127.0.0.1"}
        ),
        ITERATIONS,
    )
    t_keyed = timed(
        lambda i: app.post_json(
            "/api/v1/example/notes", {"text": f"k{i}"}, headers={"Idempotency-Key": f"bench-{i}"}
        ),
        ITERATIONS,
    )
    t_replay = timed(
        lambda i: app.post_json(
            "/api/v1/example/notes", {"text": "k0"}, headers={"Idempotency-Key": "bench-0"}
        ),
        ITERATIONS,
    )
    import datetime as dt

    start = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)
    quote_body = {
        "service_type": "mini_move",
        "package": "standard",
        "date": start.isoformat(),
        "specialty_items": [{"code": "peloton", "qty": 1}],
        "coi_handling": True,
    }
    t_catalog = timed(lambda i: app.get("/api/v1/services"), ITERATIONS)
    t_quote = timed(lambda i: app.post_json("/api/v1/quotes", quote_body), ITERATIONS)
    one = f"/api/v1/availability?start={start}&end={start}"
    many = f"/api/v1/availability?start={start}&end={start + dt.timedelta(days=92)}"
    t_one_day = timed(lambda i: app.get(one), ITERATIONS)
    t_93_days = timed(lambda i: app.get(many), ITERATIONS)

    print(f"iterations: {ITERATIONS}")
    print(
        f"POST quote / GET catalog: {t_quote / t_catalog:.2f}x "
        f"({t_quote * 1e3:.2f} ms vs {t_catalog * 1e3:.2f} ms)"
    )
    print(
        f"availability 93 days / 1 day (one query either way): {t_93_days / t_one_day:.2f}x "
        f"({t_93_days * 1e3:.2f} ms vs {t_one_day * 1e3:.2f} ms)"
    )
    print(
        f"hook call via HookBus / direct pluggy call: {t_bus / t_direct:.2f}x "
        f"({t_bus * 1e6:.1f} us vs {t_direct * 1e6:.1f} us)"
    )
    print(
        f"POST note + outbox + eager task / POST counter write: "
        f"{t_outbox / t_write:.2f}x ({t_outbox * 1e3:.2f} ms vs {t_write * 1e3:.2f} ms)"
    )

    print(
        f"POST note with a new Idempotency-Key / without: {t_keyed / t_outbox:.2f}x "
        f"({t_keyed * 1e3:.2f} ms vs {t_outbox * 1e3:.2f} ms)"
    )
    print(
        f"replayed Idempotency-Key answer / POST note without: {t_replay / t_outbox:.2f}x "
        f"({t_replay * 1e3:.2f} ms vs {t_outbox * 1e3:.2f} ms)"
    )

    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:
        print(f"broker mode: skipped (Redis unreachable: {exc})")
        return 0
    queue = f"tt-bench-{os.getpid()}"
    broker_app = TestApp(
        make_app(
            prepare(
                settings(
                    url,
                    **{
                        "totetaxi.tasks_mode": "broker",
                        "totetaxi.broker_url": REDIS_URL,
                        "totetaxi.task_queue": queue,
                    },
                ),
                environ={},
            )
        )
    )
    t_broker = timed(
        lambda i: broker_app.post_json("/api/v1/example/notes", {"text": f"b{i}"}), ITERATIONS
    )
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"*{queue}*"):
        client.delete(key)
    print(
        f"POST note + outbox + publish to Redis / POST note + eager task: "
        f"{t_broker / t_outbox:.2f}x ({t_broker * 1e3:.2f} ms vs {t_outbox * 1e3:.2f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
