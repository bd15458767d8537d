"""The deliveries' entries of a booking's timeline (core hook ``totetaxi_timeline``): the
tracking updates that changed something, newest first, one query. A customer's timeline gets
those of all their bookings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from totetaxi_core.plugin_api import Booking

from .models import DeliveryTask, TrackingUpdate

LIMIT = 100


def entries(request: Any, booking: Any, customer: Any) -> list[dict[str, Any]]:
    statement = (
        select(TrackingUpdate, DeliveryTask.kind)
        .join(DeliveryTask, DeliveryTask.id == TrackingUpdate.task_id)
        .where(TrackingUpdate.applied.is_(True))
        .order_by(TrackingUpdate.at.desc())
        .limit(LIMIT)
    )
    if booking is not None:
        statement = statement.where(TrackingUpdate.booking_id == booking.id)
    else:
        statement = statement.join(Booking, Booking.id == TrackingUpdate.booking_id).where(
            Booking.customer_id == customer.id
        )
    return [
        {
            "at": update.at,
            "kind": "delivery",
            "title": f"{'Pickup' if kind == 'pickup' else 'Delivery'}: {update.kind}",
            "detail": update.message,
            "source": "logistics",
        }
        for update, kind in request.dbsession.execute(statement)
    ]
