from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from totetaxi_core.plugin_api import Base, SoftDelete, Timestamps, UUIDPrimaryKey


class ExampleNote(UUIDPrimaryKey, Timestamps, SoftDelete, Base):
    __tablename__ = "example_notes"

    text: Mapped[str] = mapped_column(String(500))


class ExampleTaskRun(UUIDPrimaryKey, Timestamps, Base):
    """One row per run of the example task: tests count them."""

    __tablename__ = "example_task_runs"

    note_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("example_notes.id", ondelete="CASCADE")
    )
    label: Mapped[str] = mapped_column(String(100))


class ExampleCounter(Base):
    """A named counter, incremented under SERIALIZABLE isolation to provoke retries."""

    __tablename__ = "example_counters"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
