from __future__ import annotations

import colander

from totetaxi_core.plugin_api import CleanString, StrictBoolean, StrictInteger


class NoteBody(colander.MappingSchema):
    text = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=500))
    fail_after_enqueue = colander.SchemaNode(StrictBoolean(), missing=False)
    refuse_after_enqueue = colander.SchemaNode(StrictBoolean(), missing=False)
    flaky_times = colander.SchemaNode(StrictInteger(), missing=0, validator=colander.Range(0, 10))


class NoteRequest(colander.MappingSchema):
    body = NoteBody()
