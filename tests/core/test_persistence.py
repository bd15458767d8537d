"""Persistence: naming convention, mixins, soft delete, aware timestamps, request sessions."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from totetaxi_example.models import ExampleNote

from totetaxi_core.db import metadata

# Every test here depends on the database: run on SQLite and PostgreSQL.
pytestmark = pytest.mark.both_databases


@pytest.fixture
def session(testapp):
    with testapp.app.registry["dbsession_factory"]() as s:
        yield s


def test_constraints_are_named_by_convention(testapp):
    engine = testapp.app.registry["dbengine"]
    inspector = sa.inspect(engine)
    assert inspector.get_pk_constraint("example_notes")["name"] == "pk_example_notes"
    [fk] = inspector.get_foreign_keys("example_task_runs")
    assert fk["name"] == "fk_example_task_runs_note_id_example_notes"
    assert metadata.naming_convention["uq"] == "uq_%(table_name)s_%(column_0_name)s"


def test_mixins_give_uuid_keys_and_aware_timestamps(session):
    note = ExampleNote(text="hi")
    session.add(note)
    session.commit()
    session.expire_all()
    loaded = session.get(ExampleNote, note.id)
    assert isinstance(loaded.id, uuid.UUID)
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at.utcoffset() == dt.timedelta(0)
    long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    loaded.updated_at = long_ago
    session.commit()
    loaded.text = "changed"
    session.commit()
    session.expire_all()
    assert session.get(ExampleNote, note.id).updated_at > long_ago  # onupdate stamped it
    assert session.get(ExampleNote, note.id).created_at < dt.datetime.now(dt.UTC)


def test_naive_datetimes_are_refused(session):
    note = ExampleNote(text="naive", deleted_at=dt.datetime(2026, 1, 1))
    session.add(note)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        session.commit()
    session.rollback()


def test_other_time_zones_are_stored_as_utc(session):
    eastern = dt.timezone(dt.timedelta(hours=-5))
    note = ExampleNote(text="tz", deleted_at=dt.datetime(2026, 7, 1, 9, 0, tzinfo=eastern))
    session.add(note)
    session.commit()
    stamp = session.execute(
        select(ExampleNote.deleted_at)
        .where(ExampleNote.id == note.id)
        .execution_options(include_deleted=True)
    ).scalar_one()
    assert stamp == dt.datetime(2026, 7, 1, 14, 0, tzinfo=dt.UTC)


def test_soft_deleted_rows_are_hidden_unless_asked_for(session):
    keep, gone = ExampleNote(text="keep"), ExampleNote(text="gone")
    session.add_all([keep, gone])
    session.commit()
    gone.soft_delete()
    session.commit()
    texts = set(session.scalars(select(ExampleNote.text).select_from(ExampleNote)))
    visible = {n.text for n in session.scalars(select(ExampleNote))}
    assert "gone" not in visible and "keep" in visible
    everything = {
        n.text for n in session.scalars(select(ExampleNote).execution_options(include_deleted=True))
    }
    assert {"keep", "gone"} <= everything
    # The row is still there for reports and audit.
    raw = session.execute(sa.text("SELECT count(*) FROM example_notes WHERE text = 'gone'"))
    assert raw.scalar() == 1
    assert texts  # column selects go through the same filter
    assert "gone" not in texts


def test_request_session_commits_with_the_request_and_rolls_back_on_error(testapp, session):
    testapp.post_json("/api/v1/example/notes", {"text": "kept"}, status=201)
    testapp.post_json(
        "/api/v1/example/notes", {"text": "lost", "fail_after_enqueue": True}, status=500
    )
    texts = set(session.scalars(select(ExampleNote.text)))
    assert "kept" in texts and "lost" not in texts
