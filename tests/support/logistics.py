"""Helpers of the logistics tests: the platform with the mock fleet, on a fixed clock.

Built on the test kit only (``totetaxi_core.testing``): bookings through the API, payments
through the mock gateway's API, the fleet through the plugin's own services.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from webtest import TestApp

from totetaxi_core.plugin_api import BUSINESS_TZ, hookimpl
from totetaxi_core.testing import in_transaction, make_booking

PLUGINS = "pricing payments_mock notifications mail_console logistics logistics_mock"
#: Monday 2026-11-23, 10:00 in New York; bookings are for Thursday.
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=BUSINESS_TZ).astimezone(dt.UTC)
DAY = dt.date(2026, 11, 26)


def run(app: TestApp, work: Callable[[Any], Any]) -> Any:
    """``work(ctx)`` in a committed transaction of its own."""
    return in_transaction(app.app.registry, work)


def rows(app: TestApp, statement: Any) -> list[Any]:
    """The rows ``statement`` selects, detached, read in a transaction of their own."""

    def read(ctx: Any) -> list[Any]:
        found = list(ctx.dbsession.scalars(statement))
        for row in found:
            ctx.dbsession.expunge(row)
        return found

    return in_transaction(app.app.registry, read)


def pay(app: TestApp, booking: dict[str, Any], card: str = "4242 4242 4242 4242") -> None:
    """Pay a guest booking with the mock gateway's test card, as the booking site does."""
    token = f"?token={booking['tracking_token']}"
    payment = app.post_json(f"/api/v1/bookings/{booking['id']}/payments{token}", {}).json
    app.post_json(
        f"/api/v1/payments/mock/confirm{token}",
        {"payment_id": payment["payment_id"], "card_number": card},
    )


def paid_booking(app: TestApp, **extra: Any) -> dict[str, Any]:
    """A guest's booking on :data:`DAY`, paid: confirmed, its tasks sent to the fleet."""
    booking = make_booking(app, DAY, **extra)
    pay(app, booking)
    return booking


def emails(app: TestApp, booking_id: str, template: str) -> int:
    """How many emails of ``template`` the booking's customer was sent (queued)."""
    from sqlalchemy import func
    from totetaxi_notifications.models import Notification

    return run(
        app,
        lambda ctx: ctx.dbsession.scalar(
            select(func.count()).where(
                Notification.booking_id == uuid.UUID(booking_id),
                Notification.template_key == template,
            )
        ),
    )


def tasks_of(app: TestApp, booking_id: str) -> list[Any]:
    from totetaxi_logistics.models import DeliveryTask

    return rows(
        app,
        select(DeliveryTask)
        .where(DeliveryTask.booking_id == uuid.UUID(booking_id))
        .order_by(DeliveryTask.kind.desc(), DeliveryTask.attempt),
    )


WEBHOOK = "/api/v1/logistics/webhook"


def provider_event(
    task: Any, kind: str, at: dt.datetime, key: str | None = None, **facts: Any
) -> Any:
    from totetaxi_logistics.interfaces import TaskEvent

    return TaskEvent(
        key=key or f"test:{task.provider_task_id}:{kind}:{at.isoformat()}",
        kind=kind,  # type: ignore[arg-type]
        at=at,
        provider_task_id=task.provider_task_id,
        **facts,
    )


def post_events(app: TestApp, *events: Any, status: int = 200) -> Any:
    from totetaxi_logistics.adapters.mock import MockDispatcher

    body, headers = run(app, lambda ctx: MockDispatcher(ctx).signed(list(events)))
    return app.post(
        WEBHOOK, body, headers={**headers, "Content-Type": "application/json"}, status=status
    )


class Holder:
    """A stand-in documents plugin: holds every booking while ``holding``."""

    def __init__(self) -> None:
        self.holding = True

    @hookimpl
    def totetaxi_booking_holds(self, booking: Any) -> list[dict[str, str]]:
        if not self.holding:
            return []
        return [{"code": "coi_missing", "description": "No approved certificate of insurance."}]
