"""Which plugins are installed in this database, and at which version."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow


class InstalledPlugin(Base):
    """One row per plugin (and one for ``core``) that ``totetaxi migrate`` installed."""

    __tablename__ = "installed_plugins"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[str] = mapped_column(String(50))
    installed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    upgraded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    seeded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
