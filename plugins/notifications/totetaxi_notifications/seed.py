"""Data loaded when the plugin is installed: the default email templates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .defaults import DEFAULTS
from .models import EmailTemplate


def seed(dbsession: Session, settings: dict[str, Any]) -> None:
    """Add the default template of every key that has none (never overwrites staff edits)."""
    existing = set(dbsession.scalars(select(EmailTemplate.key)))
    for default in DEFAULTS:
        if default.key not in existing:
            dbsession.add(default.row())
