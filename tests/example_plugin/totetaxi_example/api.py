"""Cornice service of the example plugin."""

from __future__ import annotations

import time
from typing import Any

from cornice import Service
from cornice.validators import colander_validator
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import func, select

from totetaxi_core.plugin_api import API_PREFIX, answers

from .models import ExampleCounter, ExampleNote
from .schemas import CounterOut, GreetingOut, NoteOut, NoteRequest, NotesOut

notes = Service(
    name="example_notes", path=API_PREFIX + "/example/notes", description="Example notes"
)
counter = Service(name="example_counter", path=API_PREFIX + "/example/counters/{name}")
hello = Service(name="example_hello", path=API_PREFIX + "/example/hello")


@hello.get(
    permission=NO_PERMISSION_REQUIRED,
    response_schemas=answers(200, GreetingOut(), "The greeting."),
)
def say_hello(request: Request) -> dict[str, Any]:
    """The configured greeting."""
    return {"greeting": request.registry.settings["example.greeting"]}


@notes.get(
    permission=NO_PERMISSION_REQUIRED, response_schemas=answers(200, NotesOut(), "The notes.")
)
def list_notes(request: Request) -> dict[str, Any]:
    """Notes, oldest first."""
    rows = request.dbsession.scalars(select(ExampleNote).order_by(ExampleNote.created_at))
    return {"items": [{"id": str(n.id), "text": n.text} for n in rows], "next_cursor": None}


@notes.post(
    schema=NoteRequest(),
    validators=(colander_validator,),
    permission=NO_PERMISSION_REQUIRED,
    response_schemas=answers(
        201,
        NoteOut(),
        "The note.",
        errors={409: "Too many notes.", 422: "Refused on purpose (tests)."},
    ),
)
def create_note(request: Request) -> dict[str, Any]:
    """Create a note and queue the example task for it."""
    body = request.validated["body"]
    count = request.dbsession.scalar(select(func.count()).select_from(ExampleNote))
    if count >= request.registry.settings["example.max_notes"]:
        request.errors.add("body", "text", "too many notes")
        request.errors.status = 409
        return None
    note = ExampleNote(text=body["text"])
    request.dbsession.add(note)
    request.dbsession.flush()
    request.hooks.call("totetaxi_example_note_created", ctx=request.ctx, note=note)
    if body["flaky_times"]:
        request.enqueue("example.flaky", str(note.id), body["flaky_times"])
    else:
        request.enqueue("example.record_note", str(note.id), label="created")
    if body["fail_after_enqueue"]:
        raise RuntimeError("failing on purpose after enqueue")
    if body["refuse_after_enqueue"]:
        request.errors.add("body", "text", "refused on purpose after writing")
        request.errors.status = 422
        return None
    request.response.status_code = 201
    return {"id": str(note.id), "text": note.text}


@counter.post(
    permission=NO_PERMISSION_REQUIRED,
    response_schemas=answers(200, CounterOut(), "The counter, incremented."),
)
def increment(request: Request) -> dict[str, Any]:
    """Read-then-write under SERIALIZABLE: concurrent calls conflict and pyramid_retry replays."""
    session = request.dbsession
    # Only possible before the transaction's first statement (an authenticated caller's identity
    # lookup would already have run one); anonymous callers get SERIALIZABLE.
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "SERIALIZABLE"})
    name = request.matchdict["name"]
    row = session.get(ExampleCounter, name)
    if row is None:
        row = ExampleCounter(name=name, value=0)
        session.add(row)
    current = row.value
    # A pause widens the window so that concurrent requests really overlap (tests set it).
    time.sleep(request.registry.settings["example.counter_delay_ms"] / 1000)
    row.value = current + 1
    return {"value": row.value, "attempt": request.environ.get("retry.attempt", 0)}


def includeme(config: Configurator) -> None:
    config.scan(__name__)
