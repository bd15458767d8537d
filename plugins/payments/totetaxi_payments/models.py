"""Payments, refunds, saved cards, gateway customers, webhook events and the payment audit."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from totetaxi_core.plugin_api import (
    AppendOnly,
    Base,
    SoftDelete,
    Timestamps,
    UTCDateTime,
    UUIDPrimaryKey,
    utcnow,
    value_enum,
)


class PaymentStatus(enum.StrEnum):
    """Mirrors the PaymentIntent lifecycle."""

    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


OPEN_STATUSES = (
    PaymentStatus.REQUIRES_PAYMENT_METHOD,
    PaymentStatus.REQUIRES_CONFIRMATION,
    PaymentStatus.REQUIRES_ACTION,
    PaymentStatus.PROCESSING,
)


class RefundStatus(enum.StrEnum):
    REQUESTED = "requested"  # waiting for an admin
    PENDING = "pending"  # approved; the gateway has not finished
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"


#: Refunds whose amount is held against the payment's refundable remainder.
HOLDING_REFUND = (RefundStatus.REQUESTED, RefundStatus.PENDING, RefundStatus.SUCCEEDED)


class Payment(UUIDPrimaryKey, Timestamps, Base):
    """One PaymentIntent for a booking."""

    __tablename__ = "payments_payments"

    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("bookings.id"), index=True)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("customers.id"), default=None, index=True
    )
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[PaymentStatus] = mapped_column(
        value_enum(PaymentStatus, 30), default=PaymentStatus.REQUIRES_PAYMENT_METHOD, index=True
    )
    gateway: Mapped[str] = mapped_column(String(30))
    gateway_intent_id: Mapped[str] = mapped_column(String(100), unique=True)
    gateway_method_id: Mapped[str | None] = mapped_column(String(100), default=None)
    client_secret: Mapped[str] = mapped_column(String(200), default="")
    save_method: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # confirmations that failed
    failure_code: Mapped[str] = mapped_column(String(60), default="")
    failure_reason: Mapped[str] = mapped_column(String(500), default="")
    amount_received_cents: Mapped[int] = mapped_column(Integer, default=0)
    refund_held_cents: Mapped[int] = mapped_column(Integer, default=0)
    refunded_cents: Mapped[int] = mapped_column(Integer, default=0)
    #: Money taken that confirmed nothing (booking cancelled, short, or paid twice): staff
    #: refund or settle it; the dashboard counts these.
    needs_attention: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    last_event_at: Mapped[int] = mapped_column(Integer, default=0)  # gateway event `created`
    succeeded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def refundable_cents(self) -> int:
        return max(self.amount_received_cents - self.refund_held_cents, 0)


class Refund(UUIDPrimaryKey, Timestamps, Base):
    """A refund: requested by staff, approved (or rejected) by an admin, done by the gateway."""

    __tablename__ = "payments_refunds"

    payment_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("payments_payments.id"), index=True
    )
    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("bookings.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[RefundStatus] = mapped_column(
        value_enum(RefundStatus, 30), default=RefundStatus.REQUESTED, index=True
    )
    #: "staff" (a staff request an admin decides) or "policy" (the cancellation policy or a
    #: cheaper reschedule: no request, no approval, audited as the policy's).
    source: Mapped[str] = mapped_column(String(20), default="staff")
    #: The staff member who asked; ``None`` for a refund by policy (or a system cancellation).
    requested_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("staff_users.id"), default=None
    )
    decided_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("staff_users.id"), default=None
    )
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    gateway_refund_id: Mapped[str | None] = mapped_column(String(100), default=None, unique=True)
    failure_reason: Mapped[str] = mapped_column(String(500), default="")
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class GatewayCustomer(UUIDPrimaryKey, Timestamps, Base):
    """The gateway's customer object of one of our customers (one per gateway)."""

    __tablename__ = "payments_gateway_customers"

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(30))
    gateway_customer_id: Mapped[str] = mapped_column(String(100), unique=True)


class SavedMethod(UUIDPrimaryKey, Timestamps, SoftDelete, Base):
    """A saved card: the gateway's ids and what may be shown. Never a card number."""

    __tablename__ = "payments_saved_methods"

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(30))
    gateway_customer_id: Mapped[str] = mapped_column(String(100))
    gateway_method_id: Mapped[str] = mapped_column(String(100), index=True)
    brand: Mapped[str] = mapped_column(String(30))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)


class SetupAttempt(UUIDPrimaryKey, Timestamps, Base):
    """A SetupIntent a customer started to save a card; the webhook finishes it."""

    __tablename__ = "payments_setup_attempts"

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(30))
    gateway_setup_id: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(40))


class WebhookEventRecord(UUIDPrimaryKey, Base):
    """A gateway event already handled: a replayed or duplicated event id changes nothing."""

    __tablename__ = "payments_webhook_events"

    gateway: Mapped[str] = mapped_column(String(30))
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(60))
    created: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(200), default="")


class PaymentAudit(AppendOnly, UUIDPrimaryKey, Base):
    """Every money movement and state change of a payment or refund. Append-only."""

    __tablename__ = "payments_audit"
    append_only_message = "Payment audit records are append-only."

    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    payment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None, index=True)
    refund_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None, index=True)
    action: Mapped[str] = mapped_column(String(60))
    amount_cents: Mapped[int | None] = mapped_column(Integer, default=None)
    old_status: Mapped[str] = mapped_column(String(40), default="")
    new_status: Mapped[str] = mapped_column(String(40), default="")
    actor_kind: Mapped[str] = mapped_column(String(20), default="system")
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    source: Mapped[str] = mapped_column(String(100), default="")  # request id or event id
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
