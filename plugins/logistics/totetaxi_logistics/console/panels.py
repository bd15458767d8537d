"""The booking page's "Delivery" panel, the dashboard tiles and the console menu (hooks.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyramid.request import Request
from sqlalchemy import case, distinct, func, select
from totetaxi_core.plugin_api import local_midnight, local_today

from ..models import OPEN, DeliveryTask, TaskStatus
from ..services import reading, tasks_of
from . import PANEL

#: How far back the on-time tile of a dashboard period looks.
PERIODS = {
    "day": dt.timedelta(days=1),
    "week": dt.timedelta(days=7),
    "month": dt.timedelta(days=30),
}


def booking_panels(request: Request, booking: Any) -> list[dict[str, Any]]:
    """The booking's tasks (every attempt) and its timeline, as staff see them."""
    timeline = []
    for entry in reading.timeline(request.ctx, booking.id, staff=True):
        timeline.append({**entry, "at": dt.datetime.fromisoformat(entry["at"])})
    return [
        {
            "title": "Delivery",
            "template": PANEL,
            "order": 30,
            "context": {
                "tasks": tasks_of(request.ctx, booking.id),
                "timeline": timeline,
                "board_url": request.route_path("logistics_board"),
            },
        }
    ]


def dashboard_tiles(request: Request, period: str) -> list[dict[str, Any]]:
    """Today's tasks, open failures, held bookings, the period's on-time rate: SQL aggregates."""
    db = request.dbsession
    now = request.ctx.now()
    start = local_midnight(local_today(now))
    current = DeliveryTask.superseded_by.is_(None)
    today_total, today_done = db.execute(
        select(
            func.count(),
            func.coalesce(
                func.sum(case((DeliveryTask.status == TaskStatus.COMPLETED, 1), else_=0)), 0
            ),
        ).where(
            DeliveryTask.complete_after >= start,
            DeliveryTask.complete_after < start + dt.timedelta(days=1),
            DeliveryTask.status != TaskStatus.CANCELLED,
            current,
        )
    ).one()
    failures = db.scalar(
        select(func.count())
        .select_from(DeliveryTask)
        .where(DeliveryTask.status == TaskStatus.FAILED, current)
    )
    held = db.scalar(
        select(func.count(distinct(DeliveryTask.booking_id))).where(
            DeliveryTask.held_reason != "", DeliveryTask.status.in_(OPEN), current
        )
    )
    since = now - PERIODS.get(period, PERIODS["day"])
    completed, timely = db.execute(
        select(
            func.count(),
            func.coalesce(
                func.sum(
                    case((DeliveryTask.completed_at <= DeliveryTask.complete_before, 1), else_=0)
                ),
                0,
            ),
        ).where(
            DeliveryTask.status == TaskStatus.COMPLETED,
            DeliveryTask.completed_at >= since,
            DeliveryTask.completed_at <= now,
        )
    ).one()
    on_time = f"{round(100.0 * timely / completed)}%" if completed else None
    return [
        {
            "title": "Deliveries today",
            "value": today_total,
            "detail": f"{today_done} completed.",
            "route": "logistics_board",
            "order": 40,
        },
        {
            "title": "Failed deliveries",
            "value": failures,
            "detail": "Failed tasks not rescheduled yet: reschedule them on the board.",
            "route": "logistics_board",
            "alert": bool(failures),
            "order": 41,
        },
        {
            "title": "Held bookings",
            "value": held,
            "detail": "Not sent to the fleet until what holds them is resolved.",
            "route": "logistics_board",
            "alert": bool(held),
            "order": 42,
        },
        {
            "title": "On time",
            "value": on_time,
            "detail": f"{timely} of {completed} completed inside their window (this {period}).",
            "route": "logistics_analytics",
            "order": 43,
        },
    ]


def console_nav() -> list[dict[str, Any]]:
    return [
        {"title": "Dispatch board", "route": "logistics_board", "role": "viewer", "order": 40},
        {"title": "Drivers", "route": "logistics_drivers", "role": "viewer", "order": 41},
        {
            "title": "Delivery analytics",
            "route": "logistics_analytics",
            "role": "viewer",
            "order": 42,
        },
    ]
