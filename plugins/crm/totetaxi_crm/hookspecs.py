"""The hooks the CRM plugin declares: what other plugins publish for the dashboard and reports.

Implement them with ``@hookimpl(optionalhook=True)`` so that a plugin still starts without CRM.
Every answer must come from SQL aggregates or a streamed query (never a Python loop over a
table's rows): the dashboard answers within 300 ms at 200,000 bookings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from totetaxi_core.plugin_api import hookspec


@hookspec
def totetaxi_crm_figures(ctx: Any, start: dt.datetime, end: dt.datetime) -> dict[str, Any] | None:
    """Figures of ``[start, end)`` (aware UTC, cut at New York midnights) for the dashboard:
    ``{"payment_success_rate": 0.93, "refunds_cents": 12000, ...}`` — numbers (rates as
    fractions, ``None`` when undefined), one key per figure, named after what it measures."""


@hookspec
def totetaxi_crm_reports(ctx: Any) -> list[dict[str, Any]] | None:
    """Reports a plugin offers: ``[{"name", "title", "columns": [...], "rows": rows}]`` where
    ``rows(ctx, start, end)`` yields one tuple per row (aware UTC bounds, New York midnights),
    streamed from the database in a stable order. ``name`` is unique and URL-safe
    (``payments_reconciliation``); CSV exports and the console's tables come from it."""
