"""Clean-up: uploads never completed, and files past retention (the periodic
``documents.purge``). The stored object is deleted; the row stays, with why and when, so the
booking's history still says a document was there."""

from __future__ import annotations

import logging

from sqlalchemy import select
from totetaxi_core.plugin_api import Context, utcnow

from ..interfaces import StorageError
from ..models import Document, DocumentStatus
from .storage import storage

log = logging.getLogger("totetaxi.documents")


def purge_due(ctx: Context, limit: int = 500) -> int:
    """Expire and delete what is due; returns how many objects were removed. A storage error
    leaves the row for the next run."""
    now = utcnow()
    due = ctx.dbsession.scalars(
        select(Document)
        .where(
            Document.purged_at.is_(None),
            Document.expires_at.is_not(None),
            Document.expires_at <= now,
        )
        .order_by(Document.expires_at)
        .limit(limit)
        # A row a complete or a review holds is left for the next run, not overwritten.
        .with_for_update(skip_locked=True)
        .execution_options(include_deleted=True)
    )
    provider = storage(ctx)
    removed = 0
    for document in due:
        try:
            provider.delete(document.storage_key)
            provider.delete(document.upload_key)  # a form reused after complete, or never done
        except StorageError as exc:
            log.warning("could not delete %s (%s); next run", document.storage_key, exc)
            continue
        reason = (
            "upload never completed"
            if document.status == DocumentStatus.PENDING_UPLOAD
            else "past retention"
        )
        if document.status == DocumentStatus.EXPIRED and document.purge_reason:
            reason = document.purge_reason  # refused earlier; its object is gone only now
        document.status = DocumentStatus.EXPIRED
        document.purged_at = now
        document.purge_reason = reason[:200]
        removed += 1
    return removed
