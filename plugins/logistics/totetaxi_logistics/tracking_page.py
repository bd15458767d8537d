"""The customer's tracking page: ``/t/{number}?token=`` (the link in a guest's emails).

Server-rendered, readable without JavaScript: the booking's status, each task with its driver's
first name, window and ETA, the driver's trail while a task is in progress (the positions the
provider reported, drawn as an SVG line ending at the latest one), proof of delivery, and the
timeline. With script, the core's ``live.js`` keeps it current from the booking's live events
(WebSocket, else Server-Sent Events); without, the page reloads every 30 seconds while something
is moving.
Who may see it is who may read ``/track/{number}``: the guest with the token, or the signed-in
customer who owns the booking; anybody else gets the same 404 as an unknown number.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
import uuid
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound
from pyramid.request import Request
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from sqlalchemy import select
from totetaxi_core.plugin_api import (
    BOOKING_NUMBER,
    Booking,
    signed_in_customer,
    token_matches,
)

from .models import DeliveryTask, TaskStatus, TrackingUpdate
from .services import reading

PAGE = "totetaxi_logistics:templates/track.jinja2"
#: The SVG's drawing box, in user units.
WIDTH, HEIGHT, MARGIN = 320, 200, 16


def _booking(request: Request) -> Booking:
    number = request.matchdict["number"]
    booking = None
    if BOOKING_NUMBER.fullmatch(number):
        booking = request.dbsession.scalars(select(Booking).where(Booking.number == number)).first()
    customer = signed_in_customer(request)
    allowed = booking is not None and (
        token_matches(booking, request.GET.get("token"))
        or (customer is not None and booking.customer_id == customer.id)
    )
    if not allowed:
        raise HTTPNotFound(f"No booking numbered {number}.")
    assert booking is not None
    return booking


#: The frame the trail is drawn in: the service area, Manhattan to Montauk (south, west,
#: north, east). Fixed, so that a driver's dot moves across the frame as they drive.
AREA = (40.55, -74.10, 41.15, -71.80)


def trail(points: list[tuple[float, float]]) -> dict[str, Any] | None:
    """The positions placed in the service area's frame (north up): ``{"line", "x", "y",
    "start_x", "start_y"}``; a point outside the area is drawn at its edge."""
    if not points:
        return None
    south, west, north, east = AREA

    def place(lat: float, lng: float) -> tuple[float, float]:
        lat, lng = min(max(lat, south), north), min(max(lng, west), east)
        x = MARGIN + (lng - west) / (east - west) * (WIDTH - 2 * MARGIN)
        y = HEIGHT - MARGIN - (lat - south) / (north - south) * (HEIGHT - 2 * MARGIN)
        return round(x, 1), round(y, 1)

    placed = [place(*p) for p in points]
    return {
        "line": " ".join(f"{x},{y}" for x, y in placed),
        "x": placed[-1][0],
        "y": placed[-1][1],
        "start_x": placed[0][0],
        "start_y": placed[0][1],
    }


def _moment(value: str | None) -> dt.datetime | None:
    # The API's answer is ISO text; the page's filters show aware datetimes in New York time.
    return dt.datetime.fromisoformat(value) if value else None


@view_config(
    route_name="logistics_tracking_page",
    request_method="GET",
    renderer=PAGE,
    permission=NO_PERMISSION_REQUIRED,
)
def tracking_page(request: Request) -> dict[str, Any]:
    booking = _booking(request)
    details = reading.tracking(request.ctx, booking)
    for entry in details["timeline"]:
        entry["at"] = _moment(entry["at"])
    for task in details["tasks"]:
        for name in ("complete_after", "complete_before", "eta"):
            task[name] = _moment(task[name])
        task["trail"] = None
        row = request.dbsession.get(DeliveryTask, uuid.UUID(task["id"]))
        task["started_at"] = row.started_at if row is not None else None
        task["driver_id"] = row.driver_id if row is not None else None
        if task["status"] == TaskStatus.IN_PROGRESS and task["started_at"] is not None:
            points = request.dbsession.execute(
                select(TrackingUpdate.latitude, TrackingUpdate.longitude)
                .where(
                    TrackingUpdate.task_id == uuid.UUID(task["id"]),
                    TrackingUpdate.applied.is_(True),
                    TrackingUpdate.latitude.is_not(None),
                    # Only this trip: not where the driver was before they set off for it
                    # (another customer's door), nor an earlier driver's positions.
                    TrackingUpdate.at >= task["started_at"],
                    TrackingUpdate.driver_id == task["driver_id"],
                )
                .order_by(TrackingUpdate.at, TrackingUpdate.received_at)
            ).all()
            task["trail"] = trail([(lat, lng) for lat, lng in points])
    moving = any(t["status"] in ("assigned", "in_progress") for t in details["tasks"])
    request.response.headers["Cache-Control"] = "no-store"
    # What the live script subscribes to: this booking, with the guest's token when the page
    # was opened with it (a signed-in customer's cookie serves otherwise).
    live = {"booking": booking.number}
    if request.GET.get("token"):
        live["token"] = request.GET["token"]
    return {
        "booking": booking,
        "details": details,
        "refresh": moving,
        "live_query": urllib.parse.urlencode(live),
    }


def includeme(config: Configurator) -> None:
    config.add_route("logistics_tracking_page", "/t/{number}")
    config.add_static_view(
        "static/logistics",
        "totetaxi_logistics:static/public",
        cache_max_age=3600,
        permission=NO_PERMISSION_REQUIRED,
    )
    config.scan(__name__)
