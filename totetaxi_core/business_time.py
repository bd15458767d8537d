"""Business time: ToteTaxi works in New York, so its calendar days and wall clocks are New York's.

Timestamps are stored as aware UTC (DESIGN §4); a pickup day, a same-day cut-off, a "today" or a
time shown to staff is New York's. Every module that needs the zone takes it from here.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

__all__ = ["BUSINESS_TZ", "format_local", "local_datetime", "local_midnight", "local_today"]

#: Where ToteTaxi works (Manhattan and the Hamptons).
BUSINESS_TZ = ZoneInfo("America/New_York")


def local_datetime(value: dt.datetime) -> dt.datetime:
    """An aware datetime as New York wall-clock time; a naive one is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(BUSINESS_TZ)


def local_today(now: dt.datetime) -> dt.date:
    """The business day ``now`` falls on (New York's date, not UTC's)."""
    return local_datetime(now).date()


def local_midnight(day: dt.date) -> dt.datetime:
    """The aware start of a New York calendar day (a pickup day's 00:00)."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=BUSINESS_TZ)


def format_local(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    """An aware (UTC) datetime shown as New York wall-clock time (``None`` -> ``"—"``)."""
    if value is None:
        return "—"
    return local_datetime(value).strftime(fmt)
