"""``INSERT ... ON CONFLICT`` on whichever database the session speaks to."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(dbsession: Session, model: Any) -> Any:
    """``insert(model)`` of the session's dialect, which offers ``on_conflict_do_nothing`` and
    ``on_conflict_do_update`` (PostgreSQL and SQLite speak the same clause)."""
    dialect = dbsession.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
