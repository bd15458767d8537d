"""Loading the row a URL names, or answering 404."""

from __future__ import annotations

from typing import Any, TypeVar

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import inspect
from sqlalchemy.orm import Session

__all__ = ["get_or_404"]

T = TypeVar("T")


def get_or_404(
    session: Session,
    model: type[T],
    key: Any,
    *,
    lock: bool = False,
    include_deleted: bool = False,
    detail: str | None = None,
) -> T:
    """The ``model`` row whose primary key is ``key``, or :class:`HTTPNotFound`.

    ``key`` may be the text of a URL segment: for a model with a UUID key a malformed id is a 404
    like an unknown one (never a 500). A soft-deleted row is a 404 unless ``include_deleted``.
    ``lock`` reads it ``FOR UPDATE`` (PostgreSQL; SQLite ignores it). The console answers the 404
    with its HTML page, the API with its JSON error body (``detail`` its description).
    """
    if isinstance(key, str):
        key = _typed_key(model, key, detail)
    row = session.get(model, key, with_for_update=lock or None)
    if row is None or (not include_deleted and getattr(row, "deleted_at", None) is not None):
        raise HTTPNotFound(detail)
    return row


def _typed_key(model: type, text: str, detail: str | None) -> Any:
    """The URL segment ``text`` as the key column's Python type; a segment that is not one
    (``abc`` for an integer key, a malformed UUID) names no row: 404, never a database error."""
    columns = inspect(model).primary_key
    if len(columns) != 1:
        return text
    try:
        python_type = columns[0].type.python_type
    except NotImplementedError:
        return text
    if python_type is str:
        return text
    try:
        if python_type is int:
            if not (text.isascii() and text.lstrip("-").isdigit()):
                raise ValueError(text)
            number = int(text)
            if not -(2**63) <= number < 2**63:  # beyond BIGINT: PostgreSQL would raise
                raise ValueError(text)
            return number
        return python_type(text)
    except (TypeError, ValueError, OverflowError):
        raise HTTPNotFound(detail) from None
