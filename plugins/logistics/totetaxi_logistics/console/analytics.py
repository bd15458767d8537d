"""Delivery analytics over a range of New York days (``?from=&to=``, default the last 30).

Counted over final tasks (completed or failed; cancelled ones are nobody's result) whose window
opens in the range, in SQL aggregates:

* completion rate: completed / (completed + failed);
* on-time rate: completed inside the window / completed;
* average lateness of the late completions, in minutes;
* failures by reason, and per driver: tasks, completed, failed, on-time rate.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyramid.request import Request
from pyramid.view import view_config
from sqlalchemy import case, func, literal, select
from sqlalchemy.sql import ColumnElement
from totetaxi_core.plugin_api import (
    FieldError,
    Permission,
    local_midnight,
    local_today,
    parse_date,
)

from ..models import DeliveryTask, Driver, TaskStatus
from . import ANALYTICS
from .board import within_reach

DEFAULT_DAYS = 30
MAX_DAYS = 366


def late_minutes(dialect: str) -> ColumnElement[Any]:
    """Minutes from the end of the window to the completion (SQL, per backend)."""
    if dialect == "sqlite":
        return (
            func.julianday(DeliveryTask.completed_at) - func.julianday(DeliveryTask.complete_before)
        ) * 1440.0
    return func.extract("epoch", DeliveryTask.completed_at - DeliveryTask.complete_before) / 60.0


def rate(part: int | None, whole: int | None) -> float | None:
    """``part / whole`` as a percentage rounded to one decimal (``None`` without a whole)."""
    if not whole:
        return None
    return round(100.0 * (part or 0) / whole, 1)


def delivery_stats(request: Request, start: dt.date, end: dt.date) -> dict[str, Any]:
    """The analytics of the tasks whose window opens from ``start`` to ``end`` (inclusive)."""
    db = request.dbsession
    completed = DeliveryTask.status == TaskStatus.COMPLETED
    failed = DeliveryTask.status == TaskStatus.FAILED
    on_time = completed & (DeliveryTask.completed_at <= DeliveryTask.complete_before)
    late = completed & (DeliveryTask.completed_at > DeliveryTask.complete_before)
    scope = (
        DeliveryTask.complete_after >= local_midnight(start),
        DeliveryTask.complete_after < local_midnight(end + dt.timedelta(days=1)),
        DeliveryTask.status.in_((TaskStatus.COMPLETED, TaskStatus.FAILED)),
    )

    def count_of(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    totals = db.execute(
        select(
            func.count(),
            count_of(completed),
            count_of(failed),
            count_of(on_time),
            func.avg(case((late, late_minutes(db.get_bind().dialect.name)), else_=None)),
        ).where(*scope)
    ).one()
    tasks, done, failures, timely, lateness = totals
    reasons = db.execute(
        select(
            func.coalesce(func.nullif(DeliveryTask.failure_reason, ""), literal("(no reason)")),
            func.count(),
        )
        .where(*scope, failed)
        .group_by(DeliveryTask.failure_reason)
        .order_by(func.count().desc(), DeliveryTask.failure_reason)
    ).all()
    per_driver = db.execute(
        select(
            Driver.name,
            Driver.provider,
            func.count(),
            count_of(completed),
            count_of(failed),
            count_of(on_time),
        )
        .select_from(DeliveryTask)
        .outerjoin(Driver, Driver.id == DeliveryTask.driver_id)
        .where(*scope)
        .group_by(Driver.id, Driver.name, Driver.provider)
        .order_by(func.count().desc(), Driver.name)
    ).all()
    return {
        "tasks": tasks,
        "completed": done,
        "failed": failures,
        "on_time": timely,
        "completion_rate": rate(done, done + failures),
        "on_time_rate": rate(timely, done),
        "late": done - timely,
        "average_lateness": round(float(lateness), 1) if lateness is not None else None,
        "reasons": [{"reason": reason, "count": n} for reason, n in reasons],
        "drivers": [
            {
                "name": name or "(no driver)",
                "provider": provider or "",
                "tasks": n,
                "completed": c,
                "failed": f,
                "on_time_rate": rate(o, c),
            }
            for name, provider, n, c, f, o in per_driver
        ],
    }


@view_config(
    route_name="logistics_analytics",
    request_method="GET",
    renderer=ANALYTICS,
    permission=Permission.STAFF_READ,
)
def analytics_page(request: Request) -> dict[str, Any]:
    today = local_today(request.ctx.now())
    typed = {"from": request.GET.get("from", ""), "to": request.GET.get("to", "")}
    errors: dict[str, str] = {}
    end = today
    start = today - dt.timedelta(days=DEFAULT_DAYS - 1)
    try:
        if typed["to"].strip():
            end = within_reach(parse_date(typed["to"], "To"), "To", today)
    except FieldError as exc:
        errors["to"] = str(exc)
    try:
        if typed["from"].strip():
            start = within_reach(parse_date(typed["from"], "From"), "From", today)
        elif "to" not in errors:
            start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
    except FieldError as exc:
        errors["from"] = str(exc)
    if not errors and start > end:
        errors["from"] = "From: the first day must not be after the last."
    if not errors and (end - start).days >= MAX_DAYS:
        errors["from"] = f"From: at most {MAX_DAYS} days at once."
    if errors:
        request.response.status_int = 400
        return {"errors": errors, "typed": typed, "stats": None, "start": None, "end": None}
    return {
        "errors": {},
        "typed": {"from": start.isoformat(), "to": end.isoformat()},
        "stats": delivery_stats(request, start, end),
        "start": start,
        "end": end,
    }
