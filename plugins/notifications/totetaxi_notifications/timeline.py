"""The emails of a booking's or a customer's timeline (core hook ``totetaxi_timeline``):
each notification with its template and status, newest first, one query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from .models import Notification

LIMIT = 100


def entries(request: Any, booking: Any, customer: Any) -> list[dict[str, Any]]:
    statement = select(Notification).order_by(Notification.created_at.desc()).limit(LIMIT)
    if booking is not None:
        statement = statement.where(Notification.booking_id == booking.id)
    else:
        statement = statement.where(Notification.customer_id == customer.id)
    return [
        {
            "at": notification.created_at,
            "kind": "email",
            "title": f"Email {notification.template_key}: {notification.status}",
            "detail": notification.subject or "",
            "source": "notifications",
        }
        for notification in request.dbsession.scalars(statement)
    ]
