"""Live updates under load: 500 WebSockets held by one live process, its memory, and fan-out.

Two servers, each a process of its own on loopback, both fed by the same Redis channel (an empty
prefix of this run's own, removed at the end):

* **live**: ``totetaxi live`` (``LiveApp`` under uvicorn, Redis bus; SQLite for the handshakes'
  authentication, a staff bearer token);
* **bare** (the baseline): a bare ASGI app under the same uvicorn that accepts any WebSocket
  and forwards each message of the channel to every socket, one after the other — no
  authentication, no per-stream routing, no queue, no replay.

For each: the process's RSS idle, then with ``BENCH_SOCKETS`` (500) sockets open (from
``/proc/<pid>/status``, so the figure is the server's alone), then ``BENCH_EVENTS`` (200)
events published (each to every socket: 100,000 deliveries) timed from the first publish to the
last frame received by the last socket. Printed as RSS per socket and deliveries per second,
with the live process's ratio to the bare one. Figures go to ``var/bench/live.json``.

Bounded: connections and events are counted, every wait has a timeout, and the servers are
stopped at the end. Needs Redis on 127.0.0.1:6379 (``TOTETAXI_TEST_REDIS_URL`` for another);
without it, says so and exits 0.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

SOCKETS = int(os.environ.get("BENCH_SOCKETS", "500"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "200"))
REDIS_URL = os.environ.get("TOTETAXI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60.0


# --- the servers (each run as `python bench/live.py --serve KIND ...`) --------------------------


def serve_bare(port: int, channel: str) -> None:
    import redis.asyncio as aioredis
    import uvicorn

    sockets: set[Any] = set()
    tasks: list[asyncio.Task] = []  # held: a task nobody references may be collected

    async def forward() -> None:
        pubsub = aioredis.Redis.from_url(REDIS_URL, decode_responses=True).pubsub()
        await pubsub.subscribe(channel)
        async for message in pubsub.listen():
            if message["type"] != "message":
                continue
            text = message["data"].split(" ", 1)[1]
            for send in list(sockets):
                try:
                    await send({"type": "websocket.send", "text": text})
                except Exception:
                    sockets.discard(send)

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            tasks.append(asyncio.get_running_loop().create_task(forward()))
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await receive()
        await send({"type": "websocket.accept"})
        sockets.add(send)
        try:
            while (await receive())["type"] != "websocket.disconnect":
                pass
        finally:
            sockets.discard(send)

    from totetaxi_core.live.server import uvicorn_config

    uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, backlog=4096)).run()


def serve_live(port: int, url: str, prefix: str) -> None:
    import uvicorn

    from totetaxi_core import make_app
    from totetaxi_core.live.app import LiveApp
    from totetaxi_core.live.server import uvicorn_config
    from totetaxi_core.platform import prepare

    app = make_app(prepare(settings(url, prefix), environ={}))
    uvicorn.Server(uvicorn_config(LiveApp(app), "127.0.0.1", port, backlog=4096)).run()


def settings(url: str, prefix: str) -> dict[str, Any]:
    return {
        "sqlalchemy.url": url,
        "totetaxi.plugins": "pricing",
        "totetaxi.environment": "test",
        "totetaxi.password_hash_profile": "fast",
        "totetaxi.live_backend": "redis",
        "totetaxi.live_redis_url": REDIS_URL,
        "totetaxi.live_prefix": prefix,
        "totetaxi.live_max_connections_per_principal": str(SOCKETS * 2),
        "totetaxi.live_queue_size": str(EVENTS * 2),
    }


# --- the measuring side --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start(args: list[str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", *args],
        cwd=ROOT,
        stderr=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL,
    )
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:  # the server answers once its start-up is done
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server {args[0]} did not start")


async def measure(port: int, pid: int, headers: dict[str, str], publish: Any) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    idle = rss_kb(pid)
    url = f"ws://127.0.0.1:{port}/api/v1/live"
    sockets = []
    started = time.perf_counter()
    for batch in range(0, SOCKETS, 50):  # 50 handshakes at a time
        sockets += await asyncio.wait_for(
            asyncio.gather(
                *(
                    # no keep-alive pings: a busy client must not take itself for dead
                    connect(url, additional_headers=headers, max_size=2**20, ping_interval=None)
                    for _ in range(batch, min(batch + 50, SOCKETS))
                )
            ),
            TIMEOUT,
        )
    connect_seconds = time.perf_counter() - started
    await asyncio.sleep(0.5)  # let the server settle before reading its memory
    held = rss_kb(pid)

    async def drain(ws: Any) -> None:
        got = 0
        while got < EVENTS:
            message = json.loads(await ws.recv())
            if message.get("type") == "bench.tick":
                got += 1

    readers = [asyncio.ensure_future(drain(ws)) for ws in sockets]
    started = time.perf_counter()
    await asyncio.to_thread(publish)
    await asyncio.wait_for(asyncio.gather(*readers), TIMEOUT)
    fanout_seconds = time.perf_counter() - started
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return {
        "sockets": SOCKETS,
        "events": EVENTS,
        "rss_idle_mb": round(idle / 1024, 1),
        "rss_held_mb": round(held / 1024, 1),
        "kb_per_socket": round((held - idle) / SOCKETS, 1),
        "connect_seconds": round(connect_seconds, 2),
        "deliveries_per_second": round(SOCKETS * EVENTS / fanout_seconds),
        "fanout_seconds": round(fanout_seconds, 2),
    }


def main() -> int:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        print(f"bench/live.py: Redis at {REDIS_URL} is not answering ({exc}); skipped")
        return 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * SOCKETS + 256)), hard))

    from totetaxi_core import make_app
    from totetaxi_core.db import make_engine
    from totetaxi_core.live.events import staff_event
    from totetaxi_core.live.redis_bus import RedisPublisher
    from totetaxi_core.migrate import migrate
    from totetaxi_core.platform import prepare
    from totetaxi_core.testing import bearer, make_staff

    prefix = f"tt-bench-live-{uuid.uuid4().hex[:8]}"
    folder = Path(tempfile.mkdtemp(prefix="tt-bench-live-"))
    url = f"sqlite:///{folder / 'live.sqlite'}"
    platform = prepare(settings(url, prefix), environ={})
    migrate(platform, make_engine(platform.settings))
    from webtest import TestApp

    web = TestApp(make_app(platform), extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    member = make_staff(web.app.registry, "staff")
    headers = bearer(web, member.email, staff=True)
    publisher = RedisPublisher(REDIS_URL, prefix, 200, 300)
    payload = {"booking_id": str(uuid.uuid4()), "number": "TT-000123", "status": "confirmed"}

    def publish() -> None:
        for n in range(EVENTS):
            publisher.publish([staff_event("bench.tick", {**payload, "n": n})])

    results: dict[str, Any] = {}
    try:
        for kind, args in (
            ("bare", ["bare", "{port}", f"{prefix}:events"]),
            ("live", ["live", "{port}", url, prefix]),
        ):
            port = free_port()
            process = start([a.format(port=port) for a in args], port)
            try:
                print(f"measuring {kind}", flush=True)
                results[kind] = asyncio.run(measure(port, process.pid, headers, publish))
            finally:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
    finally:
        connection = redis.Redis.from_url(REDIS_URL)
        for key in connection.scan_iter(f"{prefix}:*"):
            connection.delete(key)
    live, bare = results["live"], results["bare"]
    results["ratios"] = {
        "kb_per_socket": round(live["kb_per_socket"] / max(bare["kb_per_socket"], 0.1), 2),
        "deliveries_per_second": round(
            live["deliveries_per_second"] / bare["deliveries_per_second"], 2
        ),
    }
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "live.json").write_text(json.dumps(results, indent=2))
    print(f"live updates: {SOCKETS} WebSockets on one process, {EVENTS} events to each")
    print(f"{'server':8} {'RSS idle':>9} {'RSS held':>9} {'KB/socket':>10} {'connect s':>10}"
          f" {'deliveries/s':>13}")  # fmt: skip
    for kind in ("bare", "live"):
        r = results[kind]
        print(
            f"{kind:8} {r['rss_idle_mb']:>7} MB {r['rss_held_mb']:>6} MB {r['kb_per_socket']:>10}"
            f" {r['connect_seconds']:>10} {r['deliveries_per_second']:>13}"
        )
    ratios = results["ratios"]
    print(
        f"live / bare: {ratios['kb_per_socket']}x the memory per socket, "
        f"{ratios['deliveries_per_second']}x the deliveries per second"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        kind, port = sys.argv[2], int(sys.argv[3])
        if kind == "bare":
            serve_bare(port, sys.argv[4])
        else:
            serve_live(port, sys.argv[4], sys.argv[5])
        sys.exit(0)
    sys.exit(main())
