"""The mock gateway's one table: its objects and the first answers to idempotency keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from totetaxi_core.plugin_api import Base, Timestamps


class MockObject(Timestamps, Base):
    """One object of the mock gateway (intent, customer, card, setup intent, refund) or the
    first answer to an idempotency key."""

    __tablename__ = "payments_mock_objects"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
