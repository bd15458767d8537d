"""``make bench`` over HTTP: requests per second, p50 and p99 of the API's hot endpoints,
each as a ratio to a bare Pyramid JSON view on the same server in the same run.

Starts two waitress servers (``bench/serve.py``): the platform with the development defaults
(SQLite in a temporary folder, eager tasks, mock plugins) and the baseline. Drives each endpoint
with ``wrk`` (Debian's package) at fixed concurrency, in rounds that interleave the baseline
with the endpoints so that foreign load hits both alike, and prints the table; the figures also
go to ``var/bench/http.json``. Bounded: ``BENCH_SECONDS`` (5) per endpoint and round,
``BENCH_ROUNDS`` (2) rounds, 2 threads and 16 connections, loopback only.

Not yet here (issue 14): the production configuration (PostgreSQL, Redis, a Celery worker), guest
bookings per second and the 200,000-booking scale figures.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
THREADS, CONNECTIONS = 2, 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kind: str, url: str, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, str(HERE / "serve.py"), kind, url, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    path = "/bare" if kind == "baseline" else "/healthz"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{kind} server stopped: {process.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{kind} server did not answer on port {port}")


def lua_post(folder: Path, name: str, body: dict) -> Path:
    script = folder / f"{name}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
    )
    return script


_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNIT[unit]


def drive(url: str, script: Path | None) -> dict[str, float]:
    """One wrk run: requests/s, p50 and p99 in ms, and the count of non-2xx answers."""
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    failed = re.search(r"Socket errors: .*", out)
    return {
        "rps": rate,
        "p50_ms": p50,
        "p99_ms": p99,
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": failed.group(0) if failed else "",
    }


def main() -> int:
    if shutil.which("wrk") is None:
        print("bench: wrk is missing; as root: apt-get install wrk", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="tt-http-bench-"))
    url = f"sqlite:///{folder / 'bench.sqlite'}"
    subprocess.run(
        [sys.executable, "-c", _MIGRATE, url], check=True, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    app_port, base_port = free_port(), free_port()
    servers = [start("app", url, app_port), start("baseline", "-", base_port)]
    try:
        day = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=10)).isoformat()
        end = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=39)).isoformat()
        quote = {"service_type": "mini_move", "package": "petite", "date": day}
        app = f"http://127.0.0.1:{app_port}"
        cases = {
            "baseline GET /bare": (f"http://127.0.0.1:{base_port}/bare", None),
            "GET /api/v1/services": (f"{app}/api/v1/services", None),
            "POST /api/v1/quotes": (f"{app}/api/v1/quotes", lua_post(folder, "quote", quote)),
            "GET /api/v1/availability (30 days)": (
                f"{app}/api/v1/availability?start={day}&end={end}",
                None,
            ),
        }
        results: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
        for _ in range(ROUNDS):
            for name, (target, script) in cases.items():
                results[name].append(drive(target, script))
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
    base = statistics.median(r["rps"] for r in results["baseline GET /bare"])
    rows = []
    for name, runs in results.items():
        rps = statistics.median(r["rps"] for r in runs)
        rows.append(
            {
                "request": name,
                "rps": round(rps, 1),
                "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
                "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 2),
                "errors": sum(r["errors"] for r in runs),
                "socket_errors": "; ".join(r["socket_errors"] for r in runs if r["socket_errors"]),
                "ratio": round(rps / base, 3),
            }
        )
    print(f"wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s, {ROUNDS} rounds; medians of rounds")
    print(f"{'request':40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'ratio':>6}")
    for row in rows:
        print(
            f"{row['request']:40} {row['rps']:9.1f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f}"
            f" {row['errors']:7d} {row['ratio']:6.3f}"
        )
        if row["socket_errors"]:
            print(f"  {row['socket_errors']}")
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "http.json").write_text(
        json.dumps(
            {
                "when": dt.datetime.now(dt.UTC).isoformat(),
                "machine": {"cpus": os.cpu_count(), "platform": sys.platform},
                "settings": {"seconds": SECONDS, "rounds": ROUNDS, "connections": CONNECTIONS},
                "rows": rows,
            },
            indent=2,
        )
    )
    shutil.rmtree(folder, ignore_errors=True)
    return 1 if any(row["errors"] or row["socket_errors"] for row in rows) else 0


_MIGRATE = """
import sys
from totetaxi_core.db import make_engine
from totetaxi_core.migrate import migrate
from totetaxi_core.platform import prepare
platform = prepare({"sqlalchemy.url": sys.argv[1], "totetaxi.environment": "development",
    "totetaxi.plugins": "pricing payments_mock notifications mail_console"}, environ={})
migrate(platform, make_engine(platform.settings))
"""


if __name__ == "__main__":
    sys.exit(main())
