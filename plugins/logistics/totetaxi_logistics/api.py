"""The logistics API of API.md: tracking, the dispatcher's webhook, and staff dispatch actions.

* ``GET /bookings/{id}/tracking`` — the booking's tasks and timeline, for its customer, its
  guest (``?token=``) and staff (who also see provider ids, holds and failure reasons).
* ``GET, POST /logistics/webhook`` — the enabled dispatcher's events. Onfleet checks a new
  webhook with an unsigned ``GET ?check=``, answered with the value as plain text; every
  ``POST`` must carry the provider's signature (401 otherwise) and is applied once.
* ``GET /logistics/tasks`` (staff) and ``POST /logistics/tasks/{id}/fail|reschedule|assign``
  (staff with ``logistics.dispatch``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from cornice import Service
from cornice.validators import colander_body_validator, colander_validator
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import select
from totetaxi_core.plugin_api import (
    API_PREFIX,
    BUSINESS_TZ,
    Booking,
    BookingContext,
    Permission,
    Refused,
    answers,
    count_webhook_failure,
    get_or_404,
    json_error,
    keyset_page,
    local_midnight,
    page_of,
    text,
)
from totetaxi_core.plugin_api import BOOKING_READ as READ

from . import services
from .interfaces import DispatcherError, WebhookRefused
from .models import DeliveryTask, Driver
from .permissions import DISPATCH
from .schemas import (
    TASKS_QUERY,
    AssignBody,
    BoardDeliveryTaskOut,
    DeliveryTaskOut,
    DeliveryTrackingOut,
    DispatcherWebhookOut,
    FailBody,
    RescheduleBody,
)
from .services import reading

tracking = Service(
    name="booking_tracking",
    path=API_PREFIX + "/bookings/{id}/tracking",
    factory=BookingContext,
    description="A booking's delivery tasks and their updates",
)
webhook = Service(
    name="logistics_webhook",
    path=API_PREFIX + "/logistics/webhook",
    description="The dispatcher's events (signed)",
)
tasks = Service(name="logistics_tasks", path=API_PREFIX + "/logistics/tasks")
task_fail = Service(name="logistics_task_fail", path=API_PREFIX + "/logistics/tasks/{id}/fail")
task_reschedule = Service(
    name="logistics_task_reschedule", path=API_PREFIX + "/logistics/tasks/{id}/reschedule"
)
task_assign = Service(
    name="logistics_task_assign", path=API_PREFIX + "/logistics/tasks/{id}/assign"
)


@tracking.get(
    permission=READ,
    response_schemas=answers(
        200, DeliveryTrackingOut(), "The booking's delivery tasks and timeline."
    ),
)
def tracking_view(request: Request) -> dict[str, Any]:
    identity = request.identity
    staff = identity is not None and identity.is_staff
    return reading.tracking(request.ctx, request.context.obj, staff=staff)


@webhook.get(
    permission=NO_PERMISSION_REQUIRED,
    response_schemas=answers(
        200, text(), "The ``check`` value, as plain text.", media_type="text/plain"
    ),
)
def webhook_check_view(request: Request) -> Response:
    """Onfleet's check of a new webhook: answer ``check`` as it came, as plain text."""
    check = request.GET.get("check", "")
    if not check or len(check) > 200:
        return json_error(request, 400, "check", "Pass the provider's check value.", "querystring")
    return Response(check, content_type="text/plain", charset="utf-8")


@webhook.post(
    permission=NO_PERMISSION_REQUIRED,
    idempotent=False,
    response_schemas=answers(
        200,
        DispatcherWebhookOut(),
        "Recorded and applied once (a repeated or late event changes nothing).",
        errors={401: "The signature is missing or not the provider's."},
    ),
)
def webhook_view(request: Request) -> Any:
    provider = services.dispatcher(request.ctx)
    try:
        provider.verify_webhook(request.headers, request.body)
        events = provider.parse_webhook(request.body)
    except WebhookRefused as exc:
        # Labelled with the dispatcher plugin's name (logistics_onfleet), as payments does.
        count_webhook_failure(f"logistics_{provider.name}", "signature")
        return json_error(request, 401, "signature", str(exc), "header")
    applied = 0
    for event in events:
        outcome = services.apply_event(request.ctx, provider.name, event)
        applied += outcome.result in ("applied", "driver")
    return {"received": len(events), "applied": applied}


def _task(request: Request, lock: bool = False) -> DeliveryTask:
    return get_or_404(request.dbsession, DeliveryTask, request.matchdict["id"], lock=lock)


@tasks.get(
    schema=TASKS_QUERY,
    validators=(colander_validator,),
    permission=Permission.STAFF_READ,
    response_schemas=answers(200, page_of(BoardDeliveryTaskOut()), "Tasks in window order."),
)
def tasks_view(request: Request) -> dict[str, Any]:
    """The board's tasks of one New York day (``date``, default today), newest first."""
    query = request.validated["querystring"]
    today = dt.datetime.now(BUSINESS_TZ).date()
    day = query.get("date") or today
    if abs((day - today).days) > 3660:
        return json_error(request, 400, "date", "Pick a day within ten years of today.")
    start = local_midnight(day)
    statement = select(DeliveryTask).where(
        DeliveryTask.complete_after >= start,
        DeliveryTask.complete_after < start + dt.timedelta(days=1),
    )
    if "status" in query:
        statement = statement.where(DeliveryTask.status == query["status"])

    def row_json(task: DeliveryTask) -> dict[str, Any]:
        return {**reading.task_json(task, staff=True), "booking_id": str(task.booking_id)}

    page = keyset_page(request, request.dbsession, statement, DeliveryTask, row_json)
    # The page's booking numbers in one query, not one per row.
    ids = {uuid.UUID(item["booking_id"]) for item in page["items"]}
    found = request.dbsession.execute(select(Booking.id, Booking.number).where(Booking.id.in_(ids)))
    numbers = {booking_id: number for booking_id, number in found}
    for item in page["items"]:
        item["booking_number"] = numbers.get(uuid.UUID(item["booking_id"]), "")
    return page


@task_fail.post(
    schema=FailBody(),
    validators=(colander_body_validator,),
    permission=DISPATCH,
    response_schemas=answers(200, DeliveryTaskOut(), "The task, failed.", errors={409: "Final."}),
)
def fail_view(request: Request) -> dict[str, Any]:
    task = _task(request, lock=True)
    services.fail_task(request.ctx, task, request.validated["reason"])
    return reading.task_json(task, staff=True)


@task_reschedule.post(
    schema=RescheduleBody(),
    validators=(colander_body_validator,),
    permission=DISPATCH,
    response_schemas=answers(
        201,
        DeliveryTaskOut(),
        "The task's new attempt.",
        errors={409: "Not reschedulable in its state, or the day is full."},
    ),
)
def reschedule_view(request: Request) -> dict[str, Any]:
    task = _task(request, lock=True)
    body = request.validated
    attempt = services.reschedule(request.ctx, task, body["date"], body["time_window"])
    request.response.status_code = 201
    return reading.task_json(attempt, staff=True)


@task_assign.post(
    schema=AssignBody(),
    validators=(colander_body_validator,),
    permission=DISPATCH,
    response_schemas=answers(
        200, DeliveryTaskOut(), "The task, assigned.", errors={409: "Not sent yet, or final."}
    ),
)
def assign_view(request: Request) -> dict[str, Any]:
    task = _task(request, lock=True)
    driver_id = request.validated.get("driver_id")
    driver = None
    if driver_id is not None:
        try:
            key = uuid.UUID(driver_id)
        except ValueError:
            key = None
        driver = request.dbsession.get(Driver, key) if key else None
        if driver is None or not driver.active:
            raise Refused(400, "driver_id", "No active driver has this id.")
        provider = task.provider or services.dispatcher(request.ctx).name
        if driver.provider != provider:
            raise Refused(
                400, "driver_id", f"This driver is not one of the {provider} fleet's drivers."
            )
    services.assign(request.ctx, task, driver)
    return reading.task_json(task, staff=True)


def unavailable_view(exc: DispatcherError, request: Request) -> Response:
    if exc.permanent:  # the provider refused this for good: nothing to retry
        return json_error(request, 409, "dispatcher", f"The dispatcher refused: {exc}")
    response = json_error(
        request, 503, "dispatcher", f"The dispatcher did not answer; try again shortly ({exc})."
    )
    response.headers["Retry-After"] = "10"
    return response


def includeme(config: Configurator) -> None:
    config.add_exception_view(unavailable_view, context=DispatcherError)
    config.scan(__name__)
