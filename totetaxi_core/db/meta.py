"""The one declarative ``Base`` every core and plugin model is declared on.

A single ``MetaData`` means foreign keys between plugin tables and core tables resolve, and the
naming convention gives every constraint a predictable name, so Alembic migrations written on
SQLite apply unchanged on PostgreSQL (and ``batch_alter_table`` can find constraints by name).
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Base(DeclarativeBase):
    """Declarative base for every ToteTaxi model, core and plugin alike."""

    metadata = metadata
