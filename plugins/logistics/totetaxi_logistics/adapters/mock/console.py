"""The mock fleet's console forms: the board's "Advance one step" and "Complete" buttons, and
the drivers page's add, edit and (de)activate forms. Served only while ``logistics_mock`` is
enabled (its ``includeme`` adds the routes); each needs ``logistics.dispatch`` and is audited.
"""

from __future__ import annotations

import secrets
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config
from totetaxi_core.plugin_api import FieldError, get_or_404, record_audit, text_field

from ...console import DRIVERS
from ...console.board import board_url, day_of, refused, task_of
from ...console.drivers import FIELDS, render_drivers
from ...models import OPEN, Driver
from ...permissions import DISPATCH
from . import fleet
from .dispatcher import NAME


def _drive(request: Request, complete: bool) -> Response:
    task = task_of(request)
    day = day_of(request, task)
    form = "complete" if complete else "advance"
    if task.provider != NAME or task.provider_task_id is None or task.status not in OPEN:
        message = (
            "This task is not open at the mock fleet (not sent yet, another provider's, or "
            "finished)."
        )
        return refused(request, task, day, form, {"": message}, 409)
    before = str(task.status)
    try:
        if complete:
            fleet.run_to_completion(request.ctx, task)
        else:
            fleet.advance(request.ctx, task)
    except fleet.NoDriver as exc:
        return refused(request, task, day, form, {"": str(exc)}, 400)
    record_audit(
        request.ctx,
        "logistics.mock_completed" if complete else "logistics.mock_advanced",
        target_type="delivery_task",
        target_id=task.id,
        before={"status": before},
        after={"status": str(task.status)},
    )
    return HTTPSeeOther(
        location=board_url(request, day, "completed" if complete else "advanced", f"task-{task.id}")
    )


@view_config(route_name="logistics_task_advance", request_method="POST", permission=DISPATCH)
def advance_form(request: Request) -> Response:
    """One step of the simulated fleet (assigned, started, a leg, arrived, completed)."""
    return _drive(request, complete=False)


@view_config(route_name="logistics_task_complete", request_method="POST", permission=DISPATCH)
def complete_form(request: Request) -> Response:
    """Every remaining step now: the task completes (with its proof of delivery)."""
    return _drive(request, complete=True)


# --- the mock fleet's drivers ---------------------------------------------------------------------


def _read_driver(request: Request) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    submitted: dict[str, str] = {}
    for name, label, limit in FIELDS:
        raw = request.POST.get(name, "")
        submitted[name] = raw
        try:
            values[name] = text_field(limit, required=name == "name")(raw, label)
        except FieldError as exc:
            errors[name] = str(exc)
    values["on_duty"] = request.POST.get("on_duty", "") in ("1", "on", "true")
    return values, errors, submitted


def _refused(
    request: Request, key: str, submitted: dict[str, str], errors: dict[str, str], status: int
) -> Response:
    request.dbsession.rollback()
    response = render_to_response(
        DRIVERS,
        render_drivers(request, failed_id=key, submitted=submitted, errors=errors, status=status),
        request=request,
    )
    response.status_int = status
    return response


def _done(request: Request, code: str, driver_id: Any = None) -> HTTPSeeOther:
    anchor = f"driver-{driver_id}" if driver_id else ""
    return HTTPSeeOther(
        location=request.route_url("logistics_drivers", _query={"done": code}, _anchor=anchor)
    )


def _snapshot(driver: Driver) -> dict[str, Any]:
    return {
        "name": driver.name,
        "phone": driver.phone,
        "vehicle": driver.vehicle,
        "active": driver.active,
        "on_duty": driver.on_duty,
    }


@view_config(route_name="logistics_driver_add", request_method="POST", permission=DISPATCH)
def add_driver(request: Request) -> Response:
    """A new driver of the mock fleet."""
    values, errors, submitted = _read_driver(request)
    if errors:
        return _refused(request, "new", submitted, errors, 400)
    driver = Driver(provider=NAME, provider_id=f"mock-driver-{secrets.token_hex(4)}", **values)
    request.dbsession.add(driver)
    request.dbsession.flush()
    record_audit(
        request.ctx,
        "logistics.driver_added",
        target_type="driver",
        target_id=driver.id,
        before=None,
        after=_snapshot(driver),
    )
    return _done(request, "driver_added", driver.id)


def _mock_driver(request: Request) -> Driver:
    driver = get_or_404(request.dbsession, Driver, request.matchdict["id"], lock=True)
    return driver


@view_config(route_name="logistics_driver_edit", request_method="POST", permission=DISPATCH)
def edit_driver(request: Request) -> Response:
    """Name, phone, vehicle and on-duty of a mock driver (Onfleet's are read-only here)."""
    driver = _mock_driver(request)
    key = str(driver.id)
    values, errors, submitted = _read_driver(request)
    if driver.provider != NAME:
        return _refused(
            request,
            key,
            submitted,
            {"": "This driver is synced from the provider; change them there."},
            409,
        )
    if errors:
        return _refused(request, key, submitted, errors, 400)
    before = _snapshot(driver)
    for name, value in values.items():
        setattr(driver, name, value)
    record_audit(
        request.ctx,
        "logistics.driver_changed",
        target_type="driver",
        target_id=driver.id,
        before=before,
        after=_snapshot(driver),
    )
    return _done(request, "driver_saved", driver.id)


@view_config(route_name="logistics_driver_active", request_method="POST", permission=DISPATCH)
def driver_active(request: Request) -> Response:
    """Deactivate a mock driver (``active=0``; no new task goes to them) or activate again."""
    driver = _mock_driver(request)
    key = str(driver.id)
    wanted = request.POST.get("active", "")
    if driver.provider != NAME:
        return _refused(
            request,
            key,
            {},
            {"": "This driver is synced from the provider; change them there."},
            409,
        )
    if wanted not in ("0", "1"):
        return _refused(request, key, {}, {"active": "Active: send 0 or 1."}, 400)
    before = _snapshot(driver)
    driver.active = wanted == "1"
    if not driver.active:
        driver.on_duty = False
    record_audit(
        request.ctx,
        "logistics.driver_activated" if driver.active else "logistics.driver_deactivated",
        target_type="driver",
        target_id=driver.id,
        before=before,
        after=_snapshot(driver),
    )
    return _done(request, "driver_activated" if driver.active else "driver_deactivated", key)


def includeme(config: Configurator) -> None:
    config.add_route("logistics_task_advance", "/console/logistics/tasks/{id}/advance")
    config.add_route("logistics_task_complete", "/console/logistics/tasks/{id}/complete")
    config.add_route("logistics_driver_add", "/console/logistics/drivers/new")
    config.add_route("logistics_driver_edit", "/console/logistics/drivers/{id}/edit")
    config.add_route("logistics_driver_active", "/console/logistics/drivers/{id}/active")
    config.scan(__name__)
