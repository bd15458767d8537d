"""The example plugin's own hooks: events of its domain that other plugins may act on.

Declared from ``includeme`` with ``config.add_hookspecs(hookspecs)`` (pytest's
``pytest_addhooks``), named ``totetaxi_example_<event>``. A plugin that implements one marks it
``@hookimpl(optionalhook=True)``: it still starts when ``example`` is not enabled.
"""

from __future__ import annotations

from totetaxi_core.plugin_api import Context, hookspec

from .models import ExampleNote


@hookspec
def totetaxi_example_note_created(ctx: Context, note: ExampleNote) -> None:
    """A note was created (its row is flushed, the transaction not yet committed).

    Write rows with ``ctx.dbsession`` and queue work with ``ctx.enqueue``; no network I/O.
    """
