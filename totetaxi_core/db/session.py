"""Engines, sessions and the request's ``dbsession`` (DESIGN §4).

The request session is joined to the request transaction by zope.sqlalchemy, so pyramid_tm
commits or aborts it together with everything else (outbox rows included), and pyramid_retry can
replay the whole request on a serialization failure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib.util import find_spec
from typing import Any

import transaction as transaction_pkg
from pyramid.settings import asbool
from sqlalchemy import URL, Engine, engine_from_config, event, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria
from transaction._transaction import Status
from zope.sqlalchemy.datamanager import STATUS_ACTIVE, join_transaction, mark_changed

from ..errors import SettingsError
from .mixins import SoftDelete

#: What a database URL may look like, for the sentences that refuse one.
URL_FORMS = "sqlite:///path/to/file.sqlite or postgresql://user@host/database"


def _setting_name(key: str) -> str:
    """``'sqlalchemy.url' (TOTETAXI_DATABASE_URL)``: the key, and its variable when it has one."""
    return f"'{key}' (TOTETAXI_DATABASE_URL)" if key == "sqlalchemy.url" else f"'{key}'"


def database_url(raw: str | URL, key: str = "sqlalchemy.url") -> URL:
    """The URL of setting ``key``, with a plain ``postgresql://`` given the driver the core
    installs (psycopg2) unless psycopg 3 is there to take it.

    SQLAlchemy 2.1 maps the plain scheme to psycopg 3, which the core does not depend on, so the
    URL everyone writes would otherwise fail with ``No module named 'psycopg'``. An explicit
    driver (``postgresql+psycopg2://``, ``postgresql+psycopg://``) is left as it is. A URL that
    does not parse is a :class:`SettingsError` naming the setting, never quoting the URL (it may
    hold a password).
    """
    try:
        url = make_url(raw)
    except ArgumentError:
        raise SettingsError(
            f"Setting {_setting_name(key)} is not a database URL: use {URL_FORMS}."
        ) from None
    if url.drivername == "postgresql" and find_spec("psycopg") is None:
        url = url.set(drivername="postgresql+psycopg2")
    return url


_COERCED: dict[str, Any] = {
    "pool_pre_ping": asbool,
    "echo": asbool,
    "pool_size": int,
    "max_overflow": int,
    "pool_recycle": int,
    "pool_timeout": float,
}


def make_engine(settings: Mapping[str, Any], prefix: str = "sqlalchemy.") -> Engine:
    """Create the engine from ``sqlalchemy.*`` settings, with SQLite made to behave.

    The one place an engine is made from the settings (the app, ``totetaxi migrate`` and the
    other commands, the test kit): a URL whose database SQLAlchemy does not know or whose driver
    is not installed stops start-up with one sentence naming the setting, like any other bad
    setting, instead of an import traceback.
    """
    key = prefix + "url"
    options = dict(settings)
    url = database_url(options[key], key)
    options[key] = url
    for name, convert in _COERCED.items():
        # SQLAlchemy coerces some pool options per dialect only: psycopg2's engine took the
        # string "false" for ``pool_pre_ping`` as true.
        if isinstance(options.get(prefix + name), str):
            try:
                options[prefix + name] = convert(options[prefix + name])
            except ValueError:
                raise SettingsError(
                    f"Setting {_setting_name(prefix + name)} must be a "
                    f"{'true/false' if convert is asbool else 'number'}, "
                    f"not {options[prefix + name]!r}."
                ) from None
    try:
        engine = engine_from_config(options, prefix=prefix, future=True)
    except NoSuchModuleError:
        raise SettingsError(
            f"Setting {_setting_name(key)} names a database SQLAlchemy does not know "
            f"({url.get_backend_name()!r}): use {URL_FORMS}."
        ) from None
    except ImportError as exc:
        # Creating the engine imports the URL's driver (its DBAPI module) and nothing else.
        raise SettingsError(
            f"Setting {_setting_name(key)} needs the driver of {url.drivername!r}, which is not "
            f"installed ({exc}): use {URL_FORMS} (psycopg2 comes with totetaxi-core)."
        ) from None
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
    """A session factory whose sessions hide soft-deleted rows.

    Its listeners are registered once, here, on the factory: a session costs nothing more to
    make than SQLAlchemy's own. A session made by :func:`get_tm_session` carries its transaction
    manager in ``session.info``, and the listeners join it to that manager (what
    ``zope.sqlalchemy.register`` would do with seven listeners per session); a plain
    ``factory()`` session has none and commits by itself.
    """
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    event.listen(factory, "do_orm_execute", _hide_soft_deleted)
    event.listen(factory, "do_orm_execute", _mark_changed_by_dml)
    event.listen(factory, "after_begin", _join)
    event.listen(factory, "after_attach", _join)
    event.listen(factory, "after_flush", _mark_changed)
    event.listen(factory, "before_commit", _commit_through_manager)
    return factory


_TM = "transaction_manager"


def _join(session: Session, *_args: Any) -> None:
    manager = session.info.get(_TM)
    if manager is not None:
        join_transaction(session, STATUS_ACTIVE, manager)


def _mark_changed(session: Session, *_args: Any) -> None:
    manager = session.info.get(_TM)
    if manager is not None:
        mark_changed(session, manager)


def _mark_changed_by_dml(state: ORMExecuteState) -> None:
    # A bulk UPDATE/DELETE (or INSERT) statement flushes nothing: without this the transaction
    # would be rolled back as read-only.
    if state.is_orm_statement and (state.is_update or state.is_insert or state.is_delete):
        _mark_changed(state.session)


def _commit_through_manager(session: Session) -> None:
    manager = session.info.get(_TM)
    if manager is None or session.in_nested_transaction():
        return
    if manager.get().status != Status.COMMITTING:
        raise AssertionError("Transaction must be committed using the transaction manager")


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
    return session_factory(info={_TM: transaction_manager})


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
