"""Delivery tasks, their tracking updates, and drivers.

A confirmed booking has two tasks, a pickup and a drop-off (``attempt`` 1). Rescheduling a
failed task makes a new attempt (a new row, the old one ``superseded_by`` it), so the history of
what happened stays as it happened. Times are aware UTC; the window is shown in New York time.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from totetaxi_core.plugin_api import (
    AppendOnly,
    Base,
    Timestamps,
    UTCDateTime,
    UUIDPrimaryKey,
    utcnow,
    value_enum,
)


class TaskKind(enum.StrEnum):
    PICKUP = "pickup"
    DROPOFF = "dropoff"


class TaskStatus(enum.StrEnum):
    CREATED = "created"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    #: Not the provider's to move any more: the booking was cancelled or the task rescheduled
    #: before it ran.
    CANCELLED = "cancelled"


#: States a task never leaves (an event that would move it back changes nothing).
FINAL = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED})
#: Still to be done by a driver.
OPEN = (TaskStatus.CREATED, TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS)
#: The order of the live states: an older event never moves a task back along it.
RANK = {
    TaskStatus.CREATED: 0,
    TaskStatus.ASSIGNED: 1,
    TaskStatus.IN_PROGRESS: 2,
    TaskStatus.COMPLETED: 3,
    TaskStatus.FAILED: 3,
    TaskStatus.CANCELLED: 3,
}


class Driver(UUIDPrimaryKey, Timestamps, Base):
    """A driver: synced from Onfleet's workers, or kept in the console for the mock fleet."""

    __tablename__ = "logistics_drivers"
    __table_args__ = (UniqueConstraint("provider", "provider_id"),)

    provider: Mapped[str] = mapped_column(String(20))
    provider_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(40), default="")
    vehicle: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The latest position a provider reported, and when.
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    position_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)

    @property
    def first_name(self) -> str:
        """What a customer is told of their driver."""
        return (self.name or "").split(" ")[0]


class DeliveryTask(UUIDPrimaryKey, Timestamps, Base):
    """One pickup or drop-off of a booking, as sent to the dispatcher."""

    __tablename__ = "logistics_tasks"
    __table_args__ = (
        UniqueConstraint("provider", "provider_task_id"),
        UniqueConstraint("booking_id", "kind", "attempt"),
        # The dispatch board: a day's tasks in window order.
        Index("ix_logistics_tasks_window", "complete_after"),
    )

    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("bookings.id"), index=True)
    kind: Mapped[TaskKind] = mapped_column(value_enum(TaskKind))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[TaskStatus] = mapped_column(
        value_enum(TaskStatus), default=TaskStatus.CREATED, index=True
    )
    #: The address as it was sent: ``{street, unit, city, state, zip_code, instructions}``.
    address: Mapped[dict[str, Any]] = mapped_column(JSON)
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    recipient_phone: Mapped[str] = mapped_column(String(40), default="")
    complete_after: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    complete_before: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    driver_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("logistics_drivers.id"), default=None, index=True
    )
    #: Bumped when another driver takes the task: the "assigned" email's key.
    assignment: Mapped[int] = mapped_column(Integer, default=0)
    provider: Mapped[str] = mapped_column(String(20), default="")
    provider_task_id: Mapped[str | None] = mapped_column(String(100), default=None)
    tracking_url: Mapped[str] = mapped_column(String(500), default="")
    #: Why the task waits instead of being sent (a booking hold); empty when it may go.
    held_reason: Mapped[str] = mapped_column(Text, default="")
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: When dispatch of a cancelled task still has to reach the provider.
    cancel_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    eta: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: The provider time of the newest event applied: an older one never overrides it.
    last_event_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    arrived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    proof_photo: Mapped[str] = mapped_column(String(500), default="")
    proof_signature: Mapped[str] = mapped_column(String(500), default="")
    proof_notes: Mapped[str] = mapped_column(Text, default="")
    #: The day a van was taken for this attempt through ``totetaxi_reserve_capacity`` (a
    #: re-delivery after the pickup); given back if the attempt is rescheduled again.
    reserved_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    superseded_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("logistics_tasks.id"), default=None
    )

    #: Loaded by a second query, not joined: a task is read ``FOR UPDATE`` (dispatch, events,
    #: staff actions), which PostgreSQL refuses on the nullable side of an outer join.
    driver: Mapped[Driver | None] = relationship(lazy="selectin")

    @property
    def driver_name(self) -> str:
        """The driver's first name (what the customer's email and tracking show)."""
        return self.driver.first_name if self.driver is not None else ""

    @property
    def is_final(self) -> bool:
        return TaskStatus(self.status) in FINAL

    @property
    def on_time(self) -> bool | None:
        """Completed inside its window (``None`` until completed)."""
        if self.completed_at is None:
            return None
        return self.completed_at <= self.complete_before


class TrackingUpdate(UUIDPrimaryKey, AppendOnly, Base):
    """One thing that happened to a task, as the provider told it. Never changed afterwards.

    ``event_key`` is unique: the same provider event delivered twice (a retry, a replay, two
    concurrent deliveries) inserts one row, and only the delivery that inserted it applies it.
    """

    __tablename__ = "logistics_tracking_updates"
    __table_args__ = (Index("ix_logistics_tracking_updates_booking_at", "booking_id", "at"),)
    append_only_message = "Tracking updates are history: they are never changed or deleted."

    task_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("logistics_tasks.id"), index=True)
    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("bookings.id"))
    event_key: Mapped[str] = mapped_column(String(200), unique=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(String(500), default="")
    eta: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    driver_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    #: Did it change the task (``False``: a late or repeated fact, kept for the record)?
    applied: Mapped[bool] = mapped_column(Boolean, default=True)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
