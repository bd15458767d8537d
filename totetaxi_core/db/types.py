"""Column types that keep the platform's invariants in the database layer."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import DateTime, Enum
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def value_enum(cls: type[enum.Enum], length: int = 20) -> Enum:
    """A column type for a Python enum stored as its *values* in a ``VARCHAR(length)``.

    ``native_enum=False`` because a PostgreSQL ``ENUM`` type needs a migration for each new
    member and SQLite has none; the values (``"pending_payment"``), not the member names, so the
    rows read the same as the API and the reports.
    """
    return Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zone type and hands back naive values.
    Naive datetimes are refused on the way in (they are always a bug here) and values read back are
    always aware UTC, so code never compares naive and aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} refused: use an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class SimulatedClock:
    """A clock that stands still until moved: ``now`` is what :func:`utcnow` answers while it is
    in use (see :func:`simulated_time`)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def move_to(self, now: dt.datetime) -> None:
        """Set the time; it never goes backwards (rows keep the order they were written in)."""
        if now.tzinfo is None:
            raise ValueError(f"naive datetime {now!r} refused: use an aware UTC datetime")
        self.now = max(self.now, now.astimezone(dt.UTC))


_SIMULATED: ContextVar[SimulatedClock | None] = ContextVar("totetaxi_simulated_clock", default=None)


def utcnow() -> dt.datetime:
    """The current time as an aware UTC datetime (the simulated clock's, inside
    :func:`simulated_time`)."""
    clock = _SIMULATED.get()
    return clock.now if clock is not None else dt.datetime.now(dt.UTC)


@contextmanager
def simulated_time(start: dt.datetime) -> Iterator[SimulatedClock]:
    """Run the platform on a clock the caller moves (``totetaxi demo`` replays a month this way).

    Every timestamp the platform writes (``created_at``, audit records, tokens, the app's
    ``registry.clock`` when it is the default) comes from :func:`utcnow`, so data made inside reads
    as if it had happened at the simulated times. The clock belongs to the current context only:
    other threads (a web server's) keep the real time.
    """
    clock = SimulatedClock(start.astimezone(dt.UTC))
    token = _SIMULATED.set(clock)
    try:
        yield clock
    finally:
        _SIMULATED.reset(token)
