"""The audit log is append-only: neither the ORM nor raw SQL can change or delete a record."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from totetaxi_core import audit
from totetaxi_core.audit.models import AuditRecord
from totetaxi_core.identity.services import change_role
from totetaxi_core.testing import in_transaction, make_staff

# Every test here depends on the database: run on SQLite and PostgreSQL.
pytestmark = pytest.mark.both_databases


def _records(registry):
    return in_transaction(
        registry,
        lambda ctx: list(ctx.dbsession.scalars(select(AuditRecord).order_by(AuditRecord.at))),
    )


def test_staff_changes_are_recorded_with_before_and_after(testapp):
    registry = testapp.app.registry
    admin = make_staff(registry, "admin")
    viewer = make_staff(registry, "viewer")

    def promote(ctx):
        ctx.actor = ctx.dbsession.get(type(admin), admin.id)
        change_role(ctx, ctx.dbsession.get(type(viewer), viewer.id), "staff")

    in_transaction(registry, promote)
    last = _records(registry)[-1]
    assert last.action == "staff.role_changed"
    assert last.target_type == "staff_user" and last.target_id == str(viewer.id)
    assert last.changes == {"before": {"role": "viewer"}, "after": {"role": "staff"}}
    assert last.actor_kind == "staff" and last.actor_email == admin.email
    assert last.at.tzinfo is not None


def test_the_orm_refuses_to_change_or_delete_a_record(testapp):
    registry = testapp.app.registry
    in_transaction(registry, lambda ctx: audit.record(ctx, "test.thing", "thing", "1"))
    with pytest.raises(PermissionError, match="append-only"):

        def tamper(ctx):
            ctx.dbsession.scalars(select(AuditRecord)).one().action = "rewritten"

        in_transaction(registry, tamper)
    with pytest.raises(PermissionError, match="append-only"):
        in_transaction(
            registry,
            lambda ctx: ctx.dbsession.delete(ctx.dbsession.scalars(select(AuditRecord)).one()),
        )
    assert [r.action for r in _records(registry)] == ["test.thing"]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_records SET action = 'rewritten'",
        "DELETE FROM audit_records",
    ],
)
def test_the_database_refuses_raw_sql_too(testapp, statement):
    registry = testapp.app.registry
    in_transaction(registry, lambda ctx: audit.record(ctx, "test.thing", "thing", "1"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        in_transaction(registry, lambda ctx: ctx.dbsession.execute(sa.text(statement)))
    assert [r.action for r in _records(registry)] == ["test.thing"]


def test_record_keeps_request_details(testapp):
    registry = testapp.app.registry
    entry = in_transaction(
        registry,
        lambda ctx: (
            ctx.extra.__setitem__("request_id", "req-42"),
            audit.record(ctx, "test.thing", "thing", 7, before={"a": 1}, after={"a": 2}),
        )[1],
    )
    assert entry.request_id == "req-42" and entry.actor_kind == "system"
    assert entry.target_id == "7"
    assert audit.changed({"a": 1, "b": 2}, {"a": 1, "b": 3}) == ({"b": 2}, {"b": 3})


def test_purge_removes_only_what_expired(testapp):
    import datetime as dt
    import uuid

    from sqlalchemy import func, update
    from webtest import TestApp

    from totetaxi_core.identity.housekeeping import purge_expired
    from totetaxi_core.identity.models import AuthSession
    from totetaxi_core.testing import register_customer

    registry = testapp.app.registry
    register_customer(testapp)
    other = TestApp(testapp.app)
    gone = register_customer(other)  # its session will have expired

    def count() -> int:
        return in_transaction(
            registry,
            lambda ctx: ctx.dbsession.scalar(select(func.count()).select_from(AuthSession)),
        )

    assert count() == 2
    assert in_transaction(registry, purge_expired)["sessions"] == 0
    in_transaction(
        registry,
        lambda ctx: ctx.dbsession.execute(
            update(AuthSession)
            .where(AuthSession.principal_id == uuid.UUID(gone["id"]))
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        ),
    )
    assert in_transaction(registry, purge_expired)["sessions"] == 1
    assert count() == 1
    testapp.get("/api/v1/me", status=200)  # the live one is untouched
    other.get("/api/v1/me", status=401)
    assert "identity-purge" in registry.celery.conf.beat_schedule
