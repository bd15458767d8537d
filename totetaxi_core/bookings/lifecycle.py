"""The booking state machine (BUSINESS_RULES.md), in one place.

Every status change goes through :func:`transition`: it checks the move, records the history
event, gives capacity back on cancellation, audits staff changes and fires
``totetaxi_booking_status_changed``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from .. import audit
from ..context import Context
from ..db import utcnow
from ..identity.models import CustomerProfile
from ..live import booking_event, publish_live
from .models import Booking, BookingEvent, BookingStatus

S = BookingStatus
TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.IN_PROGRESS, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}

MESSAGES = {
    S.PENDING_PAYMENT: "Booking received; waiting for payment.",
    S.CONFIRMED: "Booking confirmed.",
    S.IN_PROGRESS: "Your move is under way.",
    S.COMPLETED: "Delivered. Thank you for choosing ToteTaxi.",
    S.CANCELLED: "Booking cancelled.",
}


class TransitionRefused(Exception):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new
        allowed = ", ".join(sorted(TRANSITIONS[BookingStatus(old)])) or "none"
        super().__init__(f"A booking cannot go from {old} to {new} (from {old}: {allowed}).")


class BookingHeld(TransitionRefused):
    """The booking may not go ahead yet: something holds it (``totetaxi_booking_holds``)."""

    def __init__(self, old: str, new: str, holds: list[dict[str, str]]) -> None:
        self.old, self.new, self.holds = old, new, holds
        reasons = " ".join(hold.get("description", "") for hold in holds).strip()
        Exception.__init__(self, f"The booking cannot move to {new} yet: {reasons}")


def holds_of(ctx: Context, booking: Booking) -> list[dict[str, str]]:
    """Everything that keeps ``booking`` from going ahead, gathered from every plugin."""
    found: list[dict[str, str]] = []
    for answer in ctx.call_hook("totetaxi_booking_holds", booking=booking):
        found.extend(answer or [])
    return found


def can_transition(old: str, new: str) -> bool:
    return BookingStatus(new) in TRANSITIONS[BookingStatus(old)]


def record_event(ctx: Context, booking: Booking, status: str, message: str, note: str = "") -> None:
    """Add a step to the booking's history: ``message`` is what tracking shows the customer,
    ``note`` what only staff see."""
    actor = ctx.actor
    ctx.dbsession.add(
        BookingEvent(
            booking_id=booking.id,
            at=utcnow(),
            status=status,
            message=message[:500],
            note=(note or "")[:500],
            actor_kind=str(getattr(actor, "kind", "system")),
            actor_id=getattr(actor, "id", None),
        )
    )


def _count_completed(ctx: Context, booking: Booking) -> None:
    # The profile's counters are denormalised for the dashboard and the console lists.
    ctx.dbsession.execute(
        update(CustomerProfile)
        .where(CustomerProfile.customer_id == booking.customer_id)
        .values(
            completed_bookings=CustomerProfile.completed_bookings + 1,
            total_spent_cents=CustomerProfile.total_spent_cents + booking.total_cents,
        )
        .execution_options(synchronize_session="fetch")
    )


def transition(
    ctx: Context, booking: Booking, new: BookingStatus | str, reason: str | None = None
) -> None:
    """Move ``booking`` to ``new`` or raise :class:`TransitionRefused` naming both states."""
    old = BookingStatus(booking.status)
    new = BookingStatus(new)
    if new not in TRANSITIONS[old]:
        raise TransitionRefused(old, new)
    if new == S.IN_PROGRESS:
        holds = holds_of(ctx, booking)
        if holds:
            raise BookingHeld(old, new, holds)
    booking.status = new
    if new == S.CANCELLED:
        # cancel() says "customer" for a guest too (no actor); other paths are staff or system.
        booking.cancelled_by = booking.cancelled_by or (
            "staff" if getattr(ctx.actor, "kind", None) == "staff" else "system"
        )
        booking.cancelled_at = ctx.now()  # the app clock: the demo and tests move it
        booking.cancel_reason = (reason or "")[:500]
        ctx.call_hook("totetaxi_release_capacity", booking=booking)
    if new == S.COMPLETED and booking.customer_id is not None:
        _count_completed(ctx, booking)
    by_staff = getattr(ctx.actor, "kind", None) == "staff"
    # The history is what tracking shows the customer: a staff member's reason is internal (it
    # is kept in the audit record), a customer's own reason is theirs to see.
    if by_staff:
        record_event(ctx, booking, new, MESSAGES[new], note=reason or "")
    else:
        record_event(ctx, booking, new, reason or MESSAGES[new])
    if by_staff:
        audit.record(
            ctx,
            "booking.status_changed",
            "booking",
            booking.id,
            before={"status": old},
            after={"status": new, "reason": reason or ""},
        )
    # Live pages and apps (the tracking page, the console's lists) see it once this commits.
    publish_live(
        ctx,
        booking_event(
            "booking.status", booking, {"old_status": str(old), "message": MESSAGES[new]}
        ),
    )
    ctx.call_hook(
        "totetaxi_booking_status_changed",
        booking=booking,
        old_status=str(old),
        new_status=str(new),
        reason=reason,
    )


def describe(booking: Booking) -> dict[str, Any]:
    return {"status": str(booking.status), "message": MESSAGES[BookingStatus(booking.status)]}
