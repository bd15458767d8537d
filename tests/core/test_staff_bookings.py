"""The staff booking and customer API (totetaxi_core.bookings.staff_api, editing, search).

``GET /staff/bookings`` (filters, keyset pages), ``GET``/``PATCH /staff/bookings/{id}``,
``POST /staff/bookings/{id}/status``, ``GET /staff/customers`` and ``/staff/customers/{id}``.

The app and its helpers are those of ``test_bookings`` (pricing plugin, clock fixed on Monday
2026-11-23 10:00 New York; ``DAY`` is Thursday 2026-12-03 with no surcharge), with the sign-up
and sign-in throttles per address opened wide (these tests sign in many people from 127.0.0.1)
and a cheap argon2. Every check looks at the database (the booking row, the vans reserved per
day, the history, the audit log, the customer's counters) as well as at the answer.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import event, select
from support.bookings import (
    DAY,
    DELIVERY,
    GUEST,
    MISSING_ID,
    NOW,
    OTHER_DAY,
    PICKUP,
    Objector,
    book,
    client,
    customer_body,
    error_named,
    guest_body,
    ny,
    plain,
    remaining,
    save_address,
    set_clock,
)
from totetaxi_pricing import services as pricing
from totetaxi_pricing.models import CapacityDay
from webtest import TestApp

from totetaxi_core.audit import AuditRecord
from totetaxi_core.bookings import search, staff_api
from totetaxi_core.bookings import services as booking_services
from totetaxi_core.bookings.lifecycle import MESSAGES, TRANSITIONS
from totetaxi_core.bookings.models import Address, Booking, BookingEvent, BookingStatus
from totetaxi_core.business_time import local_today
from totetaxi_core.hooks import hookimpl
from totetaxi_core.identity import passwords
from totetaxi_core.identity.models import Customer, CustomerProfile
from totetaxi_core.testing import STRONG_PASSWORD, bearer, in_transaction, make_staff

STAFF_BOOKINGS = "/api/v1/staff/bookings"
STAFF_CUSTOMERS = "/api/v1/staff/customers"

FRIDAY = dt.date(2026, 12, 4)
SATURDAY = dt.date(2026, 12, 5)  # weekend: +15 %
TODAY = dt.date(2026, 11, 23)  # the clock's date in New York

PETITE = 99500
PETITE_ON_SATURDAY = 99500 + 14925  # (99500 * 1500 + 5000) // 10000 = 14925
STANDARD = 172500
PER_ITEM = 9500
PELOTON, CRIB = 50000, 35000

STATUSES = [s.value for s in BookingStatus]
#: How to bring a new booking (pending_payment) to each status through the staff API.
PATH_TO = {
    "pending_payment": (),
    "confirmed": ("confirmed",),
    "in_progress": ("confirmed", "in_progress"),
    "completed": ("confirmed", "in_progress", "completed"),
    "cancelled": ("cancelled",),
}


@pytest.fixture
def app(make_testapp, monkeypatch) -> TestApp:
    # These tests sign many people in; a cheap argon2 keeps them quick (passwords are not
    # what they test: test_identity_api does the same).
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    testapp = make_testapp(
        **{
            "totetaxi.plugins": "pricing",
            "totetaxi.login_limit_per_address": 10000,
            "totetaxi.reset_limit_per_address": 10000,
        }
    )
    set_clock(testapp, NOW)
    return testapp


# --- helpers: people -----------------------------------------------------------------------------


def staff(app: TestApp, role: str = "staff") -> SimpleNamespace:
    """A staff member (``id``, ``email``) and their bearer ``headers``."""
    member = make_staff(app.app.registry, role)
    return SimpleNamespace(
        id=member.id, email=member.email, headers=bearer(client(app), member.email, staff=True)
    )


def new_customer(
    app: TestApp,
    first: str = "Casey",
    last: str = "Client",
    phone: str = "+1 212 555 0100",
    email: str | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """A registered customer (as the API answers it) and its bearer headers."""
    email = email or f"{first.lower()}-{uuid.uuid4().hex[:6]}@example.com"
    me = (
        client(app)
        .post_json(
            "/api/v1/auth/register",
            {
                "email": email,
                "password": STRONG_PASSWORD,
                "first_name": first,
                "last_name": last,
                "phone": phone,
            },
            status=201,
        )
        .json["customer"]
    )
    return me, bearer(client(app), email)


def guest(first: str, last: str, email: str) -> dict[str, str]:
    return {**GUEST, "first_name": first, "last_name": last, "email": email}


# --- helpers: the staff API ----------------------------------------------------------------------


def listing(app: TestApp, headers: dict[str, str], expect: int = 200, **params: Any) -> Any:
    """``GET /staff/bookings`` with ``params`` (``status`` is the filter; ``expect`` the code)."""
    return client(app).get(STAFF_BOOKINGS, params=params, headers=headers, status=expect).json


def numbers(answer: dict[str, Any]) -> list[str]:
    return [item["number"] for item in answer["items"]]


def read(app: TestApp, headers: dict[str, str], booking_id: str, status: int = 200) -> Any:
    return client(app).get(f"{STAFF_BOOKINGS}/{booking_id}", headers=headers, status=status).json


def patch(
    app: TestApp, headers: dict[str, str], booking_id: str, body: Any, status: int = 200
) -> Any:
    return (
        client(app)
        .patch_json(f"{STAFF_BOOKINGS}/{booking_id}", body, headers=headers, status=status)
        .json
    )


def set_status(
    app: TestApp,
    headers: dict[str, str],
    booking_id: str,
    new: str,
    reason: str | None = None,
    status: int = 200,
) -> Any:
    body: dict[str, Any] = {"status": new}
    if reason is not None:
        body["reason"] = reason
    return (
        client(app)
        .post_json(f"{STAFF_BOOKINGS}/{booking_id}/status", body, headers=headers, status=status)
        .json
    )


def customers(app: TestApp, headers: dict[str, str], expect: int = 200, **params: Any) -> Any:
    return client(app).get(STAFF_CUSTOMERS, params=params, headers=headers, status=expect).json


def customer_detail(
    app: TestApp, headers: dict[str, str], customer_id: str, status: int = 200
) -> Any:
    return client(app).get(f"{STAFF_CUSTOMERS}/{customer_id}", headers=headers, status=status).json


def query_error(answer: dict[str, Any], name: str) -> dict[str, Any]:
    """The one error of a refused query string: it names the parameter, in the querystring."""
    assert answer["status"] == "error"
    [error] = answer["errors"]
    assert (error["name"], error["location"]) == (name, "querystring"), error
    assert error["description"]
    return error


def booking_in(
    app: TestApp,
    headers: dict[str, str],
    status: str,
    day: dt.date = DAY,
    body: dict[str, Any] | None = None,
    owner: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A new booking brought to ``status`` through the staff API."""
    created = book(app, body or guest_body(day), owner)
    for step in PATH_TO[status]:
        set_status(app, headers, created["id"], step)
    return created


# --- helpers: the database -----------------------------------------------------------------------


def run(app: TestApp, work: Any) -> Any:
    return in_transaction(app.app.registry, work)


COLUMNS = (
    "status",
    "service_type",
    "package",
    "item_count",
    "specialty_items",
    "pickup_date",
    "same_day",
    "coi_handling",
    "time_window",
    "notes",
    "total_cents",
    "subtotal_cents",
    "high_value",
    "version",
    "guest_first_name",
    "guest_last_name",
    "guest_email",
    "guest_phone",
    "pickup_address_id",
    "delivery_address_id",
    "cancel_reason",
    "cancelled_at",
    "customer_id",
    "updated_at",
)


def address_of(address: Address) -> dict[str, str]:
    return {
        name: getattr(address, name) for name in ("line1", "line2", "city", "state", "postal_code")
    }


def stored(app: TestApp, booking_id: str) -> dict[str, Any]:
    """The booking row as the database holds it (with its addresses and quote)."""

    def work(ctx: Any) -> dict[str, Any]:
        booking = ctx.dbsession.get(Booking, uuid.UUID(booking_id))
        row = {name: getattr(booking, name) for name in COLUMNS}
        row["status"] = plain(row["status"])
        row["pickup_address"] = address_of(booking.pickup_address)
        row["delivery_address"] = address_of(booking.delivery_address)
        row["quote"] = copy.deepcopy(booking.quote)
        return row

    return run(app, work)


def booked(app: TestApp, day: dt.date) -> tuple[int, int]:
    """(vans, specialty vans) reserved on ``day``."""

    def work(ctx: Any) -> tuple[int, int]:
        row = ctx.dbsession.execute(
            select(CapacityDay.booked, CapacityDay.specialty_booked).where(CapacityDay.day == day)
        ).first()
        return (row[0], row[1]) if row else (0, 0)

    return run(app, work)


def audits(app: TestApp, target_id: str, action: str | None = None) -> list[dict[str, Any]]:
    def work(ctx: Any) -> list[dict[str, Any]]:
        statement = select(AuditRecord).where(AuditRecord.target_id == str(target_id))
        if action is not None:
            statement = statement.where(AuditRecord.action == action)
        return [
            {
                "action": r.action,
                "actor_kind": r.actor_kind,
                "actor_id": r.actor_id,
                "actor_email": r.actor_email,
                "target_type": r.target_type,
                "changes": r.changes,
            }
            for r in ctx.dbsession.scalars(statement.order_by(AuditRecord.at))
        ]

    return run(app, work)


def events(app: TestApp, booking_id: str) -> list[dict[str, Any]]:
    def work(ctx: Any) -> list[dict[str, Any]]:
        return [
            {
                "status": e.status,
                "message": e.message,
                "note": e.note,
                "actor_kind": e.actor_kind,
                "actor_id": e.actor_id,
            }
            for e in ctx.dbsession.scalars(
                select(BookingEvent)
                .where(BookingEvent.booking_id == uuid.UUID(booking_id))
                .order_by(BookingEvent.at)
            )
        ]

    return run(app, work)


def profile(app: TestApp, customer_id: str) -> tuple[int, int, int]:
    """(total_bookings, completed_bookings, total_spent_cents) of the customer's profile."""

    def work(ctx: Any) -> tuple[int, int, int]:
        row = ctx.dbsession.execute(
            select(
                CustomerProfile.total_bookings,
                CustomerProfile.completed_bookings,
                CustomerProfile.total_spent_cents,
            ).where(CustomerProfile.customer_id == uuid.UUID(customer_id))
        ).one()
        return (row[0], row[1], row[2])

    return run(app, work)


def state(app: TestApp, booking_id: str, *days: dt.date) -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    return {
        "row": stored(app, booking_id),
        "days": [booked(app, day) for day in days],
        "events": events(app, booking_id),
        "audits": audits(app, booking_id),
    }


# --- helpers: plugins ----------------------------------------------------------------------------


class ChangeSpy:
    """Records ``totetaxi_booking_changed`` calls, and the vans booked when each fired."""

    def __init__(self, watch: tuple[dt.date, ...] = ()) -> None:
        self.watch = watch
        self.calls: list[dict[str, Any]] = []

    @hookimpl
    def totetaxi_booking_changed(self, ctx, booking, changes):
        vans = {
            day: ctx.dbsession.execute(
                select(CapacityDay.booked).where(CapacityDay.day == day)
            ).scalar()
            for day in self.watch
        }
        self.calls.append(
            {
                "id": str(booking.id),
                "changes": copy.deepcopy(changes),
                "total_cents": booking.total_cents,
                "vans": vans,
                "actor": getattr(ctx.actor, "id", None),
            }
        )


class Details:
    """A plugin filling two of the staff booking's sections and adding one."""

    @hookimpl
    def totetaxi_booking_details(self, request, booking):
        return {
            "payments": [{"amount_cents": booking.total_cents, "state": "succeeded"}],
            "delivery": {"status": "assigned", "number": booking.number},
            "loyalty": {"points": 7},
        }


class NoDetails:
    @hookimpl
    def totetaxi_booking_details(self, request, booking):
        return None


class CardSummary:
    @hookimpl
    def totetaxi_customer_summary(self, request, customer):
        return {"saved cards": 2, "email": customer.email}


class RefundSummary:
    @hookimpl
    def totetaxi_customer_summary(self, request, customer):
        return {"refunds": 1}


class NoSummary:
    @hookimpl
    def totetaxi_customer_summary(self, request, customer):
        return None


def register(app: TestApp, plugin: Any, name: str) -> Any:
    app.app.registry.hooks.register(plugin, name)
    return plugin


# --- the list: filters ---------------------------------------------------------------------------


@pytest.fixture
def seeded(app: TestApp) -> SimpleNamespace:
    """Six bookings, TT-000001 to TT-000006 in this order (so newest first is 6 .. 1):

    1 gale     guest Gale Guest            DAY        pending_payment
    2 harper   guest Harper Lee            FRIDAY     confirmed
    3 casey_a  customer Casey Client       OTHER_DAY  cancelled
    4 dana     customer Dana Driver        FRIDAY     in_progress
    5 casey_b  customer Casey Client       DAY        pending_payment
    6 percy    guest Percy 100%_off        SATURDAY   completed
    """
    member = staff(app)
    casey, casey_headers = new_customer(app, "Casey", "Client")
    dana, dana_headers = new_customer(app, "Dana", "Driver", email="dana@example.com")
    made = SimpleNamespace(staff=member, casey=casey, dana_account=dana)
    made.gale = booking_in(
        app,
        member.headers,
        "pending_payment",
        body=guest_body(DAY, guest=guest("Gale", "Guest", "gale@example.com")),
    )
    made.harper = booking_in(
        app,
        member.headers,
        "confirmed",
        body=guest_body(FRIDAY, guest=guest("Harper", "Lee", "harper@example.com")),
    )
    made.casey_a = booking_in(
        app, member.headers, "cancelled", body=customer_body(OTHER_DAY), owner=casey_headers
    )
    made.dana = booking_in(
        app, member.headers, "in_progress", body=customer_body(FRIDAY), owner=dana_headers
    )
    made.casey_b = booking_in(
        app, member.headers, "pending_payment", body=customer_body(DAY), owner=casey_headers
    )
    made.percy = booking_in(
        app,
        member.headers,
        "completed",
        body=guest_body(SATURDAY, guest=guest("Percy", "100%_off", "percy@example.com")),
    )
    assert [made.gale["number"], made.percy["number"]] == ["TT-000001", "TT-000006"]
    return made


@pytest.mark.both_databases
def test_the_list_is_newest_first_with_every_booking(app, seeded):
    answer = listing(app, seeded.staff.headers)
    assert numbers(answer) == [f"TT-00000{n}" for n in range(6, 0, -1)]
    assert answer["next_cursor"] is None
    first = answer["items"][0]
    assert first["id"] == seeded.percy["id"] and first["status"] == "completed"
    assert first["guest"]["last_name"] == "100%_off" and first["customer_id"] is None
    casey_b = answer["items"][1]
    assert casey_b["customer_id"] == seeded.casey["id"] and casey_b["guest"] is None
    assert casey_b["total_cents"] == PETITE and casey_b["pickup_date"] == DAY.isoformat()


def expect_numbers(
    app: TestApp, headers: dict[str, str], cases: list[tuple[dict[str, Any], list[int]]]
) -> None:
    """Each query of ``cases`` lists exactly the bookings numbered ``expected``, newest first."""
    for params, expected in cases:
        got = numbers(listing(app, headers, **params))
        assert got == [f"TT-{n:06d}" for n in expected], params


def test_status_filter(app, seeded):
    expect_numbers(
        app,
        seeded.staff.headers,
        [
            ({"status": "pending_payment"}, [5, 1]),
            ({"status": "completed"}, [6]),
            ({"status": "pending_payment,confirmed"}, [5, 2, 1]),
            ({"status": " cancelled , in_progress ,"}, [4, 3]),  # spaces and a trailing comma
            ({"status": ",".join(STATUSES)}, [6, 5, 4, 3, 2, 1]),
            ({"status": ""}, [6, 5, 4, 3, 2, 1]),
        ],
    )


def test_date_range_is_inclusive_on_the_pickup_date(app, seeded):
    expect_numbers(
        app,
        seeded.staff.headers,
        [
            ({"date_from": DAY.isoformat(), "date_to": DAY.isoformat()}, [5, 1]),
            ({"date_from": FRIDAY.isoformat()}, [6, 4, 3, 2]),
            ({"date_to": FRIDAY.isoformat()}, [5, 4, 2, 1]),
            ({"date_from": FRIDAY.isoformat(), "date_to": SATURDAY.isoformat()}, [6, 4, 2]),
            ({"date_from": OTHER_DAY.isoformat(), "date_to": OTHER_DAY.isoformat()}, [3]),
            ({"date_from": "2026-12-06", "date_to": "2026-12-07"}, []),
            ({"date_to": "2026-12-02"}, []),
            ({"date_from": "2026-12-09"}, []),
        ],
    )


@pytest.mark.both_databases
def test_q_finds_a_booking_by_number(app, seeded):
    expect_numbers(
        app,
        seeded.staff.headers,
        [
            *(
                ({"q": q}, [3])
                for q in ("TT-000003", "tt-000003", "TT3", "tt3", "3", "000003", "  TT-000003  ")
            ),
            *(({"q": q}, []) for q in ("TT-999999", "99", "0")),
        ],
    )


@pytest.mark.both_databases
def test_q_by_guest_name_and_email(app, seeded):
    headers = seeded.staff.headers
    assert numbers(listing(app, headers, q="gale")) == ["TT-000001"]
    assert numbers(listing(app, headers, q="GUEST")) == ["TT-000001"]  # last name, any case
    assert numbers(listing(app, headers, q="harper@example.com")) == ["TT-000002"]
    assert numbers(listing(app, headers, q="Lee")) == ["TT-000002"]


@pytest.mark.both_databases
def test_q_by_customer_name_and_email(app, seeded):
    headers = seeded.staff.headers
    assert numbers(listing(app, headers, q=seeded.casey["email"])) == ["TT-000005", "TT-000003"]
    assert numbers(listing(app, headers, q=seeded.casey["email"].upper())) == [
        "TT-000005",
        "TT-000003",
    ]
    assert numbers(listing(app, headers, q="dana@example.com")) == ["TT-000004"]
    assert numbers(listing(app, headers, q="driver")) == ["TT-000004"]
    # Every booking's contact has an example.com address (guests and customers alike).
    assert len(listing(app, headers, q="example.com")["items"]) == 6


@pytest.mark.both_databases
def test_q_words_must_each_match(app, seeded):
    headers = seeded.staff.headers
    assert numbers(listing(app, headers, q="casey client")) == ["TT-000005", "TT-000003"]
    assert numbers(listing(app, headers, q="Client   Casey")) == ["TT-000005", "TT-000003"]
    assert numbers(listing(app, headers, q="dana driver")) == ["TT-000004"]
    assert numbers(listing(app, headers, q="gale lee")) == []
    assert numbers(listing(app, headers, q="casey driver")) == []
    assert numbers(listing(app, headers, q="gale gale@example.com")) == ["TT-000001"]


@pytest.mark.both_databases
def test_q_percent_and_underscore_are_literal(app, seeded):
    expect_numbers(
        app,
        seeded.staff.headers,
        [
            ({"q": "%"}, [6]),  # only the guest whose name holds a real "%"
            ({"q": "_"}, [6]),
            ({"q": "100%_off"}, [6]),
            ({"q": "a_e"}, []),  # as a wildcard "_" would match Gale and Casey
            ({"q": "g%e"}, []),  # as a wildcard "%" would match Gale and Guest
            ({"q": "%%"}, []),
            ({"q": "\\"}, []),
        ],
    )


@pytest.fixture
def contacts(app: TestApp) -> SimpleNamespace:
    """Four bookings whose contacts differ in every part a search reads (newest is 4):

    1 guest     Maria de la Cruz  maria.cruz@example.org         +1 917 555 0142
    2 customer  Olu Adebayo       olu.adebayo@hamptons.example   +1 631 555 0177
    3 customer  Olu Adebayo (the same customer)
    4 guest     Ann Li            ann@li.example                 +1 212 555 0123
    """
    member = staff(app)
    _, olu = new_customer(app, "Olu", "Adebayo", "+1 631 555 0177", "olu.adebayo@hamptons.example")
    maria = {
        "first_name": "Maria",
        "last_name": "de la Cruz",
        "email": "MARIA.CRUZ@Example.org",
        "phone": "+1 917 555 0142",
    }
    ann = {"first_name": "Ann", "last_name": "Li", "email": "ann@li.example"}
    book(app, guest_body(DAY, guest=maria))
    book(app, customer_body(FRIDAY), olu)
    book(app, customer_body(OTHER_DAY), olu)
    book(app, guest_body(DAY, guest={**maria, **ann, "phone": "+1 212 555 0123"}))
    return member


#: (q, the numbers it finds newest first) over :func:`contacts`.
CONTACT_SEARCHES = [
    ("maria", [1]),
    ("mArIa", [1]),  # names in any case
    ("ADEBAYO", [3, 2]),
    ("de la cruz", [1]),
    ("olu adebayo", [3, 2]),
    ("Adebayo Olu", [3, 2]),  # words in any order
    ("cruz@exa", [1]),  # part of an email, stored lower-case
    ("MARIA.CRUZ@EXAMPLE.ORG", [1]),
    ("hamptons.example", [3, 2]),
    ("@li.ex", [4]),
    ("917 555 0142", [1]),  # a guest's phone
    ("+1 631", [3, 2]),  # a customer's phone
    ("555 0177", [3, 2]),
    ("+1 555", [4, 3, 2, 1]),
    ("0177", []),  # digits alone are a booking number
    ("li", [4]),  # words too short for a trigram
    ("an", [4]),
    ("a", [4, 3, 2, 1]),
    ("ann 0123", [4]),
    ("maria adebayo", []),  # words of two bookings' contacts never combine
    ("ann maria", []),
    ("zzqx", []),  # nothing matches
    ("qz", []),
    ("xyz 917", []),
]


@pytest.mark.both_databases
def test_q_finds_every_contact_by_name_email_or_phone_with_other_filters(
    app, contacts, monkeypatch
):
    # Both ways of matching customers (their ids first, or a lookup per booking; the words
    # choose) must find exactly the same bookings.
    for indexed in (True, False):
        monkeypatch.setattr(search, "indexable", lambda words, indexed=indexed: indexed)
        expect_numbers(app, contacts.headers, [({"q": q}, found) for q, found in CONTACT_SEARCHES])
        expect_numbers(
            app,
            contacts.headers,
            [
                ({"q": "adebayo", "date_from": OTHER_DAY.isoformat()}, [3]),
                ({"q": "+1 555", "date_to": DAY.isoformat()}, [4, 1]),
                ({"q": "olu", "status": "cancelled"}, []),
                ({"q": "olu", "limit": 1}, [3]),
            ],
        )


def test_customer_id_filter(app, seeded):
    headers = seeded.staff.headers
    assert numbers(listing(app, headers, customer_id=seeded.casey["id"])) == [
        "TT-000005",
        "TT-000003",
    ]
    assert numbers(listing(app, headers, customer_id=seeded.dana_account["id"])) == ["TT-000004"]
    assert listing(app, headers, customer_id=MISSING_ID)["items"] == []


def test_filters_combine(app, seeded):
    casey = seeded.casey["id"]
    expect_numbers(
        app,
        seeded.staff.headers,
        [
            ({"status": "pending_payment", "q": "casey"}, [5]),
            (
                {
                    "status": "pending_payment,cancelled",
                    "customer_id": casey,
                    "date_from": OTHER_DAY.isoformat(),
                },
                [3],
            ),
            (
                {
                    "status": "confirmed,in_progress",
                    "date_from": FRIDAY.isoformat(),
                    "date_to": FRIDAY.isoformat(),
                },
                [4, 2],
            ),
            ({"q": "TT-000003", "status": "pending_payment"}, []),
            ({"q": "TT-000003", "customer_id": casey}, [3]),
            ({"q": "example.com", "date_to": DAY.isoformat(), "status": "pending_payment"}, [5, 1]),
            ({"q": "gale", "customer_id": casey}, []),
        ],
    )


@pytest.mark.both_databases
def test_paging_with_limit_two_returns_every_booking_once(app, seeded):
    headers = seeded.staff.headers
    seen: list[str] = []
    pages = 0
    params: dict[str, Any] = {"limit": 2}
    while True:
        answer = listing(app, headers, **params)
        pages += 1
        assert len(answer["items"]) <= 2
        seen += numbers(answer)
        if answer["next_cursor"] is None:
            break
        params["cursor"] = answer["next_cursor"]
    assert pages == 3
    assert seen == [f"TT-00000{n}" for n in range(6, 0, -1)]
    # A booking made meanwhile never shifts the pages already handed out.
    first = listing(app, headers, limit=2)
    book(app, guest_body(OTHER_DAY))
    rest = listing(app, headers, limit=4, cursor=first["next_cursor"])
    assert numbers(rest) == ["TT-000004", "TT-000003", "TT-000002", "TT-000001"]


@pytest.mark.both_databases
def test_paging_keeps_the_filters(app, seeded):
    headers = seeded.staff.headers
    first = listing(app, headers, limit=1, status="pending_payment,completed")
    assert numbers(first) == ["TT-000006"]
    second = listing(
        app, headers, limit=1, status="pending_payment,completed", cursor=first["next_cursor"]
    )
    assert numbers(second) == ["TT-000005"]
    third = listing(
        app, headers, limit=1, status="pending_payment,completed", cursor=second["next_cursor"]
    )
    assert numbers(third) == ["TT-000001"] and third["next_cursor"] is None


def test_soft_deleted_bookings_vanish_from_the_list_and_the_detail(app, seeded):
    def delete(ctx: Any) -> None:
        ctx.dbsession.get(Booking, uuid.UUID(seeded.harper["id"])).soft_delete()

    run(app, delete)
    headers = seeded.staff.headers
    assert "TT-000002" not in numbers(listing(app, headers))
    assert listing(app, headers, q="TT-000002")["items"] == []
    read(app, headers, seeded.harper["id"], status=404)
    patch(app, headers, seeded.harper["id"], {"notes": "x"}, status=404)
    set_status(app, headers, seeded.harper["id"], "cancelled", status=404)


def naive_cursor() -> str:
    raw = json.dumps(["2026-11-23T10:00:00", MISSING_ID]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def junk_cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


BAD_QUERIES = [
    ({"status": "lost"}, "status"),
    ({"status": "confirmed,lost"}, "status"),
    ({"status": "CONFIRMED"}, "status"),
    ({"date_from": "2026-13-01"}, "date_from"),
    ({"date_from": "12/03/2026"}, "date_from"),
    ({"date_to": "tomorrow"}, "date_to"),
    ({"date_from": DAY.isoformat(), "date_to": "2026-12-02"}, "date_to"),
    ({"customer_id": "casey"}, "customer_id"),
    ({"customer_id": "123"}, "customer_id"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": "!!!"}, "cursor"),
    ({"cursor": naive_cursor()}, "cursor"),
    ({"cursor": junk_cursor({"a": 1})}, "cursor"),
    ({"cursor": junk_cursor([1, 2])}, "cursor"),
    ({"cursor": junk_cursor(["2026-11-23T10:00:00+00:00", "x"])}, "cursor"),
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "-1"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"q": "x" * 201}, "q"),
    ({"cancelled_from": "yesterday"}, "cancelled_from"),
    ({"cancelled_from": "2026-11-23", "cancelled_to": "2026-11-22"}, "cancelled_to"),
    ({"created_to": "2026-02-30"}, "created_to"),
    ({"service_type": "Mini Move"}, "service_type"),
    ({"service_type": "x" * 31}, "service_type"),
]


@pytest.mark.both_databases
def test_bad_query_parameters_are_400_naming_them(app):
    viewer = staff(app, "viewer")
    book(app, guest_body())
    for params, name in BAD_QUERIES:
        query_error(listing(app, viewer.headers, expect=400, **params), name)


def test_cancelled_days_and_service_filters(app, seeded):
    """The dashboard's cancellations and service mix link here: cancelled on these New York
    days whenever made, and one service's bookings."""
    headers = seeded.staff.headers
    today = NOW.date().isoformat()  # NOW is New York time; the cancellation happened "now"
    expect_numbers(
        app,
        headers,
        [
            ({"cancelled_from": today, "cancelled_to": today}, [3]),
            ({"cancelled_from": today}, [3]),
            ({"cancelled_to": "2026-11-22"}, []),
            ({"cancelled_from": "2026-11-24"}, []),
            ({"service_type": "mini_move", "status": "completed"}, [6]),
            ({"service_type": "specialty"}, []),
            ({"service_type": "mini_move", "cancelled_from": today}, [3]),
        ],
    )


def test_limits_at_the_edges_are_fine(app):
    viewer = staff(app, "viewer")
    created = book(app, guest_body())
    for limit in ("1", "100"):
        assert numbers(listing(app, viewer.headers, limit=limit)) == [created["number"]]


def test_every_staff_role_lists(app):
    created = book(app, guest_body())
    for role in ("viewer", "staff", "admin"):
        assert numbers(listing(app, staff(app, role).headers)) == [created["number"]], role


@pytest.mark.both_databases
def test_the_list_costs_the_same_statements_for_2_and_8_bookings(app):
    member = staff(app)
    engine = app.app.registry["dbengine"]
    _, casey = new_customer(app)
    days = [DAY, FRIDAY, OTHER_DAY, SATURDAY]

    def statements(**params: Any) -> int:
        seen: list[str] = []

        def listener(*args: Any) -> None:
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", listener)
        try:
            answer = listing(app, member.headers, **params)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert answer["items"]
        return len(seen)

    book(app, guest_body(DAY))
    book(app, customer_body(FRIDAY), casey)
    listing(app, member.headers)  # warm up (catalog caches, first connection)
    two = statements()
    two_searched = statements(q="casey", status="pending_payment")
    for n in range(6):
        if n % 2:
            book(app, customer_body(days[n % 4]), casey)
        else:
            book(app, guest_body(days[n % 4]))
    assert len(listing(app, member.headers)["items"]) == 8
    assert statements() == two  # no query per row
    assert statements(q="casey", status="pending_payment") == two_searched


# --- one booking ---------------------------------------------------------------------------------


def test_a_customers_booking_as_staff_see_it(app):
    member = staff(app)
    viewer = staff(app, "viewer")
    me, headers = new_customer(app, "Casey", "Client", phone="+1 212 555 0177")
    created = book(app, customer_body(notes="Doorman: Sam"), headers)
    set_status(app, member.headers, created["id"], "confirmed", reason="Paid by phone")
    answer = read(app, viewer.headers, created["id"])
    row = stored(app, created["id"])
    assert answer["id"] == created["id"] and answer["number"] == created["number"]
    assert answer["status"] == "confirmed" == row["status"]
    assert answer["version"] == row["version"] == 2
    assert answer["updated_at"] == row["updated_at"].isoformat()
    assert answer["cancel_reason"] == "" and answer["cancelled_at"] is None
    assert answer["notes"] == "Doorman: Sam"
    assert answer["total_cents"] == PETITE and answer["quote"]["total_cents"] == PETITE
    assert answer["guest"] is None
    assert answer["customer_id"] == me["id"]
    assert answer["customer"] == {
        "id": me["id"],
        "email": me["email"],
        "first_name": "Casey",
        "last_name": "Client",
        "phone": "+1 212 555 0177",
    }
    # A staff reason is an internal note; tracking shows the customer the standard message.
    assert [
        (h["status"], h["message"], h["note"], h["actor_kind"], h["actor_id"])
        for h in answer["history"]
    ] == [
        ("pending_payment", MESSAGES[BookingStatus.PENDING_PAYMENT], "", "customer", me["id"]),
        ("confirmed", MESSAGES[BookingStatus.CONFIRMED], "Paid by phone", "staff", str(member.id)),
    ]
    assert all(dt.datetime.fromisoformat(h["at"]).tzinfo for h in answer["history"])
    assert answer["payments"] == [] and answer["documents"] == []
    assert answer["notifications"] == [] and answer["delivery"] is None
    assert answer["pickup_address"] == {**PICKUP, "as_typed": PICKUP}
    delivery = {**DELIVERY, "line2": ""}
    assert answer["delivery_address"] == {**delivery, "as_typed": delivery}


def test_a_guests_booking_as_staff_see_it(app):
    member = staff(app)
    created = book(app, guest_body())
    answer = read(app, member.headers, created["id"])
    assert answer["customer"] is None and answer["customer_id"] is None
    assert answer["guest"] == GUEST
    assert answer["version"] == 1
    assert [(h["status"], h["actor_kind"], h["actor_id"]) for h in answer["history"]] == [
        ("pending_payment", "system", None)
    ]
    assert "tracking_token" not in answer
    assert (
        answer["payments"],
        answer["documents"],
        answer["notifications"],
        answer["delivery"],
    ) == ([], [], [], None)


@pytest.mark.both_databases
def test_plugins_fill_the_booking_sections(app):
    member = staff(app)
    created = book(app, guest_body())
    register(app, NoDetails(), "no-details")
    register(app, Details(), "details")
    answer = read(app, member.headers, created["id"])
    assert answer["payments"] == [{"amount_cents": PETITE, "state": "succeeded"}]
    assert answer["delivery"] == {"status": "assigned", "number": created["number"]}
    assert answer["loyalty"] == {"points": 7}
    assert answer["documents"] == [] and answer["notifications"] == []  # untouched defaults
    # The edit answer is the same staff view.
    edited = patch(app, member.headers, created["id"], {"notes": "Ring twice."})
    assert edited["payments"] == [{"amount_cents": PETITE, "state": "succeeded"}]
    assert edited["notes"] == "Ring twice."


def test_unknown_or_malformed_booking_ids_are_404(app):
    member = staff(app)
    book(app, guest_body())
    for booking_id in ("not-a-uuid", "123", MISSING_ID, MISSING_ID + "0"):
        answer = read(app, member.headers, booking_id, status=404)
        assert answer["errors"][0]["name"] == "path"
        patch(app, member.headers, booking_id, {"notes": "x"}, status=404)
        set_status(app, member.headers, booking_id, "confirmed", status=404)


# --- editing: priced fields ----------------------------------------------------------------------


def test_moving_the_date_reprices_moves_capacity_and_is_audited(app):
    member = staff(app)
    created = book(app, guest_body())
    spy = register(app, ChangeSpy(watch=(DAY, SATURDAY)), "spy")
    assert booked(app, DAY) == (1, 0) and booked(app, SATURDAY) == (0, 0)
    assert read(app, member.headers, created["id"])["version"] == 1
    answer = patch(app, member.headers, created["id"], {"date": SATURDAY.isoformat(), "version": 1})
    assert answer["pickup_date"] == SATURDAY.isoformat()
    assert answer["total_cents"] == PETITE_ON_SATURDAY and answer["subtotal_cents"] == PETITE
    assert [s["code"] for s in answer["quote"]["surcharges"]] == ["weekend"]
    assert answer["version"] == 2
    row = stored(app, created["id"])
    assert row["pickup_date"] == SATURDAY and row["version"] == 2
    assert (row["total_cents"], row["subtotal_cents"]) == (PETITE_ON_SATURDAY, PETITE)
    assert row["quote"]["total_cents"] == PETITE_ON_SATURDAY
    assert row["quote"]["date"] == SATURDAY.isoformat()
    assert row["status"] == "pending_payment"
    assert booked(app, DAY) == (0, 0) and booked(app, SATURDAY) == (1, 0)
    assert remaining(app, DAY) == 4 and remaining(app, SATURDAY) == 3
    [record] = audits(app, created["id"])
    assert record["action"] == "booking.updated" and record["target_type"] == "booking"
    assert (record["actor_kind"], record["actor_id"]) == ("staff", member.id)
    assert record["actor_email"] == member.email
    assert record["changes"] == {
        "before": {"date": DAY.isoformat(), "total_cents": PETITE},
        "after": {"date": SATURDAY.isoformat(), "total_cents": PETITE_ON_SATURDAY},
    }
    history = events(app, created["id"])
    assert len(history) == 2
    assert history[-1] == {
        "status": "pending_payment",
        "message": "Pickup moved to Saturday December 5, morning.",
        "note": "",
        "actor_kind": "staff",
        "actor_id": member.id,
    }
    assert read(app, member.headers, created["id"])["history"][-1]["message"] == (
        "Pickup moved to Saturday December 5, morning."
    )
    [call] = spy.calls
    assert call["id"] == created["id"] and call["actor"] == member.id
    assert call["changes"] == {
        "date": {"before": DAY.isoformat(), "after": SATURDAY.isoformat()},
        "total_cents": {"before": PETITE, "after": PETITE_ON_SATURDAY},
    }
    assert call["total_cents"] == PETITE_ON_SATURDAY
    assert call["vans"] == {DAY: 0, SATURDAY: 1}  # capacity already moved when it fires


def test_a_date_move_at_the_same_price_has_no_total_in_the_diff(app):
    member = staff(app)
    created = book(app, guest_body())
    spy = register(app, ChangeSpy(), "spy")
    patch(app, member.headers, created["id"], {"date": OTHER_DAY.isoformat()})
    [call] = spy.calls
    assert call["changes"] == {"date": {"before": DAY.isoformat(), "after": OTHER_DAY.isoformat()}}
    assert stored(app, created["id"])["total_cents"] == PETITE
    assert booked(app, DAY) == (0, 0) and booked(app, OTHER_DAY) == (1, 0)


def test_a_package_change_reprices_and_keeps_the_slot_on_a_full_day(app):
    member = staff(app)
    created = book(app, guest_body())
    for _ in range(3):
        book(app, guest_body())
    assert booked(app, DAY) == (4, 0)
    spy = register(app, ChangeSpy(watch=(DAY,)), "spy")
    answer = patch(app, member.headers, created["id"], {"package": "standard"})
    assert answer["package"] == "standard" and answer["total_cents"] == STANDARD
    row = stored(app, created["id"])
    assert (row["package"], row["total_cents"], row["pickup_date"]) == ("standard", STANDARD, DAY)
    assert booked(app, DAY) == (4, 0)  # given back and taken again on the same day
    [call] = spy.calls
    assert call["changes"] == {
        "package": {"before": "petite", "after": "standard"},
        "total_cents": {"before": PETITE, "after": STANDARD},
    }
    [record] = audits(app, created["id"], "booking.updated")
    assert record["changes"]["after"] == {"package": "standard", "total_cents": STANDARD}
    assert len(events(app, created["id"])) == 1  # no "moved" event: the date stayed
    # Past $2,000 the booking becomes high value.
    answer = patch(app, member.headers, created["id"], {"package": "full"})
    assert answer["high_value"] is True
    row = stored(app, created["id"])
    assert (row["total_cents"], row["high_value"]) == (249000, True)
    patch(app, member.headers, created["id"], {"package": "petite"})
    assert stored(app, created["id"])["high_value"] is False
    assert booked(app, DAY) == (4, 0)


def test_the_new_price_comes_from_the_current_catalog(app):
    member = staff(app)
    created = book(app, guest_body())
    run(app, lambda ctx: pricing.edit_package(ctx, "standard", price_cents=180000))
    patch(app, member.headers, created["id"], {"package": "standard"})
    assert stored(app, created["id"])["total_cents"] == 180000


def test_moving_into_a_full_day_is_409_and_changes_nothing(app):
    member = staff(app)
    created = book(app, guest_body())
    for _ in range(4):
        book(app, guest_body(OTHER_DAY))
    spy = register(app, ChangeSpy(), "spy")
    before = state(app, created["id"], DAY, OTHER_DAY)
    assert before["days"] == [(1, 0), (4, 0)]
    answer = patch(
        app,
        member.headers,
        created["id"],
        {"date": OTHER_DAY.isoformat(), "notes": "Move it", "version": 1},
        status=409,
    )
    error_named(answer, "date")
    assert state(app, created["id"], DAY, OTHER_DAY) == before
    assert spy.calls == []
    assert remaining(app, DAY) == 3 and remaining(app, OTHER_DAY) == 0


def test_moving_into_a_closed_day_is_409_and_changes_nothing(app):
    member = staff(app)
    created = book(app, guest_body())
    run(app, lambda ctx: pricing.set_capacity(ctx, OTHER_DAY, 0, None, "Closed"))
    before = state(app, created["id"], DAY, OTHER_DAY)
    error_named(
        patch(app, member.headers, created["id"], {"date": OTHER_DAY.isoformat()}, status=409),
        "date",
    )
    assert state(app, created["id"], DAY, OTHER_DAY) == before


def test_a_specialty_van_moves_with_the_booking(app):
    member = staff(app)
    created = book(app, guest_body(specialty_items=[{"code": "peloton", "qty": 1}]))
    assert booked(app, DAY) == (1, 1)
    patch(app, member.headers, created["id"], {"date": OTHER_DAY.isoformat()})
    assert booked(app, DAY) == (0, 0) and booked(app, OTHER_DAY) == (1, 1)
    assert stored(app, created["id"])["total_cents"] == PETITE + PELOTON


def test_adding_and_removing_specialty_items_takes_and_gives_the_specialty_van(app):
    member = staff(app)
    created = book(app, guest_body())
    answer = patch(
        app, member.headers, created["id"], {"specialty_items": [{"code": "crib", "qty": 2}]}
    )
    assert answer["total_cents"] == PETITE + 2 * CRIB
    assert booked(app, DAY) == (1, 1)
    row = stored(app, created["id"])
    assert row["specialty_items"] == [{"code": "crib", "qty": 2}]
    patch(app, member.headers, created["id"], {"specialty_items": []})
    assert booked(app, DAY) == (1, 0)
    assert stored(app, created["id"])["total_cents"] == PETITE


def test_no_specialty_van_left_is_409_and_changes_nothing(app):
    member = staff(app)
    created = book(app, guest_body())
    for _ in range(2):
        book(app, guest_body(OTHER_DAY, specialty_items=[{"code": "crib", "qty": 1}]))
    assert booked(app, OTHER_DAY) == (2, 2)
    before = state(app, created["id"], DAY, OTHER_DAY)
    answer = patch(
        app,
        member.headers,
        created["id"],
        {"date": OTHER_DAY.isoformat(), "specialty_items": [{"code": "surfboard", "qty": 1}]},
        status=409,
    )
    error_named(answer, "date")
    assert state(app, created["id"], DAY, OTHER_DAY) == before


def test_dates_and_items_the_pricing_rules_refuse_change_nothing(app):
    member = staff(app)
    created = book(app, guest_body())
    spy = register(app, ChangeSpy(), "spy")
    before = state(app, created["id"], DAY)
    for body, field in [
        ({"date": "2026-11-20"}, "date"),  # the past
        ({"date": "2027-06-01"}, "date"),  # beyond the 180-day horizon
        ({"package": "mansion"}, "package"),
        ({"item_count": 40}, "item_count"),  # more than a Petite holds
        ({"specialty_items": [{"code": "piano", "qty": 1}]}, "specialty_items"),
        ({"same_day": True}, "same_day"),  # same-day pricing is for standard delivery only
        ({"service_type": "teleport"}, "service_type"),
    ]:
        answer = patch(app, member.headers, created["id"], {**body, "notes": "x"}, status=400)
        error_named(answer, field)
        assert state(app, created["id"], DAY) == before, body
    assert spy.calls == []


@pytest.mark.both_databases
def test_moving_to_today_after_the_same_day_cutoff_is_refused(app):
    set_clock(app, ny(2026, 11, 23, 13))
    member = staff(app)
    body = {
        "service_type": "standard_delivery",
        "item_count": 2,
        "date": TODAY.isoformat(),
        "pickup_address": PICKUP,
        "delivery_address": DELIVERY,
        "guest": GUEST,
    }
    error_named(book(app, body, status=409), "date")  # what a new booking gets
    created = book(app, {**body, "date": DAY.isoformat()})
    before = state(app, created["id"], DAY, TODAY)
    answer = client(app).patch_json(
        f"{STAFF_BOOKINGS}/{created['id']}",
        {"date": TODAY.isoformat()},
        headers=member.headers,
        expect_errors=True,
    )
    assert answer.status_int in (409, 422), answer.status_int
    error_named(answer.json, "date")
    assert state(app, created["id"], DAY, TODAY) == before


def test_rule_problems_are_422_with_all_of_them_and_change_nothing(app):
    member = staff(app)
    created = book(app, guest_body())
    register(app, Objector(), "objector")
    spy = register(app, ChangeSpy(), "spy")
    before = state(app, created["id"], DAY, OTHER_DAY)
    answer = patch(app, member.headers, created["id"], {"date": OTHER_DAY.isoformat()}, status=422)
    error_named(answer, "notes")
    error_named(answer, "time_window")
    assert state(app, created["id"], DAY, OTHER_DAY) == before
    assert spy.calls == []


# --- editing: service type -----------------------------------------------------------------------


def test_a_standard_delivery_drops_the_package(app):
    member = staff(app)
    created = book(app, guest_body())
    spy = register(app, ChangeSpy(), "spy")
    answer = patch(
        app, member.headers, created["id"], {"service_type": "standard_delivery", "item_count": 5}
    )
    assert (answer["service_type"], answer["package"], answer["item_count"]) == (
        "standard_delivery",
        None,
        5,
    )
    row = stored(app, created["id"])
    assert (row["service_type"], row["package"], row["item_count"]) == (
        "standard_delivery",
        None,
        5,
    )
    assert row["total_cents"] == 5 * PER_ITEM
    [call] = spy.calls
    assert call["changes"] == {
        "service_type": {"before": "mini_move", "after": "standard_delivery"},
        "package": {"before": "petite", "after": None},
        "item_count": {"before": None, "after": 5},
        "total_cents": {"before": PETITE, "after": 5 * PER_ITEM},
    }
    assert booked(app, DAY) == (1, 0)


def test_a_standard_delivery_keeps_the_item_count(app):
    member = staff(app)
    created = book(app, guest_body(item_count=10))
    patch(app, member.headers, created["id"], {"service_type": "standard_delivery"})
    row = stored(app, created["id"])
    assert (row["package"], row["item_count"], row["total_cents"]) == (None, 10, 10 * PER_ITEM)


def test_a_specialty_booking_drops_package_and_item_count_and_takes_the_van(app):
    member = staff(app)
    created = book(app, guest_body(item_count=10))
    answer = patch(
        app,
        member.headers,
        created["id"],
        {"service_type": "specialty", "specialty_items": [{"code": "peloton", "qty": 1}]},
    )
    assert (answer["package"], answer["item_count"]) == (None, None)
    row = stored(app, created["id"])
    assert (row["service_type"], row["package"], row["item_count"]) == ("specialty", None, None)
    assert row["total_cents"] == PELOTON
    assert booked(app, DAY) == (1, 1)


def test_a_service_change_missing_what_it_needs_is_400(app):
    member = staff(app)
    mini_move = book(app, guest_body())
    draft = guest_body(service_type="standard_delivery", item_count=4)
    del draft["package"]
    delivery = book(app, draft)
    before = [state(app, mini_move["id"], DAY), state(app, delivery["id"], DAY)]
    for created, body, field in [
        (delivery, {"service_type": "mini_move"}, "package"),  # a mini move needs its package
        (mini_move, {"service_type": "specialty"}, "specialty_items"),
        (mini_move, {"service_type": "standard_delivery", "package": "petite"}, "package"),
        (mini_move, {"service_type": "standard_delivery"}, "item_count"),
    ]:
        error_named(patch(app, member.headers, created["id"], body, status=400), field)
        assert [state(app, mini_move["id"], DAY), state(app, delivery["id"], DAY)] == before


# --- editing: plain fields, addresses, contact ---------------------------------------------------


def test_notes_and_time_window_do_not_reprice(app):
    member = staff(app)
    created = book(app, guest_body())
    # The catalog moved since the booking was made: an edit of plain fields keeps its price.
    run(app, lambda ctx: pricing.edit_package(ctx, "petite", price_cents=120000))
    spy = register(app, ChangeSpy(), "spy")
    answer = patch(
        app,
        member.headers,
        created["id"],
        {"notes": "Doorman: Sam", "time_window": "afternoon", "version": 1},
    )
    assert answer["total_cents"] == PETITE and answer["version"] == 2
    row = stored(app, created["id"])
    assert (row["notes"], row["time_window"], row["total_cents"]) == (
        "Doorman: Sam",
        "afternoon",
        PETITE,
    )
    assert row["quote"]["total_cents"] == PETITE
    assert booked(app, DAY) == (1, 0)
    [record] = audits(app, created["id"])
    assert record["action"] == "booking.updated"
    assert record["changes"] == {
        "before": {"notes": "", "time_window": "morning"},
        "after": {"notes": "Doorman: Sam", "time_window": "afternoon"},
    }
    [call] = spy.calls
    assert "total_cents" not in call["changes"]
    # A new time window is a move the customer hears of.
    assert events(app, created["id"])[-1]["message"] == (
        "Pickup moved to Thursday December 3, afternoon."
    )
    # Notes alone: audited, no history event.
    patch(app, member.headers, created["id"], {"notes": "Doorman: Kim"})
    assert len(audits(app, created["id"], "booking.updated")) == 2
    assert len(events(app, created["id"])) == 2
    assert stored(app, created["id"])["total_cents"] == PETITE


@pytest.mark.both_databases
def test_a_patch_that_changes_nothing_writes_nothing(app):
    member = staff(app)
    created = book(app, guest_body(notes="Ring twice.", time_window="afternoon"))
    spy = register(app, ChangeSpy(), "spy")
    before = state(app, created["id"], DAY)
    for body in (
        {},
        {"version": 1},
        {
            "notes": "Ring twice.",
            "time_window": "afternoon",
            "date": DAY.isoformat(),
            "package": "petite",
            "service_type": "mini_move",
            "same_day": False,
            "coi_handling": False,
            "specialty_items": [],
            "version": 1,
        },
        {"pickup_address": PICKUP, "delivery_address": DELIVERY},
        {"notes": "  Ring twice.  "},
        {"guest": {"email": "GALE@example.com", "first_name": "Gale"}},
    ):
        answer = patch(app, member.headers, created["id"], body)
        assert answer["version"] == 1
    assert state(app, created["id"], DAY) == before
    assert spy.calls == []


def test_new_addresses_are_new_rows(app):
    member = staff(app)
    created = book(app, guest_body())
    before = stored(app, created["id"])
    moved = {"line1": "1 Main St", "city": "Sag Harbor", "state": "NY", "postal_code": "11963"}
    answer = patch(app, member.headers, created["id"], {"delivery_address": moved})
    assert answer["delivery_address"] == {
        **moved,
        "line2": "",
        "as_typed": {**moved, "line2": ""},
    }
    assert answer["total_cents"] == PETITE
    row = stored(app, created["id"])
    assert row["delivery_address"] == {**moved, "line2": ""}
    assert row["delivery_address_id"] != before["delivery_address_id"]
    assert row["pickup_address_id"] == before["pickup_address_id"]
    assert row["version"] == 2

    def old_address(ctx: Any) -> dict[str, str]:
        return address_of(ctx.dbsession.get(Address, before["delivery_address_id"]))

    assert run(app, old_address) == {**DELIVERY, "line2": ""}  # history stays as it was
    [record] = audits(app, created["id"])
    assert record["changes"] == {
        "before": {"delivery_address": {**DELIVERY, "line2": ""}},
        "after": {"delivery_address": {**moved, "line2": ""}},
    }
    assert len(events(app, created["id"])) == 1


def test_a_guests_contact_can_be_corrected(app):
    member = staff(app)
    created = book(app, guest_body())
    spy = register(app, ChangeSpy(), "spy")
    answer = patch(
        app,
        member.headers,
        created["id"],
        {"guest": {"email": "G.Guest@Example.NET", "phone": "+1 917 555 0123"}},
    )
    assert answer["guest"] == {**GUEST, "email": "g.guest@example.net", "phone": "+1 917 555 0123"}
    row = stored(app, created["id"])
    assert (row["guest_first_name"], row["guest_last_name"]) == ("Gale", "Guest")
    assert (row["guest_email"], row["guest_phone"]) == ("g.guest@example.net", "+1 917 555 0123")
    assert row["total_cents"] == PETITE
    [record] = audits(app, created["id"])
    assert record["changes"] == {
        "before": {"guest.email": "gale@example.com", "guest.phone": GUEST["phone"]},
        "after": {"guest.email": "g.guest@example.net", "guest.phone": "+1 917 555 0123"},
    }
    assert set(spy.calls[0]["changes"]) == {"guest.email", "guest.phone"}
    assert numbers(listing(app, member.headers, q="g.guest@example.NET")) == [created["number"]]
    assert listing(app, member.headers, q="gale@example.com")["items"] == []


def test_a_customers_booking_takes_no_guest_contact(app):
    member = staff(app)
    _, headers = new_customer(app)
    created = book(app, customer_body(), headers)
    before = state(app, created["id"], DAY)
    for body in (
        {"guest": {"first_name": "Mallory"}},
        {"guest": {**GUEST}, "notes": "x"},
        {"guest": {"email": "mallory@example.com"}, "date": OTHER_DAY.isoformat()},
    ):
        error_named(patch(app, member.headers, created["id"], body, status=400), "guest")
        assert state(app, created["id"], DAY) == before, body


# --- editing: refusals ---------------------------------------------------------------------------


def test_a_stale_version_is_409_and_changes_nothing(app):
    member, other = staff(app), staff(app, "admin")
    created = book(app, guest_body())
    loaded = read(app, member.headers, created["id"])["version"]
    patch(app, other.headers, created["id"], {"notes": "First", "version": loaded})
    before = state(app, created["id"], DAY, OTHER_DAY)
    answer = patch(
        app,
        member.headers,
        created["id"],
        {"notes": "Second", "date": OTHER_DAY.isoformat(), "version": loaded},
        status=409,
    )
    error = error_named(answer, "version")
    assert "2" in error["description"]  # the current version
    assert state(app, created["id"], DAY, OTHER_DAY) == before
    assert before["row"]["notes"] == "First" and before["row"]["version"] == 2
    # A version from the future is stale as well.
    patch(app, member.headers, created["id"], {"notes": "Third", "version": 3}, status=409)
    # With the current version the edit goes through.
    assert (
        patch(app, member.headers, created["id"], {"notes": "Second", "version": 2})["version"] == 3
    )


class ConcurrentEditor:
    """While the request prices its edit, another editor saves the booking (once), in a
    transaction of its own that commits before the request writes."""

    def __init__(self, app: TestApp, booking_id: str) -> None:
        self.app, self.booking_id, self.done = app, uuid.UUID(booking_id), False

    @hookimpl
    def totetaxi_validate_booking(self, ctx, draft, quote, customer):
        if not self.done:
            self.done = True

            def other(other_ctx: Any) -> None:
                other_ctx.dbsession.get(Booking, self.booking_id).notes = "Other editor"

            run(self.app, other)
        return []


@pytest.mark.both_databases
def test_a_concurrent_save_is_409_naming_version_and_keeps_the_other_change(app):
    if app.app.registry["dbengine"].dialect.name == "sqlite":
        pytest.skip(
            "SQLite has one writer: the request holds the write lock, so another "
            "transaction cannot commit in the middle of it"
        )
    member = staff(app)
    created = book(app, guest_body())
    editor = register(app, ConcurrentEditor(app, created["id"]), "editor")
    spy = register(app, ChangeSpy(), "spy")
    answer = patch(
        app,
        member.headers,
        created["id"],
        {"date": OTHER_DAY.isoformat(), "notes": "Mine", "version": 1},
        status=409,
    )
    error_named(answer, "version")
    assert editor.done
    row = stored(app, created["id"])
    assert (row["notes"], row["version"], row["pickup_date"]) == ("Other editor", 2, DAY)
    assert row["total_cents"] == PETITE
    assert booked(app, DAY) == (1, 0) and booked(app, OTHER_DAY) == (0, 0)
    assert audits(app, created["id"], "booking.updated") == []
    assert spy.calls == []


@pytest.mark.parametrize(
    ("status", "editable"),
    [
        ("pending_payment", True),
        ("confirmed", True),
        ("in_progress", False),
        ("completed", False),
        ("cancelled", False),
    ],
)
def test_only_pending_and_confirmed_bookings_are_editable(app, status, editable):
    member = staff(app)
    created = booking_in(app, member.headers, status)
    before = state(app, created["id"], DAY, OTHER_DAY)
    body = {"notes": "Late edit", "date": OTHER_DAY.isoformat()}
    if editable:
        answer = patch(app, member.headers, created["id"], body)
        assert answer["status"] == status
        row = stored(app, created["id"])
        assert (row["notes"], row["pickup_date"], row["status"]) == ("Late edit", OTHER_DAY, status)
        assert booked(app, DAY) == (0, 0) and booked(app, OTHER_DAY) == (1, 0)
    else:
        error = error_named(patch(app, member.headers, created["id"], body, status=409), "status")
        assert status in error["description"]
        assert state(app, created["id"], DAY, OTHER_DAY) == before


def test_unknown_fields_are_400_and_change_nothing(app):
    member = staff(app)
    created = book(app, guest_body())
    before = state(app, created["id"], DAY)
    for body, field in [
        ({"total_cents": 1}, "total_cents"),
        ({"status": "confirmed"}, "status"),
        ({"number": "TT-999999"}, "number"),
        ({"customer_id": MISSING_ID}, "customer_id"),
        ({"pickup_address_id": MISSING_ID}, "pickup_address_id"),
        ({"guest": {"nickname": "G"}}, "nickname"),
        ({"pickup_address": {**PICKUP, "country": "US"}}, "country"),
        ({"specialty_items": [{"code": "crib", "qty": 1, "colour": "red"}]}, "colour"),
    ]:
        answer = patch(app, member.headers, created["id"], {**body, "notes": "x"}, status=400)
        assert answer["status"] == "error"
        assert any(field in e["description"] or field in e["name"] for e in answer["errors"]), (
            body,
            answer["errors"],
        )
        assert state(app, created["id"], DAY) == before, body


def test_malformed_fields_are_400_naming_them(app):
    member = staff(app)
    created = book(app, guest_body())
    before = state(app, created["id"], DAY)
    for body, field in [
        ({"version": 0}, "version"),
        ({"version": "1"}, "version"),
        ({"date": "tomorrow"}, "date"),
        ({"time_window": "evening"}, "time_window"),
        ({"notes": "x" * 1001}, "notes"),
        ({"item_count": 0}, "item_count"),
        ({"same_day": "yes"}, "same_day"),
        ({"guest": {"email": "not-an-email"}}, "guest"),
        ({"guest": {"first_name": ""}}, "guest"),
        ({"pickup_address": {**PICKUP, "state": "XX"}}, "pickup_address"),
        ({"delivery_address": {"line1": "1 Main St"}}, "delivery_address"),
    ]:
        error_named(patch(app, member.headers, created["id"], body, status=400), field)
        assert state(app, created["id"], DAY) == before, body


def test_a_body_that_is_not_an_object_is_400(app):
    member = staff(app)
    created = book(app, guest_body())
    path = f"{STAFF_BOOKINGS}/{created['id']}"
    client(app).patch(
        path, "[1, 2]", content_type="application/json", headers=member.headers, status=400
    )
    client(app).patch(
        path, "{not json", content_type="application/json", headers=member.headers, status=400
    )
    assert stored(app, created["id"])["version"] == 1


def test_viewers_customers_and_anonymous_cannot_edit(app):
    viewer = staff(app, "viewer")
    _, headers = new_customer(app)
    created = book(app, customer_body(), headers)
    before = state(app, created["id"], DAY, OTHER_DAY)
    body = {"notes": "x", "date": OTHER_DAY.isoformat()}
    patch(app, viewer.headers, created["id"], body, status=403)
    patch(app, headers, created["id"], body, status=403)  # even the owner
    patch(app, {}, created["id"], body, status=401)
    set_status(app, viewer.headers, created["id"], "cancelled", status=403)
    set_status(app, headers, created["id"], "cancelled", status=403)
    set_status(app, {}, created["id"], "cancelled", status=401)
    assert state(app, created["id"], DAY, OTHER_DAY) == before


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_edit(app, role):
    member = staff(app, role)
    created = book(app, guest_body())
    patch(app, member.headers, created["id"], {"notes": role})
    assert stored(app, created["id"])["notes"] == role
    [record] = audits(app, created["id"])
    assert record["actor_id"] == member.id


# --- status changes ------------------------------------------------------------------------------


@pytest.mark.parametrize("old", STATUSES)
def test_every_transition_through_the_api(app, old):
    member = staff(app)
    for index, new in enumerate(STATUSES):
        day = DAY + dt.timedelta(days=index)
        created = booking_in(app, member.headers, old, day)
        before = state(app, created["id"], day)
        allowed = BookingStatus(new) in TRANSITIONS[BookingStatus(old)]
        answer = set_status(
            app,
            member.headers,
            created["id"],
            new,
            reason=f"Step {index}",
            status=200 if allowed else 409,
        )
        if not allowed:
            error = error_named(answer, "status")
            assert old in error["description"] and new in error["description"], error
            assert state(app, created["id"], day) == before, (old, new)
            continue
        assert answer["status"] == new
        row = stored(app, created["id"])
        assert row["status"] == new and row["version"] == before["row"]["version"] + 1
        history = events(app, created["id"])
        assert len(history) == len(before["events"]) + 1
        assert history[-1] == {
            "status": new,
            "message": MESSAGES[BookingStatus(new)],
            "note": f"Step {index}",
            "actor_kind": "staff",
            "actor_id": member.id,
        }
        record = audits(app, created["id"], "booking.status_changed")[-1]
        assert (record["actor_kind"], record["actor_id"]) == ("staff", member.id)
        assert record["changes"] == {
            "before": {"status": old},
            "after": {"status": new, "reason": f"Step {index}"},
        }
        if new == "cancelled":
            assert booked(app, day) == (before["days"][0][0] - 1, 0)
            assert row["cancel_reason"] == f"Step {index}" and row["cancelled_at"] is not None
            assert answer["cancel_reason"] == f"Step {index}" and answer["cancelled_at"]
        else:
            assert booked(app, day) == before["days"][0]
            assert row["cancelled_at"] is None


def test_the_status_answer_carries_the_new_version(app):
    member = staff(app)
    created = book(app, guest_body())
    answer = set_status(app, member.headers, created["id"], "confirmed")
    row = stored(app, created["id"])
    assert row["version"] == 2
    assert answer["version"] == row["version"]
    assert answer["updated_at"] == row["updated_at"].isoformat()
    patch(app, member.headers, created["id"], {"notes": "x", "version": answer["version"]})


def test_transitions_table_covers_every_status(app):
    assert {plain(s) for s in TRANSITIONS} == set(STATUSES)


@pytest.mark.both_databases
def test_staff_cancel_inside_48_hours_and_the_van_comes_back(app):
    _, headers = new_customer(app)
    created = book(app, customer_body(), headers)
    set_clock(app, ny(2026, 12, 2, 18))  # the day before pickup
    member = staff(app)
    client(app).post_json(
        f"/api/v1/bookings/{created['id']}/cancel", {}, headers=headers, status=409
    )
    assert booked(app, DAY) == (1, 0)
    answer = set_status(app, member.headers, created["id"], "cancelled", reason="Van broke")
    assert answer["status"] == "cancelled" and answer["cancel_reason"] == "Van broke"
    row = stored(app, created["id"])
    assert (row["status"], row["cancel_reason"]) == ("cancelled", "Van broke")
    assert booked(app, DAY) == (0, 0)
    assert remaining(app, DAY) == 4
    assert answer["history"][-1]["note"] == "Van broke"
    assert answer["history"][-1]["message"] == MESSAGES[BookingStatus.CANCELLED]
    assert answer["history"][-1]["actor_id"] == str(member.id)
    [record] = audits(app, created["id"], "booking.status_changed")
    assert record["changes"]["after"] == {"status": "cancelled", "reason": "Van broke"}
    # Cancelled once: a second cancel is refused and gives no van back twice.
    set_status(app, member.headers, created["id"], "cancelled", status=409)
    assert booked(app, DAY) == (0, 0)


def test_a_status_change_without_a_reason_uses_the_standard_message(app):
    member = staff(app)
    created = book(app, guest_body())
    set_status(app, member.headers, created["id"], "confirmed")
    set_status(app, member.headers, created["id"], "cancelled", reason="")
    history = events(app, created["id"])
    assert [e["message"] for e in history[1:]] == [
        MESSAGES[BookingStatus.CONFIRMED],
        MESSAGES[BookingStatus.CANCELLED],
    ]
    assert stored(app, created["id"])["cancel_reason"] == ""
    assert [
        r["changes"]["after"]["reason"]
        for r in audits(app, created["id"], "booking.status_changed")
    ] == ["", ""]


def test_completing_a_customers_booking_counts_it_on_the_profile(app):
    member = staff(app)
    viewer = staff(app, "viewer")
    me, headers = new_customer(app)
    weekday = booking_in(app, member.headers, "in_progress", owner=headers, body=customer_body(DAY))
    weekend = booking_in(
        app, member.headers, "in_progress", owner=headers, body=customer_body(SATURDAY)
    )
    guests = booking_in(app, member.headers, "in_progress")
    assert profile(app, me["id"]) == (2, 0, 0)
    set_status(app, member.headers, weekday["id"], "completed")
    assert profile(app, me["id"]) == (2, 1, PETITE)
    counts = customer_detail(app, viewer.headers, me["id"])["counts"]
    assert counts == {"total_bookings": 2, "completed_bookings": 1, "total_spent_cents": PETITE}
    set_status(app, member.headers, weekend["id"], "completed")
    set_status(app, member.headers, guests["id"], "completed")  # a guest has no profile
    assert profile(app, me["id"]) == (2, 2, PETITE + PETITE_ON_SATURDAY)
    assert customer_detail(app, viewer.headers, me["id"])["counts"]["total_spent_cents"] == (
        PETITE + PETITE_ON_SATURDAY
    )
    # A refused completion counts nothing.
    set_status(app, member.headers, weekday["id"], "completed", status=409)
    assert profile(app, me["id"]) == (2, 2, PETITE + PETITE_ON_SATURDAY)


def test_invalid_status_bodies_are_400_and_change_nothing(app):
    member = staff(app)
    created = book(app, guest_body())
    before = state(app, created["id"], DAY)
    for body, field in [
        ({"status": "lost"}, "status"),
        ({"status": "CONFIRMED"}, "status"),
        ({"status": ""}, "status"),
        ({}, "status"),
        ({"status": 1}, "status"),
        ({"status": "confirmed", "reason": "x" * 501}, "reason"),
        ({"status": "confirmed", "colour": "red"}, "colour"),
    ]:
        answer = (
            client(app)
            .post_json(
                f"{STAFF_BOOKINGS}/{created['id']}/status", body, headers=member.headers, status=400
            )
            .json
        )
        assert answer["status"] == "error"
        assert any(field in e["name"] or field in e["description"] for e in answer["errors"]), (
            body,
            answer["errors"],
        )
        assert state(app, created["id"], DAY) == before, body


# --- customers -----------------------------------------------------------------------------------


@pytest.fixture
def people(app: TestApp) -> SimpleNamespace:
    """Three customers, registered in this order: Ada, Grace, Alan."""
    made = SimpleNamespace(viewer=staff(app, "viewer"))
    made.ada, made.ada_headers = new_customer(
        app, "Ada", "Lovelace", "+1 212 555 0101", "ada@example.com"
    )
    made.grace, made.grace_headers = new_customer(
        app, "Grace", "Hopper", "+1 646 555 0102", "grace@navy.example"
    )
    made.alan, made.alan_headers = new_customer(
        app, "Alan", "Turing", "+1 718 555 0103", "alan@example.org"
    )
    return made


def emails(answer: dict[str, Any]) -> list[str]:
    return [item["email"] for item in answer["items"]]


@pytest.mark.both_databases
def test_customers_are_listed_newest_first(app, people):
    answer = customers(app, people.viewer.headers)
    assert emails(answer) == ["alan@example.org", "grace@navy.example", "ada@example.com"]
    assert answer["next_cursor"] is None
    grace = answer["items"][1]
    assert grace["id"] == people.grace["id"]
    assert (grace["first_name"], grace["last_name"], grace["phone"]) == (
        "Grace",
        "Hopper",
        "+1 646 555 0102",
    )
    assert grace["is_active"] is True and grace["last_booking_at"] is None
    assert grace["counts"] == {"total_bookings": 0, "completed_bookings": 0, "total_spent_cents": 0}
    book(app, customer_body(), people.grace_headers)
    grace = customers(app, people.viewer.headers, q="grace")["items"][0]
    assert grace["counts"]["total_bookings"] == 1
    assert dt.datetime.fromisoformat(grace["last_booking_at"]) == NOW


@pytest.mark.both_databases
def test_customers_q_matches_name_email_or_phone(app, people):
    for q, expected in [
        ("grace@navy.example", ["grace@navy.example"]),
        ("GRACE@Navy.Example", ["grace@navy.example"]),
        ("NAVY", ["grace@navy.example"]),
        ("@navy.ex", ["grace@navy.example"]),
        ("example.org", ["alan@example.org"]),
        ("example", ["alan@example.org", "grace@navy.example", "ada@example.com"]),
        ("hopper", ["grace@navy.example"]),
        ("Ada", ["ada@example.com"]),
        ("a", ["alan@example.org", "grace@navy.example", "ada@example.com"]),
        ("ada lovelace", ["ada@example.com"]),
        ("lovelace ADA", ["ada@example.com"]),
        ("ada hopper", []),
        ("646", ["grace@navy.example"]),
        ("555 0103", ["alan@example.org"]),
        ("+1 212", ["ada@example.com"]),
        ("%", []),
        ("_", []),
        ("a_a", []),  # a wildcard "_" would match "Ada"
        ("nobody", []),
    ]:
        assert emails(customers(app, people.viewer.headers, q=q)) == expected, q


@pytest.mark.both_databases
def test_customers_page_through_everyone_once(app, people):
    headers = people.viewer.headers
    first = customers(app, headers, limit=2)
    assert emails(first) == ["alan@example.org", "grace@navy.example"]
    second = customers(app, headers, limit=2, cursor=first["next_cursor"])
    assert emails(second) == ["ada@example.com"] and second["next_cursor"] is None
    third = customers(app, headers, limit=1, q="example", cursor=first["next_cursor"])
    assert emails(third) == ["ada@example.com"]


@pytest.mark.both_databases
def test_bad_customer_queries_are_400_naming_them(app, people):
    for params, name in [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"cursor": "nope"}, "cursor"),
        ({"cursor": naive_cursor()}, "cursor"),
        ({"q": "x" * 201}, "q"),
        ({"created_from": "soon"}, "created_from"),
        ({"created_from": "2026-11-23", "created_to": "2026-11-01"}, "created_to"),
    ]:
        query_error(customers(app, people.viewer.headers, expect=400, **params), name)


def test_customers_registered_on_new_york_days(app, people):
    """The dashboard's "new registrations" links here (accounts are stamped by the wall clock,
    not the app's: everyone registered today)."""
    headers = people.viewer.headers
    today = local_today(dt.datetime.now(dt.UTC))
    day = dt.timedelta(days=1)
    for params, expected in [
        ({"created_from": today.isoformat(), "created_to": today.isoformat()}, 3),
        ({"created_from": today.isoformat(), "q": "grace"}, 1),
        ({"created_to": (today - day).isoformat()}, 0),
        ({"created_from": (today + day).isoformat()}, 0),
    ]:
        assert len(customers(app, headers, **params)["items"]) == expected, params


def test_a_customer_in_detail(app, people):
    member = staff(app)
    home = save_address(app, people.ada_headers, {**PICKUP, "label": "Home"})
    beach = save_address(app, people.ada_headers, {**DELIVERY, "label": "Beach"})
    first = book(app, customer_body(DAY), people.ada_headers)
    second = book(app, customer_body(OTHER_DAY), people.ada_headers)
    third = book(app, customer_body(FRIDAY), people.ada_headers)
    book(app, customer_body(), people.grace_headers)  # someone else's
    book(app, guest_body())
    set_status(app, member.headers, second["id"], "cancelled")
    answer = customer_detail(app, people.viewer.headers, people.ada["id"])
    assert answer["id"] == people.ada["id"] and answer["email"] == "ada@example.com"
    assert (answer["first_name"], answer["last_name"]) == ("Ada", "Lovelace")
    assert answer["is_active"] is True
    assert answer["counts"]["total_bookings"] == 3
    assert [a["id"] for a in answer["addresses"]] == [beach, home]
    assert answer["addresses"][0]["city"] == "Southampton"
    assert [b["id"] for b in answer["bookings"]] == [third["id"], second["id"], first["id"]]
    assert answer["bookings"][1]["status"] == "cancelled"
    assert answer["more_bookings"] is False
    assert answer["summary"] == {}
    other = customer_detail(app, people.viewer.headers, people.alan["id"])
    assert (other["addresses"], other["bookings"], other["more_bookings"]) == ([], [], False)
    # A soft-deleted booking is gone from the customer's page too.
    run(app, lambda ctx: ctx.dbsession.get(Booking, uuid.UUID(first["id"])).soft_delete())
    answer = customer_detail(app, people.viewer.headers, people.ada["id"])
    assert [b["id"] for b in answer["bookings"]] == [third["id"], second["id"]]


def test_a_deleted_saved_address_is_not_listed(app, people):
    kept = save_address(app, people.ada_headers, {**PICKUP, "label": "Home"})
    gone = save_address(app, people.ada_headers, {**DELIVERY, "label": "Beach"})
    client(app).delete(f"/api/v1/me/addresses/{gone}", headers=people.ada_headers, status=204)
    answer = customer_detail(app, people.viewer.headers, people.ada["id"])
    assert [a["id"] for a in answer["addresses"]] == [kept]


@pytest.mark.both_databases
def test_the_detail_shows_the_last_20_bookings_and_says_there_are_more(app, people):
    day_of = [DAY + dt.timedelta(days=n // 4) for n in range(20)]  # four vans a day

    def twenty(ctx: Any) -> list[str]:
        ada = ctx.dbsession.get(Customer, uuid.UUID(people.ada["id"]))
        made = []
        for day in day_of:
            body = {
                "service_type": "mini_move",
                "package": "petite",
                "item_count": None,
                "specialty_items": [],
                "date": day,
                "same_day": False,
                "coi_handling": False,
                "pickup_address": PICKUP,
                "delivery_address": DELIVERY,
                "time_window": "morning",
                "notes": "",
            }
            booking, _ = booking_services.create(ctx, body, ada)
            ctx.dbsession.flush()
            made.append(str(booking.id))
        return made

    made = run(app, twenty)
    answer = customer_detail(app, people.viewer.headers, people.ada["id"])
    assert [b["id"] for b in answer["bookings"]] == made[::-1]
    assert answer["more_bookings"] is False
    latest = book(app, customer_body(OTHER_DAY + dt.timedelta(days=3)), people.ada_headers)
    answer = customer_detail(app, people.viewer.headers, people.ada["id"])
    assert len(answer["bookings"]) == 20 and answer["more_bookings"] is True
    assert [b["id"] for b in answer["bookings"]] == [latest["id"], *made[::-1][:19]]
    # The full history pages through the bookings list.
    assert (
        len(listing(app, people.viewer.headers, customer_id=people.ada["id"], limit=100)["items"])
        == 21
    )


def test_more_bookings_with_a_smaller_history(app, people, monkeypatch):
    monkeypatch.setattr(staff_api, "HISTORY_LIMIT", 2)
    made = [book(app, customer_body(), people.ada_headers) for _ in range(2)]
    answer = customer_detail(app, people.viewer.headers, people.ada["id"])
    assert [b["id"] for b in answer["bookings"]] == [made[1]["id"], made[0]["id"]]
    assert answer["more_bookings"] is False
    made.append(book(app, customer_body(), people.ada_headers))
    answer = customer_detail(app, people.viewer.headers, people.ada["id"])
    assert [b["id"] for b in answer["bookings"]] == [made[2]["id"], made[1]["id"]]
    assert answer["more_bookings"] is True


def test_plugins_fill_the_customer_summary(app, people):
    register(app, CardSummary(), "cards")
    register(app, NoSummary(), "nothing")
    register(app, RefundSummary(), "refunds")
    answer = customer_detail(app, people.viewer.headers, people.grace["id"])
    assert answer["summary"] == {"saved cards": 2, "email": "grace@navy.example", "refunds": 1}


def test_unknown_or_malformed_customer_ids_are_404(app, people):
    for customer_id in ("not-a-uuid", "123", MISSING_ID, str(staff(app).id)):  # staff: no
        answer = customer_detail(app, people.viewer.headers, customer_id, status=404)
        assert answer["errors"][0]["name"] == "path"


def test_customers_and_anonymous_reach_none_of_the_staff_api(app, people):
    created = book(app, customer_body(), people.ada_headers)
    reads = [
        STAFF_BOOKINGS,
        f"{STAFF_BOOKINGS}/{created['id']}",
        STAFF_CUSTOMERS,
        f"{STAFF_CUSTOMERS}/{people.ada['id']}",
        f"{STAFF_BOOKINGS}?customer_id={people.ada['id']}",
    ]
    for headers, status in ((people.ada_headers, 403), ({}, 401)):
        for path in reads:
            client(app).get(path, headers=headers, status=status)
        patch(app, headers, created["id"], {"notes": "mine"}, status=status)
        set_status(app, headers, created["id"], "cancelled", status=status)
    assert stored(app, created["id"])["status"] == "pending_payment"
    assert stored(app, created["id"])["notes"] == ""


@pytest.mark.both_databases
def test_the_customer_pages_cost_the_same_statements_however_many_rows(app, people):
    engine = app.app.registry["dbengine"]
    headers = people.viewer.headers

    def statements(path: str) -> int:
        seen: list[str] = []

        def listener(*args: Any) -> None:
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", listener)
        try:
            client(app).get(path, headers=headers, status=200)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    detail = f"{STAFF_CUSTOMERS}/{people.ada['id']}"
    book(app, customer_body(), people.ada_headers)
    save_address(app, people.ada_headers, {**PICKUP, "label": "Home"})
    client(app).get(STAFF_CUSTOMERS, headers=headers)  # warm up
    few_customers, few_bookings = statements(STAFF_CUSTOMERS), statements(detail)
    for n in range(4):
        new_customer(app, "Extra", f"Person{n}")
        book(app, customer_body(FRIDAY if n % 2 else OTHER_DAY), people.ada_headers)
        save_address(app, people.ada_headers, {**DELIVERY, "label": f"Place {n}"})
    assert statements(STAFF_CUSTOMERS) == few_customers
    assert statements(detail) == few_bookings


def test_a_staff_reason_never_reaches_the_customers_tracking(app):
    created = book(app, guest_body())
    member = staff(app)
    set_status(app, member.headers, created["id"], "cancelled", reason="Customer was rude")
    tracked = (
        client(app)
        .get(f"/api/v1/track/{created['number']}", params={"token": created["tracking_token"]})
        .json
    )
    assert "rude" not in json.dumps(tracked)
    assert tracked["updates"][-1]["message"] == MESSAGES[BookingStatus.CANCELLED]
    # Staff still read it, as a note.
    assert read(app, member.headers, created["id"])["history"][-1]["note"] == "Customer was rude"
