"""The tables of the 'monitoring_sentry' plugin, on the core's declarative ``Base``.

One metadata holds every plugin's tables and the core's. A change here needs a migration:
``totetaxi revision monitoring_sentry -m "what changed"`` writes it on this plugin's
Alembic branch.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column
from totetaxi_core.plugin_api import Base, SoftDelete, Timestamps, UUIDPrimaryKey


class MonitoringSentryItem(UUIDPrimaryKey, Timestamps, SoftDelete, Base):
    """One item; ``status`` moves from ``new`` to ``processed`` when its task has run."""

    # Prefixed by the plugin name: every plugin's tables share one database.
    __tablename__ = "monitoring_sentry_items"

    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="new")
