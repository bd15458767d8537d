"""``make chaos``: faults under a steady booking-and-payment load on the production topology, then
what the platform promised, checked by counting rows.

The topology is ``deploy/rehearsal.py``'s, throwaway: production.ini's web tier (gunicorn ×2),
worker and beat under supervisord, against a PostgreSQL cluster and a redis-server of this run's
own on loopback ports (the machine's shared 5432 and 6379 are never touched) and the stand-ins of
Stripe, Onfleet and AWS. The outbox is swept every 5 s and re-sends after 20 s, so recovery fits
in the run.

Load (all the while): guests book (twelve days of six vans each, so days fill and refuse), start
a payment, confirm it at "Stripe" (one in four declined first, then paid) and Stripe's events are
delivered to the webhook twice each — the declined-then-paid ones newest first — and retried
until answered 2xx, as Stripe does; a signed-in customer reads their bookings and a member of
staff the console (both need Redis, which holds sessions).

Faults, in order: Redis stopped for 20 s; PostgreSQL restarted (fast: sessions cut); the worker
killed (SIGKILL, its pool too) while tasks are under way, supervisord restarting it; Onfleet's
events for three tasks delivered twice and out of order (completed before started).

Checks after recovery (exit status 1 when one fails): every answer was a success, a refusal in
the error shape, or a 503 with ``Retry-After`` in the error shape — never another 5xx, never a
traceback in the web log; every booking answered 201 is in the database; no day holds more
bookings than vans, and every day's counter equals its bookings; the outbox is drained with
nothing failed; every notification is sent and SES accepted exactly as many emails as were sent
(none twice); every payment Stripe settled is succeeded and its booking confirmed; each webhook
event is recorded once; the out-of-order Onfleet tasks end completed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rehearsal import Rehearsal, say
from visitors import (
    Client,
    Recorder,
    book,
    console_sign_in,
    sign_up,
    start_payment,
)

DAYS = 12
VANS = 6
GUESTS = 3
STAFF_EMAIL = "chaos-admin@example.com"
STAFF_PASSWORD = "Quiet-Harbor-Lantern-42"  # noqa: S105 - a throwaway database's account


class Load:
    """The visitors, each a thread, until :meth:`stop`."""

    def __init__(self, rehearsal: Rehearsal, recorder: Recorder) -> None:
        self.r, self.recorder = rehearsal, recorder
        self.stopping = threading.Event()
        today = dt.datetime.now(dt.UTC).date()
        self.days = [today + dt.timedelta(days=3 + i) for i in range(DAYS)]
        self.booked: list[str] = []  # ids answered 201
        self.settled: list[str] = []  # intent ids Stripe settled (succeeded)
        self.reversed: list[str] = []  # intents whose events went newest first
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._guest, args=(n,), name=f"guest-{n}", daemon=True)
            for n in range(GUESTS)
        ]
        self.threads.append(threading.Thread(target=self._customer, daemon=True))
        self.threads.append(threading.Thread(target=self._staff, daemon=True))

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(300)

    def _events_of(self, intent_id: str, since: int) -> list[dict[str, Any]]:
        found = []
        for event in self.r.partners.stripe.events[since:]:
            obj = event["data"]["object"]
            if intent_id in (obj.get("id"), obj.get("payment_intent")):
                found.append(event)
        return found

    def _guest(self, n: int) -> None:
        client, rng, partners = (
            Client(self.r.base_url, self.recorder),
            random.Random(n),  # noqa: S311 - a load's shape, not a secret
            self.r.partners,
        )
        count = 0
        while not self.stopping.is_set():
            count += 1
            answer = book(client, rng.choice(self.days), tag=f"c{n}-")
            if answer.status == 201:
                booking = answer.json
                with self.lock:
                    self.booked.append(booking["id"])
                payment = start_payment(client, booking)
                if payment.status == 201:
                    secret = payment.json["client_secret"]
                    intent = secret.partition("_secret_")[0]
                    since = len(partners.stripe.events)
                    declined_first = count % 4 == 0
                    if declined_first:
                        partners.confirm_payment(secret, "pm_card_chargeDeclined")
                    confirmed = partners.confirm_payment(secret, "pm_card_visa")
                    events = self._events_of(intent, since)
                    if declined_first:
                        events.reverse()  # the success arrives before the failure it follows
                    for event in events:
                        partners.post_stripe_event(event)
                        partners.post_stripe_event(event)  # and again: Stripe may repeat one
                    with self.lock:
                        if confirmed.get("status") == "succeeded":
                            self.settled.append(intent)
                        if declined_first:
                            self.reversed.append(intent)
            self.stopping.wait(0.3)

    def _customer(self) -> None:
        client = Client(self.r.base_url, self.recorder)
        while not self.stopping.is_set() and sign_up(client).status != 201:
            self.stopping.wait(1)
        while not self.stopping.is_set():
            client.request("GET", "/api/v1/me/bookings", label="GET /me/bookings (session)")
            self.stopping.wait(0.5)

    def _staff(self) -> None:
        client = Client(self.r.base_url, self.recorder)
        while not self.stopping.is_set() and console_sign_in(
            client, STAFF_EMAIL, STAFF_PASSWORD
        ).status not in (302, 303):
            self.stopping.wait(1)
        while not self.stopping.is_set():
            client.request("GET", "/console/bookings", label="GET /console/bookings")
            self.stopping.wait(1)


class Checks:
    def __init__(self) -> None:
        self.results: list[tuple[bool, str]] = []

    def check(self, ok: bool, what: str) -> None:
        self.results.append((ok, what))
        say(("ok    " if ok else "FAILED") + " " + what)

    @property
    def failed(self) -> bool:
        return any(not ok for ok, _ in self.results)


def wait_until(what: str, test: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if test():
            return True
        time.sleep(1)
    say(f"gave up waiting for {what} after {seconds:.0f} s")
    return False


def kill_worker_mid_task(r: Rehearsal) -> str:
    """SIGKILL the worker (its pool too) while the outbox has tasks handed to it and not done."""
    topology = r.topology
    assert topology is not None
    in_flight = 0

    def busy() -> bool:
        nonlocal in_flight
        in_flight = r.pg.sql("SELECT count(*) FROM outbox_messages WHERE status::text = 'sent'")[0][
            0
        ]
        return in_flight > 0

    wait_until("a task under way", busy, 60)
    pid = topology.pid("worker")
    assert pid, "no worker running"
    os.killpg(pid, signal.SIGKILL)  # supervisord starts every program in a group of its own
    restarted = wait_until(
        "the worker's restart",
        lambda: topology.pid("worker") not in (None, pid) and topology.state("worker") == "RUNNING",
        60,
    )
    return (
        f"killed the worker (pid {pid} and its pool, SIGKILL) with {in_flight} outbox task(s)"
        f" handed over and not done; supervisord restarted it: {'yes' if restarted else 'NO'}"
    )


def onfleet_out_of_order(r: Rehearsal) -> list[str]:
    """Three dispatched tasks: started and completed by a driver, Onfleet's events delivered
    completed first, each twice. Returns the provider task ids."""
    stub, partners = r.partners.onfleet, r.partners
    wait_until("dispatched tasks", lambda: len(stub.tasks) >= 3, 120)
    driver = stub.worker_ids[0]
    picked = []
    for task_id in list(stub.tasks)[:3]:
        stub.start(task_id, driver)
        stub.complete(task_id)
        for trigger in ("taskCompleted", "taskCompleted", "taskStarted", "taskStarted"):
            partners.post_onfleet(trigger, task_id)
        picked.append(task_id)
    return picked


def verify(
    r: Rehearsal, load: Load, recorder: Recorder, onfleet: list[str], web_log: str
) -> Checks:
    c = Checks()
    sql = r.pg.sql
    records = recorder.records
    statuses = Counter(rec.status for rec in records)
    problems = [rec for rec in records if rec.problem]
    outages = [rec for rec in records if rec.status == 503]
    say(
        f"answers: {sum(statuses.values())} ({dict(sorted(statuses.items()))});"
        f" 503s by request: {dict(Counter(rec.label for rec in outages))}"
    )
    c.check(
        not problems,
        "every answer was a success, a refusal or a clean 503 (Retry-After, error shape)"
        + (f"; broken: {[(p.label, p.problem) for p in problems[:5]]}" if problems else ""),
    )
    c.check(
        bool(outages),
        f"requests that needed a dependency while it was down got 503 ({len(outages)})",
    )
    c.check("Traceback" not in web_log, "no traceback in the web tier's log")
    ids = set(load.booked)
    present = {str(row[0]) for row in sql("SELECT id FROM bookings")}
    c.check(
        ids <= present,
        f"all {len(ids)} bookings answered 201 are in the database"
        + (f" (missing {len(ids - present)})" if ids - present else ""),
    )
    days = sql(
        "SELECT c.day, c.booked, c.van_capacity, (SELECT count(*) FROM bookings b"
        " WHERE b.pickup_date = c.day AND b.status::text <> 'cancelled')"
        " FROM pricing_capacity_days c WHERE c.note = 'chaos'"
    )
    over = [str(d) for d, booked, cap, held in days if held > cap or booked > cap]
    off = [str(d) for d, booked, _, held in days if booked != held]
    full = sum(1 for _, booked, cap, _ in days if booked == cap)
    c.check(
        not over and not off,
        f"no booking double-sold: {len(days)} days of {VANS} vans,"
        f" {full} full, none over; counters equal the bookings",
    )
    outbox = dict(sql("SELECT status::text, count(*) FROM outbox_messages GROUP BY 1"))
    c.check(set(outbox) <= {"done"}, f"the outbox is drained, nothing failed: {outbox}")
    notes = dict(sql("SELECT status::text, count(*) FROM notifications_notifications GROUP BY 1"))
    c.check(set(notes) <= {"sent"}, f"every notification was sent: {notes}")
    # Exactly once in the platform's books: one sent row and one successful attempt logged per
    # notification, every outbox message done once (its done mark).
    logged = sql(
        "SELECT count(*) FILTER (WHERE n.status::text = 'sent'),"
        " (SELECT count(*) FROM notifications_delivery_log l WHERE l.kind = 'attempt'"
        "  AND l.outcome = 'sent'),"
        " (SELECT count(DISTINCT l.notification_id) FROM notifications_delivery_log l"
        "  WHERE l.kind = 'attempt' AND l.outcome = 'sent')"
        " FROM notifications_notifications n"
    )[0]
    c.check(
        logged[0] == logged[1] == logged[2],
        f"each email sent once in the books: {logged[0]} sent notifications,"
        f" {logged[1]} successful attempts logged, for {logged[2]} notifications",
    )
    sent_ids = [
        row[0]
        for row in sql(
            "SELECT provider_message_id FROM notifications_notifications"
            " WHERE status::text = 'sent'"
        )
    ]
    accepted = r.partners.sent_emails()
    lost = set(sent_ids) - set(accepted)
    c.check(
        not lost and len(set(accepted)) == len(accepted),
        f"no email lost: each sent notification's message is among the {len(accepted)} SES took",
    )
    # What the provider saw beyond that: a worker killed between SES accepting a message and
    # the commit that records it runs the send again (at least once at the provider; README).
    extra = len(accepted) - len(sent_ids)
    say(
        f"note  SES accepted {extra} message(s) more than the notifications sent: re-sends after"
        " the worker died between SES accepting and the commit"
        if extra
        else "note  SES accepted exactly as many messages as notifications were sent"
    )
    settled = set(load.settled)
    rows = sql(
        "SELECT p.gateway_intent_id, p.status::text, b.status::text FROM payments_payments p"
        " JOIN bookings b ON b.id = p.booking_id"
    )
    paid = {intent: (pay, booking) for intent, pay, booking in rows if intent in settled}
    # Confirmed, or further on (a driver has started it: in progress).
    onward = {"confirmed", "in_progress", "completed"}
    wrong = {i: v for i, v in paid.items() if v[0] != "succeeded" or v[1] not in onward}
    c.check(
        len(paid) == len(settled) and not wrong,
        f"all {len(settled)} payments Stripe settled are succeeded, bookings confirmed (or on)"
        f" ({len(load.reversed)} of them had their events delivered newest first)"
        + (f"; wrong: {list(wrong.items())[:3]}" if wrong else ""),
    )
    events = sql("SELECT count(*), count(DISTINCT event_id) FROM payments_webhook_events")[0]
    deliveries = len(r.partners.delivered)
    c.check(
        events[0] == events[1],
        f"{deliveries} webhook deliveries (each event twice)"
        f" recorded {events[0]} events, each once",
    )
    if onfleet:
        tasks = sql(
            "SELECT provider_task_id, status::text FROM logistics_tasks"
            " WHERE provider_task_id = ANY(%s)",
            onfleet,
        )
        c.check(
            len(tasks) == len(onfleet) and all(s == "completed" for _, s in tasks),
            "Onfleet events completed-before-started (twice each): tasks"
            f" {sorted(s for _, s in tasks)}",
        )
    else:
        c.check(False, "no dispatched Onfleet task to deliver events for")
    return c


def run(seconds_scale: float) -> int:
    folder = Path(tempfile.mkdtemp(prefix="tt-chaos-"))
    settings = {
        "TOTETAXI_TOTETAXI__OUTBOX_SWEEP_SECONDS": "5",
        "TOTETAXI_TOTETAXI__OUTBOX_RESEND_SECONDS": "20",
        "TOTETAXI_TOTETAXI__OUTBOX_GRACE_SECONDS": "5",
    }
    recorder = Recorder()
    kept = False
    say(f"chaos: a throwaway topology in {folder} (own PostgreSQL and Redis on loopback ports)")
    try:
        with Rehearsal(folder, throwaway=False, settings=settings, deliver=False) as r:
            assert r.topology is not None
            say(f"up: {r.base_url}; PostgreSQL :{r.pg.port}, Redis :{r.redis.port}")
            made = r.totetaxi(
                "staff",
                "create",
                str(Path(__file__).resolve().parents[1] / "production.ini"),
                "--email",
                STAFF_EMAIL,
                "--role",
                "admin",
                stdin=STAFF_PASSWORD + "\n",
            )
            if made.returncode:
                raise SystemExit(f"staff create failed: {made.stderr}")
            load = Load(r, recorder)
            for day in load.days:
                r.pg.sql(
                    "INSERT INTO pricing_capacity_days (day, van_capacity, booked,"
                    " specialty_booked, note) VALUES (%s, %s, 0, 0, 'chaos')",
                    day,
                    VANS,
                )
            say(
                f"load: {GUESTS} guests booking and paying over {DAYS} days of {VANS} vans,"
                " a signed-in customer, a member of staff on the console"
            )
            load.start()
            time.sleep(15 * seconds_scale)
            say("fault 1: Redis stopped for 20 s (sessions, throttles, the broker)")
            r.redis.stop()
            time.sleep(20)
            r.redis.start()
            say("        Redis started again")
            time.sleep(10 * seconds_scale)
            say("fault 2: PostgreSQL restarted (fast: every session cut)")
            r.pg.restart()
            say("        PostgreSQL is back")
            time.sleep(10 * seconds_scale)
            say("fault 3: " + kill_worker_mid_task(r))
            say("fault 4: Onfleet's webhooks twice and out of order")
            onfleet = onfleet_out_of_order(r)
            say(f"        delivered completed-before-started for {len(onfleet)} tasks")
            time.sleep(10 * seconds_scale)
            say("load stopped; waiting for recovery (outbox drained, emails sent)")
            load.stop()

            def recovered() -> bool:
                busy = r.pg.sql(
                    "SELECT (SELECT count(*) FROM outbox_messages WHERE status::text IN"
                    " ('pending', 'sent')) + (SELECT count(*) FROM notifications_notifications"
                    " WHERE status::text IN ('queued', 'retrying'))"
                )[0][0]
                return busy == 0

            started = time.monotonic()
            wait_until("recovery", recovered, 300)
            say(f"recovered in {time.monotonic() - started:.0f} s")
            web_log = (folder / "run" / "web.log").read_text(errors="replace")
            checks = verify(r, load, recorder, onfleet, web_log)
            kept = checks.failed
    except BaseException:
        kept = True
        raise
    finally:
        if kept:
            say(f"the run's files are kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    passed = sum(ok for ok, _ in checks.results)
    say(f"chaos: {passed} of {len(checks.results)} checks passed")
    return 1 if checks.failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="stretch the calm periods between faults"
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return run(args.scale)


if __name__ == "__main__":
    sys.exit(main())
