"""The documents' figure for the CRM dashboard (hook ``totetaxi_crm_figures``).

* ``coi_to_review``: COIs uploaded and waiting for a review now (not per period: a queue).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from .models import Category, Document, DocumentStatus


def figures(ctx: Any, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    waiting = ctx.dbsession.scalar(
        select(func.count())
        .select_from(Document)
        .where(
            Document.status == DocumentStatus.UPLOADED,
            Document.category == Category.COI,
            Document.deleted_at.is_(None),
        )
    )
    return {"coi_to_review": int(waiting or 0)}
