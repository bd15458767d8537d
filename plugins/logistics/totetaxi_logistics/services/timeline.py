"""Tracking updates: the append-only timeline of a booking's tasks.

Every update has a key (the provider event's, or one we make for our own steps), unique in the
table: inserting the same key again inserts nothing, on SQLite and PostgreSQL alike
(``ON CONFLICT DO NOTHING``), and tells the caller so. Two deliveries of one event racing on
PostgreSQL: the second insert waits for the first transaction and then finds the row.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from totetaxi_core.plugin_api import Context, insert_for

from ..models import DeliveryTask, TrackingUpdate


def add_update(
    ctx: Context,
    task: DeliveryTask,
    *,
    key: str,
    kind: str,
    at: dt.datetime,
    message: str,
    status: str | None = None,
    eta: dt.datetime | None = None,
    position: tuple[float, float] | None = None,
    driver_id: uuid.UUID | None = None,
    applied: bool = True,
    raw: Mapping[str, Any] | None = None,
) -> bool:
    """Append one update of ``task``; ``False`` when an update with ``key`` exists already."""
    statement = (
        insert_for(ctx.dbsession, TrackingUpdate)
        .values(
            id=uuid.uuid4(),
            task_id=task.id,
            booking_id=task.booking_id,
            event_key=key[:200],
            at=at,
            received_at=ctx.now(),
            kind=kind[:20],
            status=str(status or task.status)[:20],
            message=message[:500],
            eta=eta,
            latitude=position[0] if position else None,
            longitude=position[1] if position else None,
            driver_id=driver_id,
            applied=applied,
            raw=dict(raw or {}),
        )
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(TrackingUpdate.id)
    )
    ctx.dbsession.flush()  # the task row first: the update points to it
    return ctx.dbsession.execute(statement).first() is not None
