"""``PaymentAudit`` is append-only: the ORM refuses to update or delete a row, and database
triggers (SQLite and PostgreSQL) refuse it for code that bypasses the ORM (raw SQL, bulk
statements).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
import support.payments as payments_support
from sqlalchemy import delete, select, update
from support.payments import (
    CARD_OK,
    audit_rows,
    book_as_guest,
    mock_confirm,
    pay,
    run,
)
from totetaxi_payments.models import PaymentAudit
from webtest import TestApp

# Every test here depends on the database: run on SQLite and PostgreSQL.
pytestmark = pytest.mark.both_databases

app = payments_support.app  # the fixture: pricing + payments_mock, clock on NOW


def recorded(app: TestApp) -> list[tuple[Any, ...]]:
    """Every audit row as plain values, to compare before and after."""
    return [
        (str(r.id), r.action, r.old_status, r.new_status, r.note, r.amount_cents, str(r.payment_id))
        for r in audit_rows(app)
    ]


@pytest.fixture
def audited(app) -> list[tuple[Any, ...]]:
    """A paid booking: a few audit rows (created, status changed, captured)."""
    created = book_as_guest(app)
    started = pay(app, created)
    mock_confirm(app, started["payment_id"], CARD_OK, created)
    rows = recorded(app)
    assert [row[1] for row in rows] == [
        "payment.created",
        "payment.status_changed",
        "payment.captured",
    ]
    return rows


def first_id(rows: list[tuple[Any, ...]]) -> uuid.UUID:
    return uuid.UUID(rows[0][0])


def test_the_orm_refuses_to_change_a_row(app, audited):
    def rewrite(ctx: Any) -> None:
        row = ctx.dbsession.get(PaymentAudit, first_id(audited))
        row.note = "nothing happened"
        ctx.dbsession.flush()

    with pytest.raises(PermissionError, match="append-only"):
        run(app, rewrite)
    assert recorded(app) == audited


def test_the_orm_refuses_to_delete_a_row(app, audited):
    def remove(ctx: Any) -> None:
        ctx.dbsession.delete(ctx.dbsession.get(PaymentAudit, first_id(audited)))
        ctx.dbsession.flush()

    with pytest.raises(PermissionError, match="append-only"):
        run(app, remove)
    assert recorded(app) == audited


def test_loading_and_adding_rows_is_fine(app, audited):
    def append(ctx: Any) -> None:
        ctx.dbsession.get(PaymentAudit, first_id(audited))  # read, untouched
        ctx.dbsession.add(PaymentAudit(action="payment.note", note="appended"))

    run(app, append)
    assert [row[1] for row in recorded(app)][-1] == "payment.note"
    assert recorded(app)[:3] == audited


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE payments_audit SET note = 'rewritten'",
        "UPDATE payments_audit SET amount_cents = 0 WHERE action = 'payment.captured'",
        "DELETE FROM payments_audit",
        "DELETE FROM payments_audit WHERE action = 'payment.created'",
    ],
)
def test_raw_sql_cannot_change_or_delete_rows(app, audited, statement):
    engine = app.app.registry["dbengine"]
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text(statement))
    assert recorded(app) == audited


@pytest.mark.parametrize("kind", ["update", "delete"])
def test_bulk_orm_statements_are_stopped_by_the_database(app, audited, kind):
    statement = (
        update(PaymentAudit).values(note="bulk") if kind == "update" else delete(PaymentAudit)
    )

    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        run(
            app,
            lambda ctx: ctx.dbsession.execute(
                statement.execution_options(synchronize_session=False)
            ),
        )
    assert recorded(app) == audited


@pytest.mark.postgresql
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # SQLite has no TRUNCATE
def test_truncate_is_refused_on_postgresql(app, audited):
    engine = app.app.registry["dbengine"]
    assert engine.dialect.name == "postgresql"
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE payments_audit"))
    assert recorded(app) == audited
    assert run(
        app, lambda ctx: ctx.dbsession.scalar(select(sa.func.count()).select_from(PaymentAudit))
    ) == len(audited)
