"""Loading the row a URL names, or answering 404."""

from __future__ import annotations

import uuid
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
    if isinstance(key, str) and _has_uuid_key(model):
        try:
            key = uuid.UUID(key)
        except ValueError:
            raise HTTPNotFound(detail) from None
    row = session.get(model, key, with_for_update=lock or None)
    if row is None or (not include_deleted and getattr(row, "deleted_at", None) is not None):
        raise HTTPNotFound(detail)
    return row


def _has_uuid_key(model: type) -> bool:
    columns = inspect(model).primary_key
    return len(columns) == 1 and columns[0].type.python_type is uuid.UUID
