"""The notifications plugin's hook implementations: one email per event, and staff views.

Every trigger runs in the event's transaction and only writes (a Notification row and its send
task's outbox row): no network I/O before commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from typing import Any

from sqlalchemy import func, select

from totetaxi_core.plugin_api import (
    RESET_TOKEN_LIFETIME,
    accepted_secrets,
    entries_panel,
    format_local,
    format_money,
    hookimpl,
    insert_for,
    token_matches,
)

from . import sealing, services, variables
from .defaults import CARE_PREFIX
from .models import EmailTemplate, GuestLink, Notification, NotificationStatus

log = logging.getLogger("totetaxi.notifications")

#: ``totetaxi_delivery_updated`` statuses that email the customer, and their template.
DELIVERY_TEMPLATES = {
    "assigned": "delivery_assigned",
    "picked_up": "delivery_picked_up",
    "delivered": "delivery_delivered",
    "failed": "delivery_failed",
    "rescheduled": "delivery_rescheduled",
}


def _about_booking(
    ctx: Any,
    booking: Any,
    template_key: str,
    unique_key: str,
    tracking_token: str | None = None,
    **extra: Any,
) -> None:
    email, customer_id, first_name = variables.recipient(ctx, booking)
    the_booking = variables.booking(ctx, booking)
    secrets = None
    if not tracking_token and booking.customer_id is None:
        tracking_token = _guest_token(ctx, booking)
    if tracking_token:
        # A guest's link carries their token: sealed at rest, erased once sent.
        secrets = {"booking.url": variables.booking_url(ctx, booking, tracking_token)}
    services.queue(
        ctx,
        unique_key=unique_key,
        template_key=template_key,
        recipient=email,
        booking=booking,
        customer_id=customer_id,
        secrets=secrets,
        variables={
            "company": variables.company(ctx),
            "recipient": {"first_name": first_name, "email": email},
            "booking": the_booking,
            **extra,
        },
    )


def _keep_guest_token(ctx: Any, booking: Any, tracking_token: str | None) -> None:
    """Keep a guest's token, sealed, for the later emails' links (the plain token exists only
    now). Once per booking: the event fired again changes nothing."""
    if booking.customer_id is not None or not token_matches(booking, tracking_token):
        return
    # One statement, no read first: the first link stays (ON CONFLICT DO NOTHING, which
    # PostgreSQL and SQLite both speak). Executing it flushes the booking row it points to.
    ctx.dbsession.execute(
        insert_for(ctx.dbsession, GuestLink)
        .values(
            booking_id=booking.id,
            created_at=ctx.now(),
            sealed_token=sealing.seal(ctx.settings["totetaxi.secret"], tracking_token),
        )
        .on_conflict_do_nothing(index_elements=["booking_id"])
    )


def _guest_token(ctx: Any, booking: Any) -> str | None:
    """The guest's token kept when the booking was created; None when there is none, or it
    cannot be opened (``totetaxi.secret`` changed): the email then links without it."""
    link = ctx.dbsession.get(GuestLink, booking.id)
    if link is None:
        return None
    try:
        return sealing.unseal(accepted_secrets(ctx.settings), link.sealed_token)
    except (sealing.Unsealable, ValueError):  # ValueError: not even base64 (a damaged row)
        log.warning(
            "the guest link of booking %s cannot be unsealed (totetaxi.secret changed "
            "since it was created); its emails link without the token",
            booking.number,
        )
        return None


@hookimpl
def totetaxi_booking_created(ctx: Any, booking: Any, tracking_token: str | None) -> None:
    _keep_guest_token(ctx, booking, tracking_token)
    _about_booking(
        ctx,
        booking,
        "booking_received",
        f"booking_received:{booking.id}",
        tracking_token=tracking_token,
    )


@hookimpl
def totetaxi_payment_succeeded(ctx: Any, payment: Any, booking: Any) -> None:
    amount = payment.amount_received_cents or payment.amount_cents
    _about_booking(
        ctx,
        booking,
        "payment_confirmed",
        f"payment_confirmed:{payment.id}",
        payment={"amount": format_money(amount, payment.currency), "amount_cents": amount},
    )


@hookimpl
def totetaxi_payment_failed(
    ctx: Any, payment: Any, booking: Any, reason: str, attempts_left: int
) -> None:
    # One email per failed attempt: the attempt number is part of the event's identity.
    _about_booking(
        ctx,
        booking,
        "payment_failed",
        f"payment_failed:{payment.id}:{payment.attempts}",
        payment={
            "amount": format_money(payment.amount_cents, payment.currency),
            "amount_cents": payment.amount_cents,
            "failure_reason": reason,
            "attempts_left": attempts_left,
        },
    )


@hookimpl
def totetaxi_refund_completed(ctx: Any, refund: Any, payment: Any, booking: Any) -> None:
    _about_booking(
        ctx,
        booking,
        "refund_issued",
        f"refund_issued:{refund.id}",
        refund={
            "amount": format_money(refund.amount_cents, payment.currency),
            "amount_cents": refund.amount_cents,
        },
    )


@hookimpl
def totetaxi_delivery_updated(ctx: Any, task: Any, booking: Any, status: str, key: str) -> None:
    """Assigned (to either task: the pickup or the drop-off), picked up, delivered, failed and
    rescheduled email the customer; the other statuses (eta, started, arrived, unassigned,
    cancelled) do not.

    One email per ``key``: the same provider event fired again sends nothing new, a
    reassignment to another driver (a new key) emails again. The task's ``failure_reason`` is
    internal and never reaches the email.
    """
    template_key = DELIVERY_TEMPLATES.get(status)
    if template_key is None:
        return
    _about_booking(
        ctx,
        booking,
        template_key,
        f"{template_key}:{key}",
        delivery={
            "status": status,
            "kind": str(getattr(task, "kind", "") or ""),
            "driver_name": getattr(task, "driver_name", "") or "",
            "eta": _eta(getattr(task, "eta", None)),
            "window": _task_window(
                getattr(task, "complete_after", None), getattr(task, "complete_before", None)
            ),
        },
    )


def _eta(eta: Any) -> str:
    # Timestamps are aware UTC: the customer reads New York wall-clock time.
    if isinstance(eta, dt.datetime):
        return format_local(eta, "%-I:%M %p")
    return eta.strftime("%-I:%M %p") if hasattr(eta, "strftime") else str(eta or "")


_DAY = "%A, %B %-d, %Y"
_TIME = "%-I:%M %p"


def _task_window(after: Any, before: Any) -> str:
    """A task's window (aware UTC) in New York time: ``Tuesday, December 8, 2026, 8:00 AM –
    12:00 PM``; the day repeated when it ends on another one; ``from``/``by`` with one end;
    empty with none."""
    start = after if isinstance(after, dt.datetime) else None
    end = before if isinstance(before, dt.datetime) else None
    if start is None and end is None:
        return ""
    if start is None:
        return f"{format_local(end, _DAY)}, by {format_local(end, _TIME)}"
    if end is None:
        return f"{format_local(start, _DAY)}, from {format_local(start, _TIME)}"
    first_day, last_day = format_local(start, _DAY), format_local(end, _DAY)
    until = format_local(end, _TIME)
    if last_day != first_day:
        until = f"{last_day}, {until}"
    return f"{first_day}, {format_local(start, _TIME)} – {until}"


def _document(document: Any) -> dict[str, str]:
    expires = getattr(document, "expires_on", None)
    return {
        "filename": getattr(document, "filename", "") or "",
        "expires_on": (
            f"{expires:%B} {expires.day}, {expires.year}" if hasattr(expires, "strftime") else ""
        ),
        "note": getattr(document, "review_note", "") or "",
    }


@hookimpl
def totetaxi_document_reviewed(ctx: Any, document: Any, booking: Any, decision: str) -> None:
    if decision != "rejected" or getattr(document, "category", "") != "coi":
        return
    _about_booking(
        ctx, booking, "coi_missing", f"coi_rejected:{document.id}", document=_document(document)
    )


@hookimpl
def totetaxi_coi_attention(ctx: Any, booking: Any, document: Any, reason: str) -> None:
    template_key = {"missing": "coi_missing", "expiring": "coi_expiring"}.get(reason)
    if template_key is None:
        return
    document_id = getattr(document, "id", None) or "none"
    _about_booking(
        ctx,
        booking,
        template_key,
        # Once per booking, document and pickup date: a booking moved to another day that
        # still lacks its certificate is told again.
        f"{template_key}:{booking.id}:{document_id}:{booking.pickup_date}",
        document=_document(document)
        if document is not None
        else {"filename": "", "expires_on": "", "note": ""},
    )


@hookimpl
def totetaxi_password_reset_requested(ctx: Any, principal: Any, reset_url: str) -> None:
    customer_id = principal.id if getattr(principal, "kind", "") == "customer" else None
    services.queue(
        ctx,
        unique_key="password_reset:" + hashlib.sha256(reset_url.encode()).hexdigest(),
        template_key="password_reset",
        recipient=principal.email,
        customer_id=customer_id,
        secrets={"reset_url": reset_url},
        variables={
            "company": variables.company(ctx),
            "recipient": {"first_name": principal.first_name, "email": principal.email},
            "reset_minutes": int(RESET_TOKEN_LIFETIME.total_seconds() // 60),
        },
    )


# --- customer care: emails staff send by hand --------------------------------------------------


@hookimpl
def totetaxi_customer_message_templates(ctx: Any) -> list[dict[str, str]]:
    rows = ctx.dbsession.execute(
        select(EmailTemplate.key, EmailTemplate.name, EmailTemplate.description).where(
            EmailTemplate.key.startswith(CARE_PREFIX, autoescape=True)
        )
    )
    return [{"key": key, "name": name, "description": text} for key, name, text in rows]


@hookimpl
def totetaxi_send_customer_message(
    ctx: Any, customer: Any, template: str, message: str
) -> str | None:
    if not template.startswith(CARE_PREFIX):
        return None
    # Every send is its own email: staff may well send the same words twice on purpose.
    new_id = services.queue(
        ctx,
        unique_key=f"care:{customer.id}:{uuid.uuid4()}",
        template_key=template,
        recipient=customer.email,
        customer_id=customer.id,
        variables={
            "company": variables.company(ctx),
            "recipient": {"first_name": customer.first_name, "email": customer.email},
            "message": {"body": message},
        },
    )
    return str(new_id) if new_id is not None else None


# --- changes of a booking -------------------------------------------------------------------

#: Statuses a staff member's change emails as ``booking_status_changed``; cancelled and
#: completed have emails of their own, whoever made the change.
STAFF_STATUS_TEMPLATES = frozenset({"confirmed", "in_progress"})
#: Fields of ``totetaxi_booking_changed`` that move the pickup.
MOVED_FIELDS = ("date", "time_window")


def _actor_kind(ctx: Any) -> str:
    """``staff``, ``customer``, or ``""`` when nobody signed in acts (a guest, the system)."""
    return str(getattr(ctx.actor, "kind", "") or "")


def _told_by_payment_failed(ctx: Any, booking: Any) -> bool:
    """Whether this booking's ``payment_failed`` email for its last attempt was queued: that
    email (attempts left 0) already says the booking was cancelled."""
    contexts = ctx.dbsession.scalars(
        select(Notification.context).where(
            Notification.booking_id == booking.id,
            Notification.template_key == "payment_failed",
        )
    )
    return any((context.get("payment") or {}).get("attempts_left") == 0 for context in contexts)


def _cancelled_by(ctx: Any, booking: Any, told: bool) -> str:
    """``customer``, ``staff`` or ``system``: the booking's ``cancelled_by`` when the core
    records it, else guessed from the actor.

    Without it, no actor is either a guest cancelling with their token or the system (the
    payments plugin after the last failed attempt); only the system has emailed
    ``payment_failed`` for the last attempt first (``told``: that hook fires before the
    cancellation).
    """
    recorded = getattr(booking, "cancelled_by", None)
    if recorded:
        return str(recorded)
    kind = _actor_kind(ctx)
    if kind in ("staff", "customer"):
        return kind
    return "system" if told else "customer"


def _booking_cancelled(ctx: Any, booking: Any, old_status: str, reason: str | None) -> None:
    """Queue ``booking_cancelled``, unless the last failed payment's email said it already."""
    told = _told_by_payment_failed(ctx, booking)
    by = _cancelled_by(ctx, booking, told)
    if by == "system" and told:
        # The payment attempts are used up: the payments plugin emailed payment_failed, which
        # says "The booking has been cancelled.", just before cancelling. A second email about
        # the same cancellation would only repeat it. Any other system cancellation is emailed.
        return
    # The policy's percent is of what was paid: a booking cancelled before it was confirmed
    # was not paid, whatever percent the policy's tier gives.
    percent = getattr(booking, "cancellation_refund_percent", None)
    _about_booking(
        ctx,
        booking,
        "booking_cancelled",
        f"booking_cancelled:{booking.id}",  # a cancelled booking stays cancelled: once
        cancellation=variables.cancellation(
            by, percent if old_status == "confirmed" else None, reason
        ),
    )


@hookimpl
def totetaxi_booking_status_changed(
    ctx: Any, booking: Any, old_status: str, new_status: str, reason: str | None
) -> None:
    """Cancelled (by anyone) and completed email the customer; so do the statuses a staff
    member sets by hand. ``reason`` reaches the email only when it is the customer's own."""
    if new_status == "cancelled":
        _booking_cancelled(ctx, booking, old_status, reason)
    elif new_status == "completed":
        _about_booking(ctx, booking, "booking_completed", f"booking_completed:{booking.id}")
    elif new_status in STAFF_STATUS_TEMPLATES and _actor_kind(ctx) == "staff":
        # Only staff: the payment webhook's confirmation (no actor) sends payment_confirmed.
        # The state machine never returns to a status, so (booking, status) happens once.
        _about_booking(
            ctx,
            booking,
            "booking_status_changed",
            f"booking_status_changed:{booking.id}:{new_status}",
            change=variables.status_change(old_status, new_status),
        )


@hookimpl
def totetaxi_booking_changed(ctx: Any, booking: Any, changes: dict[str, Any]) -> None:
    """A new pickup date or window emails the customer, with the new total when it moved."""
    if not any(name in changes for name in MOVED_FIELDS):
        return  # notes, addresses, items: nothing the customer must be told of by email
    # Each edit bumps the booking's version (it is flushed before the hook): one email per
    # move, and the same event fired twice sends one.
    _about_booking(
        ctx,
        booking,
        "booking_rescheduled",
        f"booking_rescheduled:{booking.id}:{booking.version}",
        reschedule=variables.reschedule(booking, changes),
    )


# --- staff views ----------------------------------------------------------------------------


def _of_booking(db: Any, booking_id: Any) -> list[Notification]:
    return list(
        db.scalars(
            select(Notification)
            .where(Notification.booking_id == booking_id)
            .order_by(Notification.created_at, Notification.id)
        )
    )


@hookimpl
def totetaxi_booking_details(request: Any, booking: Any) -> dict[str, Any]:
    return {
        "notifications": [
            services.notification_json(n, for_staff=True)
            for n in _of_booking(request.dbsession, booking.id)
        ]
    }


@hookimpl
def totetaxi_booking_panels(request: Any, booking: Any) -> list[dict[str, Any]]:
    return [
        {
            "title": "Emails",
            "template": "totetaxi_notifications:templates/_panel.jinja2",
            "context": {"notifications": _of_booking(request.dbsession, booking.id)},
            "order": 40,
        }
    ]


@hookimpl
def totetaxi_customer_summary(request: Any, customer: Any) -> dict[str, Any]:
    sent = request.dbsession.scalar(
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.customer_id == customer.id, Notification.status == NotificationStatus.SENT
        )
    )
    return {"emails sent": sent}


@hookimpl
def totetaxi_console_nav(request: Any) -> list[dict[str, Any]]:
    return [
        {
            "title": "Emails",
            "route": "notifications_log",
            "role": "viewer",
            "order": 40,
            "group": "Messages",
        },
        {
            "title": "Email templates",
            "route": "notifications_templates",
            "role": "viewer",
            "order": 41,
            "group": "Messages",
        },
    ]


@hookimpl
def totetaxi_dashboard_tiles(request: Any, period: str) -> list[dict[str, Any]]:
    counts = services.counts_by_status(request.ctx)
    return [
        {
            "title": "Emails failed",
            "value": counts.get(NotificationStatus.FAILED, 0),
            "detail": "Gave up after every retry: fix the cause, then resend under Emails.",
            "order": 40,
            "route": "notifications_log",
            "alert": bool(counts.get(NotificationStatus.FAILED, 0)),
        },
        {
            "title": "Emails held",
            "value": counts.get(NotificationStatus.HELD, 0),
            "detail": "Not sent: the address bounced or complained.",
            "order": 41,
            "route": "notifications_log",
        },
    ]


@hookimpl(optionalhook=True)
def totetaxi_crm_figures(ctx: Any, start: Any, end: Any) -> dict[str, Any]:
    """The CRM dashboard's figures of ``[start, end)`` (SQL aggregates, in :mod:`.figures`)."""
    from . import figures

    return figures.figures(ctx, start, end)


@hookimpl
def totetaxi_timeline(request: Any, booking: Any, customer: Any) -> list[dict[str, Any]]:
    """This plugin's entries of a booking's or a customer's timeline (in :mod:`.timeline`)."""
    from . import timeline

    return timeline.entries(request, booking, customer)


@hookimpl
def totetaxi_customer_panels(request: Any, customer: Any) -> list[dict[str, Any]]:
    """The customer page's "Emails" panel: the newest ten, from :mod:`.timeline`."""
    from . import timeline

    return [entries_panel("Emails", timeline.entries(request, None, customer), order=70)]
