from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .models import ExampleNote


def seed(dbsession: Session, settings: dict[str, Any]) -> None:
    dbsession.add(ExampleNote(text="Welcome note (seed)"))
