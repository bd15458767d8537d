"""Append-only tables: rows that are written once and never changed or removed (audit trails).

Two guards, both needed: :class:`AppendOnly` makes the ORM refuse to update or delete a row, and
the migration operation ``op.create_append_only_triggers(table, message)`` makes the database
refuse it too (a trigger on SQLite and PostgreSQL), for code that bypasses the ORM. A plugin's
model and migration::

    class LedgerEntry(AppendOnly, UUIDPrimaryKey, Base):
        __tablename__ = "ledger_entries"
        append_only_message = "Ledger entries are append-only."

    # migrations/versions/l0001_ledger.py
    import totetaxi_core.db.append_only  # noqa: F401  (registers the operation)

    def upgrade() -> None:
        op.create_table("ledger_entries", ...)
        op.create_append_only_triggers("ledger_entries", "ledger entries are append-only")

    def downgrade() -> None:
        op.drop_append_only_triggers("ledger_entries")
        op.drop_table("ledger_entries")

The operations are registered when this module is imported; the shared migration environment
imports it, so the import in a migration file only makes the dependency explicit.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from alembic.operations import MigrateOperation, Operations
from sqlalchemy import event
from sqlalchemy.orm import Session

__all__ = ["AppendOnly", "CreateAppendOnlyTriggers", "DropAppendOnlyTriggers"]

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,50}$")


class AppendOnly:
    """Mixin for a model whose rows may be added but never changed or deleted through the ORM.

    A flush that would update or delete one raises :class:`PermissionError` with the class's
    ``append_only_message`` (so a test, or a log, says which trail refused).
    """

    append_only_message: ClassVar[str] = "these records are append-only: they cannot change or go"


@event.listens_for(Session, "before_flush")
def _refuse_rewriting(session: Session, _flush_context: Any, _instances: Any) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AppendOnly) and (obj in session.deleted or session.is_modified(obj)):
            raise PermissionError(obj.append_only_message)


def _checked(table_name: str, message: str) -> tuple[str, str]:
    # Both end up inside SQL text (no parameters in DDL): only plain names and plain sentences.
    if not _IDENTIFIER.match(table_name):
        raise ValueError(f"not a plain table name: {table_name!r}")
    # PL/pgSQL's RAISE reads % as a placeholder.
    if any(character in message for character in "'$\\%"):
        raise ValueError(f"the message must not contain quotes, $, % or backslashes: {message!r}")
    return table_name, message


@Operations.register_operation("create_append_only_triggers")
class CreateAppendOnlyTriggers(MigrateOperation):
    """``op.create_append_only_triggers(table_name, message)``: the database refuses to update or
    delete a row of ``table_name`` (and to truncate it, on PostgreSQL), failing with ``message``.

    Names: on PostgreSQL a function ``<table>_append_only`` and triggers ``<table>_append_only``
    and ``<table>_no_truncate``; on SQLite triggers ``<table>_no_update`` and
    ``<table>_no_delete``.
    """

    def __init__(self, table_name: str, message: str) -> None:
        self.table_name, self.message = _checked(table_name, message)

    @classmethod
    def create_append_only_triggers(
        cls, operations: Operations, table_name: str, message: str
    ) -> Any:
        return operations.invoke(cls(table_name, message))

    def reverse(self) -> DropAppendOnlyTriggers:
        return DropAppendOnlyTriggers(self.table_name)


@Operations.register_operation("drop_append_only_triggers")
class DropAppendOnlyTriggers(MigrateOperation):
    """``op.drop_append_only_triggers(table_name)``: undo :class:`CreateAppendOnlyTriggers`."""

    def __init__(self, table_name: str) -> None:
        self.table_name, _ = _checked(table_name, "")

    @classmethod
    def drop_append_only_triggers(cls, operations: Operations, table_name: str) -> Any:
        return operations.invoke(cls(table_name))


@Operations.implementation_for(CreateAppendOnlyTriggers)
def _create(operations: Operations, operation: CreateAppendOnlyTriggers) -> None:
    table, message = operation.table_name, operation.message
    if operations.get_bind().dialect.name == "postgresql":
        operations.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END; $$"
        )
        operations.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
        operations.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            operations.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )


@Operations.implementation_for(DropAppendOnlyTriggers)
def _drop(operations: Operations, operation: DropAppendOnlyTriggers) -> None:
    table = operation.table_name
    if operations.get_bind().dialect.name == "postgresql":
        operations.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        operations.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        operations.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
    else:
        for verb in ("update", "delete"):
            operations.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
