"""A month of ToteTaxi replayed on a simulated clock, through the app's own API.

Customers register (the identity service) and book, pay with the mock gateway's test cards (some
declined, some never paid), cancel, upload certificates of insurance; staff review them, fail and
reschedule deliveries, refund; the mock fleet drives every paid booking through its pickup and
drop-off as the periodic tasks advance it. Every step is a request to the app or a periodic task
of an enabled plugin, so pricing, capacity, the state machine, audit records and emails all
happen as in real use. Events are kept in one queue ordered by simulated time; the month stops
at ``end`` (the real present by default), leaving today's deliveries under way and the coming
days booked.

The same seed, days and end give the same month: every choice comes from one
``random.Random(seed)``; only ids, tokens and passwords differ from run to run.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import itertools
import logging
import random
import secrets
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ..business_time import BUSINESS_TZ as NEW_YORK
from ..context import Context
from ..db import unit_of_work
from ..db.types import SimulatedClock, simulated_time
from ..identity import tokens
from ..identity.models import Customer, PrincipalKind
from ..identity.services import create_staff, register_customer
from ..tasks import sweep
from ..tasks.outbox import run_due_periodic
from . import cast
from .client import AppClient, DemoStepFailed

log = logging.getLogger("totetaxi.demo")

API = "/api/v1"
#: The demo's people share this domain, so a second run on the same database is refused.
DOMAIN = "demo.totetaxi.test"
TOKEN_SECONDS = 120 * 86400
COI_PDF = (
    b"%PDF-1.4\n% ToteTaxi demo certificate of insurance\n1 0 obj <<>> endobj\n"
    b"trailer <<>>\n%%EOF\n"
)


class _Deck:
    """Outcomes dealt like cards from a shuffled deck, reshuffled when empty: every outcome
    comes up at its share within each deck's worth of bookings (a plain random draw could give
    a short demo no failed payment at all)."""

    def __init__(self, rng: random.Random, cards: dict[str, int]) -> None:
        self.rng = rng
        self.cards = [name for name, count in cards.items() for _ in range(count)]
        self.left: list[str] = []

    def deal(self) -> str:
        if not self.left:
            self.left = list(self.cards)
            self.rng.shuffle(self.left)
        return self.left.pop()


class DemoRefused(Exception):
    """The demo cannot run here (production, or demo data already loaded)."""


@dataclass(order=True)
class _Event:
    when: dt.datetime
    seq: int
    action: Callable[[], None] = field(compare=False)
    what: str = field(compare=False, default="")


@dataclass
class _Booker:
    """Who books: a customer with a bearer token, or a guest (no account)."""

    token: str | None
    guest: dict[str, str] | None = None
    customer_id: uuid.UUID | None = None


@dataclass
class _Booking:
    id: str
    number: str
    pickup: dt.date
    who: _Booker
    tracking_token: str | None
    high_value: bool
    total_cents: int
    payment_id: str | None = None
    paid: bool = False

    def query(self) -> str:
        return f"?token={self.tracking_token}" if self.tracking_token else ""


@dataclass
class DemoSummary:
    """What the month made, for the command to print (and the tests to check)."""

    start: dt.datetime
    end: dt.datetime
    counts: Counter[str]
    staff: dict[str, str]
    customer_password: str
    requests: int

    def lines(self) -> list[str]:
        out = [
            f"demo: {self.start.astimezone(NEW_YORK):%Y-%m-%d} to "
            f"{self.end.astimezone(NEW_YORK):%Y-%m-%d %H:%M} (New York), {self.requests} requests"
        ]
        out += [f"  {name}: {count}" for name, count in sorted(self.counts.items())]
        out.append("Sign in to the console with (shown once, not stored anywhere else):")
        out += [f"  {email}  {password}" for email, password in self.staff.items()]
        out.append(f"Every demo customer (*@{DOMAIN}) has the password {self.customer_password}")
        return out


class Month:
    """The simulation: build it on an app made for the demo, then :meth:`run` it."""

    def __init__(
        self,
        app: Any,
        *,
        days: int = 30,
        seed: int = 1,
        end: dt.datetime | None = None,
    ) -> None:
        self.app = app
        self.registry = app.registry
        self.client = AppClient(app)
        self.rng = random.Random(seed)  # noqa: S311 - a repeatable story, not a secret
        self.end = (end or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        first_day = self.end.astimezone(NEW_YORK).date() - dt.timedelta(days=days - 1)
        self.start = dt.datetime.combine(first_day, dt.time(6), NEW_YORK).astimezone(dt.UTC)
        self.queue: list[_Event] = []
        self.seq = itertools.count()
        self.counts: Counter[str] = Counter()
        self.customers: list[_Booker] = []
        self.names = itertools.count(1)
        self.customer_password = secrets.token_urlsafe(12)
        self.staff_passwords: dict[str, str] = {}
        self.admin_token = ""
        self.staff_token = ""
        self.clock: SimulatedClock | None = None
        self.catalog: dict[str, Any] = {}
        self.payments = _Deck(
            self.rng,
            {"pay": 5, "declined then paid": 1, "declined three times": 1, "never paid": 1},
        )
        self.afterwards = _Deck(
            self.rng, {"": 2, "customer cancels": 1, "delivery fails": 1, "goodwill refund": 2}
        )

    # --- the event queue ---

    def at(self, when: dt.datetime, action: Callable[[], None], what: str = "") -> None:
        if when <= self.end:
            heapq.heappush(self.queue, _Event(when, next(self.seq), action, what))

    def ny(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), NEW_YORK).astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        assert self.clock is not None
        return self.clock.now

    def run(self) -> DemoSummary:
        with simulated_time(self.start) as clock:
            self.clock = clock
            self._refuse_second_run()
            self._staff()
            self.catalog = self.client.call("GET", f"{API}/services")[1]
            day = self.start.astimezone(NEW_YORK).date()
            while self.ny(day, 0) <= self.end:
                self._plan_day(day)
                day += dt.timedelta(days=1)
            while self.queue:
                event = heapq.heappop(self.queue)
                clock.move_to(event.when)
                try:
                    event.action()
                except DemoStepFailed as exc:
                    # A refusal is part of a real month (a full day, a late cancel); the demo
                    # records it and carries on.
                    self.counts[f"refused: {event.what} ({exc.status})"] += 1
                    log.info("demo step %s refused: %s", event.what, exc)
            clock.move_to(self.end)
            self._tick()
        return DemoSummary(
            self.start,
            self.end,
            self.counts,
            self.staff_passwords,
            self.customer_password,
            self.client.requests,
        )

    # --- set-up ---

    def _transaction(self, work: Callable[[Context], Any]) -> Any:
        with unit_of_work(self.registry["dbsession_factory"]) as (dbsession, tm):
            return work(
                Context(registry=self.registry, dbsession=dbsession, transaction_manager=tm)
            )

    def _refuse_second_run(self) -> None:
        def existing(ctx: Context) -> Any:
            return ctx.dbsession.scalars(
                select(Customer.id).where(Customer.email.like(f"%@{DOMAIN}")).limit(1)
            ).first()

        if self._transaction(existing) is not None:
            raise DemoRefused(
                f"This database already holds demo data (customers @{DOMAIN}); "
                "run the demo on a fresh database."
            )

    def _staff(self) -> None:
        def make(ctx: Context) -> tuple[str, str]:
            found = []
            for role, name in (("admin", "Avery"), ("staff", "Dana")):
                email = f"{name.lower()}.{role}@{DOMAIN}"
                password = secrets.token_urlsafe(12)
                staff = create_staff(
                    ctx,
                    email=email,
                    password=password,
                    role=role,
                    first_name=name,
                    last_name="Demo",
                )
                ctx.dbsession.flush()
                self.staff_passwords[email] = password
                token, _ = tokens.issue(
                    ctx.dbsession, PrincipalKind.STAFF, staff.id, TOKEN_SECONDS, "demo"
                )
                found.append(token)
            return found[0], found[1]

        self.admin_token, self.staff_token = self._transaction(make)

    # --- a day ---

    def _plan_day(self, day: dt.date) -> None:
        # The periodic tasks (the mock fleet's schedule, retries, sweeps) every half hour of the
        # working day, as beat would run them.
        for minutes in range(6 * 60, 22 * 60, 30):
            self.at(self.ny(day, minutes // 60, minutes % 60), self._tick, "periodic tasks")
        weekend = day.weekday() >= 5
        for _ in range(self.rng.randint(1, 3) if weekend else self.rng.randint(2, 5)):
            minute = self.rng.randint(8 * 60, 21 * 60)
            self.at(self.ny(day, minute // 60, minute % 60), self._book, "booking")
        for _ in range(self.rng.choice((0, 0, 1, 1, 2))):
            minute = self.rng.randint(9 * 60, 20 * 60)
            self.at(self.ny(day, minute // 60, minute % 60), self._new_customer, "registration")

    def _tick(self) -> None:
        if self.now().astimezone(NEW_YORK).minute == 0:
            sweep(self.registry)  # hourly: eager mode runs each task at commit already
        ran = run_due_periodic(self.registry, self.now().timestamp())
        self.counts["periodic task runs"] += len(ran)

    # --- customers ---

    def _new_customer(self) -> _Booker:
        number = next(self.names)
        first = self.rng.choice(cast.FIRST_NAMES)
        last = self.rng.choice(cast.LAST_NAMES)
        email = f"{first}.{last}.{number}@{DOMAIN}".lower().replace(" ", "").replace("'", "")
        phone = f"+1 212 555 {1000 + number:04d}"

        def register(ctx: Context) -> tuple[uuid.UUID, str]:
            customer = register_customer(
                ctx,
                email=email,
                password=self.customer_password,
                first_name=first,
                last_name=last,
                phone=phone,
            )
            ctx.dbsession.flush()
            token, _ = tokens.issue(
                ctx.dbsession, PrincipalKind.CUSTOMER, customer.id, TOKEN_SECONDS, "demo"
            )
            return customer.id, token

        customer_id, token = self._transaction(register)
        booker = _Booker(token=token, customer_id=customer_id)
        self.customers.append(booker)
        self.counts["customers registered"] += 1
        return booker

    def _guest(self) -> _Booker:
        number = next(self.names)
        first = self.rng.choice(cast.FIRST_NAMES)
        last = self.rng.choice(cast.LAST_NAMES)
        guest = {
            "first_name": first,
            "last_name": last,
            "email": f"guest.{number}@{DOMAIN}",
            "phone": f"+1 646 555 {1000 + number:04d}",
        }
        return _Booker(token=None, guest=guest)

    # --- bookings ---

    def _service(self) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.5:
            package = self.rng.choices(("petite", "standard", "full"), (0.5, 0.35, 0.15))[0]
            return {"service_type": "mini_move", "package": package}
        if roll < 0.85:
            return {"service_type": "standard_delivery", "item_count": self.rng.randint(3, 25)}
        codes = [item["code"] for item in self.catalog.get("specialty_items", [])]
        picked = self.rng.sample(codes, k=min(len(codes), self.rng.choice((1, 1, 2))))
        return {
            "service_type": "specialty",
            "specialty_items": [{"code": code, "qty": 1} for code in picked],
        }

    def _book(self) -> None:
        roll = self.rng.random()
        if self.customers and roll < 0.45:
            who = self.rng.choice(self.customers)
        elif roll < 0.75:
            who = self._new_customer()
        else:
            who = self._guest()
        today = self.now().astimezone(NEW_YORK).date()
        street, postal = self.rng.choice(cast.MANHATTAN)
        drop_street, village, drop_postal = self.rng.choice(cast.HAMPTONS)
        body: dict[str, Any] = {
            **self._service(),
            "time_window": self.rng.choice(("morning", "afternoon")),
            "coi_handling": self.rng.random() < 0.1,
            "notes": self.rng.choice(cast.NOTES),
            "pickup_address": {
                "line1": street,
                "city": "New York",
                "state": "NY",
                "postal_code": postal,
            },
            "delivery_address": {
                "line1": drop_street,
                "city": village,
                "state": "NY",
                "postal_code": drop_postal,
            },
        }
        if who.guest is not None:
            body["guest"] = who.guest
        if not body["notes"]:
            del body["notes"]
        # Weekends fill first; a full day (409) sends the customer to the next one, as the
        # availability calendar would.
        pickup = today + dt.timedelta(days=self.rng.choice((1, 1, 2, 2, 3, 3, 4, 5, 7, 10, 14)))
        for _ in range(6):
            body["date"] = pickup.isoformat()
            status, answer = self.client.call(
                "POST", f"{API}/bookings", body, token=who.token, expect=(201, 409)
            )
            if status == 201:
                break
            self.counts["full days skipped"] += 1
            pickup += dt.timedelta(days=1)
        else:
            return
        booking = _Booking(
            id=answer["id"],
            number=answer["number"],
            pickup=pickup,
            who=who,
            tracking_token=answer.get("tracking_token"),
            high_value=bool(answer.get("quote", {}).get("high_value")),
            total_cents=answer["total_cents"],
        )
        self.counts[f"bookings: {body['service_type']}"] += 1
        plan = self.payments.deal()
        if plan != "never paid":
            later = self.now() + dt.timedelta(minutes=self.rng.randint(3, 40))
            self.at(later, lambda: self._pay(booking, plan), "payment")
        else:
            self.counts["bookings left unpaid"] += 1

    # --- payments ---

    def _pay(self, booking: _Booking, plan: str) -> None:
        who = booking.who
        _, intent = self.client.call(
            "POST", f"{API}/bookings/{booking.id}/payments{booking.query()}", {}, token=who.token
        )
        booking.payment_id = intent["payment_id"]
        cards = {
            "pay": ["4242424242424242"],
            "declined then paid": ["4000000000000002", "4242424242424242"],
            "declined three times": ["4000000000000002"] * 3,
        }[plan]
        for card in cards:
            _, result = self.client.call(
                "POST",
                f"{API}/payments/mock/confirm{booking.query()}",
                {"payment_id": booking.payment_id, "card_number": card},
                token=who.token,
            )
            self.counts[f"payments: {result['status']}"] += 1
        if plan == "declined three times":
            return
        booking.paid = True
        self._after_payment(booking)

    def _after_payment(self, booking: _Booking) -> None:
        pickup_morning = self.ny(booking.pickup, 7)
        if booking.high_value:
            if self.rng.random() < 0.85:
                upload = self.now() + dt.timedelta(hours=self.rng.randint(2, 20))
                self.at(upload, lambda: self._upload_coi(booking), "COI upload")
            else:
                self.counts["high-value bookings left without a COI"] += 1
        two_days_before = pickup_morning - dt.timedelta(hours=50)
        day_after = self.ny(booking.pickup + dt.timedelta(days=1), 10, self.rng.randint(0, 59))
        when = {
            "customer cancels": self.now() + (two_days_before - self.now()) * self.rng.random(),
            "delivery fails": pickup_morning + dt.timedelta(hours=1),
            "goodwill refund": day_after,
        }
        # A card whose moment the month does not reach (a refund after a pickup beyond the
        # end) goes back under the deck for a booking that gets there.
        for _ in range(3):
            then = self.afterwards.deal()
            if not then or (self.now() < when[then] <= self.end):
                break
            self.afterwards.left.insert(0, then)
        if then == "customer cancels":
            self.at(when[then], lambda: self._customer_cancels(booking), "customer cancellation")
        elif then == "delivery fails":
            self.at(when[then], lambda: self._fail(booking), "failure")
        elif then == "goodwill refund":
            self.at(when[then], lambda: self._goodwill_refund(booking), "refund")

    def _customer_cancels(self, booking: _Booking) -> None:
        self.client.call(
            "POST",
            f"{API}/bookings/{booking.id}/cancel{booking.query()}",
            {"reason": "Plans changed; we are staying in the city."},
            token=booking.who.token,
        )
        self.counts["bookings cancelled by the customer"] += 1

    def _goodwill_refund(self, booking: _Booking) -> None:
        cents = min(booking.total_cents, self.rng.choice((2500, 5000, 10000)))
        _, refund = self.client.call(
            "POST",
            f"{API}/staff/refunds",
            {
                "payment_id": booking.payment_id,
                "amount_cents": cents,
                "reason": self.rng.choice(cast.REFUND_REASONS),
            },
            token=self.staff_token,
        )
        self.counts["refunds requested"] += 1
        if self.rng.random() < 0.75:
            approve = self.now() + dt.timedelta(hours=self.rng.randint(1, 6))
            self.at(approve, lambda: self._approve(refund["id"]), "refund approval")

    def _approve(self, refund_id: str) -> None:
        self.client.call(
            "POST", f"{API}/staff/refunds/{refund_id}/approve", {}, token=self.admin_token
        )
        self.counts["refunds approved"] += 1

    # --- documents ---

    def _upload_coi(self, booking: _Booking) -> None:
        base = f"{API}/bookings/{booking.id}/documents"
        _, slot = self.client.call(
            "POST",
            f"{base}/uploads{booking.query()}",
            {
                "category": "coi",
                "filename": f"COI {booking.number}.pdf",
                "content_type": "application/pdf",
                "size": len(COI_PDF),
            },
            token=booking.who.token,
        )
        upload = slot["upload"]
        self.client.post_form(
            upload["url"], upload["fields"], f"COI {booking.number}.pdf", COI_PDF, "application/pdf"
        )
        self.client.call(
            "POST",
            f"{base}/{slot['document_id']}/complete{booking.query()}",
            {},
            token=booking.who.token,
        )
        self.counts["COIs uploaded"] += 1
        review = self.now() + dt.timedelta(hours=self.rng.randint(1, 8))
        self.at(review, lambda: self._review(booking, slot["document_id"]), "COI review")

    def _review(self, booking: _Booking, document_id: str) -> None:
        if self.rng.random() < 0.85:
            body = {
                "decision": "approved",
                "note": "Coverage and building named as required.",
                "insurer": self.rng.choice(("Chubb", "AIG", "Travelers")),
                "valid_from": (booking.pickup - dt.timedelta(days=60)).isoformat(),
                "valid_to": (booking.pickup + dt.timedelta(days=300)).isoformat(),
            }
        else:
            body = {
                "decision": "rejected",
                "note": "The building is not named as additional insured.",
            }
        self.client.call(
            "POST", f"{API}/staff/documents/{document_id}/review", body, token=self.staff_token
        )
        self.counts[f"COIs {body['decision']}"] += 1

    # --- deliveries ---

    def _fail(self, booking: _Booking) -> None:
        _, page = self.client.call(
            "GET",
            f"{API}/logistics/tasks?date={booking.pickup.isoformat()}&limit=100",
            token=self.staff_token,
        )
        for task in page["items"]:
            if task.get("booking_id") == booking.id and task["status"] in ("created", "assigned"):
                self.client.call(
                    "POST",
                    f"{API}/logistics/tasks/{task['id']}/fail",
                    {"reason": self.rng.choice(cast.FAILURE_REASONS)},
                    token=self.staff_token,
                )
                self.counts["deliveries failed"] += 1
                if self.rng.random() < 0.6:
                    retry = self.now() + dt.timedelta(hours=2)
                    again = functools.partial(self._reschedule, booking, task["id"])
                    self.at(retry, again, "reschedule")
                return

    def _reschedule(self, booking: _Booking, task_id: str) -> None:
        day = self.now().astimezone(NEW_YORK).date() + dt.timedelta(days=self.rng.choice((1, 2)))
        self.client.call(
            "POST",
            f"{API}/logistics/tasks/{task_id}/reschedule",
            {"date": day.isoformat(), "time_window": "afternoon"},
            token=self.staff_token,
        )
        self.counts["deliveries rescheduled"] += 1
