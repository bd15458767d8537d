"""The append-only audit log."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, synonym

from ..db import Base, UTCDateTime, UUIDPrimaryKey, utcnow
from ..db.append_only import AppendOnly


class AuditRecord(AppendOnly, UUIDPrimaryKey, Base):
    """Who did what to which object, with the values before and after.

    Append-only: the ORM refuses to update or delete one, and database triggers (both
    backends) refuse it too, so no code path can rewrite history.
    """

    __tablename__ = "audit_records"
    append_only_message = "audit records are append-only: they cannot change or go"

    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_kind: Mapped[str] = mapped_column(String(20))  # staff, customer, system
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None, index=True)
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(100), index=True)
    target_type: Mapped[str] = mapped_column(String(60))
    target_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client_addr: Mapped[str] = mapped_column(String(64), default="")
    request_id: Mapped[str] = mapped_column(String(64), default="")

    #: ``at`` under the name keyset pagination orders by (no column of its own).
    created_at = synonym("at")
