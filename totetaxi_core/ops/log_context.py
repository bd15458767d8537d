"""Fields every log record carries while a request or a task runs: ``request_id``, ``task``,
``task_id``.

The request logging tween and the task runner bind them with :func:`log_fields` (a contextvar,
so threads and asyncio tasks each see their own); :func:`install` makes every log record created
meanwhile keep a copy of them as ``record.log_context``, and :class:`~.logging.JsonFormatter`
writes them beside the record's own ``extra`` (which wins on a clash).

Why a record factory and not a ``logging.Filter`` on the handlers: the copy must be taken when the
record is made, in the thread that logs (a handler behind a ``QueueHandler`` runs in another
thread, with another context); a filter reaches only the handlers present when it is attached
(``fileConfig`` cannot attach one, and gunicorn, Celery and pytest add handlers later); and
setting the fields as plain record attributes would make ``extra={"request_id": ...}`` raise
(``Logger.makeRecord`` refuses to overwrite an attribute).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from types import MappingProxyType
from typing import Any

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_fields: ContextVar[Mapping[str, Any]] = ContextVar("totetaxi_log_fields", default=_EMPTY)
_installed = False


def current() -> Mapping[str, Any]:
    """The fields bound in this context (read-only)."""
    return _fields.get()


def bind(**fields: Any) -> Token[Mapping[str, Any]]:
    """Add ``fields`` to this context's log fields until :func:`unbind` with the token."""
    return _fields.set(MappingProxyType({**_fields.get(), **fields}))


def unbind(token: Token[Mapping[str, Any]]) -> None:
    """Restore the fields as they were before the :func:`bind` that returned ``token``."""
    _fields.reset(token)


@contextmanager
def log_fields(**fields: Any) -> Iterator[None]:
    """``with log_fields(request_id=..., task=...):`` every record logged inside carries them."""
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


def install() -> None:
    """Make every log record keep the context's fields as ``record.log_context`` (once per
    process; the previous record factory is kept and called first)."""
    global _installed
    if _installed:
        return
    base = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        fields = _fields.get()
        if fields:
            record.log_context = fields
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
