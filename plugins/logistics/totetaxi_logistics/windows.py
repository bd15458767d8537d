"""When a booking's tasks are due: its pickup window, and the drop-off's after it.

A booking says ``morning`` or ``afternoon``; the hours of each are settings (New York time).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from totetaxi_core.plugin_api import BUSINESS_TZ

WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def check_window(value: str) -> str | None:
    """The settings check of a window: ``HH:MM-HH:MM``, the end after the start."""
    match = WINDOW.match(str(value))
    if match is None:
        return f"must look like 08:00-12:00 (24-hour New York time), got {value!r}"
    start, end = _parse(str(value))
    if end <= start:
        return f"must end after it starts, got {value!r}"
    return None


def _parse(value: str) -> tuple[dt.time, dt.time]:
    start, end = value.split("-")
    return dt.time.fromisoformat(start), dt.time.fromisoformat(end)


def pickup_window(
    settings: Mapping[str, Any], day: dt.date, time_window: str
) -> tuple[dt.datetime, dt.datetime]:
    """The pickup's ``(complete_after, complete_before)``, aware UTC."""
    key = "logistics.afternoon_window" if time_window == "afternoon" else "logistics.morning_window"
    start, end = _parse(settings.get(key) or "08:00-12:00")
    return _at(day, start), _at(day, end)


def dropoff_window(
    settings: Mapping[str, Any], day: dt.date, time_window: str
) -> tuple[dt.datetime, dt.datetime]:
    """The drop-off's window: from the pickup window's start until ``logistics.dropoff_hours``
    after its end (the van drives straight on)."""
    after, before = pickup_window(settings, day, time_window)
    hours = int(settings.get("logistics.dropoff_hours") or 4)
    return after, before + dt.timedelta(hours=hours)


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=BUSINESS_TZ).astimezone(dt.UTC)
