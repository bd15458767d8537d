"""The CRM plugin's own table: staff's internal notes about a customer (append-only)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column
from totetaxi_core.plugin_api import AppendOnly, Base, UTCDateTime, UUIDPrimaryKey, utcnow


class CustomerNote(UUIDPrimaryKey, AppendOnly, Base):
    """One internal note on a customer, by a staff member. Never edited: a correction is a new
    note (the care history stays as it was written)."""

    __tablename__ = "crm_customer_notes"
    __table_args__ = (Index("ix_crm_customer_notes_customer_at", "customer_id", "at"),)
    append_only_message = "Customer notes are history: add a new note instead."

    customer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("customers.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    author_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    author_name: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
