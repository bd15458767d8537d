"""Substring search that PostgreSQL answers from trigram indexes (SQLite scans; it may).

A searchable row's text is one expression — its columns lowered and joined by a space — that a
model indexes with :func:`trigram_index` and a search filters with :func:`contains_every`. The
two must build the very same expression, or PostgreSQL will not use the index; both take it
from the model module.

Joining the columns matches exactly what matching each column apart would: search words never
hold whitespace (they come from ``str.split``), so a word found in the joined text lies inside
one column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Index, String, and_, func, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

#: pg_trgm indexes words of three letters or digits; a word without such a run cannot be
#: looked up in the index (PostgreSQL then reads all of it).
_TRIGRAM = re.compile(r"[^\W_]{3}")


def _concat(left: Any, right: Any) -> Any:
    # A custom operator, not String's "+": SQLAlchemy flattens that one into a || b || c.
    return left.op("||", return_type=String())(right)


def searchable_text(*columns: Any) -> ColumnElement[str]:
    """``lower(a || ' ' || b || ...)`` of NOT NULL text columns.

    Parenthesised as PostgreSQL prints the indexed expression back (``((a || ' ') || b)``), so
    that Alembic's comparison of the models with the database sees the same index.
    """
    joined: Any = columns[0]
    for column in columns[1:]:
        joined = _concat(_concat(joined, literal_column("' '")), column)
    return func.lower(joined)


def trigram_index(name: str, text: ColumnElement[str]) -> Index:
    """A GIN trigram index of ``text`` on PostgreSQL, and no index elsewhere (a substring
    search scans on SQLite whatever is indexed). The migration that creates it must also
    ``CREATE EXTENSION IF NOT EXISTS pg_trgm``, on PostgreSQL only."""
    labelled = text.label(f"{name}_text")
    return Index(
        name,
        labelled,
        postgresql_using="gin",
        postgresql_ops={labelled.key: "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")


def like_pattern(word: str) -> str:
    """``%word%`` lowered, with LIKE's wildcards in ``word`` taken literally."""
    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains_every(text: ColumnElement[str], words: Sequence[str]) -> ColumnElement[bool]:
    """``text`` holds each of ``words`` (case-insensitively)."""
    return and_(*(text.like(like_pattern(word), escape="\\") for word in words))


def indexable(words: Sequence[str]) -> bool:
    """Whether a trigram index can narrow a search for all of ``words`` (one of them is
    enough: the others are checked on the rows it finds)."""
    return any(_TRIGRAM.search(word) for word in words)


class AnyOf(ColumnElement[bool]):
    """``column = ANY(ARRAY(subquery))`` on PostgreSQL, ``column IN (subquery)`` elsewhere.

    PostgreSQL runs the ARRAY form once, before the outer query, and can then look the values
    up in an index of ``column`` — also under an ``OR``, where ``IN (subquery)`` becomes a hash
    probe of every outer row.
    """

    inherit_cache = True
    type = Boolean()
    # A comparison already: no "= 1" where a dialect has no boolean type.
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("subquery", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], subquery: Any) -> None:
        self.column = column
        self.subquery = subquery.scalar_subquery()


@compiles(AnyOf)
def _in_subquery(element: AnyOf, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(element.subquery), **kw)


@compiles(AnyOf, "postgresql")
def _any_array(element: AnyOf, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    return f"{column} = ANY(ARRAY{compiler.process(element.subquery, **kw)})"
