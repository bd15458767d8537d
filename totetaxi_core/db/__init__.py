"""Persistence: the declarative base, column mixins and the request's database session.

``config.include("totetaxi_core.db")`` creates the engine from ``sqlalchemy.url`` and adds
``request.dbsession``, a session joined to the request transaction (pyramid_tm).
"""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.tweens import EXCVIEW
from sqlalchemy.orm import Session

from .meta import Base, metadata
from .mixins import SoftDelete, Timestamps, UUIDPrimaryKey
from .retry import is_transient
from .session import get_tm_session, make_engine, make_session_factory, unit_of_work
from .types import UTCDateTime, utcnow, value_enum

__all__ = [
    "Base",
    "SoftDelete",
    "Timestamps",
    "UTCDateTime",
    "UUIDPrimaryKey",
    "get_tm_session",
    "is_transient",
    "make_engine",
    "make_session_factory",
    "metadata",
    "unit_of_work",
    "utcnow",
    "value_enum",
]


def _dbsession(request: Request) -> Session:
    session_factory = request.registry["dbsession_factory"]
    return get_tm_session(session_factory, request.tm)


def includeme(config: Configurator) -> None:
    settings = config.get_settings()
    # An explicit transaction manager lets tasks and tests drive transactions the same way
    # requests do; pyramid_tm then owns commit/abort of request.dbsession.
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
    # An error answer (4xx/5xx) must not commit what the view wrote before deciding to refuse:
    # Cornice's request.errors returns a response instead of raising.
    settings.setdefault("tm.commit_veto", "pyramid_tm.default_commit_veto")
    config.include("pyramid_tm")
    config.include("pyramid_retry")
    engine = make_engine(settings)
    config.registry["dbengine"] = engine
    config.registry["dbsession_factory"] = make_session_factory(engine)
    config.add_request_method(_dbsession, "dbsession", reify=True)
    config.add_tween("totetaxi_core.db.retry.flush_tween_factory", under=EXCVIEW)
