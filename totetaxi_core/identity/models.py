"""Staff and customers, kept in separate tables, and what authenticates them (DESIGN §5)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, SoftDelete, Timestamps, UTCDateTime, UUIDPrimaryKey, value_enum
from ..db.searchable import searchable_text, trigram_index


class Role(enum.StrEnum):
    """Staff roles, least to most powerful."""

    VIEWER = "viewer"  # read-only: dashboards, reports
    STAFF = "staff"  # bookings, customers, operations
    ADMIN = "admin"  # everything: refund approval, staff and plugin management

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def includes(self, other: Role) -> bool:
        """An admin can do what staff can, staff what viewers can."""
        return self.rank >= other.rank


class PrincipalKind(enum.StrEnum):
    STAFF = "staff"
    CUSTOMER = "customer"


class Principal:
    """What staff users and customers share: a login and a name (two tables, one shape)."""

    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email


class StaffUser(UUIDPrimaryKey, Timestamps, Principal, Base):
    """A ToteTaxi employee who uses the console or the staff API. Never a customer."""

    __tablename__ = "staff_users"

    role: Mapped[Role] = mapped_column(value_enum(Role, 16), default=Role.VIEWER)

    profile: Mapped[StaffProfile] = relationship(
        back_populates="staff", uselist=False, lazy="joined", cascade="all, delete-orphan"
    )

    kind = PrincipalKind.STAFF


class StaffProfile(UUIDPrimaryKey, Timestamps, Base):
    """Employee details (seed: accounts.StaffProfile)."""

    __tablename__ = "staff_profiles"

    staff_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("staff_users.id", ondelete="CASCADE"), unique=True
    )
    phone: Mapped[str] = mapped_column(String(40), default="")
    department: Mapped[str] = mapped_column(String(100), default="")
    hire_date: Mapped[dt.date | None] = mapped_column(Date, default=None)

    staff: Mapped[StaffUser] = relationship(back_populates="profile")


class Customer(UUIDPrimaryKey, Timestamps, Principal, Base):
    """A customer account (guest checkout needs none). Never staff."""

    __tablename__ = "customers"
    # The staff customers list is newest first.
    __table_args__ = (Index("ix_customers_created_at", "created_at"),)

    phone: Mapped[str] = mapped_column(String(40), default="")

    profile: Mapped[CustomerProfile] = relationship(
        back_populates="customer", uselist=False, lazy="joined", cascade="all, delete-orphan"
    )

    kind = PrincipalKind.CUSTOMER


#: What staff searches match on a customer (the customers list, and their bookings).
CUSTOMER_CONTACT = searchable_text(
    Customer.first_name, Customer.last_name, Customer.email, Customer.phone
)
trigram_index("ix_customers_contact", CUSTOMER_CONTACT)


class CustomerProfile(UUIDPrimaryKey, Timestamps, Base):
    """Preferences and booking statistics (seed: customers.CustomerProfile).

    The booking counters are maintained by the bookings code; they are denormalised so the
    dashboard and the console list never count per row.
    """

    __tablename__ = "customer_profiles"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), unique=True
    )
    preferences: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    total_bookings: Mapped[int] = mapped_column(Integer, default=0)
    completed_bookings: Mapped[int] = mapped_column(Integer, default=0)
    total_spent_cents: Mapped[int] = mapped_column(Integer, default=0)
    last_booking_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    customer: Mapped[Customer] = relationship(back_populates="profile")


class SavedAddress(UUIDPrimaryKey, Timestamps, SoftDelete, Base):
    """A customer's labelled address ("Home", "Hamptons", ...): the standard form in the
    columns, the parts as typed in ``as_typed`` (see :class:`~totetaxi_core.bookings.models.
    Address`)."""

    __tablename__ = "saved_addresses"

    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(60))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(2))
    postal_code: Mapped[str] = mapped_column(String(10))
    as_typed: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)


class AuthSession(Base):
    """A server-side browser session; the cookie holds a random key, the table its SHA-256."""

    __tablename__ = "auth_sessions"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    principal_kind: Mapped[PrincipalKind | None] = mapped_column(
        value_enum(PrincipalKind, 16), default=None
    )
    principal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    client_addr: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")


class ApiToken(UUIDPrimaryKey, Base):
    """A bearer token: only its SHA-256 is stored; expiring and revocable."""

    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    principal_kind: Mapped[PrincipalKind] = mapped_column(value_enum(PrincipalKind, 16))
    principal_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class PasswordResetToken(UUIDPrimaryKey, Base):
    """A single-use password reset link's token (its SHA-256), valid for an hour."""

    __tablename__ = "password_reset_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    principal_kind: Mapped[PrincipalKind] = mapped_column(value_enum(PrincipalKind, 16))
    principal_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class ThrottleCounter(Base):
    """A fixed-window counter for the database throttle backend (Redis in production)."""

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=0)
