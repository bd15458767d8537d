"""What a report is, the reports of every plugin, and the date range that filters them.

A report comes from hook ``totetaxi_crm_reports(ctx)`` (see :mod:`totetaxi_crm.hookspecs`):
``{"name", "title", "columns", "rows"}`` with ``rows(ctx, start, end)`` yielding one tuple per
row, in a stable order, of the rows in ``[start, end)`` — aware UTC bounds at New York
midnights. An optional ``"description"`` says what a row is, and an optional ``"summary"``,
``summary(ctx, start, end) -> {figure: number}``, gives the range's figures in one SQL
aggregate (the customers' repeat rate), shown above the table and in the JSON page.

The range is ``?from=YYYY-MM-DD&to=YYYY-MM-DD``, New York days, both included: ``start`` is
New York's midnight opening ``from``, ``end`` the one closing ``to``. Left out, ``to`` is today
and ``from`` 29 days before ``to`` (30 days). At most :data:`MAX_DAYS` days at once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from totetaxi_core.plugin_api import local_midnight, local_today

#: The longest range a report reads at once (New York days, both ends included).
MAX_DAYS = 366
#: The range when none is given: the last 30 days, today included.
DEFAULT_DAYS = 30
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    columns: tuple[str, ...]
    rows: Callable[[Any, dt.datetime, dt.datetime], Iterable[tuple[Any, ...]]]
    description: str = ""
    summarize: Callable[[Any, dt.datetime, dt.datetime], dict[str, Any]] | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "columns": list(self.columns),
            "description": self.description,
        }


def all_reports(ctx: Any) -> dict[str, Report]:
    """Every enabled plugin's reports by name, in title order (a name offered twice, or not
    URL-safe, is a mistake of the plugin: refused loudly)."""
    found: dict[str, Report] = {}
    for answer in ctx.call_hook("totetaxi_crm_reports"):
        for item in answer or ():
            report = Report(
                name=item["name"],
                title=item["title"],
                columns=tuple(item["columns"]),
                rows=item["rows"],
                description=item.get("description", ""),
                summarize=item.get("summary"),
            )
            if not _NAME.match(report.name):
                raise ValueError(f"report name {report.name!r} is not lower_snake_case")
            if report.name in found:
                raise ValueError(f"report {report.name!r} is offered twice")
            found[report.name] = report
    return dict(sorted(found.items(), key=lambda kv: (kv[1].title.lower(), kv[0])))


class RangeError(ValueError):
    """A range that cannot be read: ``field`` (``from`` or ``to``) and a sentence."""

    def __init__(self, field: str, description: str) -> None:
        self.field, self.description = field, description
        super().__init__(f"{field}: {description}")


def _day(value: str, field: str) -> dt.date:
    value = value.strip()
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise RangeError(field, f"{field}: enter a date as YYYY-MM-DD.") from None


def parse_range(query: Mapping[str, str], now: dt.datetime) -> tuple[dt.date, dt.date]:
    """``(first, last)`` New York days of ``?from=&to=`` (both included); :class:`RangeError`
    naming the field at fault."""
    raw_to = (query.get("to") or "").strip()
    raw_from = (query.get("from") or "").strip()
    last = _day(raw_to, "to") if raw_to else local_today(now)
    first = _day(raw_from, "from") if raw_from else last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise RangeError("from", "from: the first day must not be after the last (to).")
    if (last - first).days + 1 > MAX_DAYS:
        raise RangeError("from", f"from: at most {MAX_DAYS} days at once.")
    return first, last


def bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` in aware UTC: New York's midnights opening ``first`` and closing
    ``last``."""
    start = local_midnight(first).astimezone(dt.UTC)
    end = local_midnight(last + dt.timedelta(days=1)).astimezone(dt.UTC)
    return start, end
