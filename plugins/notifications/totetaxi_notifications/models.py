"""Email templates, notifications (one email each), their delivery log, held addresses and
guests' sealed booking links."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from totetaxi_core.plugin_api import (
    Base,
    Timestamps,
    UTCDateTime,
    UUIDPrimaryKey,
    utcnow,
    value_enum,
)


class EmailTemplate(UUIDPrimaryKey, Timestamps, Base):
    """The subject and bodies of one kind of email, edited by staff in the console."""

    __tablename__ = "notifications_templates"

    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500), default="")  # when it is sent
    #: The variables a template may use: ``{"booking.number": "the booking number", ...}``.
    variables: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("staff_users.id"), default=None
    )

    __mapper_args__ = {"version_id_col": version}


class NotificationStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its send task
    RETRYING = "retrying"  # the provider failed; next attempt at ``next_attempt_at``
    SENT = "sent"
    FAILED = "failed"  # gave up (attempts used, or a permanent refusal); staff may resend
    HELD = "held"  # the address bounced or complained: not sent


#: Notifications a send task may still send.
SENDABLE = (NotificationStatus.QUEUED, NotificationStatus.RETRYING)


class Notification(UUIDPrimaryKey, Timestamps, Base):
    """One email to one recipient, queued by an event and sent by a background task."""

    __tablename__ = "notifications_notifications"

    #: Says which event this email answers (``payment_confirmed:<payment id>``): an event or a
    #: task run twice finds the row and queues nothing new.
    unique_key: Mapped[str] = mapped_column(String(200), unique=True)
    template_key: Mapped[str] = mapped_column(String(60), index=True)
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("bookings.id"), default=None, index=True
    )
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("customers.id"), default=None, index=True
    )
    #: The template's variables as they were when the event happened (JSON only). Secret values
    #: (a password-reset link) are sealed, and erased once sent.
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[NotificationStatus] = mapped_column(
        value_enum(NotificationStatus), default=NotificationStatus.QUEUED, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    provider: Mapped[str] = mapped_column(String(30), default="")
    provider_message_id: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    #: What was sent, as rendered (secret values replaced): the customer's and staff's history.
    subject: Mapped[str] = mapped_column(String(300), default="")
    text_body: Mapped[str] = mapped_column(Text, default="")
    html_body: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (
        Index("ix_notifications_notifications_created_at", "created_at"),
        Index("ix_notifications_notifications_due", "status", "next_attempt_at"),
    )


class DeliveryLog(UUIDPrimaryKey, Base):
    """One send attempt, provider event (delivery, bounce, complaint) or staff action."""

    __tablename__ = "notifications_delivery_log"

    notification_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("notifications_notifications.id"), default=None, index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))  # attempt, provider_event, held, resend
    outcome: Mapped[str] = mapped_column(String(30))  # sent, error, bounce, complaint, ...
    provider: Mapped[str] = mapped_column(String(30), default="")
    provider_message_id: Mapped[str | None] = mapped_column(String(200), default=None)
    #: The provider's id of the event (an SNS MessageId): the same event is recorded once.
    provider_event_id: Mapped[str | None] = mapped_column(String(200), default=None, unique=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class HeldAddress(Timestamps, Base):
    """An address mail is no longer sent to: it bounced for good or its owner complained."""

    __tablename__ = "notifications_held_addresses"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)  # lower-cased
    reason: Mapped[str] = mapped_column(String(30))  # bounce, complaint, staff
    detail: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(200), default="")  # provider event id


class GuestLink(Base):
    """A guest booking's tracking token, sealed under ``totetaxi.secret``.

    The plain token exists only when the booking is created; every later email to the guest
    (payment failed, confirmed, delivery, certificate, refund) needs it in its link. Sealed,
    so a copy of the database does not open the booking; a changed secret makes it unsealable
    and the emails then link to the booking page without it.
    """

    __tablename__ = "notifications_guest_links"

    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("bookings.id"), primary_key=True)
    sealed_token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
