"""The booking page's "Documents" panel, the dashboard tiles and the console menu (hooks.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pyramid.request import Request
from sqlalchemy import func, select
from totetaxi_core.plugin_api import Booking, local_today

from .. import services
from ..models import Category, Document, DocumentStatus
from ..permissions import REVIEW
from . import PANEL
from .pages import download_path, form_values


def booking_panels(
    request: Request, booking: Any, panel_state: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The booking's documents, what its COI gate needs, and the review form of an uploaded
    COI (a refused form comes back in ``panel_state["documents"]``)."""
    failed = panel_state.get("documents")
    can_review = request.has_permission(REVIEW)
    items = []
    for document in services.documents_of(request.ctx, booking.id):
        key = str(document.id)
        mine = failed if failed is not None and getattr(failed, "document_id", "") == key else None
        items.append(
            {
                "id": key,
                "document": document,
                "download": download_path(request, document),
                "reviewable": can_review
                and document.category == Category.COI
                and document.status == DocumentStatus.UPLOADED,
                "failed": mine,
                "values": mine.submitted if mine else form_values(document),
            }
        )
    return [
        {
            "title": "Documents",
            "template": PANEL,
            "order": 35,
            "context": {
                "request": request,
                "booking": booking,
                "items": items,
                "coi": services.coi_requirement(request.ctx, booking),
                "queue_url": request.route_path("documents_review_queue"),
                "search_url": request.route_path("documents_search", _query={"q": booking.number}),
            },
        }
    ]


def dashboard_tiles(request: Request, period: str) -> list[dict[str, Any]]:
    """COIs waiting for review, and high-value bookings close to pickup without an approved
    COI: SQL aggregates."""
    db = request.dbsession
    now = request.ctx.now()
    waiting = db.scalar(
        select(func.count())
        .select_from(Document)
        .where(Document.status == DocumentStatus.UPLOADED, Document.category == Category.COI)
    )
    notice = dt.timedelta(hours=request.ctx.settings["documents.coi_notice_hours"])
    # Pickup (its day's New York midnight) within the notice: the day is at most that of now+notice.
    horizon = local_today(now + notice)
    missing = db.scalar(
        select(func.count())
        .select_from(Booking)
        .where(
            services.lacks_coi(),
            Booking.pickup_date >= local_today(now),
            Booking.pickup_date <= horizon,
        )
    )
    hours = int(notice.total_seconds() // 3600)
    return [
        {
            "title": "COIs to review",
            "value": waiting,
            "detail": "Uploaded certificates of insurance waiting for a decision.",
            "route": "documents_review_queue",
            "alert": bool(waiting),
            "order": 50,
        },
        {
            "title": "Missing COIs",
            "value": missing,
            "detail": f"High-value bookings within {hours} h of pickup without an approved COI.",
            "route": "documents_review_queue",
            "alert": bool(missing),
            "order": 51,
        },
    ]


def console_nav() -> list[dict[str, Any]]:
    return [
        {"title": "COI review", "route": "documents_review_queue", "role": "viewer", "order": 50},
        {"title": "Documents", "route": "documents_search", "role": "viewer", "order": 51},
    ]
