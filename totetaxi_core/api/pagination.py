"""Keyset pagination: ``?limit=`` (default 20, max 100) and an opaque ``?cursor=``.

Newest first by ``(created_at, id)``; a page costs one query however deep it is, and rows
inserted meanwhile never shift the pages (no OFFSET).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

import colander
from pyramid.request import Request
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session

from ..errors import InvalidDraft
from .schemas import QueryInteger

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def parse_limit(request: Request) -> int:
    raw = request.GET.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidDraft(
            "limit", f"limit must be a whole number from 1 to {MAX_LIMIT}.", "querystring"
        )
    return int(raw)


def page_query(**filters: colander.SchemaNode) -> colander.MappingSchema:
    """The query string of a paginated list, for a view's ``schema=`` (with Cornice's
    ``colander_validator``): ``limit``, ``cursor`` and the list's own ``filters`` (named nodes
    by keyword). It documents the list's parameters and checks them as :func:`keyset_page`
    reads them."""
    query = colander.SchemaNode(
        colander.Mapping(),
        colander.SchemaNode(
            QueryInteger(1, MAX_LIMIT),
            name="limit",
            missing=colander.drop,
            description=f"Items per page (default {DEFAULT_LIMIT}).",
        ),
        colander.SchemaNode(
            colander.String(),
            name="cursor",
            missing=colander.drop,
            allow_empty=True,
            description="The next_cursor of the previous page (opaque).",
        ),
        name="querystring",
    )
    for name, node in filters.items():
        node = node.clone()
        node.name = name
        query.add(node)
    schema = colander.MappingSchema()
    schema.add(query)
    return schema


#: The query string of a list that has no filters of its own.
PAGE_QUERY = page_query()


def encode_cursor(created_at: dt.datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        created_at = dt.datetime.fromisoformat(stamp)
        if created_at.tzinfo is None:
            raise ValueError("naive")
        return created_at, uuid.UUID(row_id)
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidDraft(
            "cursor", "cursor is not one this API gave out.", "querystring"
        ) from None


def keyset_page(
    request: Request,
    dbsession: Session,
    statement: Select[Any],
    model: Any,
    serialize: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """One page of ``statement`` (which selects ``model`` rows) as ``{items, next_cursor}``."""
    limit = parse_limit(request)
    cursor = request.GET.get("cursor")
    if cursor:
        created_at, row_id = decode_cursor(cursor)
        statement = statement.where(
            or_(
                model.created_at < created_at,
                and_(model.created_at == created_at, model.id < row_id),
            )
        )
    rows = list(
        dbsession.scalars(
            statement.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [serialize(row) for row in rows],
        "next_cursor": encode_cursor(rows[-1].created_at, rows[-1].id) if more else None,
    }
