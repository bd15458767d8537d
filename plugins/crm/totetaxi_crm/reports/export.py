"""A report as a CSV stream, and as one JSON page.

**Streaming and the transaction.** The request's session belongs to the request's transaction,
which pyramid_tm commits (and closes) when the view returns — before the server iterates the
response's ``app_iter``. The CSV generator therefore reads with a session of its own, made from
the app's session factory (``registry["dbsession_factory"]``, the one every request session
comes from, with the soft-delete filter) when the server asks for the first chunk: a plain,
read-only session outside any transaction manager, rolled back and closed in ``finally`` (also
when the client goes away and the server closes the iterator). Its rows come from the
report's streamed query (``yield_per``: :data:`~.builtin.BATCH` rows at a time, a server-side
cursor on PostgreSQL); each row is written as it arrives and the text handed to the server in
chunks of about :data:`CHUNK` bytes, so memory stays flat whatever the export's size.

The JSON page (the console's table) runs inside the view with the request's own session: it
skips ``offset`` rows of the report's stable order and takes ``limit + 1`` (offset pages: a
report may be any plugin's query, so there is no common key to seek on).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from collections.abc import Iterator
from typing import Any

from totetaxi_core.plugin_api import Context

from .catalog import Report
from .cells import csv_cell, json_cell

#: Bytes gathered before a chunk goes to the server.
CHUNK = 16 * 1024


def csv_chunks(
    registry: Any, report: Report, start: dt.datetime, end: dt.datetime
) -> Iterator[bytes]:
    """The report as UTF-8 CSV (header row first, ``\\r\\n`` line ends), read with a session
    of its own (see the module's docstring)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(report.columns)
    yield _drain(buffer)
    session = registry["dbsession_factory"]()
    try:
        ctx = Context(registry=registry, dbsession=session, transaction_manager=None)
        for row in report.rows(ctx, start, end):
            writer.writerow([csv_cell(value) for value in row])
            if buffer.tell() >= CHUNK:
                yield _drain(buffer)
        if buffer.tell():
            yield _drain(buffer)
    finally:
        session.rollback()
        session.close()


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


def json_page(
    ctx: Any, report: Report, start: dt.datetime, end: dt.datetime, offset: int, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    """Rows ``offset`` to ``offset + limit`` of the report as ``{column: value}``, and whether
    more follow."""
    rows = report.rows(ctx, start, end)
    try:
        taken = list(itertools.islice(rows, offset, offset + limit + 1))
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()
    items = [
        {column: json_cell(value) for column, value in zip(report.columns, row, strict=False)}
        for row in taken[:limit]
    ]
    return items, len(taken) > limit
