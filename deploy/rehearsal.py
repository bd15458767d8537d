"""The production topology rehearsed on this machine: ``make prod``, and what ``make chaos`` and
``make soak`` stand on.

It runs ``production.ini`` for real — gunicorn's web tier, ``totetaxi worker``, ``totetaxi beat``
(and ``totetaxi live`` once it exists) under supervisord with ``deploy/supervisord.conf`` — against
services of its own on loopback, so nothing shared on the machine is touched:

* a PostgreSQL cluster of its own (``initdb`` / ``pg_ctl`` from ``/usr/lib/postgresql/*/bin``,
  run as the ``postgres`` user when started as root) on a free port;
* a ``redis-server`` of its own (append-only file on, so a stopped broker keeps its queue);
* stand-ins for the partners, in this process: the Stripe stub and the Onfleet stub of
  ``tests/support`` and moto's server for SES and S3 (``make prod`` needs the test extra for
  them). Stripe's events are delivered to the app's webhook as Stripe would: signed, retried
  until answered 2xx.

**This is a rehearsal, not a deployment.** The environment file it writes (``rehearsal.env``:
a generated ``TOTETAXI_SECRET``, the stubs' keys, loopback URLs) exists so that the real
``production.ini`` can run here; a real deployment gets its secrets from its secret store
(systemd ``EnvironmentFile`` owned by root, the orchestrator's secrets) and real partners.

``python deploy/rehearsal.py up [--folder var/prod] [--port 6543]`` keeps its cluster and secrets
in the folder between runs, serves until interrupted (Ctrl-C or TERM), then stops supervisord
(which drains the web tier and lets the worker finish its tasks), the stubs, Redis and PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONFIG = ROOT / "production.ini"
SUPERVISORD_CONF = ROOT / "deploy" / "supervisord.conf"
sys.path.insert(0, str(ROOT / "tests"))  # the partners' stand-ins: tests/support

PROGRAMS = ("web", "worker", "beat")
REGION = "us-east-1"
BUCKET = "totetaxi-documents"
SENDER_DOMAIN = "totetaxi.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def http(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 15,
) -> tuple[int, dict[str, str], bytes]:
    """One request; (status, headers, body) for any status, (0, {}, reason) when unreachable."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310 - http on loopback
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - loopback
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()
    except (OSError, urllib.error.URLError) as exc:
        return 0, {}, str(exc).encode()


# --- PostgreSQL and Redis of its own --------------------------------------------------------------


def _as_postgres(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Postgres:
    """A PostgreSQL cluster in ``folder`` listening on 127.0.0.1:``port`` only."""

    def __init__(self, folder: Path, port: int) -> None:
        versions = sorted(
            glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4])
        )
        if not versions:
            raise SystemExit("PostgreSQL's server programs are missing (/usr/lib/postgresql/*/bin)")
        self.bin = Path(versions[-1])
        self.folder, self.port = folder, port
        self.data, self.log = folder / "data", folder / "postgres.log"

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")

    def ensure(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._chown(self.folder)
        if (self.data / "PG_VERSION").exists():
            return
        self._run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )

    @staticmethod
    def _run(command: list[str]) -> None:
        done = subprocess.run(_as_postgres(command), capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{Path(command[0]).name} failed: {done.stderr or done.stdout}")

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                *args,
            ]
        )

    def start(self) -> None:
        self.ensure()
        self.pg_ctl("start")

    def stop(self) -> None:
        with contextlib.suppress(SystemExit):
            self.pg_ctl("stop", "-m", "fast")

    def restart(self) -> None:
        """A fast restart: sessions are cut, committed work stays (as after a failover)."""
        self.pg_ctl("restart", "-m", "fast")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, *params: Any, database: str = "totetaxi") -> list[tuple]:
        import psycopg2

        with contextlib.closing(psycopg2.connect(self.url(database), connect_timeout=5)) as c:
            c.autocommit = True
            with c.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchall() if cursor.description else []

    def create_database(self, name: str) -> None:
        if not self.sql("SELECT 1 FROM pg_database WHERE datname = %s", name, database="postgres"):
            self.sql(f'CREATE DATABASE "{name}"', database="postgres")


class Redis:
    """A redis-server on 127.0.0.1:``port``, its append-only file in ``folder``."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--protected-mode",
                "yes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.ping():
                return
            time.sleep(0.1)
        raise SystemExit(f"redis-server on port {self.port} did not start")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """SHUTDOWN (the append-only file is flushed: queued messages survive the stop)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def url(self, number: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{number}"


# --- the partners' stand-ins ----------------------------------------------------------------------


def _quiet_when_the_client_left(request: Any, client_address: Any) -> None:
    """A stub's handler error: silent when the app gave up waiting (its timeout closed the
    socket under load), printed otherwise."""
    error = sys.exc_info()[1]
    if not isinstance(error, BrokenPipeError | ConnectionResetError):
        import traceback

        traceback.print_exc()


class Partners:
    """Stripe, Onfleet and AWS (SES, S3) on loopback, in this process.

    ``deliver_to``: the app's base URL; Stripe's events are then POSTed to its webhook as they
    happen (a thread), each retried until the app answers 2xx, as Stripe does.
    """

    def __init__(self) -> None:
        import boto3
        from support.onfleet_stub import OnfleetStub
        from support.sns_stub import start_moto_server
        from support.stripe_stub import StripeStub

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's line per request
        self.stripe = StripeStub(
            api_key="sk_test_rehearsal_" + secrets.token_hex(12),
            webhook_secret="whsec_rehearsal" + secrets.token_hex(16),
        )
        self.onfleet = OnfleetStub(
            api_key=secrets.token_hex(16), webhook_secret_hex=secrets.token_hex(32)
        )
        for stub in (self.stripe, self.onfleet):
            stub._server.handle_error = _quiet_when_the_client_left
        self._moto, self.aws_url = start_moto_server()
        session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto takes any credentials
            region_name=REGION,
        )
        session.client("sesv2", endpoint_url=self.aws_url).create_email_identity(
            EmailIdentity=SENDER_DOMAIN
        )
        session.client("s3", endpoint_url=self.aws_url).create_bucket(Bucket=BUCKET)
        self.webhook_url: str | None = None
        self.delivered: list[tuple[str, int]] = []  # (event id, final status)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def environment(self) -> dict[str, str]:
        return {
            "TOTETAXI_PAYMENTS_STRIPE__SECRET_KEY": self.stripe.api_key,
            "TOTETAXI_PAYMENTS_STRIPE__WEBHOOK_SECRET": self.stripe.webhook_secret,
            "TOTETAXI_PAYMENTS_STRIPE__API_BASE": self.stripe.url,
            "TOTETAXI_LOGISTICS_ONFLEET__API_KEY": self.onfleet.api_key,
            "TOTETAXI_LOGISTICS_ONFLEET__WEBHOOK_SECRET": self.onfleet.webhook_secret_hex,
            "TOTETAXI_LOGISTICS_ONFLEET__API_BASE": self.onfleet.url,
            "TOTETAXI_STORAGE_S3__BUCKET": BUCKET,
            "TOTETAXI_STORAGE_S3__ENDPOINT_URL": self.aws_url,
            "TOTETAXI_MAIL_SES__ENDPOINT_URL": self.aws_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }

    # Stripe's side -------------------------------------------------------------------------

    def confirm_payment(self, client_secret: str, method: str = "pm_card_visa") -> dict[str, Any]:
        """What Stripe.js does in the customer's browser: confirm the intent with a card."""
        intent_id = client_secret.partition("_secret_")[0]
        body = urllib.parse.urlencode({"payment_method": method}).encode()
        status, _, answer = http(
            "POST",
            f"{self.stripe.url}/v1/payment_intents/{intent_id}/confirm",
            body,
            {
                "Authorization": f"Bearer {self.stripe.api_key}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        return {"status": status, **json.loads(answer or b"{}")}

    def post_stripe_event(self, event: dict[str, Any], deadline: float = 120) -> int:
        """Deliver one event, signed, retrying (1 s apart) until a 2xx or ``deadline`` seconds."""
        assert self.webhook_url, "no app to deliver to"
        payload, signature = self.stripe.signed(event)
        give_up = time.monotonic() + deadline
        while True:
            status, _, _ = http(
                "POST",
                self.webhook_url + "/api/v1/payments/webhook",
                payload,
                {"Content-Type": "application/json", "Stripe-Signature": signature},
            )
            if 200 <= status < 300 or time.monotonic() > give_up or self._stop.is_set():
                self.delivered.append((event["id"], status))
                return status
            time.sleep(1)

    def post_onfleet(self, trigger: str, task_id: str, deadline: float = 120) -> int:
        assert self.webhook_url, "no app to deliver to"
        body, headers = self.onfleet.webhook(trigger, task_id)
        give_up = time.monotonic() + deadline
        while True:
            status, _, _ = http(
                "POST",
                self.webhook_url + "/api/v1/logistics/webhook",
                body,
                {"Content-Type": "application/json", **headers},
            )
            if 200 <= status < 300 or time.monotonic() > give_up or self._stop.is_set():
                return status
            time.sleep(1)

    def deliver_stripe_events(self, base_url: str) -> None:
        """Deliver every Stripe event to ``base_url`` as it happens (a thread), in order."""
        self.webhook_url = base_url

        def loop() -> None:
            seen = 0
            while not self._stop.is_set():
                fresh = self.stripe.events[seen:]
                seen += len(fresh)
                for event in fresh:
                    self.post_stripe_event(event)
                self._stop.wait(0.2)

        self._thread = threading.Thread(target=loop, name="stripe-webhooks", daemon=True)
        self._thread.start()

    def sent_emails(self) -> list[str]:
        """The MessageIds SES (moto) accepted, oldest first."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        return [m.id for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages]

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.stripe.close()
        self.onfleet.close()
        self._moto.stop()


# --- the topology under supervisord ---------------------------------------------------------------


def live_available() -> bool:
    """Whether this installation has ``totetaxi live`` (the live-update process) yet."""
    answer = subprocess.run(
        [str(BIN / "totetaxi"), "live", "--help"], capture_output=True, text=True, timeout=60
    )
    return answer.returncode == 0


class Topology:
    """supervisord running deploy/supervisord.conf with ``env``, its files in ``run``."""

    def __init__(self, run: Path, env: dict[str, str]) -> None:
        self.run, self.env = run, env
        self.process: subprocess.Popen | None = None

    def start(self, base_url: str) -> None:
        self.run.mkdir(parents=True, exist_ok=True)
        # The multiprocess metrics of the last run would add to this one's (and their dead
        # processes' gauges would never leave): every start begins with an empty folder.
        metrics = self.run / "metrics"
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir()
        out = (self.run / "supervisord.out").open("ab")
        self.process = subprocess.Popen(
            [str(BIN / "supervisord"), "-c", str(SUPERVISORD_CONF)],
            env=self.env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"supervisord stopped: see {self.run}/supervisord.log")
            status, _, _ = http("GET", base_url + "/healthz", timeout=2)
            if status == 200 and all(self.state(p) == "RUNNING" for p in PROGRAMS):
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"the topology did not come up: see the logs in {self.run}")
        if live_available():
            self.ctl("start", "live")

    def ctl(self, *args: str) -> str:
        answer = subprocess.run(
            [str(BIN / "supervisorctl"), "-c", str(SUPERVISORD_CONF), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return answer.stdout

    def state(self, program: str) -> str:
        words = self.ctl("status", program).split()
        return words[1] if len(words) > 1 else "UNKNOWN"

    def pid(self, program: str) -> int | None:
        text = self.ctl("pid", program).strip()
        return int(text) if text.isdigit() and text != "0" else None

    def stop(self) -> None:
        """TERM to supervisord: every program stopped its own way (drain, warm shutdown)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


# --- the whole rehearsal --------------------------------------------------------------------------


def _load_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if not k.startswith("#")}


class Rehearsal:
    """PostgreSQL, Redis, the partners and the topology; a context manager.

    ``folder`` keeps the cluster, the generated secrets and the logs; ``throwaway`` removes it at
    the end. ``settings`` are extra environment variables (e.g. a short outbox re-send for
    chaos). ``deliver`` delivers Stripe's events to the app as they happen.
    """

    def __init__(
        self,
        folder: Path,
        *,
        port: int | None = None,
        throwaway: bool = False,
        settings: dict[str, str] | None = None,
        deliver: bool = True,
        web_workers: int = 2,
    ) -> None:
        self.folder, self.throwaway = folder, throwaway
        self.extra, self.deliver, self.web_workers = settings or {}, deliver, web_workers
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)  # PostgreSQL runs as its own user: it must reach its folder
        self.env_file = folder / "rehearsal.env"
        kept = _load_env(self.env_file)
        self.port = port or int(kept.get("REHEARSAL_WEB_PORT") or free_port())
        self.pg = Postgres(folder / "postgres", int(kept.get("REHEARSAL_PG_PORT") or free_port()))
        self.redis = Redis(folder / "redis", int(kept.get("REHEARSAL_REDIS_PORT") or free_port()))
        self.secret = kept.get("TOTETAXI_SECRET") or secrets.token_urlsafe(48)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.partners: Partners | None = None
        self.topology: Topology | None = None
        self.env: dict[str, str] = {}
        self._stack = contextlib.ExitStack()

    def _environment(self) -> dict[str, str]:
        assert self.partners is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOTETAXI_")}
        own = {
            "TOTETAXI_SECRET": self.secret,
            "TOTETAXI_DATABASE_URL": self.pg.url("totetaxi"),
            "TOTETAXI_BROKER_URL": self.redis.url(0),
            "TOTETAXI_REDIS_URL": self.redis.url(1),
            "TOTETAXI_PUBLIC_URL": self.base_url,
            "TOTETAXI_WEB_LISTEN": f"127.0.0.1:{self.port}",
            "TOTETAXI_WEB_WORKERS": str(self.web_workers),
            **self.partners.environment(),
            **self.extra,
        }
        self.env_file.write_text(
            "# The on-machine rehearsal's environment (deploy/rehearsal.py): generated secrets\n"
            "# and loopback stand-ins. Not how a deployment gets its secrets.\n"
            + "".join(f"{k}={v}\n" for k, v in own.items())
            + f"REHEARSAL_WEB_PORT={self.port}\nREHEARSAL_PG_PORT={self.pg.port}\n"
            f"REHEARSAL_REDIS_PORT={self.redis.port}\n"
        )
        self.env_file.chmod(0o600)
        env.update(own)
        env.update(
            TOTETAXI_BIN=str(BIN),
            TOTETAXI_CONFIG=str(CONFIG),
            TOTETAXI_RUN=str(self.folder / "run"),
            TOTETAXI_LIVE_PORT=env.get("TOTETAXI_LIVE_PORT") or str(free_port()),
            TOTETAXI_WORKER_OPTIONS=env.get("TOTETAXI_WORKER_OPTIONS", ""),
        )
        return env

    def totetaxi(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        """``totetaxi ARGS`` with the rehearsal's environment (migrate, staff create, ...)."""
        return subprocess.run(
            [str(BIN / "totetaxi"), *args],
            env=self.env,
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def __enter__(self) -> Rehearsal:
        try:
            self.pg.start()
            self._stack.callback(self.pg.stop)
            self.pg.create_database("totetaxi")
            self.redis.start()
            self._stack.callback(self.redis.stop)
            self.partners = Partners()
            self._stack.callback(self.partners.close)
            self.env = self._environment()
            migrated = self.totetaxi("migrate", str(CONFIG))
            if migrated.returncode:
                raise SystemExit(f"totetaxi migrate failed:\n{migrated.stderr[-3000:]}")
            self.topology = Topology(self.folder / "run", self.env)
            self._stack.callback(self.topology.stop)
            if self.deliver:
                self.partners.deliver_stripe_events(self.base_url)
            else:
                self.partners.webhook_url = self.base_url
            self.topology.start(self.base_url)
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        self._stack.close()
        if self.throwaway:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __exit__(self, *exc: object) -> None:
        self.close()

    def app_pids(self) -> dict[str, list[int]]:
        """The processes of each program: its main process and its children (gunicorn's workers,
        Celery's pool)."""
        assert self.topology is not None
        found: dict[str, list[int]] = {}
        for program in PROGRAMS:
            main = self.topology.pid(program)
            found[program] = [main, *children(main)] if main else []
        return found


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return sorted(found)


def rss_kib(pid: int) -> int | None:
    """The resident memory of ``pid`` in KiB (Linux /proc), None once it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


@contextlib.contextmanager
def signals_stop() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM (so ``finally`` blocks run: everything is stopped)."""
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def up(folder: Path, port: int | None) -> int:
    with signals_stop() as stop, Rehearsal(folder, port=port) as rehearsal:
        assert rehearsal.topology is not None
        say(
            f"production.ini is serving on {rehearsal.base_url} (supervisord: web, worker, beat"
            + (", live" if rehearsal.topology.state("live") == "RUNNING" else "; live not yet")
            + ")"
        )
        say(
            f"PostgreSQL 127.0.0.1:{rehearsal.pg.port}, Redis 127.0.0.1:{rehearsal.redis.port};"
            f" stand-ins of Stripe, Onfleet, AWS on loopback; logs: {folder / 'run'}"
        )
        say(f"the environment: {rehearsal.env_file} (a rehearsal's, not a deployment's)")
        say(
            f"supervisorctl -c deploy/supervisord.conf needs TOTETAXI_RUN={folder / 'run'}"
            " (and the other TOTETAXI_* of the file); Ctrl-C stops everything"
        )
        say(
            "a first admin: set -a; . "
            + str(rehearsal.env_file)
            + "; set +a; .venv/bin/totetaxi staff create production.ini --email you@example.com"
            " --role admin"
        )
        stop.wait()
        say("stopping: web drains, the worker finishes its tasks, then Redis and PostgreSQL")
    say("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("up", help="run the topology until interrupted")
    p.add_argument("--folder", type=Path, default=ROOT / "var" / "prod")
    p.add_argument("--port", type=int, default=None, help="the web tier's port (default: kept)")
    args = parser.parse_args(argv)
    return up(args.folder.resolve(), args.port)


if __name__ == "__main__":
    sys.exit(main())
