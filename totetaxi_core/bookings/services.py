"""Creating, reading and cancelling bookings (DESIGN §9 "Book")."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text, update

from ..addresses import as_typed_of
from ..business_time import local_midnight
from ..context import Context
from ..errors import InvalidDraft
from ..identity.models import Customer, SavedAddress
from ..identity.secrets import digest, new_token, same
from ..live import booking_event, publish_live
from .cancellation import RESCHEDULE_NOTICE, cancellation_terms, policy_of
from .lifecycle import MESSAGES, TransitionRefused, can_transition, record_event, transition
from .models import Address, Booking, BookingCounter, BookingStatus
from .schemas import DRAFT_FIELDS


@dataclass
class BookingRefused(Exception):
    """Business rules refused the booking: 409 when a day is full, 422 otherwise."""

    status: int
    problems: list[dict[str, str]]


class TooLateToCancel(Exception):
    pass


def quote_and_check(
    ctx: Context,
    draft: dict[str, Any],
    customer: Customer | None,
    capacity_checked_by_reserve: bool = False,
) -> dict[str, Any]:
    """Price ``draft`` through ``totetaxi_quote`` and collect every rule problem.

    Raises :class:`BookingRefused`: 409 when a problem is a full day, else 422 with all of them.
    ``capacity_checked_by_reserve`` drops the problems marked ``"capacity": True`` (a full
    day), for a booking that already holds a slot and is moving: the reservation decides then.
    """
    quote = ctx.call_hook("totetaxi_quote", draft=draft)
    if quote is None:
        raise InvalidDraft("service_type", "No pricing plugin is enabled.")
    problems = [
        p
        for answer in ctx.call_hook(
            "totetaxi_validate_booking", draft=draft, quote=quote, customer=customer
        )
        for p in (answer or [])
    ]
    if capacity_checked_by_reserve:
        problems = [p for p in problems if not p.get("capacity")]
    if problems:
        status = 409 if any(p.get("status") == 409 for p in problems) else 422
        raise BookingRefused(
            status, [{"name": p["name"], "description": p["description"]} for p in problems]
        )
    # The booking keeps the terms it was sold under: a later change of policy does not reach it.
    return {**quote, "cancellation_policy": cancellation_terms(ctx, draft.get("date"))}


def _address(ctx: Context, body: dict[str, Any], end: str, customer: Customer | None) -> Address:
    given, saved_id = body.get(f"{end}_address"), body.get(f"{end}_address_id")
    if given is not None and saved_id is not None:
        raise InvalidDraft(f"{end}_address", f"Send {end}_address or {end}_address_id, not both.")
    if given is not None:
        return Address(**given)
    if saved_id is None:
        raise InvalidDraft(f"{end}_address", f"A {end} address is required.")
    saved = None
    if customer is not None:
        try:
            saved = ctx.dbsession.get(SavedAddress, uuid.UUID(saved_id))
        except ValueError:
            saved = None
    if saved is None or saved.customer_id != customer.id or saved.deleted_at is not None:
        raise InvalidDraft(f"{end}_address_id", "None of your saved addresses has this id.")
    return Address(
        line1=saved.line1,
        line2=saved.line2,
        city=saved.city,
        state=saved.state,
        postal_code=saved.postal_code,
        as_typed=as_typed_of(saved),
    )


def _next_number(ctx: Context) -> int:
    """The booking's number: unique, never reused, assigned in the database (BUSINESS_RULES).

    PostgreSQL draws it from a sequence, which takes no lock: concurrent bookings do not queue
    behind one another (a booking rolled back after drawing leaves a gap). SQLite has one
    writer anyway and keeps the counter row (a rollback returns the number).
    """
    if ctx.dbsession.get_bind().dialect.name == "postgresql":
        return ctx.dbsession.execute(_NEXT_FROM_SEQUENCE).scalar_one()
    # One round trip: UPDATE ... RETURNING (SQLite 3.35+).
    return ctx.dbsession.execute(
        update(BookingCounter)
        .where(BookingCounter.name == "booking")
        .values(value=BookingCounter.value + 1)
        .returning(BookingCounter.value)
        .execution_options(synchronize_session=False)
    ).scalar_one()


_NEXT_FROM_SEQUENCE = text("SELECT nextval('booking_numbers')")


def numbers_drawn(dbsession: Any) -> int:
    """How many booking numbers were handed out: the last one, or 0."""
    if dbsession.get_bind().dialect.name == "postgresql":
        return dbsession.execute(
            text(
                "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
                "FROM booking_numbers"
            )
        ).scalar_one()
    value = dbsession.scalar(select(BookingCounter.value).where(BookingCounter.name == "booking"))
    return value or 0


def create(
    ctx: Context, body: dict[str, Any], customer: Customer | None
) -> tuple[Booking, str | None]:
    """Price, check, number, reserve and store a booking; return it and the guest's token."""
    if customer is None and body.get("guest") is None:
        raise InvalidDraft(
            "guest", "Checking out as a guest needs guest: first_name, last_name, email, phone."
        )
    if customer is not None and body.get("guest") is not None:
        raise InvalidDraft(
            "guest", "You are signed in: your profile is the contact; leave guest out."
        )
    draft = {name: body.get(name) for name in DRAFT_FIELDS}
    draft["specialty_items"] = [dict(line) for line in draft["specialty_items"] or ()]
    quote = quote_and_check(ctx, draft, customer)
    pickup = _address(ctx, body, "pickup", customer)
    delivery = _address(ctx, body, "delivery", customer)
    guest = body.get("guest") or {}
    booking = Booking(
        id=uuid.uuid4(),
        status=BookingStatus.PENDING_PAYMENT,
        service_type=draft["service_type"],
        package=draft["package"],
        item_count=draft["item_count"],
        specialty_items=draft["specialty_items"],
        same_day=bool(draft["same_day"]),
        coi_handling=bool(draft["coi_handling"]),
        pickup_date=draft["date"],
        time_window=body.get("time_window") or "morning",
        pickup_address=pickup,
        delivery_address=delivery,
        customer_id=customer.id if customer else None,
        guest_first_name=guest.get("first_name", ""),
        guest_last_name=guest.get("last_name", ""),
        guest_email=guest.get("email", "").lower(),
        guest_phone=guest.get("phone", ""),
        quote=quote,
        subtotal_cents=quote["subtotal_cents"],
        total_cents=quote["total_cents"],
        currency=quote.get("currency", "USD"),
        high_value=bool(quote.get("high_value")),
        notes=body.get("notes") or "",
    )
    ctx.call_hook("totetaxi_reserve_capacity", booking=booking)  # 409 when the day filled
    booking.seq = _next_number(ctx)
    booking.number = f"TT-{booking.seq:06d}"
    token = None
    if customer is None:
        token = new_token()
        booking.tracking_token_hash = digest(token)
    ctx.dbsession.add(booking)
    ctx.dbsession.flush()
    record_event(ctx, booking, BookingStatus.PENDING_PAYMENT, MESSAGES[booking.status])
    if customer is not None and customer.profile is not None:
        customer.profile.total_bookings += 1
        customer.profile.last_booking_at = ctx.now()
    publish_live(ctx, booking_event("booking.created", booking))
    ctx.call_hook("totetaxi_booking_created", booking=booking, tracking_token=token)
    return booking, token


def token_matches(booking: Booking, token: str | None) -> bool:
    return bool(
        token and booking.tracking_token_hash and same(booking.tracking_token_hash, digest(token))
    )


#: What a booking number looks like; anything else is not looked up at all.
NUMBER_FORMAT = re.compile(r"TT-\d{6,9}")


def find_by_number(ctx: Context, number: str) -> Booking | None:
    """The booking numbered ``number`` (``TT-000123``); ``None`` without a query when the text
    cannot be a booking number."""
    if not NUMBER_FORMAT.fullmatch(number):
        return None
    return ctx.dbsession.scalars(select(Booking).where(Booking.number == number)).first()


def cancel(ctx: Context, booking: Booking, reason: str, by_staff: bool) -> None:
    """Cancel; customers and guests while a tier of the cancellation policy applies, which
    sets the refund percent their payment earns; staff any time (a paid booking then gets a
    refund request for an admin). Money follows in ``totetaxi_booking_status_changed``."""
    if not can_transition(booking.status, BookingStatus.CANCELLED):
        raise TransitionRefused(booking.status, BookingStatus.CANCELLED)
    if by_staff:
        booking.cancelled_by = "staff"
    else:
        policy = policy_of(booking, ctx)
        percent = policy.refund_percent(booking.pickup_date, ctx.now())
        if percent is None:
            closes = policy.closes_hours_before
            raise TooLateToCancel(
                f"Cancelling online closes {closes} hours before the pickup date; call us and "
                "our team will help."
                if closes is not None
                else "Bookings cannot be cancelled online; call us and our team will help."
            )
        booking.cancelled_by = "customer"
        booking.cancellation_refund_percent = percent
    transition(ctx, booking, BookingStatus.CANCELLED, reason or None)


def reschedule(
    ctx: Context, booking: Booking, date: dt.date, time_window: str, by_staff: bool
) -> dict[str, Any]:
    """Move the pickup to ``date`` and ``time_window``: customers until 48 hours before the
    current pickup. Re-priced at today's rules and the van moved in the same transaction
    (:func:`editing.update`: a full day is a 409 and nothing changes); the payments plugin
    collects or refunds the difference. Returns the changes."""
    from .editing import NotEditable, update

    if booking.status not in (BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED):
        raise NotEditable(str(booking.status))
    if not by_staff and local_midnight(booking.pickup_date) - ctx.now() < RESCHEDULE_NOTICE:
        hours = int(RESCHEDULE_NOTICE.total_seconds() // 3600)
        raise TooLateToCancel(
            f"Rescheduling online closes {hours} hours before the pickup date; call us and our "
            "team will help."
        )
    return update(ctx, booking, {"date": date, "time_window": time_window})
