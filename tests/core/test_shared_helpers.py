"""The helpers plugins share instead of copies (issue 12): money, business time, get_or_404, the
append-only mixin and migration operation, the console form parsers and colander errors."""

from __future__ import annotations

import datetime as dt
import uuid

import colander
import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from totetaxi_core import plugin_api
from totetaxi_core.bookings.schemas import StaffBookingPatch
from totetaxi_core.db.append_only import AppendOnly, CreateAppendOnlyTriggers
from totetaxi_core.db.append_only import _checked as append_only_checked
from totetaxi_core.plugin_api import hookimpl

# --- money ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        (123450, "$1,234.50"),
        (5, "$0.05"),
        (0, "$0.00"),
        (-2550, "-$25.50"),
        (None, "—"),
    ],
)
def test_money_is_shown_one_way(cents, shown):
    assert plugin_api.format_money(cents) == shown


def test_whole_dollars_may_leave_out_the_cents_and_other_currencies_are_named():
    assert plugin_api.format_money(99500, trim_cents=True) == "$995"
    assert plugin_api.format_money(99550, trim_cents=True) == "$995.50"
    assert plugin_api.format_money(100, "EUR") == "EUR 1.00"
    assert plugin_api.money_input(2550) == "25.50"


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("25", 2500),
        ("$1,250.5", 125050),
        (" 0.29 ", 29),
        ("7.", 700),
        ("100000", 10_000_000),
    ],
)
def test_typed_dollars_become_exact_cents(typed, cents):
    assert plugin_api.parse_money(typed) == cents


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Amount: enter the amount in dollars, like 25.00."),
        ("-1", "Amount must not be negative."),
        ("1.999", "Amount: at most 2 decimals (whole cents)."),
        ("\u0661\u0662", "Amount: enter the amount in dollars, like 25.00."),
        ("0", "Amount must be at least $0.01."),
        ("100000.01", "Amount must be at most $100,000.00."),
    ],
)
def test_amounts_that_are_not_money_are_refused_naming_the_field(typed, message):
    with pytest.raises(plugin_api.MoneyInputError) as refused:
        plugin_api.parse_money(typed, minimum=1)
    assert str(refused.value) == message


# --- business time -------------------------------------------------------------------------------


def test_the_business_day_is_new_yorks():
    late_evening = dt.datetime(2026, 12, 4, 3, 30, tzinfo=dt.UTC)  # 22:30 on the 3rd in New York
    assert plugin_api.local_today(late_evening) == dt.date(2026, 12, 3)
    assert plugin_api.local_datetime(late_evening.replace(tzinfo=None)).hour == 22
    assert plugin_api.format_local(late_evening) == "2026-12-03 22:30 EST"
    assert plugin_api.format_local(None) == "—"
    midnight = plugin_api.local_midnight(dt.date(2026, 7, 4))
    assert midnight.utcoffset() == dt.timedelta(hours=-4)
    assert str(plugin_api.BUSINESS_TZ) == "America/New_York"


# --- get_or_404 and AppendOnly -------------------------------------------------------------------


class Base(DeclarativeBase):
    """Tables of this module only: the platform's metadata stays the migrations' own."""


class Ledger(AppendOnly, Base):
    __tablename__ = "test_helpers_ledger"
    append_only_message = "ledger lines are append-only"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    note: Mapped[str] = mapped_column(sa.String(40), default="")
    deleted_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, default=None)


class Code(Base):
    __tablename__ = "test_helpers_codes"

    code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)


class Counter(Base):
    __tablename__ = "test_helpers_counters"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)


@pytest.fixture
def session():
    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        yield db
    engine.dispose()


def test_get_or_404_takes_a_url_segment_and_answers_404_for_anything_else(session):
    line = Ledger(note="first")
    gone = Ledger(note="gone", deleted_at=dt.datetime(2026, 1, 1))
    session.add_all([line, gone, Code(code="petite")])
    session.flush()
    assert plugin_api.get_or_404(session, Ledger, str(line.id)) is line
    assert plugin_api.get_or_404(session, Ledger, line.id) is line
    assert plugin_api.get_or_404(session, Code, "petite").code == "petite"
    assert plugin_api.get_or_404(session, Ledger, str(gone.id), include_deleted=True) is gone
    for key in ("not-a-uuid", str(uuid.uuid4()), str(gone.id)):
        with pytest.raises(HTTPNotFound):
            plugin_api.get_or_404(session, Ledger, key)
    with pytest.raises(HTTPNotFound) as missing:
        plugin_api.get_or_404(session, Code, "huge", detail="No package huge.")
    assert missing.value.detail == "No package huge."


def test_get_or_404_converts_an_integer_key_and_refuses_what_is_not_one(session):
    session.add(Counter(id=7))
    session.flush()
    assert plugin_api.get_or_404(session, Counter, "7").id == 7
    # Not an integer, or beyond BIGINT: a 404, never PostgreSQL's DataError (a 500).
    for key in ("abc", "7.0", "²", "", str(2**63)):
        with pytest.raises(HTTPNotFound):
            plugin_api.get_or_404(session, Counter, key)


def test_the_orm_refuses_to_change_or_delete_an_append_only_row(session):
    line = Ledger(note="first")
    session.add(line)
    session.flush()
    line.note = "rewritten"
    with pytest.raises(PermissionError, match="ledger lines are append-only"):
        session.flush()
    session.rollback()
    line = Ledger(note="second")
    session.add(line)
    session.flush()
    session.delete(line)
    with pytest.raises(PermissionError, match="append-only"):
        session.flush()


@pytest.mark.parametrize("message", ["it's final", "costs $5", "100% final", "back\\slash"])
def test_the_migration_operation_refuses_a_message_sql_would_misread(message):
    with pytest.raises(ValueError, match="must not contain"):
        append_only_checked("ledger_lines", message)


@pytest.mark.both_databases
def test_the_migration_operation_makes_the_database_refuse_it_too(backend):
    url = backend.empty_url()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            op = Operations(MigrationContext.configure(conn))
            op.create_table(
                "ledger_lines",
                sa.Column("id", sa.Integer, primary_key=True),
                sa.Column("note", sa.String(40)),
            )
            op.create_append_only_triggers("ledger_lines", "ledger lines are append-only")
            conn.execute(sa.text("INSERT INTO ledger_lines (id, note) VALUES (1, 'first')"))
        for statement in ("UPDATE ledger_lines SET note = 'x'", "DELETE FROM ledger_lines"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(sa.text(statement))
        with engine.begin() as conn:
            op = Operations(MigrationContext.configure(conn))
            op.drop_append_only_triggers("ledger_lines")
            conn.execute(sa.text("DELETE FROM ledger_lines"))
    finally:
        engine.dispose()
        backend.drop(url)


def test_the_operation_takes_plain_names_and_sentences_only():
    with pytest.raises(ValueError, match="table name"):
        CreateAppendOnlyTriggers("ledger; DROP TABLE x", "no")
    with pytest.raises(ValueError, match="quotes"):
        CreateAppendOnlyTriggers("ledger", "it's append-only")


# --- console forms -------------------------------------------------------------------------------


def test_the_control_character_check_keeps_line_breaks_only_where_asked():
    assert plugin_api.control_characters("a\nb")
    assert not plugin_api.control_characters("a\r\n\tb", multiline=True)
    assert plugin_api.control_characters("a\x00b", multiline=True)
    assert plugin_api.control_characters("a\x7fb", multiline=True)
    assert not plugin_api.control_characters("Café — ok")


def test_read_form_gives_values_errors_and_what_was_typed():
    fields = {
        "name": ("name", plugin_api.text_field(10), "Name"),
        "price": ("price_cents", plugin_api.money_field(), "Price"),
        "vans": ("vans", plugin_api.optional(plugin_api.integer_field(0, 9)), "Vans"),
        "active": ("active", plugin_api.parse_flag, "Active"),
        "day": ("day", plugin_api.parse_date, "Day"),
    }
    values, errors, typed = plugin_api.read_form(
        {"name": " Petite ", "price": "995", "vans": "", "active": "on", "day": "2026-12-03"},
        fields,
    )
    assert values == {
        "name": "Petite",
        "price_cents": 99500,
        "vans": None,
        "active": True,
        "day": dt.date(2026, 12, 3),
    }
    assert errors == {} and typed["name"] == " Petite "
    values, errors, _ = plugin_api.read_form(
        {"name": "x\x01", "price": "-1", "vans": "12", "active": "maybe", "day": "12/03/2026"},
        fields,
    )
    assert errors == {
        "name": "Name: control characters are not allowed.",
        "price": "Price must not be negative.",
        "vans": "Vans: enter a whole number from 0 to 9.",
        "active": "Active: choose yes or no.",
        "day": "Day: enter a date as YYYY-MM-DD.",
    }
    _, _, typed = plugin_api.read_form({"price": "1"}, fields, partial=True)
    assert typed == {"price": "1"}
    assert plugin_api.field_of(fields, "price_cents") == "price"


def test_colander_errors_are_shown_at_the_form_fields_in_the_consoles_words():
    schema = StaffBookingPatch()
    with pytest.raises(colander.Invalid) as refused:
        schema.deserialize(
            {
                "notes": "x" * 1001,
                "item_count": 600,
                "time_window": "evening",
                "pickup_address": {
                    "line1": "",
                    "city": "NYC",
                    "state": "zz",
                    "postal_code": "10012",
                },
            }
        )
    errors = plugin_api.colander_errors(
        refused.value,
        {
            "notes": "notes",
            "item_count": "item_count",
            "time_window": "time_window",
            "pickup_address.line1": "pickup_line1",
            "pickup_address.state": "pickup_state",
        },
        {
            "notes": "Notes",
            "item_count": "Items",
            "time_window": "Time window",
            "pickup_line1": "Street",
            "pickup_state": "State",
        },
    )
    assert errors == {
        "notes": "Notes: at most 1000 characters.",
        "item_count": "Items: at most 500.",
        "time_window": "Time window: choose one of morning, afternoon.",
        "pickup_line1": "Street: this cannot be empty.",
        "pickup_state": "State: 'zz' is not a US state: use the two-letter state code, e.g. NY.",
    }


def test_every_helper_is_in_the_facade():
    for name in (
        "format_money",
        "parse_money",
        "money_input",
        "MAX_CENTS",
        "MoneyInputError",
        "BUSINESS_TZ",
        "local_today",
        "local_datetime",
        "local_midnight",
        "format_local",
        "get_or_404",
        "AppendOnly",
        "FieldError",
        "Fields",
        "read_form",
        "text_field",
        "integer_field",
        "money_field",
        "optional",
        "parse_flag",
        "parse_date",
        "field_of",
        "control_characters",
        "colander_errors",
        "service_label",
        "service_labels",
    ):
        assert name in plugin_api.__all__, name


# --- service labels: the catalog's, never a copy --------------------------------------------------


class RenamedCatalog:
    """A catalog plugin naming the services its own way."""

    @hookimpl(tryfirst=True)
    def totetaxi_service_labels(self, ctx):
        return {"mini_move": "Tote Move"}


def test_the_console_and_the_emails_name_services_as_the_catalog_does(make_testapp):
    from support.bookings import NOW, book_as_guest, set_clock
    from support.console import page_of, staff_browser
    from totetaxi_notifications import variables
    from totetaxi_pricing.catalog import SERVICE_LABELS

    from totetaxi_core.bookings.models import Booking
    from totetaxi_core.testing import in_transaction

    app = make_testapp(**{"totetaxi.plugins": "pricing notifications mail_console"})
    set_clock(app, NOW)
    created = book_as_guest(app)
    registry = app.app.registry

    def service_in_email(ctx):
        return variables.booking(ctx, ctx.dbsession.get(Booking, uuid.UUID(created["id"])))[
            "service"
        ]

    assert in_transaction(registry, plugin_api.service_labels) == SERVICE_LABELS
    assert in_transaction(registry, service_in_email) == "Mini Move"
    registry.hooks.register(RenamedCatalog(), "renamed")
    assert in_transaction(registry, service_in_email) == "Tote Move"
    assert "<dd>Tote Move</dd>" in page_of(staff_browser(app), created["id"]).text
