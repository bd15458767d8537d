"""Engines, sessions and the request's ``dbsession`` (DESIGN §4).

The request session is joined to the request transaction by zope.sqlalchemy, so pyramid_tm
commits or aborts it together with everything else (outbox rows included), and pyramid_retry can
replay the whole request on a serialization failure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import transaction as transaction_pkg
import zope.sqlalchemy
from sqlalchemy import Engine, engine_from_config, event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from .mixins import SoftDelete


def make_engine(settings: Mapping[str, Any], prefix: str = "sqlalchemy.") -> Engine:
    """Create the engine from ``sqlalchemy.*`` settings, with SQLite made to behave."""
    engine = engine_from_config(dict(settings), prefix=prefix, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_on_connect)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores foreign keys unless asked per connection; WAL lets the development server and
    # the in-process task runner read while another connection writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose sessions hide soft-deleted rows."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    event.listen(factory, "do_orm_execute", _hide_soft_deleted)
    return factory


def _hide_soft_deleted(state: ORMExecuteState) -> None:
    if (
        state.is_select
        and not state.is_column_load
        and not state.is_relationship_load
        and not state.execution_options.get("include_deleted", False)
    ):
        state.statement = state.statement.options(
            with_loader_criteria(
                SoftDelete,
                lambda cls: cls.deleted_at.is_(None),
                include_aliases=True,
            )
        )


def get_tm_session(
    session_factory: sessionmaker[Session],
    transaction_manager: transaction_pkg.TransactionManager,
) -> Session:
    """A session joined to ``transaction_manager``: commit and abort go through the manager."""
    dbsession = session_factory()
    zope.sqlalchemy.register(dbsession, transaction_manager=transaction_manager)
    return dbsession


@contextmanager
def unit_of_work(
    session_factory: sessionmaker[Session],
) -> Iterator[tuple[Session, transaction_pkg.TransactionManager]]:
    """A fresh transaction outside any request: commits on exit, aborts on an exception.

    Yields the session and its transaction manager (for ``Context`` and after-commit hooks).
    """
    tm = transaction_pkg.TransactionManager(explicit=True)
    with tm:
        yield get_tm_session(session_factory, tm), tm
