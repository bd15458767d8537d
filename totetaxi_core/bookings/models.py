"""Bookings, their addresses, status history and gap-free numbers."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, SoftDelete, Timestamps, UTCDateTime, UUIDPrimaryKey, utcnow
from ..db.searchable import searchable_text, trigram_index


class BookingStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


#: Bookings still to happen: a customer's dashboard lists them by pickup date.
ACTIVE = (BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED, BookingStatus.IN_PROGRESS)
#: The predicate of the index of a customer's active bookings; a query that lists them must
#: say ``status IN`` these very values for PostgreSQL to see that the index covers it.
_IS_ACTIVE = text("status IN (" + ", ".join(f"'{s.value}'" for s in ACTIVE) + ")")


class Address(UUIDPrimaryKey, Timestamps, Base):
    """A postal address a booking points at (copied from a saved address at booking time, so
    later edits of the address book never move a booking).

    The columns hold the standard form (:mod:`totetaxi_core.addresses`), which matching and
    every consumer read; ``as_typed`` the parts as the customer typed them, for display
    (``None`` on rows stored before it was kept: their columns are what was typed).
    """

    __tablename__ = "addresses"

    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(2))
    postal_code: Mapped[str] = mapped_column(String(10))
    as_typed: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)


class BookingCounter(Base):
    """The last booking number handed out. Taken with ``UPDATE ... value + 1`` inside the
    booking's transaction: a rolled-back booking gives its number back (no gaps)."""

    __tablename__ = "booking_counters"

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Booking(UUIDPrimaryKey, Timestamps, SoftDelete, Base):
    """A customer's or a guest's booking, with the quote it was priced at."""

    __tablename__ = "bookings"

    seq: Mapped[int] = mapped_column(Integer, unique=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[BookingStatus] = mapped_column(
        Enum(
            BookingStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=BookingStatus.PENDING_PAYMENT,
    )
    service_type: Mapped[str] = mapped_column(String(30))
    package: Mapped[str | None] = mapped_column(String(30), default=None)
    item_count: Mapped[int | None] = mapped_column(Integer, default=None)
    specialty_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    same_day: Mapped[bool] = mapped_column(Boolean, default=False)
    coi_handling: Mapped[bool] = mapped_column(Boolean, default=False)
    pickup_date: Mapped[dt.date] = mapped_column(Date, index=True)
    time_window: Mapped[str] = mapped_column(String(20), default="morning")
    pickup_address_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("addresses.id"))
    delivery_address_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("addresses.id"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("customers.id"), default=None
    )
    guest_first_name: Mapped[str] = mapped_column(String(100), default="")
    guest_last_name: Mapped[str] = mapped_column(String(100), default="")
    guest_email: Mapped[str] = mapped_column(String(254), default="", index=True)
    guest_phone: Mapped[str] = mapped_column(String(40), default="")
    tracking_token_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    quote: Mapped[dict[str, Any]] = mapped_column(JSON)
    subtotal_cents: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    high_value: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    cancel_reason: Mapped[str] = mapped_column(String(500), default="")
    #: Who cancelled: "customer" (or guest), "staff" or "system"; "" while not cancelled.
    cancelled_by: Mapped[str] = mapped_column(String(20), default="")
    #: The policy's refund percent a customer's cancellation earned (``None``: staff or system
    #: cancelled, or it was not the customer's).
    cancellation_refund_percent: Mapped[int | None] = mapped_column(Integer, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # Staff lists are newest first (keyset pagination on created_at, id). A filtered list
        # walks it too, and its status and pickup date are checked in the index: a filter
        # matching only old bookings (last year's cancellations) then reads index entries,
        # never the rows it skips.
        Index("ix_bookings_created_at_status_pickup_date", "created_at", "status", "pickup_date"),
        # The staff list's status filter, with or without pickup dates.
        Index("ix_bookings_status_pickup_date", "status", "pickup_date"),
        # One customer's bookings newest first: /me/bookings, the dashboard's recent ones, the
        # staff customer page and ?customer_id= (and the foreign key's lookups).
        Index("ix_bookings_customer_id_created_at", "customer_id", "created_at"),
        # A customer's active bookings in pickup order (the dashboard): partial, so that the
        # index hands over the first ten in order instead of a date's worth to filter.
        Index(
            "ix_bookings_customer_id_active",
            "customer_id",
            "pickup_date",
            "created_at",
            postgresql_where=_IS_ACTIVE,
            sqlite_where=_IS_ACTIVE,
        ),
    )

    pickup_address: Mapped[Address] = relationship(foreign_keys=[pickup_address_id], lazy="joined")
    delivery_address: Mapped[Address] = relationship(
        foreign_keys=[delivery_address_id], lazy="joined"
    )


#: What a staff search matches on a guest's booking (a customer's matches its customer's
#: :data:`~totetaxi_core.identity.models.CUSTOMER_CONTACT`; its own contact columns stay empty).
GUEST_CONTACT = searchable_text(
    Booking.guest_first_name, Booking.guest_last_name, Booking.guest_email, Booking.guest_phone
)
trigram_index("ix_bookings_guest_contact", GUEST_CONTACT)


class BookingEvent(UUIDPrimaryKey, Base):
    """A step in a booking's history: what the tracking view shows."""

    __tablename__ = "booking_events"

    booking_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(String(500), default="")  # shown by tracking
    note: Mapped[str] = mapped_column(String(500), default="")  # internal: staff see it only
    actor_kind: Mapped[str] = mapped_column(String(20), default="system")
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)


class CancellationTier(UUIDPrimaryKey, Timestamps, Base):
    """One tier of the cancellation policy: cancelled at least ``hours_before`` the pickup, a
    customer gets ``refund_percent`` of what they paid back (BUSINESS_RULES.md "Cancellation").

    No tier reached means customers cannot cancel online (staff still can)."""

    __tablename__ = "booking_cancellation_tiers"
    __table_args__ = (
        CheckConstraint("refund_percent >= 0 AND refund_percent <= 100", name="percent"),
        CheckConstraint("hours_before >= 0", name="hours"),
    )

    hours_before: Mapped[int] = mapped_column(Integer, unique=True)
    refund_percent: Mapped[int] = mapped_column(Integer)
