"""The logistics figures for the CRM dashboard (hook ``totetaxi_crm_figures``): the delivery
analytics' SQL (:mod:`.console.analytics`) over the tasks whose window opens in ``[start, end)``.

* ``delivery_completion_rate``: completed / (completed + failed) final tasks (``None`` without);
* ``on_time_rate``: completed inside their window / completed (``None`` without);
* ``deliveries_completed``, ``deliveries_failed``: those counts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select

from .models import DeliveryTask, TaskStatus


def figures(ctx: Any, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    completed = DeliveryTask.status == TaskStatus.COMPLETED
    failed = DeliveryTask.status == TaskStatus.FAILED
    on_time = completed & (DeliveryTask.completed_at <= DeliveryTask.complete_before)

    def count_of(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    done, failures, timely = ctx.dbsession.execute(
        select(count_of(completed), count_of(failed), count_of(on_time)).where(
            DeliveryTask.complete_after >= start,
            DeliveryTask.complete_after < end,
            DeliveryTask.status.in_((TaskStatus.COMPLETED, TaskStatus.FAILED)),
        )
    ).one()
    done, failures, timely = int(done), int(failures), int(timely)
    return {
        "delivery_completion_rate": round(done / (done + failures), 4) if done + failures else None,
        "on_time_rate": round(timely / done, 4) if done else None,
        "deliveries_completed": done,
        "deliveries_failed": failures,
    }
