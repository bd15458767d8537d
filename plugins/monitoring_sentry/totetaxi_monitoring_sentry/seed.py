"""Data loaded once, when the plugin is first installed by ``totetaxi migrate``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .models import MonitoringSentryItem


def seed(dbsession: Session, settings: dict[str, Any]) -> None:
    """A first item, so that a new installation shows something."""
    item = MonitoringSentryItem(title="Welcome to Monitoring Sentry", status="processed")
    dbsession.add(item)
