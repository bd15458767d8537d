"""A report's cells as CSV text and as JSON values.

A report's ``rows`` yield typed values: ``str``, ``int`` (cents are integers), ``bool``,
``datetime.date``, aware ``datetime.datetime`` (shown in New York time) and ``None``.

CSV formula injection (OWASP): a spreadsheet runs a cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula. Every *text* cell that starts with one of them
is written with a single quote in front (``'=HYPERLINK(...)``), which spreadsheets show as text.
Numbers, flags and dates are written by this module from typed values and cannot carry a
formula; a negative amount (``-1250``) therefore stays a number.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from totetaxi_core.plugin_api import BUSINESS_TZ

#: Characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(text: str) -> str:
    """``text`` made safe to open in a spreadsheet (a leading ``'`` where it could run)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def local_stamp(value: dt.datetime) -> str:
    """An aware datetime as New York wall-clock time, ``YYYY-MM-DD HH:MM:SS``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S")


def dollars(cents: int | None) -> str | None:
    """Integer cents as dollars with cents, no symbol nor separators: ``1596.75``."""
    if cents is None:
        return None
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{part:02d}"


def csv_cell(value: Any) -> str:
    """A cell as CSV text: empty for ``None``, ``yes``/``no``, ISO dates, New York times."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dt.datetime):
        return local_stamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return defuse(str(value))


def json_cell(value: Any) -> Any:
    """A cell as a JSON value: numbers and flags as they are, dates and times as text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dt.datetime):
        return local_stamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
