"""Reference data served from memory: read once, shared by every request of a process.

The pricing catalog and the cancellation policy are read by every quote and rarely change. A
:class:`Snapshot` keeps what ``load`` read and answers from memory; how fresh it is:

- **in the process that edits**: the edit calls :meth:`Snapshot.changed` in its transaction.
  Until it commits, that transaction reads its own uncommitted rows (never cached); when it
  commits, the snapshot is dropped, so the next read anywhere in the process loads the edit.
- **in every other process** (web workers, Celery workers): a read re-checks the database at
  most ``recheck_seconds`` (1 s) after the last check. With a ``version`` reader the re-check is
  that one cheap read, and the snapshot reloads only when the stored version moved; without, it
  reloads. So an edit reaches every process within a second, and a busy process spends one
  small query a second on it instead of one per request.

A bounded re-check needs nothing but the database, so it works the same on SQLite and
PostgreSQL, with or without Redis; pushing versions through Redis or ``LISTEN/NOTIFY`` would
shave the second off at the price of a connection per process kept open for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

__all__ = ["Snapshot"]

T = TypeVar("T")

_CHANGED = "snapshots_changed"


@dataclass(frozen=True)
class _Entry(Generic[T]):
    value: T
    version: Hashable
    checked: float


class Snapshot(Generic[T]):
    """A value loaded from the database and served from memory (see the module's docstring).

    ``load(session)`` reads the value; ``version(session)``, when given, reads a cheap marker
    that every edit changes (a counter column). Register one per app as a named service
    (``config.register_service(Snapshot(...), name="myplugin.rates")``), read it with
    ``snapshot.get(ctx)`` and, in the transaction that edits what it holds, call
    ``snapshot.changed(ctx)``. Thread-safe.
    """

    def __init__(
        self,
        load: Callable[[Session], T],
        *,
        version: Callable[[Session], Hashable] | None = None,
        recheck_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._version = version
        self.recheck_seconds = recheck_seconds
        self.clock = clock
        self._entry: _Entry[T] | None = None
        self._lock = threading.Lock()
        # Moves on every clear: a load that began before an edit committed must not store what
        # it read after the clear that the commit made.
        self._generation = 0

    def get(self, ctx: Any) -> T:
        """The value; ``ctx`` is a request's or a task's context (its session is used, and made,
        only when the snapshot must be loaded or re-checked)."""
        changed = ctx.extra.get(_CHANGED)
        if changed and self in changed:
            return self._load(ctx.dbsession)
        entry = self._entry
        now = self.clock()
        if entry is not None and now - entry.checked < self.recheck_seconds:
            return entry.value
        with self._lock:
            entry = self._entry
            if entry is not None and now - entry.checked < self.recheck_seconds:
                return entry.value
            generation = self._generation
            session = ctx.dbsession
            version = self._version(session) if self._version is not None else None
            if entry is not None and self._version is not None and entry.version == version:
                value = entry.value
            else:
                value = self._load(session)
            if generation == self._generation:
                self._entry = _Entry(value, version, now)
            return value

    def changed(self, ctx: Any) -> None:
        """Say that ``ctx``'s transaction edits what this snapshot holds: it reads the rows
        itself from now on, and every process sees the edit once it commits."""
        changed = ctx.extra.setdefault(_CHANGED, set())
        if self in changed:
            return
        changed.add(self)
        ctx.transaction_manager.get().addAfterCommitHook(self._after_commit)

    def clear(self) -> None:
        """Forget the value: the next :meth:`get` loads it."""
        self._generation += 1
        self._entry = None

    def _after_commit(self, _success: bool) -> None:
        # Dropped after an abort too: a reload costs one read and can never be wrong.
        self.clear()
