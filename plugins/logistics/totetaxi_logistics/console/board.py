"""The dispatch board: one New York day's tasks, by status, with the dispatcher's forms.

Rows are the current attempts (a rescheduled task's old attempt is superseded and not listed:
its new attempt is, on its own day) whose window opens on the day. Holders of
``logistics.dispatch`` assign a driver (the active drivers of the task's provider), fail a task
with a reason, and reschedule it; with ``logistics_mock`` enabled, the simulated fleet's buttons
move a task on (their views are the mock plugin's, :mod:`..adapters.mock.console`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select
from totetaxi_core.plugin_api import (
    Booking,
    BookingRefused,
    CapacityExhausted,
    FieldError,
    InvalidDraft,
    NotEditable,
    Permission,
    Refused,
    TransitionRefused,
    get_or_404,
    local_datetime,
    local_midnight,
    local_today,
    parse_date,
    text_field,
)

from .. import services
from ..interfaces import DispatcherError
from ..models import OPEN, DeliveryTask, Driver, TaskStatus
from ..permissions import DISPATCH
from . import BOARD, MESSAGES, mock_enabled

#: The board's sections, in this order.
STATUSES = tuple(str(s) for s in TaskStatus)
WINDOWS = ("morning", "afternoon")
REASON_MAX = 500
_reason = text_field(REASON_MAX, minimum=3)
FORM_FIELDS = ("driver_id", "reason", "new_date", "time_window")


class Failed:
    """A refused form of one task: which form, what was typed, the message by field (``""``:
    the form as a whole)."""

    def __init__(
        self, task_id: str, form: str, submitted: Mapping[str, str], errors: dict[str, str]
    ) -> None:
        self.task_id, self.form = task_id, form
        self.submitted, self.errors = dict(submitted), errors


#: How far from today a console page looks (a day beyond would overflow a date's arithmetic).
REACH = dt.timedelta(days=3660)


def within_reach(day: dt.date, label: str, today: dt.date) -> dt.date:
    """``day`` unless it is more than ten years from ``today`` (FieldError naming ``label``)."""
    if abs(day - today) > REACH:
        raise FieldError(f"{label}: pick a day within ten years of today.")
    return day


def board_day(request: Request, value: str | None) -> dt.date:
    """The board's day from ``?date=`` (today in New York when absent); FieldError if bad."""
    today = local_today(request.ctx.now())
    if not value:
        return today
    return within_reach(parse_date(value, "Date"), "Date", today)


def board_url(request: Request, day: dt.date, done: str = "", anchor: str = "") -> str:
    query = {"date": day.isoformat()}
    if done:
        query["done"] = done
    return request.route_url("logistics_board", _query=query, _anchor=anchor)


def _drivers(request: Request) -> dict[str, list[Driver]]:
    """Active drivers by provider (the assign form's choices)."""
    by_provider: dict[str, list[Driver]] = {}
    for driver in request.dbsession.scalars(
        select(Driver).where(Driver.active.is_(True)).order_by(Driver.name)
    ):
        by_provider.setdefault(driver.provider, []).append(driver)
    return by_provider


def render_board(
    request: Request,
    day: dt.date,
    *,
    failed: Failed | None = None,
    date_error: str = "",
    status: int = 200,
) -> dict[str, Any]:
    """What ``board.jinja2`` shows of ``day``."""
    start = local_midnight(day)
    found = request.dbsession.execute(
        select(DeliveryTask, Booking.number)
        .join(Booking, Booking.id == DeliveryTask.booking_id)
        .where(
            DeliveryTask.complete_after >= start,
            DeliveryTask.complete_after < start + dt.timedelta(days=1),
            DeliveryTask.superseded_by.is_(None),
        )
        .order_by(DeliveryTask.complete_after, Booking.number, DeliveryTask.kind.desc())
    ).all()
    drivers = _drivers(request)
    every_active = [d for group in drivers.values() for d in group]
    can_dispatch = request.has_permission(DISPATCH)
    mock = mock_enabled(request)
    sections: dict[str, list[dict[str, Any]]] = {s: [] for s in STATUSES}
    held = []
    for task, number in found:
        key = str(task.id)
        is_open = task.status in OPEN
        entry = {
            "id": key,
            "task": task,
            "kind": str(task.kind),
            "status": str(task.status),
            "number": number,
            "booking_url": request.route_path("console_booking", id=str(task.booking_id)),
            "driver": task.driver,
            "choices": (
                drivers.get(task.provider, [])
                if task.provider and task.provider != "local"
                else every_active
            ),
            "can_assign": can_dispatch and is_open,
            "can_fail": can_dispatch and is_open,
            "can_reschedule": can_dispatch
            and task.status
            not in (TaskStatus.COMPLETED, TaskStatus.IN_PROGRESS, TaskStatus.CANCELLED),
            "can_drive": can_dispatch
            and mock
            and is_open
            and task.provider == "mock"
            and task.provider_task_id is not None,
            "failed": failed if failed is not None and failed.task_id == key else None,
        }
        sections[str(task.status)].append(entry)
        if task.held_reason and is_open:
            held.append(entry)
    request.response.status_int = status
    return {
        "day": day,
        "today": local_today(request.ctx.now()),
        "previous": board_url(request, day - dt.timedelta(days=1)),
        "next": board_url(request, day + dt.timedelta(days=1)),
        "sections": sections,
        "held": held,
        "count": len(found),
        "statuses": STATUSES,
        "windows": WINDOWS,
        "can_dispatch": can_dispatch,
        "mock": mock,
        "message": MESSAGES.get(request.GET.get("done", "")),
        "failed": failed,
        "date_error": date_error,
        "local": local_datetime,
    }


@view_config(
    route_name="logistics_board",
    request_method="GET",
    renderer=BOARD,
    permission=Permission.STAFF_READ,
)
def board_page(request: Request) -> dict[str, Any]:
    try:
        day = board_day(request, request.GET.get("date"))
    except FieldError as exc:
        return render_board(
            request, local_today(request.ctx.now()), date_error=str(exc), status=400
        )
    return render_board(request, day)


# --- the task forms -------------------------------------------------------------------------------


def task_of(request: Request) -> DeliveryTask:
    return get_or_404(request.dbsession, DeliveryTask, request.matchdict["id"], lock=True)


def day_of(request: Request, task: DeliveryTask) -> dt.date:
    """The board the form was sent from (its hidden ``date``), else the task's own day."""
    try:
        return board_day(request, request.POST.get("date", ""))
    except FieldError:
        return local_datetime(task.complete_after).date()


def refused(
    request: Request,
    task: DeliveryTask,
    day: dt.date,
    form: str,
    errors: dict[str, str],
    status: int,
) -> Response:
    """The board again (what the refused call did undone), the form showing its errors."""
    submitted = {name: request.POST.get(name, "") for name in FORM_FIELDS}
    failed = Failed(str(task.id), form, submitted, errors)
    request.dbsession.rollback()
    response = render_to_response(
        BOARD, render_board(request, day, failed=failed, status=status), request=request
    )
    response.status_int = status
    return response


def refusal_message(exc: Exception) -> tuple[int, str, str]:
    """``(status, field, message)`` of a service's or the booking rules' refusal."""
    if isinstance(exc, Refused):
        return exc.status, exc.field, exc.description
    if isinstance(exc, CapacityExhausted):
        return 409, "new_date", exc.description
    if isinstance(exc, InvalidDraft):
        return 400, exc.field, exc.description
    if isinstance(exc, BookingRefused):
        problems = getattr(exc, "problems", None) or []
        text = " ".join(str(p.get("description") or p.get("message") or p) for p in problems)
        return getattr(exc, "status", 409), "new_date", text or str(exc)
    return 409, "status", str(exc)


REFUSALS = (
    Refused,
    CapacityExhausted,
    InvalidDraft,
    BookingRefused,
    NotEditable,
    TransitionRefused,
)


@view_config(route_name="logistics_task_assign_form", request_method="POST", permission=DISPATCH)
def assign_form(request: Request) -> Response:
    """Give the task to a driver (an empty choice: back to the pool)."""
    task = task_of(request)
    day = day_of(request, task)
    chosen = request.POST.get("driver_id", "").strip()
    driver = None
    if chosen:
        try:
            driver = request.dbsession.get(Driver, uuid.UUID(chosen))
        except ValueError:
            driver = None
        if driver is None or not driver.active:
            return refused(
                request, task, day, "assign", {"driver_id": "Driver: choose an active driver."}, 400
            )
        if task.provider not in ("", "local") and driver.provider != task.provider:
            return refused(
                request,
                task,
                day,
                "assign",
                {"driver_id": f"Driver: choose one of the {task.provider} drivers."},
                400,
            )
    try:
        services.assign(request.ctx, task, driver)
    except DispatcherError as exc:
        message = f"The dispatcher did not answer; try again shortly ({exc})."
        return refused(request, task, day, "assign", {"": message}, 503)
    except REFUSALS as exc:
        status, field, message = refusal_message(exc)
        return refused(
            request,
            task,
            day,
            "assign",
            {"driver_id" if field == "driver_id" else "": message},
            status,
        )
    return HTTPSeeOther(
        location=board_url(request, day, "assigned" if driver else "unassigned", f"task-{task.id}")
    )


@view_config(route_name="logistics_task_fail_form", request_method="POST", permission=DISPATCH)
def fail_form(request: Request) -> Response:
    """Mark the task failed, with the reason (the driver called in)."""
    task = task_of(request)
    day = day_of(request, task)
    try:
        reason = _reason(request.POST.get("reason", ""), "Reason")
    except FieldError as exc:
        return refused(request, task, day, "fail", {"reason": str(exc)}, 400)
    try:
        services.fail_task(request.ctx, task, reason)
    except REFUSALS as exc:
        status, _, message = refusal_message(exc)
        return refused(request, task, day, "fail", {"": message}, status)
    return HTTPSeeOther(location=board_url(request, day, "failed", f"task-{task.id}"))


@view_config(
    route_name="logistics_task_reschedule_form", request_method="POST", permission=DISPATCH
)
def reschedule_form(request: Request) -> Response:
    """A new attempt on another date and window (before the pickup, the booking moves)."""
    task = task_of(request)
    day = day_of(request, task)
    errors: dict[str, str] = {}
    new_day = None
    try:
        new_day = parse_date(request.POST.get("new_date", ""), "New date")
    except FieldError as exc:
        errors["new_date"] = str(exc)
    window = request.POST.get("time_window", "")
    if window not in WINDOWS:
        errors["time_window"] = "Window: choose morning or afternoon."
    if errors or new_day is None:
        return refused(request, task, day, "reschedule", errors, 400)
    try:
        services.reschedule(request.ctx, task, new_day, window)
    except REFUSALS as exc:
        status, field, message = refusal_message(exc)
        field = field if field in ("new_date", "time_window") else ""
        if isinstance(exc, Refused) and exc.field == "date":
            field = "new_date"
        return refused(request, task, day, "reschedule", {field: message}, status)
    return HTTPSeeOther(location=board_url(request, day, "rescheduled", f"task-{task.id}"))
