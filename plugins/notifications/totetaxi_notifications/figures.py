"""The notifications' figure for the CRM dashboard (hook ``totetaxi_crm_figures``).

* ``emails_failed``: emails created in ``[start, end)`` that are ``failed`` now (given up on).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from .models import Notification, NotificationStatus


def figures(ctx: Any, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    failed = ctx.dbsession.scalar(
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.status == NotificationStatus.FAILED,
            Notification.created_at >= start,
            Notification.created_at < end,
        )
    )
    return {"emails_failed": int(failed or 0)}
