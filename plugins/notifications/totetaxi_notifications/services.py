"""Queueing, sending, retrying and resending notifications; held addresses.

The flow (DESIGN §5 "Notify"): an event hook calls :func:`queue` in the event's transaction; the
row and its send task commit with the event or not at all. The task (:func:`send`) renders the
template, calls the ``mailer`` slot and logs the attempt. A provider error schedules the next
attempt with exponential backoff (``notifications.backoff_seconds`` × 2ⁿ); the periodic
:func:`send_due` picks due ones up. After ``notifications.max_attempts`` the notification is
``failed`` and counted on the staff dashboard until someone resends it.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from sqlalchemy import func, or_, select

from totetaxi_core.plugin_api import (
    Booking,
    Context,
    accepted_secrets,
    count_email_failure,
    insert_for,
    publish_live,
    record_audit,
    staff_event,
)

from . import sealing
from .interfaces import Mailer, MailerError, Message
from .models import (
    SENDABLE,
    DeliveryLog,
    EmailTemplate,
    HeldAddress,
    Notification,
    NotificationStatus,
)
from .rendering import RenderError, render

log = logging.getLogger("totetaxi.notifications")

SEND_TASK = "notifications.send"
SEND_DUE_TASK = "notifications.send_due"


def mailer(ctx: Context) -> Mailer:
    """The enabled ``mailer`` provider (``mail_console`` or ``mail_ses``)."""
    found = ctx.call_hook("totetaxi_mailer")
    if found is None:
        raise RuntimeError("No mailer provider is enabled (mail_console or mail_ses).")
    return found


# --- queueing -------------------------------------------------------------------------------


def queue(
    ctx: Context,
    *,
    unique_key: str,
    template_key: str,
    recipient: str,
    variables: dict[str, Any],
    booking: Booking | None = None,
    customer_id: uuid.UUID | None = None,
    secrets: dict[str, str] | None = None,
) -> uuid.UUID | None:
    """Queue one email in the current transaction; send it after commit.

    ``unique_key`` names the event (``payment_confirmed:<payment id>``): when a notification
    with it exists already, nothing is queued and ``None`` is returned, so an event delivered
    twice (or fired concurrently) sends one email. ``secrets`` are variables (dotted names) kept
    sealed at rest and erased once sent. Returns the new notification's id.
    """
    recipient = (recipient or "").strip().lower()
    if not recipient:
        log.warning("notification %s has no recipient; not queued", unique_key)
        return None
    context = dict(variables)
    if secrets:
        secret = ctx.settings["totetaxi.secret"]
        context[sealing.SEALED] = {
            name: sealing.seal(secret, value) for name, value in secrets.items()
        }
    now = ctx.now()
    new_id = uuid.uuid4()
    values = dict(
        id=new_id,
        unique_key=unique_key[:200],
        template_key=template_key,
        recipient=recipient,
        booking_id=booking.id if booking is not None else None,
        customer_id=customer_id,
        context=context,
        status=NotificationStatus.QUEUED,
        attempts=0,
        last_error="",
        provider="",
        subject="",
        text_body="",
        html_body="",
        created_at=now,
        updated_at=now,
    )
    ctx.dbsession.flush()  # the booking row must exist before a row that points to it
    # One statement that inserts or does nothing on the unique key: two transactions firing
    # the same event never fail, and only one of them inserts.
    inserted = ctx.dbsession.execute(
        insert_for(ctx.dbsession, Notification.__table__)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["unique_key"])
    ).rowcount
    if not inserted:
        log.info("notification %s exists already; nothing queued", unique_key)
        return None
    ctx.enqueue(SEND_TASK, str(new_id))
    return new_id


# --- sending --------------------------------------------------------------------------------


def is_held(ctx: Context, email: str) -> HeldAddress | None:
    return ctx.dbsession.get(HeldAddress, email.strip().lower())


def log_delivery(
    ctx: Context,
    notification: Notification | None,
    kind: str,
    outcome: str,
    detail: str = "",
    provider: str = "",
    provider_message_id: str | None = None,
    provider_event_id: str | None = None,
) -> DeliveryLog:
    """Add one delivery log row: a send attempt, a provider event or a staff action.

    ``kind`` is ``attempt``, ``provider_event``, ``held`` or ``resend``; ``outcome`` says what
    happened (``sent``, ``error``, ``bounce``, ``complaint``, ``delivery``, ...). A provider
    event passes its own id as ``provider_event_id``: the column is unique, so the same event
    is recorded once (a second insert fails when the session flushes).
    """
    row = DeliveryLog(
        notification_id=notification.id if notification else None,
        at=ctx.now(),
        kind=kind,
        outcome=outcome,
        provider=provider,
        provider_message_id=provider_message_id,
        provider_event_id=provider_event_id,
        detail=detail[:4000],
    )
    ctx.dbsession.add(row)
    return row


def _give_up(ctx: Context, notification: Notification, error: str) -> None:
    notification.status = NotificationStatus.FAILED
    notification.last_error = error[:4000]
    notification.next_attempt_at = None
    log.error("notification %s to %s failed: %s", notification.id, notification.recipient, error)
    # "none": given up before any provider was asked (no template, a template that fails).
    count_email_failure(notification.provider or "none", "failed")
    # staff may resend it: the console's pending actions (no address: the console shows it)
    facts = {"kind": "email_failed", "notification_id": str(notification.id)}
    publish_live(ctx, staff_event("actions.pending", facts))


def send(ctx: Context, notification_id: str) -> str:
    """Send one queued notification now (the send task's body). Returns what happened.

    Safe to run twice or concurrently: the row is locked, and only a ``queued`` or due
    ``retrying`` notification is sent.
    """
    notification = ctx.dbsession.get(Notification, uuid.UUID(notification_id), with_for_update=True)
    if notification is None or notification.status not in SENDABLE:
        return "nothing to send"
    now = ctx.now()
    if (
        notification.status == NotificationStatus.RETRYING
        and notification.next_attempt_at is not None
        and notification.next_attempt_at > now
    ):
        return "not due yet"
    held = is_held(ctx, notification.recipient)
    if held is not None:
        notification.status = NotificationStatus.HELD
        notification.last_error = f"address held after a {held.reason}"
        log_delivery(ctx, notification, "held", "held", f"{held.reason}: {held.detail}"[:4000])
        return "held"
    template = ctx.dbsession.scalars(
        select(EmailTemplate).where(EmailTemplate.key == notification.template_key)
    ).first()
    if template is None:
        _give_up(ctx, notification, f"no email template {notification.template_key!r}")
        log_delivery(ctx, notification, "attempt", "error", notification.last_error)
        return "failed"
    secrets: list[str] = []
    try:
        secrets = sealing.secrets_of(notification.context, accepted_secrets(ctx.settings))
        variables = sealing.opened(notification.context, accepted_secrets(ctx.settings))
        content = render(template.subject, template.text_body, template.html_body, variables)
        kept = render(
            template.subject,
            template.text_body,
            template.html_body,
            sealing.redacted(notification.context),
        )
    except Exception as exc:
        # Trying again renders the same way: fail now and let staff fix the template and resend.
        # An error message may quote a variable's value: never keep or log a secret link.
        if isinstance(exc, RenderError):
            error = f"{exc.part}: {exc.message}"
        elif isinstance(exc, sealing.Unsealable):
            error = str(exc)
        else:
            error = f"{type(exc).__name__}: {exc}"
        _give_up(ctx, notification, "cannot render: " + sealing.scrub(error, secrets))
        log_delivery(ctx, notification, "attempt", "error", notification.last_error)
        return "failed"
    provider = mailer(ctx)
    settings = ctx.settings
    message = Message(
        to=notification.recipient,
        from_address=settings["notifications.from_address"],
        reply_to=settings["notifications.reply_to"],
        subject=content.subject,
        text=content.text,
        html=content.html,
        reference=str(notification.id),
    )
    notification.attempts += 1
    notification.provider = provider.name
    try:
        provider_id = provider.send(message)
    except Exception as exc:
        # A provider's own bug counts as a failed attempt too: logged, retried, then failed.
        if not isinstance(exc, MailerError):
            log.exception("mailer %s raised an unexpected error", provider.name)
        error = str(exc) or type(exc).__name__
        if not isinstance(exc, MailerError):
            error = f"{type(exc).__name__}: {error}"
        log_delivery(ctx, notification, "attempt", "error", error, provider=provider.name)
        permanent = isinstance(exc, MailerError) and exc.permanent
        if permanent or notification.attempts >= settings["notifications.max_attempts"]:
            _give_up(ctx, notification, error)
            return "failed"
        count_email_failure(provider.name, "retrying")
        notification.status = NotificationStatus.RETRYING
        notification.last_error = error[:4000]
        notification.next_attempt_at = now + dt.timedelta(
            seconds=settings["notifications.backoff_seconds"] * 2 ** (notification.attempts - 1)
        )
        return "retrying"
    notification.status = NotificationStatus.SENT
    notification.sent_at = now
    notification.next_attempt_at = None
    notification.last_error = ""
    notification.provider_message_id = provider_id
    # The column holds 300 characters; a longer subject must not make the commit fail after
    # the provider took the message (the task would run, and send, again).
    notification.subject, notification.text_body = kept.subject[:300], kept.text
    notification.html_body = kept.html
    if sealing.SEALED in notification.context:
        notification.context = sealing.redacted(notification.context)  # the link is spent
    log_delivery(
        ctx,
        notification,
        "attempt",
        "sent",
        provider=provider.name,
        provider_message_id=provider_id,
    )
    return "sent"


#: A ``queued`` notification untouched this long lost its send task (the outbox gave up on
#: it, or a worker died with it): the periodic task queues it again.
STUCK_AFTER = dt.timedelta(minutes=15)


def send_due(ctx: Context, limit: int = 200) -> int:
    """Queue a send for each notification whose retry is due, and for each one stuck
    ``queued`` (the periodic task's body). Sending twice is harmless: ``send`` locks the row."""
    now = ctx.now()
    due = list(
        ctx.dbsession.scalars(
            select(Notification.id)
            .where(
                or_(
                    (Notification.status == NotificationStatus.RETRYING)
                    & (Notification.next_attempt_at <= now),
                    (Notification.status == NotificationStatus.QUEUED)
                    & (Notification.updated_at <= now - STUCK_AFTER),
                )
            )
            .order_by(Notification.created_at)
            .limit(limit)
        )
    )
    for notification_id in due:
        ctx.enqueue(SEND_TASK, str(notification_id))
    return len(due)


# --- staff actions --------------------------------------------------------------------------


class NotResendable(Exception):
    """Only a failed or held notification can be resent."""


def resend(ctx: Context, notification: Notification) -> None:
    """Queue a failed (or held) notification again, with fresh attempts; audited.

    A held address stays held: release it first, or the resend is held again.
    """
    if notification.status not in (NotificationStatus.FAILED, NotificationStatus.HELD):
        raise NotResendable(f"A {notification.status} notification cannot be resent.")
    before = {"status": str(notification.status), "attempts": notification.attempts}
    notification.status = NotificationStatus.QUEUED
    notification.attempts = 0
    notification.next_attempt_at = None
    log_delivery(
        ctx,
        notification,
        "resend",
        "queued",
        f"resent by {getattr(ctx.actor, 'email', 'the system')}",
    )
    record_audit(
        ctx,
        "notification.resent",
        "notification",
        notification.id,
        before=before,
        after={"status": "queued", "attempts": 0},
    )
    ctx.enqueue(SEND_TASK, str(notification.id))


def hold_address(
    ctx: Context, email: str, reason: str, detail: str = "", source: str = ""
) -> HeldAddress:
    """Stop mail to ``email`` (a permanent bounce, a complaint, or staff's decision)."""
    email = email.strip().lower()
    row = ctx.dbsession.get(HeldAddress, email)
    if row is None:
        row = HeldAddress(email=email, reason=reason, detail=detail[:4000], source=source[:200])
        ctx.dbsession.add(row)
        log.warning("mail to %s is held from now on (%s)", email, reason)
    return row


def release_address(ctx: Context, email: str) -> bool:
    """Send to ``email`` again (staff checked it with the customer); audited."""
    row = ctx.dbsession.get(HeldAddress, email.strip().lower())
    if row is None:
        return False
    record_audit(
        ctx,
        "notification.address_released",
        "held_address",
        row.email,
        before={"reason": row.reason, "detail": row.detail},
        after={},
    )
    ctx.dbsession.delete(row)
    return True


# --- reading --------------------------------------------------------------------------------


def counts_by_status(ctx: Context) -> dict[str, int]:
    return dict(
        ctx.dbsession.execute(
            select(Notification.status, func.count()).group_by(Notification.status)
        ).all()
    )


def notification_json(row: Notification, *, for_staff: bool = False) -> dict[str, Any]:
    """A notification as the API shows it; customers see what was sent, staff also why not."""
    data = {
        "id": str(row.id),
        "template": row.template_key,
        "recipient": row.recipient,
        "status": str(row.status),
        "subject": row.subject,
        "text_body": row.text_body,
        "booking_id": str(row.booking_id) if row.booking_id else None,
        "booking_number": (row.context.get("booking") or {}).get("number"),
        "created_at": row.created_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
    }
    if for_staff:
        data.update(
            attempts=row.attempts,
            last_error=row.last_error,
            provider=row.provider,
            provider_message_id=row.provider_message_id,
            next_attempt_at=row.next_attempt_at.isoformat() if row.next_attempt_at else None,
        )
    return data
