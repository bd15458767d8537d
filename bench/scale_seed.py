"""A realistic PostgreSQL data set for the scale figures of ``make bench`` (issue 14), bulk-loaded.

``seed(url)`` fills a database that :func:`migrate_database` has just migrated (plugins
``pricing payments_mock notifications mail_console``) with 20,000 customers (each with a
profile, most with saved addresses) and 200,000 bookings — a third of them guests', one customer
holding 1,000 — two years back and four months ahead, with their addresses, status history,
the booking counter and the pricing plugin's per-day capacity rows, all through ``COPY``
(about a minute on two cores). Every row is one the application could have written:

- numbers follow creation order; statuses follow the state machine and each booking's history
  has one event per step (the version counts them); past pickups are completed or cancelled,
  today's under way, later ones waiting for payment, confirmed or cancelled;
- quotes are the pricing plugin's own answer for the same draft on the same weekday (holiday
  and peak surcharges of past dates are not replayed), with the cancellation terms of the
  booking's date;
- profiles count their customer's bookings, completed bookings and money spent; capacity rows
  count the vans of the bookings that hold one, with room to spare on every future day (and no
  booking past 120 days ahead, so the next 60 days of the horizon are free for other benches).

No payments, notifications or audit rows are made: staff moved these bookings by hand ("paid
by phone"), which the model allows.

``python bench/scale_seed.py postgresql://postgres@127.0.0.1/NAME [BOOKINGS CUSTOMERS]``
creates, migrates and seeds NAME (the database must not exist).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import psycopg2
from sqlalchemy.engine import make_url

PLUGINS = "pricing payments_mock notifications mail_console"
#: Every seeded customer's password (one argon2 hash is computed and shared).
PASSWORD = "Scale-bench-Totes-2026!"  # noqa: S105 - fake accounts of a throwaway database
HEAVY_EMAIL = "heavy.booker@scale.example"
PAST_DAYS, FUTURE_DAYS = 730, 120
GUEST_SHARE = 0.3
CHUNK = 20_000

FIRST = (
    "Aaron Abigail Adam Adrian Aiden Alan Alexa Alice Alicia Amanda Amber Amelia Andrew Angela "
    "Anna Anthony Ariana Ashley Aubrey Audrey Austin Ava Benjamin Beth Blake Brandon Brian "
    "Brooke Caleb Camila Carlos Caroline Carter Casey Charles Charlotte Chloe Christian "
    "Christopher Claire Cole Connor Daniel David Delaney Diana Dominic Dylan Eleanor Elijah "
    "Elizabeth Ella Emily Emma Eric Ethan Evan Evelyn Faith Gabriel Gavin Grace Hailey Hannah "
    "Harper Hazel Henry Hudson Ian Isaac Isabella Jack Jackson Jacob James Jasmine Jason "
    "Jennifer Jessica John Jonathan Jordan Joseph Joshua Julia Julian Justin Katherine Kayla "
    "Kevin Kylie Landon Laura Lauren Layla Leah Levi Liam Lillian Logan Lucas Lucy Luke "
    "Madeline Madison Maria Mason Matthew Maya Megan Mia Michael Michelle Morgan Natalie "
    "Nathan Nicholas Noah Nora Olivia Owen Paige Peter Rachel Rebecca Riley Robert Ryan "
    "Samantha Samuel Sarah Savannah Scarlett Sebastian Sophia Stella Taylor Thomas Tyler "
    "Victoria Violet William Wyatt Zoe"
).split()
LAST = (
    "Adams Allen Alvarez Anderson Bailey Baker Barnes Bell Bennett Brooks Brown Bryant Butler "
    "Campbell Carter Castillo Chavez Clark Coleman Collins Cook Cooper Cox Cruz Davis Diaz "
    "Edwards Evans Fisher Flores Ford Foster Garcia Gibson Gomez Gonzalez Gordon Graham Gray "
    "Green Griffin Hall Hamilton Harris Hayes Henderson Hernandez Hill Holmes Howard Hughes "
    "Hunt Jackson James Jenkins Jimenez Johnson Jones Jordan Kelly Kennedy Kim King Lee Lewis "
    "Long Lopez Marshall Martin Martinez Mason Mcdonald Meyer Miller Mitchell Moore Morales "
    "Morgan Morris Murphy Myers Nelson Nguyen Ortiz Owens Parker Patel Patterson Perez Perry "
    "Peterson Phillips Powell Price Ramirez Reed Reyes Reynolds Richardson Rivera Roberts "
    "Robinson Rodriguez Rogers Ross Russell Ruiz Sanchez Sanders Scott Shaw Simmons Smith "
    "Stevens Stewart Sullivan Taylor Thomas Thompson Torres Tucker Turner Vasquez Wagner "
    "Walker Wallace Ward Warren Washington Watson Webb Wells West White Williams Wilson Wood "
    "Woods Wright Young"
).split()
DOMAINS = ("gmail.com", "yahoo.com", "icloud.com", "outlook.com", "nyc.rr.com", "hamptons.net")
AREA_CODES = ("212", "646", "917", "631", "516", "718")
MANHATTAN = (
    ("E 62nd St", "10065"),
    ("E 79th St", "10075"),
    ("W 86th St", "10024"),
    ("Park Ave", "10128"),
    ("Madison Ave", "10021"),
    ("Central Park W", "10023"),
    ("Hudson St", "10014"),
    ("Greenwich St", "10013"),
    ("W 23rd St", "10011"),
    ("5th Ave", "10028"),
)
HAMPTONS = (
    ("Dune Rd", "Southampton", "11968"),
    ("Main St", "East Hampton", "11937"),
    ("Ocean Rd", "Bridgehampton", "11932"),
    ("Montauk Hwy", "Amagansett", "11930"),
    ("Jobs Ln", "Southampton", "11968"),
    ("Further Ln", "East Hampton", "11937"),
    ("Sagg Main St", "Sagaponack", "11962"),
    ("Hill St", "Southampton", "11968"),
)
#: What customers book, as ``POST /bookings`` drafts, with how often.
DRAFTS: tuple[tuple[float, dict[str, Any]], ...] = (
    (0.22, {"service_type": "mini_move", "package": "petite"}),
    (0.18, {"service_type": "mini_move", "package": "standard"}),
    (0.08, {"service_type": "mini_move", "package": "full"}),
    (0.04, {"service_type": "mini_move", "package": "standard", "specialty": ["peloton"]}),
    (0.10, {"service_type": "standard_delivery", "item_count": 2}),
    (0.09, {"service_type": "standard_delivery", "item_count": 4}),
    (0.07, {"service_type": "standard_delivery", "item_count": 8}),
    (0.04, {"service_type": "standard_delivery", "item_count": 15}),
    (0.07, {"service_type": "specialty", "specialty": ["peloton"]}),
    (0.05, {"service_type": "specialty", "specialty": ["surfboard"]}),
    (0.03, {"service_type": "specialty", "specialty": ["crib", "wardrobe_box"]}),
    (0.03, {"service_type": "specialty", "specialty": ["wardrobe_box"]}),
)
COI_SHARE = 0.1
NOTES = ("", "", "", "Doorman building; call on arrival.", "Fragile: framed art.", "Gate code 4411")
CANCEL_REASONS = ("Plans changed", "Booked by mistake", "Moving date moved", "")
MESSAGES = {
    "pending_payment": "Booking received; waiting for payment.",
    "confirmed": "Booking confirmed.",
    "in_progress": "Your move is under way.",
    "completed": "Delivered. Thank you for choosing ToteTaxi.",
    "cancelled": "Booking cancelled.",
}


@dataclasses.dataclass(frozen=True)
class Seeded:
    """What was loaded, and handles the benchmark asks with."""

    bookings: int
    customers: int
    seconds: float
    password: str
    heavy_customer_id: str
    heavy_customer_email: str
    #: "First Last" of a customer with a few bookings (the name a member of staff would type).
    sample_name: str
    sample_number: str
    #: A past month with cancelled bookings: (first day, last day).
    past_month: tuple[str, str]
    counts: dict[str, int]


# --- databases ----------------------------------------------------------------------------------


def libpq_dsn(url: str) -> str:
    """A SQLAlchemy URL (``postgresql://`` or ``postgresql+psycopg2://``) as a libpq DSN."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _server_dsn(url: str) -> tuple[str, str]:
    parsed = make_url(url)
    server = parsed.set(drivername="postgresql", database="postgres")
    return server.render_as_string(hide_password=False), parsed.database or ""


def create_database(url: str) -> None:
    """Create the (absent) database ``url`` names."""
    dsn, name = _server_dsn(url)
    conn = psycopg2.connect(dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def drop_database(url: str) -> None:
    """Drop the database ``url`` names, closing its connections first."""
    dsn, name = _server_dsn(url)
    conn = psycopg2.connect(dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


def settings_for(url: str, plugins: str = PLUGINS, **overrides: str) -> dict[str, str]:
    """The development settings the benchmark serves with (eager tasks, mock plugins)."""
    driver = make_url(url).set(drivername="postgresql+psycopg2")
    return {
        "sqlalchemy.url": driver.render_as_string(hide_password=False),
        "totetaxi.plugins": plugins,
        "totetaxi.environment": "development",
        "totetaxi.tasks_mode": "eager",
        **overrides,
    }


def migrate_database(url: str, plugins: str = PLUGINS) -> list[str]:
    """``totetaxi migrate`` for ``url`` with ``plugins`` enabled."""
    from totetaxi_core.db import make_engine
    from totetaxi_core.migrate import migrate
    from totetaxi_core.platform import prepare

    platform = prepare(settings_for(url, plugins), environ={})
    engine = make_engine(platform.settings)
    try:
        return migrate(platform, engine)
    finally:
        engine.dispose()


# --- COPY ---------------------------------------------------------------------------------------

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _cell(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":")).translate(_ESCAPES)
    return str(value).translate(_ESCAPES)


def _chunks(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    chunk: list[Sequence[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def copy_rows(cur: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """``COPY table (columns) FROM STDIN`` in chunks; returns the row count."""
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    count = 0
    for chunk in _chunks(rows, CHUNK):
        buffer = io.StringIO()
        for row in chunk:
            buffer.write("\t".join(_cell(v) for v in row))
            buffer.write("\n")
        buffer.seek(0)
        cur.copy_expert(statement, buffer)
        count += len(chunk)
    return count


# --- the data -----------------------------------------------------------------------------------


@dataclasses.dataclass
class _Person:
    id: uuid.UUID
    first: str
    last: str
    email: str
    phone: str
    created_at: dt.datetime
    bookings: int = 0
    completed: int = 0
    spent: int = 0
    last_booking_at: dt.datetime | None = None


@dataclasses.dataclass
class _Booking:
    id: uuid.UUID
    created_at: dt.datetime
    pickup: dt.date
    draft: int
    coi: bool
    customer: _Person | None
    status: str = "pending_payment"
    events: list[tuple[str, dt.datetime, str]] = dataclasses.field(default_factory=list)
    cancelled_by: str = ""
    refund_percent: int | None = None
    cancel_reason: str = ""


def _phone(rng: random.Random) -> str:
    return f"+1 {rng.choice(AREA_CODES)} 555 {rng.randrange(10_000):04d}"


def _address(rng: random.Random, hamptons: bool) -> dict[str, str]:
    if hamptons:
        street, city, postal = rng.choice(HAMPTONS)
        return {
            "line1": f"{rng.randrange(1, 400)} {street}",
            "line2": "",
            "city": city,
            "state": "NY",
            "postal_code": postal,
        }
    street, postal = rng.choice(MANHATTAN)
    return {
        "line1": f"{rng.randrange(1, 1200)} {street}",
        "line2": f"Apt {rng.randrange(1, 30)}{rng.choice('ABCDEF')}" if rng.random() < 0.7 else "",
        "city": "New York",
        "state": "NY",
        "postal_code": postal,
    }


def _people(rng: random.Random, count: int, now: dt.datetime) -> list[_Person]:
    people = []
    for index in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}.{index}@{rng.choice(DOMAINS)}".lower()
        if index == 0:
            first, last, email = "Harriet", "Heavybooker", HEAVY_EMAIL
        created = now - dt.timedelta(seconds=rng.randrange(60, (PAST_DAYS + 200) * 86_400))
        people.append(_Person(uuid.uuid4(), first, last, email, _phone(rng), created))
    return people


def _story(rng: random.Random, b: _Booking, today: dt.date, now: dt.datetime) -> None:
    """The booking's status path, as the state machine would have walked it."""
    start = b.created_at
    steps = [("pending_payment", start, "system")]
    pickup_morning = dt.datetime.combine(b.pickup, dt.time(13, 0), dt.UTC)

    def later(after: dt.datetime, before: dt.datetime) -> dt.datetime:
        span = max(int((before - after).total_seconds()), 2)
        return after + dt.timedelta(seconds=rng.randrange(1, span))

    roll = rng.random()
    cap = min(now, pickup_morning)
    path: list[str]
    if b.pickup < today:
        if roll < 0.86:
            path = ["confirmed", "in_progress", "completed"]
        else:
            path = ["cancelled"] if roll < 0.93 else ["confirmed", "cancelled"]
    elif b.pickup == today:
        path = ["confirmed", "in_progress"] if roll < 0.6 else ["confirmed"]
    elif roll < 0.25:
        path = []
    elif roll < 0.83:
        path = ["confirmed"]
    else:
        path = ["cancelled"] if roll < 0.9 else ["confirmed", "cancelled"]
    at = start
    for status in path:
        if status == "in_progress":
            at = max(at + dt.timedelta(minutes=1), pickup_morning)
            at = min(at, now)
        elif status == "completed":
            at = min(at + dt.timedelta(hours=rng.randrange(2, 8)), now)
        else:
            at = later(at, max(cap, at + dt.timedelta(minutes=5)))
            at = min(at, now)
        actor = "system"
        if status == "cancelled":
            early = (pickup_morning - at) >= dt.timedelta(hours=60)
            b.cancelled_by = "customer" if early and rng.random() < 0.7 else "staff"
            b.refund_percent = 100 if b.cancelled_by == "customer" else None
            b.cancel_reason = rng.choice(CANCEL_REASONS)
            actor = "customer" if b.cancelled_by == "customer" and b.customer else "staff"
        steps.append((status, at, actor))
    b.status = steps[-1][0]
    b.events = steps


def _bookings(
    rng: random.Random,
    count: int,
    people: list[_Person],
    heavy: int,
    today: dt.date,
    now: dt.datetime,
) -> list[_Booking]:
    weights = [w for w, _ in DRAFTS]
    drafts = rng.choices(range(len(DRAFTS)), weights, k=count)
    bookings = []
    for index in range(count):
        pickup = today + dt.timedelta(days=rng.randrange(-PAST_DAYS, FUTURE_DAYS + 1))
        if index < heavy:
            customer: _Person | None = people[0]
        elif rng.random() < GUEST_SHARE or len(people) < 2:
            customer = None
        else:
            customer = people[rng.randrange(1, len(people))]
        midnight = dt.datetime.combine(pickup, dt.time(5, 0), dt.UTC)
        earliest = midnight - dt.timedelta(days=rng.randrange(1, 60))
        created = min(
            earliest + dt.timedelta(seconds=rng.randrange(0, 86_400)),
            now - dt.timedelta(seconds=rng.randrange(60, 3_600)),
        )
        created = created.replace(microsecond=rng.randrange(1_000_000))
        b = _Booking(
            uuid.uuid4(), created, pickup, drafts[index], rng.random() < COI_SHARE, customer
        )
        _story(rng, b, today, now)
        bookings.append(b)
    bookings.sort(key=lambda b: b.created_at)
    return bookings


def _draft(index: int, coi: bool, day: dt.date) -> dict[str, Any]:
    spec = DRAFTS[index][1]
    return {
        "service_type": spec["service_type"],
        "package": spec.get("package"),
        "item_count": spec.get("item_count"),
        "specialty_items": [{"code": code, "qty": 1} for code in spec.get("specialty", ())],
        "same_day": False,
        "coi_handling": coi,
        "date": day,
    }


def _quotes(registry: Any, today: dt.date) -> dict[tuple[int, bool, int], dict[str, Any]]:
    """The pricing plugin's quote of every draft, with and without COI, on each weekday."""
    from totetaxi_core.context import Context
    from totetaxi_core.db import unit_of_work

    quotes = {}
    with unit_of_work(registry["dbsession_factory"]) as (dbsession, tm):
        ctx = Context(registry=registry, dbsession=dbsession, transaction_manager=tm)
        for offset in range(7):
            day = today + dt.timedelta(days=21 + offset)
            for index in range(len(DRAFTS)):
                for coi in (False, True):
                    quote = ctx.call_hook("totetaxi_quote", draft=_draft(index, coi, day))
                    quotes[index, coi, day.weekday()] = quote
    return quotes


def _terms(registry: Any, days: Iterable[dt.date]) -> dict[dt.date, dict[str, Any]]:
    """The cancellation terms every booking keeps, per pickup date."""
    from totetaxi_core.bookings.cancellation import read_policy
    from totetaxi_core.db import unit_of_work

    with unit_of_work(registry["dbsession_factory"]) as (dbsession, _tm):
        policy = read_policy(dbsession)
        terms = {day: policy.describe(day) for day in days}
    return terms


def _password_hash() -> str:
    from totetaxi_core.identity.passwords import hash_password

    return hash_password(PASSWORD)


def _needs_van(index: int) -> bool:
    spec = DRAFTS[index][1]
    return bool(spec.get("specialty")) or spec["service_type"] == "specialty"


def seed(
    url: str,
    *,
    bookings: int = 200_000,
    customers: int = 20_000,
    heavy: int = 1_000,
    plugins: str = PLUGINS,
    rng_seed: int = 14,
    now: dt.datetime | None = None,
    settings: Mapping[str, str] | None = None,
) -> Seeded:
    """Bulk-load the data set into ``url`` (migrated with ``plugins``, holding no bookings).

    Customer 0 (:data:`HEAVY_EMAIL`) holds ``heavy`` bookings; every customer signs in with
    :data:`PASSWORD`. ``settings`` override those of the app that prices the drafts (a test
    passes its own).
    """
    from totetaxi_core import make_app
    from totetaxi_core.business_time import local_today
    from totetaxi_core.platform import prepare

    started = time.monotonic()
    rng = random.Random(rng_seed)  # noqa: S311 - reproducible fake data, not secrets
    now = now or dt.datetime.now(dt.UTC)
    today = local_today(now)
    app = make_app(prepare(settings_for(url, plugins, **(settings or {})), environ={}))
    registry = app.registry
    try:
        quotes = _quotes(registry, today)
        people = _people(rng, max(customers, 1), now)
        rows = _bookings(rng, bookings, people, min(heavy, bookings), today, now)
        terms = _terms(registry, {b.pickup for b in rows})
    finally:
        registry["dbengine"].dispose()
    password_hash = _password_hash()

    conn = psycopg2.connect(libpq_dsn(url))
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM bookings")
            if cur.fetchone()[0]:
                raise SystemExit("scale_seed: the database already holds bookings")
            counts = _load(cur, rng, people, rows, quotes, terms, password_hash, now)
        conn.autocommit = True
        with conn.cursor() as cur:
            # As a database in service would be (and autovacuum has nothing left to do while
            # the benchmark measures): visibility map set, statistics gathered.
            cur.execute("VACUUM (ANALYZE)")
    finally:
        conn.close()

    sample = next(
        (p for p in people[1:] if p.bookings >= 5), people[1] if len(people) > 1 else people[0]
    )
    cancelled_past = sorted(
        b.pickup for b in rows if b.status == "cancelled" and b.pickup < today.replace(day=1)
    )
    month = cancelled_past[len(cancelled_past) * 3 // 4] if cancelled_past else today
    first = month.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return Seeded(
        bookings=len(rows),
        customers=len(people),
        seconds=round(time.monotonic() - started, 1),
        password=PASSWORD,
        heavy_customer_id=str(people[0].id),
        heavy_customer_email=people[0].email,
        sample_name=f"{sample.first} {sample.last}",
        sample_number=f"TT-{max(1, len(rows) // 3):06d}",
        past_month=(first.isoformat(), last.isoformat()),
        counts=counts,
    )


def _load(
    cur: Any,
    rng: random.Random,
    people: list[_Person],
    rows: list[_Booking],
    quotes: dict[tuple[int, bool, int], dict[str, Any]],
    terms: dict[dt.date, dict[str, Any]],
    password_hash: str,
    now: dt.datetime,
) -> dict[str, int]:
    counts: dict[str, int] = {}
    for b in rows:
        if b.customer is not None:
            person = b.customer
            # An account exists before its first booking.
            opened = b.created_at - dt.timedelta(seconds=rng.randrange(3_600, 60 * 86_400))
            person.created_at = min(person.created_at, opened)
            person.bookings += 1
            person.last_booking_at = max(person.last_booking_at or b.created_at, b.created_at)
            if b.status == "completed":
                person.completed += 1
                person.spent += quotes[b.draft, b.coi, b.pickup.weekday()]["total_cents"]

    counts["customers"] = copy_rows(
        cur,
        "customers",
        (
            "id email password_hash first_name last_name phone is_active last_login_at "
            "password_changed_at created_at updated_at"
        ).split(),
        (
            (
                *(p.id, p.email, password_hash, p.first, p.last, p.phone, True),
                *(p.last_booking_at, p.created_at, p.created_at, p.last_booking_at or p.created_at),
            )
            for p in people
        ),
    )
    counts["customer_profiles"] = copy_rows(
        cur,
        "customer_profiles",
        (
            "id customer_id preferences total_bookings completed_bookings total_spent_cents "
            "last_booking_at created_at updated_at"
        ).split(),
        (
            (
                *(uuid.uuid4(), p.id, {}, p.bookings, p.completed, p.spent, p.last_booking_at),
                *(p.created_at, p.last_booking_at or p.created_at),
            )
            for p in people
        ),
    )

    def saved() -> Iterator[tuple[Any, ...]]:
        labels = ("Home", "Hamptons", "Office")
        for index, p in enumerate(people):
            for n in range(3 if index == 0 else rng.choice((0, 1, 1, 2))):
                a = _address(rng, hamptons=n == 1)
                yield (uuid.uuid4(), p.id, labels[n], *a.values(), a, p.created_at, p.created_at)

    counts["saved_addresses"] = copy_rows(
        cur,
        "saved_addresses",
        (
            "id customer_id label line1 line2 city state postal_code as_typed created_at updated_at"
        ).split(),
        saved(),
    )

    ends: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]] = {}

    def addresses() -> Iterator[tuple[Any, ...]]:
        for b in rows:
            to_hamptons = rng.random() < 0.6
            ids = (uuid.uuid4(), uuid.uuid4())
            ends[b.id] = ids
            for address_id, hamptons in zip(ids, (not to_hamptons, to_hamptons), strict=True):
                a = _address(rng, hamptons)
                yield (address_id, *a.values(), a, b.created_at, b.created_at)

    counts["addresses"] = copy_rows(
        cur,
        "addresses",
        "id line1 line2 city state postal_code as_typed created_at updated_at".split(),
        addresses(),
    )

    def bookings() -> Iterator[tuple[Any, ...]]:
        for seq, b in enumerate(rows, start=1):
            spec = DRAFTS[b.draft][1]
            quote = {
                **quotes[b.draft, b.coi, b.pickup.weekday()],
                "date": b.pickup.isoformat(),
                "cancellation_policy": terms[b.pickup],
            }
            guest = b.customer is None
            first, last, email, phone = "", "", "", ""
            if guest:
                first, last = rng.choice(FIRST), rng.choice(LAST)
                email = f"{first}.{last}{rng.randrange(100)}@{rng.choice(DOMAINS)}".lower()
                phone = _phone(rng)
            cancelled = b.status == "cancelled"
            yield (
                b.id,
                seq,
                f"TT-{seq:06d}",
                b.status,
                spec["service_type"],
                spec.get("package"),
                spec.get("item_count"),
                [{"code": code, "qty": 1} for code in spec.get("specialty", ())],
                False,
                b.coi,
                b.pickup,
                rng.choice(("morning", "afternoon")),
                *ends[b.id],
                b.customer.id if b.customer else None,
                first,
                last,
                email,
                phone,
                hashlib.sha256(rng.randbytes(24)).hexdigest() if guest else None,
                quote,
                quote["subtotal_cents"],
                quote["total_cents"],
                quote.get("currency", "USD"),
                bool(quote.get("high_value")),
                rng.choice(NOTES),
                b.events[-1][1] if cancelled else None,
                b.cancel_reason if cancelled else "",
                b.cancelled_by,
                b.refund_percent,
                len(b.events),
                b.created_at,
                b.events[-1][1],
            )

    counts["bookings"] = copy_rows(
        cur,
        "bookings",
        (
            "id seq number status service_type package item_count specialty_items same_day "
            "coi_handling pickup_date time_window pickup_address_id delivery_address_id "
            "customer_id guest_first_name guest_last_name guest_email guest_phone "
            "tracking_token_hash quote subtotal_cents total_cents currency high_value notes "
            "cancelled_at cancel_reason cancelled_by cancellation_refund_percent version "
            "created_at updated_at"
        ).split(),
        bookings(),
    )

    def events() -> Iterator[tuple[Any, ...]]:
        for b in rows:
            for status, at, actor in b.events:
                actor_id = b.customer.id if actor == "customer" and b.customer else None
                message = MESSAGES[status]
                if status == "cancelled" and b.cancel_reason:
                    message = f"{message} {b.cancel_reason}."
                yield (uuid.uuid4(), b.id, at, status, message, "", actor, actor_id)

    counts["booking_events"] = copy_rows(
        cur,
        "booking_events",
        "id booking_id at status message note actor_kind actor_id".split(),
        events(),
    )
    cur.execute("UPDATE booking_counters SET value = %s WHERE name = 'booking'", (len(rows),))

    vans: Counter[dt.date] = Counter()
    specialty: Counter[dt.date] = Counter()
    for b in rows:
        if b.status != "cancelled":
            vans[b.pickup] += 1
            specialty[b.pickup] += _needs_van(b.draft)
    cur.execute("SELECT van_capacity, specialty_capacity FROM pricing_policy WHERE id = 1")
    van_default, specialty_default = cur.fetchone()
    counts["pricing_capacity_days"] = copy_rows(
        cur,
        "pricing_capacity_days",
        "day van_capacity specialty_capacity booked specialty_booked note".split(),
        (
            # A bigger fleet on busy days, with room to spare (the override is the model's way).
            (
                *(day, max(van_default, n + 4), max(specialty_default, specialty[day] + 2)),
                *(n, specialty[day], "scale seed"),
            )
            for day, n in sorted(vans.items())
        ),
    )
    return counts


def main(argv: list[str]) -> int:
    url = argv[1]
    bookings = int(argv[2]) if len(argv) > 2 else 200_000
    customers = int(argv[3]) if len(argv) > 3 else 20_000
    create_database(url)
    migrate_database(url)
    result = seed(url, bookings=bookings, customers=customers)
    print(json.dumps(dataclasses.asdict(result), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
