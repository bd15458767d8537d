from __future__ import annotations

import colander

from totetaxi_core.plugin_api import CleanString, StrictBoolean, StrictInteger, listing, text, whole


class NoteBody(colander.MappingSchema):
    text = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=500))
    fail_after_enqueue = colander.SchemaNode(StrictBoolean(), missing=False)
    refuse_after_enqueue = colander.SchemaNode(StrictBoolean(), missing=False)
    flaky_times = colander.SchemaNode(StrictInteger(), missing=0, validator=colander.Range(0, 10))


class NoteRequest(colander.MappingSchema):
    body = NoteBody()


# Answers, for the OpenAPI document (what a plugin's views declare with ``answers``).


class NoteOut(colander.MappingSchema):
    """A note."""

    id = text()
    text = colander.SchemaNode(colander.String())  # a field named like the maker


class NotesOut(colander.MappingSchema):
    """The notes, oldest first."""

    items = listing(NoteOut())
    next_cursor = text(null=True)


class CounterOut(colander.MappingSchema):
    """The counter's new value and the attempt that wrote it."""

    value = whole()
    attempt = whole()


class GreetingOut(colander.MappingSchema):
    """The configured greeting."""

    greeting = text()
