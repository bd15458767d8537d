"""The high-value gate: a booking of $2,000 or more needs an approved certificate of insurance
valid on its pickup date before it is dispatched or moves to ``in_progress``
(BUSINESS_RULES.md "High value and COI").

The core asks every plugin through ``totetaxi_booking_holds``; this answers it. The periodic
``documents.coi_attention`` fires ``totetaxi_coi_attention`` once per booking and reason: a
high-value booking ``coi_notice_hours`` from pickup without an approved COI (``missing``), and
an approved COI that ends before the booking's date (``expiring``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased
from totetaxi_core.plugin_api import (
    Booking,
    BookingStatus,
    Context,
    insert_for,
    local_midnight,
    local_today,
)

from ..models import Category, CoiAttention, CoiDetails, Document, DocumentStatus


def _covering(booking_id: Any, day: Any) -> Any:
    """An approved, stored COI of the booking valid on ``day`` (aliased tables: the condition
    sits inside queries that select documents themselves)."""
    document, coi = aliased(Document), aliased(CoiDetails)
    return exists().where(
        document.booking_id == booking_id,
        document.category == Category.COI,
        document.status == DocumentStatus.APPROVED,
        document.deleted_at.is_(None),
        document.purged_at.is_(None),
        coi.document_id == document.id,
        coi.valid_from <= day,
        coi.valid_to >= day,
    )


def lacks_coi() -> Any:
    """A condition on ``Booking``: high value, confirmed, and no approved COI covering its
    pickup date (the console's "Missing COIs" and its tile)."""
    return and_(
        Booking.high_value.is_(True),
        Booking.status == BookingStatus.CONFIRMED,
        ~_covering(Booking.id, Booking.pickup_date),
    )


def coi_requirement(ctx: Context, booking: Booking) -> dict[str, Any]:
    """What the booking needs: ``{"required", "satisfied", "missing"}`` (a sentence)."""
    if not booking.high_value:
        return {"required": False, "satisfied": True, "missing": None}
    satisfied = bool(ctx.dbsession.scalar(select(_covering(booking.id, booking.pickup_date))))
    missing = None
    if not satisfied:
        missing = (
            "A certificate of insurance approved by our team and valid on "
            f"{booking.pickup_date:%B} {booking.pickup_date.day}, {booking.pickup_date.year} "
            "(this booking is $2,000 or more)."
        )
    return {"required": True, "satisfied": satisfied, "missing": missing}


def holds_of(ctx: Context, booking: Booking) -> list[dict[str, str]]:
    """The ``totetaxi_booking_holds`` answer."""
    requirement = coi_requirement(ctx, booking)
    if requirement["satisfied"]:
        return []
    return [{"code": "coi_missing", "description": f"Waiting for {requirement['missing']}"}]


def _once(ctx: Context, booking_id: Any, reason: str) -> bool:
    """Record that ``reason`` fired for the booking; ``False`` when it had already."""
    done = ctx.dbsession.execute(
        insert_for(ctx.dbsession, CoiAttention)
        .values(id=uuid.uuid4(), booking_id=booking_id, reason=reason, at=ctx.now())
        .on_conflict_do_nothing(index_elements=["booking_id", "reason"])
        .returning(CoiAttention.id)
    ).first()
    return done is not None


def sweep_attention(ctx: Context) -> int:
    """Fire ``totetaxi_coi_attention`` for what needs it now, each once. Returns how many."""
    now = ctx.now()
    today = local_today(now)  # pickup dates are New York days
    notice = dt.timedelta(hours=ctx.settings["documents.coi_notice_hours"])
    fired = 0
    # Missing: high-value, confirmed, pickup within the notice, no approved covering COI.
    horizon = (now + notice).date()
    candidates = ctx.dbsession.scalars(
        select(Booking)
        .where(
            Booking.high_value.is_(True),
            Booking.status == BookingStatus.CONFIRMED,
            Booking.pickup_date <= horizon,
            Booking.pickup_date >= today,
            ~_covering(Booking.id, Booking.pickup_date),
        )
        .limit(500)
    )
    for booking in candidates:
        if local_midnight(booking.pickup_date) - now > notice:
            continue
        # Once per pickup date: a booking moved to another day is told again.
        if _once(ctx, booking.id, f"missing:{booking.pickup_date.isoformat()}"):
            ctx.call_hook(
                "totetaxi_coi_attention", booking=booking, document=None, reason="missing"
            )
            fired += 1
    # Expiring: an approved COI of an upcoming booking that ends before the booking's date.
    rows = ctx.dbsession.execute(
        select(Document, Booking)
        .join(Booking, Booking.id == Document.booking_id)
        .join(CoiDetails, CoiDetails.document_id == Document.id)
        .where(
            and_(
                Document.category == Category.COI,
                Document.status == DocumentStatus.APPROVED,
                Document.deleted_at.is_(None),
                Document.purged_at.is_(None),
                CoiDetails.valid_to < Booking.pickup_date,
                Booking.status == BookingStatus.CONFIRMED,
                Booking.pickup_date >= today,
                # Another approved COI covering the day: nothing to tell.
                ~_covering(Booking.id, Booking.pickup_date),
            )
        )
        .limit(500)
    ).all()
    for document, booking in rows:
        if _once(ctx, booking.id, f"expiring:{document.id}"):
            ctx.call_hook(
                "totetaxi_coi_attention", booking=booking, document=document, reason="expiring"
            )
            fired += 1
    return fired
