"""The cheap request path: sessions joined to the transaction manager by listeners set once on
the factory, requests built from one class with every extension, and a request that needs no
database opens no session."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
import transaction
from pyramid.events import NewRequest
from pyramid.request import Request
from totetaxi_example.models import ExampleNote

from totetaxi_core.db import get_tm_session
from totetaxi_core.request import PARSED_JSON, AppRequest


@pytest.fixture
def factory(testapp):
    return testapp.app.registry["dbsession_factory"]


def notes(factory) -> list[str]:
    """The notes' texts but the seed's."""
    with factory() as s:
        texts = s.scalars(sa.select(ExampleNote.text).where(~ExampleNote.text.contains("seed")))
        return sorted(texts)


def test_a_bulk_update_without_a_flush_is_committed_by_the_manager(factory):
    with factory() as s:
        s.add(ExampleNote(text="before"))
        s.commit()
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        session = get_tm_session(factory, tm)
        # Nothing to flush: only the statement says the transaction wrote.
        session.execute(
            sa.update(ExampleNote).where(ExampleNote.text == "before").values(text="after")
        )
    assert notes(factory) == ["after"]


def test_a_read_only_transaction_is_rolled_back_and_an_abort_discards_writes(factory):
    tm = transaction.TransactionManager(explicit=True)
    tm.begin()
    session = get_tm_session(factory, tm)
    session.add(ExampleNote(text="discarded"))
    session.flush()
    tm.abort()
    assert notes(factory) == []


def test_a_managed_session_cannot_commit_behind_the_managers_back(factory):
    tm = transaction.TransactionManager(explicit=True)
    tm.begin()
    session = get_tm_session(factory, tm)
    session.add(ExampleNote(text="sneaky"))
    session.flush()
    with pytest.raises(AssertionError, match="transaction manager"):
        session.commit()
    tm.abort()
    assert notes(factory) == []


def test_a_plain_session_commits_by_itself(factory):
    with factory() as s:
        s.add(ExampleNote(text="plain"))
        s.commit()
    assert notes(factory) == ["plain"]


def test_requests_come_from_one_class_that_has_every_extension(testapp):
    router = testapp.app
    assert router.request_extensions is None  # nothing applied per request
    cls = router.request_factory
    assert issubclass(cls, Request)
    for name in ("dbsession", "ctx", "tm", "identity", "request_id", "hooks", "enqueue"):
        assert hasattr(cls, name), name
    served = []
    registry = testapp.app.registry
    registry.registerHandler(lambda event: served.append(type(event.request)), (NewRequest,))
    testapp.get("/healthz")
    testapp.get("/healthz")
    assert served == [cls, cls]  # not a class made for each request


def test_a_request_that_needs_no_database_opens_no_session(make_testapp):
    app = make_testapp(**{"totetaxi.plugins": "pricing"})
    registry = app.app.registry
    real = registry["dbsession_factory"]
    made = []

    def counting(**kwargs):
        made.append(kwargs)
        return real(**kwargs)

    app.get("/api/v1/services")  # loads the catalog
    registry["dbsession_factory"] = counting
    try:
        app.get("/api/v1/services")
        app.get("/healthz")
        app.post_json(
            "/api/v1/quotes",
            {"service_type": "mini_move", "package": "petite", "date": None},
            status=400,
        )
    finally:
        registry["dbsession_factory"] = real
    assert made == []


def test_a_json_body_is_parsed_once_and_a_replaced_body_again(make_testapp, monkeypatch):
    app = make_testapp(**{"totetaxi.plugins": "pricing"})
    body = {"service_type": "mini_move", "package": "petite", "date": "2026-12-30"}
    app.post_json("/api/v1/quotes", body)  # warm: the catalog is loaded
    parsed = []
    real = json.loads

    def counting(text, *args, **kwargs):
        parsed.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counting)
    answer = app.post_json("/api/v1/quotes", body)
    assert len(parsed) == 1  # the input guard's parse; Cornice's validation reuses it
    assert answer.json["date"] == "2026-12-30"

    request = AppRequest.blank("/", method="POST", content_type="application/json")
    request.body = b'{"a": 1}'
    request.environ[PARSED_JSON] = (b'{"a": 1}', {"a": "from the guard"})
    assert request.json_body == {"a": "from the guard"}
    request.json_body = {"b": 2}  # a body replaced after the guard is read as it is now
    assert request.json_body == {"b": 2}
