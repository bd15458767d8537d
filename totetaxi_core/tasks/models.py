"""The transactional outbox's table."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Enum, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, Timestamps, UTCDateTime, UUIDPrimaryKey


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # written in a committed transaction, not yet handed to the broker
    SENT = "sent"  # handed to the broker
    DONE = "done"  # the task ran and committed
    FAILED = "failed"  # gave up after totetaxi.outbox_max_attempts runs


class OutboxMessage(UUIDPrimaryKey, Timestamps, Base):
    """A background task queued by a transaction; its id is the Celery task id."""

    __tablename__ = "outbox_messages"

    task: Mapped[str] = mapped_column(String(200))
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(
            OutboxStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=OutboxStatus.PENDING,
        index=True,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sends: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.task} {self.status}>"
