"""``make soak``: mixed load on the production topology for a while (10 minutes by default), then
each app process's memory at the start and the end and the latency of every minute.

The topology is ``deploy/rehearsal.py``'s, throwaway: production.ini's web tier (gunicorn ×2),
worker and beat under supervisord, against a PostgreSQL cluster and a redis-server of this run's
own on loopback and the stand-ins of Stripe (its events delivered to the webhook as they
happen), Onfleet and AWS. Capacity is raised so that bookings never run out of vans.

Visitors (threads, each pausing 0.1-0.3 s between requests, so that the worker and PostgreSQL
keep their share of the machine's cores): guests who quote, book, pay (confirmed at "Stripe"),
track and read the tracking page; a browser of the catalogue and availability; a signed-in
customer reading their bookings; a member of staff on the console (home, bookings list, a
booking's page).

Printed, and written to ``var/bench/soak.json``: per minute, the requests, their p50 and p99 (ms)
and the errors (any 5xx); per request kind, the count and p50/p99 over the run; each app
process's resident memory (VmRSS) after the first minute (caches warm: the start) and at the end,
with the change, and every minute's; the tasks and emails not done when the load stops and how
long the worker takes to catch up (at most 10 minutes). ``--duration SECONDS`` shortens it. Exit
status 1 when a request failed with a 5xx or the worker did not catch up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))

from rehearsal import Rehearsal, rss_kib, say  # noqa: E402
from visitors import (  # noqa: E402
    Client,
    Recorder,
    book,
    console_sign_in,
    percentile,
    quote,
    sign_up,
    start_payment,
    track,
    tracking,
)

STAFF_EMAIL = "soak-admin@example.com"
STAFF_PASSWORD = "Calm-River-Window-58"  # noqa: S105 - a throwaway database's account


class Visitors:
    def __init__(self, base_url: str, rehearsal: Rehearsal, recorder: Recorder) -> None:
        self.base, self.r, self.recorder = base_url, rehearsal, recorder
        self.stopping = threading.Event()
        today = dt.datetime.now(dt.UTC).date()
        self.days = [today + dt.timedelta(days=3 + i) for i in range(60)]
        self.bookings: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._guest, args=(n,), daemon=True) for n in range(2)
        ] + [
            threading.Thread(target=target, daemon=True)
            for target in (self._browser, self._customer, self._staff)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(120)

    def pause(self, rng: random.Random) -> None:
        self.stopping.wait(rng.uniform(0.1, 0.3))

    def _guest(self, n: int) -> None:
        client, rng = Client(self.base, self.recorder), random.Random(n)  # noqa: S311 - a load's shape, not a secret
        while not self.stopping.is_set():
            day = rng.choice(self.days)
            quote(client, day)
            answer = book(client, day, tag=f"s{n}-")
            if answer.status == 201:
                booking = answer.json
                with self.lock:
                    self.bookings.append(booking)
                payment = start_payment(client, booking)
                if payment.status == 201:
                    self.r.partners.confirm_payment(payment.json["client_secret"])
                self.pause(rng)
                track(client, booking)
            with self.lock:
                earlier = rng.choice(self.bookings) if self.bookings else None
            if earlier is not None:
                tracking(client, earlier)
                track(client, earlier)
            self.pause(rng)

    def _browser(self) -> None:
        client, rng = Client(self.base, self.recorder), random.Random(7)  # noqa: S311 - a load's shape, not a secret
        while not self.stopping.is_set():
            client.request("GET", "/api/v1/services", label="GET /services")
            quote(client, rng.choice(self.days))
            start = rng.choice(self.days)
            client.request(
                "GET",
                f"/api/v1/availability?start={start}&end={start + dt.timedelta(days=30)}"
                "&service_type=mini_move",
                label="GET /availability (30 days)",
            )
            self.pause(rng)

    def _customer(self) -> None:
        client, rng = Client(self.base, self.recorder), random.Random(11)  # noqa: S311 - a load's shape, not a secret
        while not self.stopping.is_set() and sign_up(client).status != 201:
            self.stopping.wait(1)
        while not self.stopping.is_set():
            client.request("GET", "/api/v1/me/bookings", label="GET /me/bookings")
            client.request("GET", "/api/v1/me", label="GET /me")
            self.pause(rng)

    def _staff(self) -> None:
        client, rng = Client(self.base, self.recorder), random.Random(13)  # noqa: S311 - a load's shape, not a secret
        while not self.stopping.is_set() and console_sign_in(
            client, STAFF_EMAIL, STAFF_PASSWORD
        ).status not in (302, 303):
            self.stopping.wait(1)
        while not self.stopping.is_set():
            client.request("GET", "/console/", label="GET /console/ (home)")
            client.request("GET", "/console/bookings", label="GET /console/bookings")
            with self.lock:
                booking = rng.choice(self.bookings) if self.bookings else None
            if booking is not None:
                client.request(
                    "GET", f"/console/bookings/{booking['id']}", label="GET /console/bookings/{id}"
                )
            self.pause(rng)


def memory(rehearsal: Rehearsal) -> dict[str, int]:
    """KiB resident per app process, named by program and role."""
    found: dict[str, int] = {}
    for program, pids in rehearsal.app_pids().items():
        for index, pid in enumerate(pids):
            role = "main" if index == 0 else f"child {index}"
            kib = rss_kib(pid)
            if kib is not None:
                found[f"{program} {role} ({pid})"] = kib
    return found


def minute_rows(recorder: Recorder, began: float, seconds: int) -> list[dict[str, Any]]:
    by_minute: dict[int, list[Any]] = defaultdict(list)
    for rec in recorder.records:
        minute = int((rec.at - began) // 60)
        if 0 <= minute < (seconds + 59) // 60:
            by_minute[minute].append(rec)
    rows = []
    for minute in sorted(by_minute):
        recs = by_minute[minute]
        ms = [r.ms for r in recs]
        rows.append(
            {
                "minute": minute + 1,
                "requests": len(recs),
                "per_s": round(len(recs) / 60, 1),
                "p50_ms": round(percentile(ms, 0.50), 1),
                "p99_ms": round(percentile(ms, 0.99), 1),
                "errors": sum(1 for r in recs if r.status >= 500 or r.status == 0),
            }
        )
    return rows


def kind_rows(recorder: Recorder) -> list[dict[str, Any]]:
    by_label: dict[str, list[float]] = defaultdict(list)
    for rec in recorder.records:
        by_label[rec.label].append(rec.ms)
    return [
        {
            "request": label,
            "count": len(ms),
            "p50_ms": round(percentile(ms, 0.5), 1),
            "p99_ms": round(percentile(ms, 0.99), 1),
        }
        for label, ms in sorted(by_label.items())
    ]


def run(seconds: int) -> int:
    folder = Path(tempfile.mkdtemp(prefix="tt-soak-"))
    recorder = Recorder()
    report: dict[str, Any] = {"when": dt.datetime.now(dt.UTC).isoformat(), "seconds": seconds}
    failed = True
    try:
        with Rehearsal(folder, deliver=True) as r:
            say(f"soak: production.ini on {r.base_url} for {seconds} s (own PostgreSQL and Redis)")
            made = r.totetaxi(
                "staff",
                "create",
                str(ROOT / "production.ini"),
                "--email",
                STAFF_EMAIL,
                "--role",
                "staff",
                stdin=STAFF_PASSWORD + "\n",
            )
            if made.returncode:
                raise SystemExit(f"staff create failed: {made.stderr}")
            r.pg.sql("UPDATE pricing_policy SET van_capacity = 1000000 WHERE id = 1")
            visitors = Visitors(r.base_url, r, recorder)
            began = time.monotonic()
            visitors.start()
            warm = min(60, max(5, seconds // 10))
            time.sleep(warm)
            start_rss = memory(r)
            say(
                f"memory after {warm} s (the start): "
                + ", ".join(f"{k} {v // 1024} MiB" for k, v in start_rss.items())
            )
            next_report = began + 60
            samples: list[dict[str, int]] = []  # every minute's memory, for the trend
            while time.monotonic() - began < seconds:
                time.sleep(max(0.0, min(next_report, began + seconds) - time.monotonic()))
                if time.monotonic() >= next_report:
                    done = int((next_report - began) // 60)  # the minute just completed
                    rows = [r for r in minute_rows(recorder, began, seconds) if r["minute"] == done]
                    for row in rows:
                        say(
                            f"minute {row['minute']}: {row['requests']} requests,"
                            f" p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms,"
                            f" errors {row['errors']}"
                        )
                    samples.append(memory(r))
                    next_report += 60
            end_rss = memory(r)
            visitors.stop()

            def backlog() -> int:
                return r.pg.sql(
                    "SELECT (SELECT count(*) FROM outbox_messages WHERE status::text IN"
                    " ('pending', 'sent')) + (SELECT count(*) FROM notifications_notifications"
                    " WHERE status::text IN ('queued', 'retrying'))"
                )[0][0]

            # The work the load queued and the worker has not done yet, then how long it takes
            # to catch up (bounded: 10 minutes).
            left = backlog()
            stopped = time.monotonic()
            drained = not left
            while time.monotonic() < stopped + 600 and not drained:
                time.sleep(1)
                drained = not backlog()
            report["backlog_at_stop"] = left
            report["drain_seconds"] = round(time.monotonic() - stopped) if drained else None
            outbox = dict(r.pg.sql("SELECT status::text, count(*) FROM outbox_messages GROUP BY 1"))
            bookings = r.pg.sql("SELECT status::text, count(*) FROM bookings GROUP BY 1")
            report.update(
                minutes=minute_rows(recorder, began, seconds),
                requests=kind_rows(recorder),
                memory_kib={
                    name: {"start": start_rss[name], "end": end_rss.get(name)} for name in start_rss
                },
                memory_new_processes={k: v for k, v in end_rss.items() if k not in start_rss},
                memory_by_minute_mib={
                    name: [round(sample.get(name, 0) / 1024, 1) for sample in samples]
                    for name in start_rss
                },
                outbox=outbox,
                bookings=dict(bookings),
                drained=drained,
            )
            errors = sum(row["errors"] for row in report["minutes"])
            failed = bool(errors) or not drained or set(outbox) - {"done"} != set()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print_report(report)
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak.json").write_text(json.dumps(report, indent=2))
    return 1 if failed else 0


def print_report(report: dict[str, Any]) -> None:
    print(f"\nsoak of {report['seconds']} s, {report['when']}")
    print(f"{'minute':>6} {'requests':>9} {'req/s':>6} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for row in report.get("minutes", []):
        print(
            f"{row['minute']:>6} {row['requests']:>9} {row['per_s']:>6} {row['p50_ms']:>8}"
            f" {row['p99_ms']:>8} {row['errors']:>6}"
        )
    print(f"\n{'request':40} {'count':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for row in report.get("requests", []):
        print(f"{row['request']:40} {row['count']:>7} {row['p50_ms']:>8} {row['p99_ms']:>8}")
    print(f"\n{'process':32} {'start MiB':>10} {'end MiB':>8} {'change':>7}")
    for name, kib in report.get("memory_kib", {}).items():
        end = kib["end"]
        change = f"{100 * (end - kib['start']) / kib['start']:+.1f}%" if end else "gone"
        print(f"{name:32} {kib['start'] / 1024:>10.1f} {(end or 0) / 1024:>8.1f} {change:>7}")
    for name, trend in report.get("memory_by_minute_mib", {}).items():
        print(f"{name:32} by minute: {' '.join(str(v) for v in trend)}")
    for name, kib in report.get("memory_new_processes", {}).items():
        print(f"{name:32} {'(new)':>10} {kib / 1024:>8.1f}")
    print(
        f"\noutbox at the end: {report.get('outbox')}; bookings: {report.get('bookings')};"
        f" drained: {report.get('drained')}"
    )
    print(
        f"tasks and emails not done when the load stopped: {report.get('backlog_at_stop')};"
        f" the worker caught up in {report.get('drain_seconds')} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=600, help="seconds of load (600)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return run(max(30, args.duration))


if __name__ == "__main__":
    sys.exit(main())
