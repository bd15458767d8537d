"""``make bench`` over HTTP: requests per second, p50 and p99 of the API's hot endpoints,
each as a ratio to a bare Pyramid JSON view on the same server in the same run.

**Development mode** (always): two waitress servers (``bench/serve.py``), the platform with the
development defaults (SQLite in a temporary folder, eager tasks, mock plugins) and the baseline;
``GET /services``, ``POST /quotes`` and 30 days of ``GET /availability``.

**Production mode** (when PostgreSQL and Redis answer on loopback; ``BENCH_PG_URL``,
``BENCH_REDIS_URL``; ``BENCH_PRODUCTION=0`` skips it): a fresh database ``tt_prodbench_<pid>``
migrated by ``totetaxi migrate production.ini``, the first empty Redis database from 8 to 14,
and ``production.ini`` itself served — ``environment = production``, PostgreSQL,
``state_backend = redis``, ``tasks_mode = broker`` with a real ``totetaxi worker`` (Celery,
``--pool=solo``) on Redis, JSON request logs (to a file) — by one waitress process (its
``[server:waitress]``) and by gunicorn with 2 workers (its ``[server:main]``), each beside a
bare Pyramid view on the same server kind. The plugins are production's (``pricing
payments_stripe notifications mail_ses``): the production environment refuses the development
mocks, and these are the code that runs there. Their outside services are stand-ins on
loopback: SES is moto's server (the worker really renders and sends every booking email to it),
Stripe's API base a closed port (creating a booking never calls Stripe; paying would). Secrets
are generated per run (``TOTETAXI_SECRET``, ``sk_test_…``, ``whsec_…``). The worker and moto run
at ``nice 10`` on the same cores, so background mail yields to requests; how far the worker got
is printed (outbox rows by status).

Requests: the three above plus guest ``POST /api/v1/bookings``, every request a different valid
booking (a wrk Lua script: a new guest email and name each time, dates spread over 60 days with
capacity raised so that it never limits), and one run per server where every booking asks for the
same day, whose capacity is ``BENCH_FULL_CAPACITY`` (40): the first ones take the vans, the rest
must get 409 (counted apart from errors). After the runs SQL checks that no day holds more
bookings than its capacity and that every day's counter equals its bookings (zero overbooking).

Each row also gives ``cpu ms``: the CPU time the server's processes (all of them, from Linux's
``/proc``) used per answer, which foreign load on the machine moves far less than it moves
requests per second. After each booking run the bench waits (at most 2 minutes) until the worker
has sent every email, then prints the CPU each part spent per booking made — web server,
PostgreSQL (this database's backends), worker, SES stand-in — and what that total allows on this
machine's cores. Rounds interleave the baseline with the endpoints so that foreign load hits both
alike; figures are medians of rounds; the table is printed and written to
``var/bench/http.json``. Bounded: ``BENCH_SECONDS`` (5) per request and round, ``BENCH_ROUNDS``
(2), 2 wrk threads and 16 connections, loopback only. Everything started is stopped, and the
database and Redis database are dropped and flushed, on failure too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
THREADS, CONNECTIONS = 2, 16
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
FULL_CAPACITY = int(os.environ.get("BENCH_FULL_CAPACITY", "40"))
GUNICORN_WORKERS = 2

PICKUP = {"line1": "200 E 62nd St", "city": "New York", "state": "NY", "postal_code": "10065"}
DELIVERY = {"line1": "12 Dune Rd", "city": "Southampton", "state": "NY", "postal_code": "11968"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """What the bench started, each in its own session, stopped by process group at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[tuple[str, subprocess.Popen, Path]] = []

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None, nice=0):
        log = self.folder / f"{name}.log"
        if nice:
            command = ["nice", "-n", str(nice), *command]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env=env,
                start_new_session=True,
            )
        self.started.append((name, process, log))
        return process, log

    def stop_all(self) -> None:
        for _, process, _ in reversed(self.started):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _, process, _ in reversed(self.started):
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # stragglers of the group
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)


def wait_http(name: str, process: subprocess.Popen, log: Path, url: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} stopped:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - http on loopback
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{name} did not answer at {url}:\n{log.read_text(errors='replace')[-3000:]}")


#: The process (group leader) serving each base URL, for its CPU time.
SERVERS: dict[str, int] = {}


def serve(procs: Processes, name: str, args: list[str], path: str, env=None) -> str:
    port = free_port()
    process, log = procs.start(
        name, [sys.executable, str(HERE / "serve.py"), *args[:2], str(port), *args[2:]], env
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(name, process, log, base + path)
    SERVERS[base] = process.pid
    return base


def pids_cpu(pids: list[int]) -> float:
    """CPU seconds used so far by these processes (and the children they reaped)."""
    ticks, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += sum(int(f) for f in fields[11:15])
    return total / ticks


def group_cpu(leader: int) -> float | None:
    """CPU seconds used so far by the process group of ``leader``: its live processes, and the
    workers it has reaped (gunicorn recycles them). None without Linux's /proc."""
    ticks, total = os.sysconf("SC_CLK_TCK"), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) != leader:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if int(stat.parent.name) == leader:
            total += int(fields[13]) + int(fields[14])  # cutime, cstime: reaped children
    return total / ticks if Path("/proc/self/stat").exists() else None


# -- wrk ----------------------------------------------------------------------------------------


def lua_post(folder: Path, name: str, body: dict) -> Path:
    script = folder / f"{name}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
    )
    return script


def lua_bookings(folder: Path, name: str, days: list[str]) -> Path:
    """A script whose every request is a different valid guest booking on one of ``days``;
    ``done`` prints the count of each status (wrk lumps 409s in with errors)."""
    body = {
        "service_type": "mini_move",
        "package": "petite",
        "date": "@@DAY@@",
        "time_window": "morning",
        "pickup_address": PICKUP,
        "delivery_address": DELIVERY,
        "guest": {
            "first_name": "Bench",
            "last_name": "@@NAME@@",
            "email": "@@EMAIL@@",
            "phone": "212-555-0101",
        },
    }
    template = json.dumps(body).replace("%", "%%")
    for marker in ("@@DAY@@", "@@NAME@@", "@@EMAIL@@"):
        template = template.replace(marker, "%s")
    run = re.sub(r"[^a-z0-9]", "", name.lower())
    script = folder / f"{name}.lua"
    script.write_text(
        f"local days = {{{', '.join(json.dumps(d) for d in days)}}}\n"
        f"local template = {json.dumps(template)}\n"
        "local threads = {}\n"
        "local next_id = 1\n"
        "function setup(thread)\n"
        '  thread:set("id", next_id)\n'
        "  next_id = next_id + 1\n"
        "  table.insert(threads, thread)\n"
        "end\n"
        "local counter = 0\n"
        "counts = {}\n"
        "local letters = 'abcdefghijklmnopqrstuvwxyz'\n"
        "local function word(n)\n"
        "  local s = ''\n"
        "  repeat\n"
        "    local k = n % 26\n"
        "    s = string.upper(letters:sub(k + 1, k + 1)) .. s\n"
        "    n = math.floor(n / 26)\n"
        "  until n == 0\n"
        "  return s\n"
        "end\n"
        "function request()\n"
        "  counter = counter + 1\n"
        "  local day = days[((counter * 7 + id) % #days) + 1]\n"
        f'  local tag = "{run}t" .. id .. "n" .. counter\n'
        "  local body = string.format(template, day, 'Load' .. word(id * 1000000 + counter),\n"
        '    "bench-" .. tag .. "@example.com")\n'
        '  return wrk.format("POST", "/api/v1/bookings",\n'
        '    {["Content-Type"] = "application/json"}, body)\n'
        "end\n"
        "function response(status, headers, body)\n"
        "  counts[status] = (counts[status] or 0) + 1\n"
        "end\n"
        "function done(summary, latency, requests)\n"
        "  local total = {}\n"
        "  for _, t in ipairs(threads) do\n"
        '    for status, n in pairs(t:get("counts")) do\n'
        "      total[status] = (total[status] or 0) + n\n"
        "    end\n"
        "  end\n"
        "  for status, n in pairs(total) do\n"
        '    io.write(string.format("STATUS %d %d\\n", status, n))\n'
        "  end\n"
        "end\n"
    )
    return script


_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNIT[unit]


def drive(url: str, script: Path | None) -> dict[str, Any]:
    """One wrk run: requests/s, p50 and p99 in ms, non-2xx answers, and (for scripts that print
    them) the count of each status."""
    # A 10 s timeout (wrk's is 2 s) keeps slow answers in the latency figures.
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{SECONDS}s",
        "--timeout",
        "10s",
        "--latency",
        url,
    ]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    leader = SERVERS.get(url.split("/", 3)[0] + "//" + url.split("/", 3)[2])
    before = group_cpu(leader) if leader else None
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=SECONDS + 60
    ).stdout
    after = group_cpu(leader) if leader else None
    count = int(re.search(r"(\d+) requests in", out).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    failed = re.search(r"Socket errors: .*", out)
    statuses = {int(s): int(n) for s, n in re.findall(r"^STATUS (\d+) (\d+)$", out, re.M)}
    result = {
        "rps": rate,
        "p50_ms": p50,
        "p99_ms": p99,
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": failed.group(0) if failed else "",
        "statuses": statuses,
        # the server's CPU per answer (all its processes), robust to foreign load
        "cpu_ms": 1000 * (after - before) / count if before is not None and count else None,
    }
    if statuses:
        total = sum(statuses.values())
        created = sum(n for s, n in statuses.items() if 200 <= s < 300)
        result["full_409"] = statuses.get(409, 0)
        result["errors"] = total - created - result["full_409"]
        result["created"] = created
        result["created_per_s"] = rate * created / total if total else 0.0
    return result


def summarise(runs: list[dict[str, Any]], base: float) -> dict[str, Any]:
    rps = statistics.median(r["rps"] for r in runs)
    row = {
        "rps": round(rps, 1),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 2),
        "p99_ms": round(statistics.median(r["p99_ms"] for r in runs), 2),
        "errors": sum(r["errors"] for r in runs),
        "socket_errors": "; ".join(r["socket_errors"] for r in runs if r["socket_errors"]),
        "ratio": round(rps / base, 3) if base else None,
    }
    cpu = [r["cpu_ms"] for r in runs if r.get("cpu_ms") is not None]
    row["cpu_ms"] = round(statistics.median(cpu), 2) if cpu else None
    if any("created" in r for r in runs):
        row["bookings_per_s"] = round(statistics.median(r["created_per_s"] for r in runs), 1)
        row["created"] = sum(r["created"] for r in runs)
        row["full_409"] = sum(r["full_409"] for r in runs)
        statuses: dict[str, int] = {}
        for r in runs:
            for status, n in r["statuses"].items():
                statuses[str(status)] = statuses.get(str(status), 0) + n
        row["statuses"] = statuses
    shares = [r["cpu_ms_per_booking"] for r in runs if "cpu_ms_per_booking" in r]
    if shares:
        row["cpu_ms_per_booking"] = {
            k: round(statistics.median(s[k] for s in shares), 1) for k in shares[0]
        }
    return row


def run_rounds(
    cases: dict[str, tuple[str, Path | None]], rounds: int = ROUNDS, around: Any = None
) -> dict[str, list[dict[str, Any]]]:
    """``rounds`` rounds of every case; ``around(name, run)`` may wrap each run."""
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, (target, script) in cases.items():
            run = lambda target=target, script=script: drive(target, script)  # noqa: E731
            results[name].append(around(name, run) if around else run())
    return results


def read_cases(app: str, folder: Path, tag: str) -> dict[str, tuple[str, Path | None]]:
    today = dt.datetime.now(dt.UTC).date()
    day = (today + dt.timedelta(days=10)).isoformat()
    end = (today + dt.timedelta(days=39)).isoformat()
    quote = {"service_type": "mini_move", "package": "petite", "date": day}
    return {
        "GET /api/v1/services": (f"{app}/api/v1/services", None),
        "POST /api/v1/quotes": (f"{app}/api/v1/quotes", lua_post(folder, f"quote-{tag}", quote)),
        "GET /api/v1/availability (30 days)": (
            f"{app}/api/v1/availability?start={day}&end={end}",
            None,
        ),
    }


# -- development mode ---------------------------------------------------------------------------


def development(folder: Path) -> list[dict[str, Any]]:
    url = f"sqlite:///{folder / 'bench.sqlite'}"
    subprocess.run(
        [sys.executable, "-c", _MIGRATE, url], check=True, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    procs = Processes(folder)
    try:
        app = serve(procs, "dev-app", ["app", url], "/healthz")
        base_url = serve(procs, "dev-baseline", ["baseline", "-"], "/bare")
        cases = {"baseline GET /bare": (f"{base_url}/bare", None), **read_cases(app, folder, "dev")}
        results = run_rounds(cases)
    finally:
        procs.stop_all()
    base = statistics.median(r["rps"] for r in results["baseline GET /bare"])
    return [{"request": name, **summarise(runs, base)} for name, runs in results.items()]


# -- production mode ----------------------------------------------------------------------------


def _pg_admin():
    import psycopg2

    dsn = PG_URL.replace("postgresql+psycopg2://", "postgresql://")
    connection = psycopg2.connect(dsn, connect_timeout=3)
    connection.autocommit = True
    return connection


def _database_url(name: str) -> str:
    head, _, _ = PG_URL.rpartition("/")
    return f"{head}/{name}"


def reachable() -> str | None:
    """Why production mode cannot run here, or None."""
    if os.environ.get("BENCH_PRODUCTION", "1") == "0":
        return "BENCH_PRODUCTION=0"
    try:
        _pg_admin().close()
    except Exception as exc:
        return f"PostgreSQL unreachable at {PG_URL}: {str(exc).strip()}"
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"Redis unreachable at {REDIS_URL}: {exc}"
    return None


@contextlib.contextmanager
def pg_database() -> Iterator[str]:
    name = f"tt_prodbench_{os.getpid()}"
    admin = _pg_admin()
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield _database_url(name)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextlib.contextmanager
def redis_database() -> Iterator[str]:
    import redis

    for number in range(8, 15):
        url = f"{REDIS_URL.rstrip('/')}/{number}"
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        if client.dbsize() == 0:
            break
    else:
        raise SystemExit("bench: no empty Redis database among 8-14")
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@contextlib.contextmanager
def moto_ses(procs: Processes) -> Iterator[str]:
    port = free_port()
    process, log = procs.start(
        "moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], nice=10
    )
    url = f"http://127.0.0.1:{port}"
    wait_http("moto", process, log, url + "/moto-api/")
    yield url


def _sql(url: str, statement: str, *params: Any) -> list[tuple]:
    import psycopg2

    with contextlib.closing(psycopg2.connect(url, connect_timeout=3)) as connection:
        with connection, connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []


def capacity_check(url: str) -> dict[str, Any]:
    """Every day's counter against its capacity and against the bookings that hold a van."""
    rows = _sql(
        url,
        "SELECT c.day, c.booked, COALESCE(c.van_capacity, p.van_capacity),"
        " (SELECT count(*) FROM bookings b WHERE b.pickup_date = c.day"
        "  AND b.status::text <> 'cancelled')"
        " FROM pricing_capacity_days c CROSS JOIN pricing_policy p WHERE p.id = 1",
    )
    over = [str(day) for day, booked, cap, held in rows if booked > cap or held > cap]
    disagree = [str(day) for day, booked, cap, held in rows if booked != held]
    bookings = _sql(url, "SELECT count(*) FROM bookings")[0][0]
    return {
        "days": len(rows),
        "bookings": bookings,
        "over_capacity_days": over,
        "counter_mismatch_days": disagree,
        "full_days": {str(d): [b, c] for d, b, c, _ in rows if c < 1000},
    }


def production(folder: Path) -> dict[str, Any]:
    today = dt.datetime.now(dt.UTC).date()
    spread = [(today + dt.timedelta(days=3 + i)).isoformat() for i in range(60)]
    full_days = {
        "waitress": (today + dt.timedelta(days=100)).isoformat(),
        "gunicorn": (today + dt.timedelta(days=101)).isoformat(),
    }
    procs = Processes(folder)
    with contextlib.ExitStack() as stack:
        db_url = stack.enter_context(pg_database())
        redis_url = stack.enter_context(redis_database())
        # Last in, first out: the processes stop before the databases go.
        stack.callback(procs.stop_all)
        ses = stack.enter_context(moto_ses(procs))
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOTETAXI_")}
        env.update(
            TOTETAXI_SECRET=secrets.token_urlsafe(48),
            TOTETAXI_DATABASE_URL=db_url,
            TOTETAXI_BROKER_URL=redis_url,
            TOTETAXI_REDIS_URL=redis_url,
            TOTETAXI_PUBLIC_URL="http://127.0.0.1",
            TOTETAXI_PAYMENTS_STRIPE__SECRET_KEY="sk_test_bench" + secrets.token_hex(8),
            TOTETAXI_PAYMENTS_STRIPE__WEBHOOK_SECRET="whsec_bench" + secrets.token_hex(8),
            TOTETAXI_PAYMENTS_STRIPE__API_BASE=f"http://127.0.0.1:{free_port()}",
            TOTETAXI_LOGISTICS_ONFLEET__API_KEY="bench" + secrets.token_hex(8),
            TOTETAXI_LOGISTICS_ONFLEET__WEBHOOK_SECRET=secrets.token_hex(32),
            TOTETAXI_LOGISTICS_ONFLEET__API_BASE=f"http://127.0.0.1:{free_port()}",
            TOTETAXI_STORAGE_S3__BUCKET="bench-documents",
            TOTETAXI_STORAGE_S3__ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
            TOTETAXI_MAIL_SES__ENDPOINT_URL=ses,
            AWS_ACCESS_KEY_ID="testing",
            # moto takes any credentials
            AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106
            AWS_DEFAULT_REGION="us-east-1",
        )
        config = str(ROOT / "production.ini")
        migrated = subprocess.run(
            [str(BIN / "totetaxi"), "migrate", config],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if migrated.returncode:
            raise SystemExit(f"totetaxi migrate production.ini failed:\n{migrated.stderr[-3000:]}")
        import boto3

        boto3.session.Session().client(
            "sesv2",
            region_name="us-east-1",
            endpoint_url=ses,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106
        ).create_email_identity(EmailIdentity="totetaxi.example")
        # Capacity never limits the spread runs; each server's full-day run has its own day.
        _sql(db_url, "UPDATE pricing_policy SET van_capacity = 1000000 WHERE id = 1")
        for day in full_days.values():
            _sql(
                db_url,
                "INSERT INTO pricing_capacity_days (day, van_capacity, booked, specialty_booked,"
                " note) VALUES (%s, %s, 0, 0, 'bench')",
                day,
                FULL_CAPACITY,
            )
        procs.start("worker", [str(BIN / "totetaxi"), "worker", config, "--pool=solo"], env, 10)
        cases: dict[str, tuple[str, Path | None]] = {}
        full: dict[str, tuple[str, Path | None]] = {}
        kinds = {"waitress": ["--server", "waitress"]}
        kinds["gunicorn"] = ["--server", "gunicorn", "--workers", str(GUNICORN_WORKERS)]
        for kind, server in kinds.items():
            label = kind if kind == "waitress" else f"gunicorn x{GUNICORN_WORKERS}"
            options = [*server, "--config", config]
            app = serve(procs, f"prod-app-{kind}", ["ini", config, *server], "/healthz", env)
            bare = serve(procs, f"prod-baseline-{kind}", ["baseline", "-", *options], "/bare")
            cases[f"{label} | baseline GET /bare"] = (f"{bare}/bare", None)
            for name, case in read_cases(app, folder, kind).items():
                cases[f"{label} | {name}"] = case
            cases[f"{label} | POST /api/v1/bookings (60 days)"] = (
                f"{app}/api/v1/bookings",
                lua_bookings(folder, f"book-{kind}", spread),
            )
            full[f"{label} | POST /api/v1/bookings (one day, {FULL_CAPACITY} vans)"] = (
                f"{app}/api/v1/bookings",
                lua_bookings(folder, f"full-{kind}", [full_days[kind]]),
            )
        dbname = db_url.rsplit("/", 1)[1]
        helpers = {
            "worker": [p.pid for n, p, _ in procs.started if n == "worker"],
            "ses": [p.pid for n, p, _ in procs.started if n == "moto"],
        }

        def around(name: str, run: Any) -> dict[str, Any]:
            """A booking run, then the wait for the worker to send its emails; the CPU every
            process used per booking made (PostgreSQL: the backends of this database)."""
            if "bookings" not in name:
                return run()
            backends = [
                pid
                for (pid,) in _sql(
                    db_url, "SELECT pid FROM pg_stat_activity WHERE datname = %s", dbname
                )
            ]
            before = {k: pids_cpu(v) for k, v in {**helpers, "postgres": backends}.items()}
            made = _sql(db_url, "SELECT count(*) FROM bookings")[0][0]
            result = run()
            deadline = time.monotonic() + 120
            while (
                time.monotonic() < deadline
                and _sql(
                    db_url,
                    "SELECT count(*) FROM outbox_messages"
                    " WHERE status::text IN ('pending', 'sent')",
                )[0][0]
            ):
                time.sleep(0.5)
            made = _sql(db_url, "SELECT count(*) FROM bookings")[0][0] - made
            backends += [
                pid
                for (pid,) in _sql(
                    db_url, "SELECT pid FROM pg_stat_activity WHERE datname = %s", dbname
                )
                if pid not in backends
            ]
            used = {k: pids_cpu(v) - before.get(k, 0.0) for k, v in helpers.items()}
            used["postgres"] = pids_cpu(backends) - before["postgres"]
            if made and result.get("cpu_ms") is not None and not result.get("full_409"):
                # the web server's CPU per answer, then everyone's per booking made
                share = {k: round(1000 * v / made, 1) for k, v in used.items()}
                share["web"] = round(result["cpu_ms"] * sum(result["statuses"].values()) / made, 1)
                share["total"] = round(sum(share.values()), 1)
                result["cpu_ms_per_booking"] = share
            return result

        results = run_rounds(cases, around=around)
        results.update(run_rounds(full, rounds=1, around=around))
        check = capacity_check(db_url)
        outbox = dict(_sql(db_url, "SELECT status::text, count(*) FROM outbox_messages GROUP BY 1"))
        rows = []
        for name, runs in results.items():
            label = name.split(" | ")[0]
            base = statistics.median(r["rps"] for r in results[f"{label} | baseline GET /bare"])
            rows.append({"server": label, "request": name.split(" | ")[1], **summarise(runs, base)})
        waitress_rps = {r["request"]: r["rps"] for r in rows if r["server"] == "waitress"}
        for row in rows:
            if row["server"] != "waitress" and waitress_rps.get(row["request"]):
                row["vs_waitress"] = round(row["rps"] / waitress_rps[row["request"]], 2)
        return {
            "rows": rows,
            "capacity": check,
            "outbox": outbox,
            "gunicorn_workers": GUNICORN_WORKERS,
            "full_capacity": FULL_CAPACITY,
        }


# -- output -------------------------------------------------------------------------------------


def print_rows(rows: list[dict[str, Any]], server: bool = False) -> None:
    head = f"{'server':12} " if server else ""
    print(
        f"{head}{'request':40} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}"
        f" {'ratio':>6} {'cpu ms':>6}" + (f" {'vs wtr':>6}" if server else "")
    )
    for row in rows:
        line = f"{row['server']:12} " if server else ""
        line += (
            f"{row['request']:40} {row['rps']:8.1f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f}"
            f" {row['errors']:6d} {row['ratio']:6.3f}"
            + (f" {row['cpu_ms']:6.2f}" if row.get("cpu_ms") is not None else f" {'-':>6}")
        )
        if server:
            line += f" {row['vs_waitress']:6.2f}" if "vs_waitress" in row else f" {'':6}"
        print(line)
        if row.get("full_409"):
            print(
                f"{'':13}  -> {row['created']} created, {row['full_409']} answered 409 (day"
                f" full); statuses {row['statuses']}"
            )
        elif "bookings_per_s" in row:
            print(
                f"{'':13}  -> {row['bookings_per_s']} bookings/s; {row['created']} created;"
                f" statuses {row['statuses']}"
            )
        if "cpu_ms_per_booking" in row and not row.get("full_409"):
            share = row["cpu_ms_per_booking"]
            print(
                f"{'':13}  -> CPU ms per booking: "
                + ", ".join(f"{k} {v}" for k, v in share.items())
                + f" (on {os.cpu_count()} cores at most"
                f" {1000 * (os.cpu_count() or 1) / share['total']:.0f} bookings/s)"
            )
        if row["socket_errors"]:
            print(f"  {row['socket_errors']}")


def main() -> int:
    if shutil.which("wrk") is None:
        print("bench: wrk is missing; as root: apt-get install wrk", file=sys.stderr)
        return 2
    # A TERM (or a CI timeout) unwinds through the finally blocks: servers stopped, DB dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    folder = Path(tempfile.mkdtemp(prefix="tt-http-bench-"))
    report: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "platform": sys.platform},
        "settings": {"seconds": SECONDS, "rounds": ROUNDS, "connections": CONNECTIONS},
    }
    failed = kept = False
    try:
        rows = development(folder)
        report["rows"] = rows  # development mode (the key older readers know)
        print(f"wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s, {ROUNDS} rounds; medians of rounds")
        print("development: SQLite, eager tasks, mock plugins, waitress (1 process, 4 threads)")
        print_rows(rows)
        failed = any(row["errors"] or row["socket_errors"] for row in rows)
        why_not = reachable()
        if why_not:
            print(f"\nproduction mode skipped: {why_not}")
            report["production"] = {"skipped": why_not}
        else:
            prod = production(folder)
            report["production"] = prod
            print(
                f"\nproduction.ini: PostgreSQL, Redis, Celery worker, environment production;"
                f" ratio to the bare view on the same server; 'vs wtr': gunicorn"
                f" x{GUNICORN_WORKERS} workers over one waitress process"
            )
            print_rows(prod["rows"], server=True)
            cap = prod["capacity"]
            ok = not cap["over_capacity_days"] and not cap["counter_mismatch_days"]
            print(
                f"capacity check: {cap['bookings']} bookings on {cap['days']} days;"
                f" over capacity: {cap['over_capacity_days'] or 'none'}; counters disagreeing"
                f" with bookings: {cap['counter_mismatch_days'] or 'none'}; full-day runs"
                f" (booked, capacity): {cap['full_days']}"
            )
            print(f"outbox after the runs (the worker's progress): {prod['outbox']}")
            failed = failed or not ok or any(row["errors"] for row in prod["rows"])
    except BaseException:
        kept = True
        print(f"bench: stopped; the servers' logs are kept in {folder}", file=sys.stderr)
        raise
    finally:
        out = ROOT / "var" / "bench"
        out.mkdir(parents=True, exist_ok=True)
        (out / "http.json").write_text(json.dumps(report, indent=2))
        if not kept:
            shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed else 0


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
