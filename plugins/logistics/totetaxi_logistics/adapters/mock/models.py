"""The mock fleet's side of things: the tasks it was sent, as a provider would hold them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from totetaxi_core.plugin_api import Base, UTCDateTime, utcnow


class MockFleetTask(Base):
    """One task at the simulated provider (what Onfleet would hold for us)."""

    __tablename__ = "logistics_mock_tasks"

    provider_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    reference: Mapped[str] = mapped_column(String(100), index=True)
    state: Mapped[str] = mapped_column(String(20), default="created")
    #: Every move of the task counts one: its events' keys, unique even when a state comes back
    #: (unassigned, then the same driver again).
    steps: Mapped[int] = mapped_column(Integer, default=0)
    driver_id: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The request as sent (kind, booking number, window, place).
    request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
