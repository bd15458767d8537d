"""The documents' entries of a booking's or a customer's timeline (core hook
``totetaxi_timeline``): uploads and review decisions, newest first, two queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from .models import Document, ReviewDecision

LIMIT = 100


def entries(request: Any, booking: Any, customer: Any) -> list[dict[str, Any]]:
    db = request.dbsession
    documents = select(Document).order_by(Document.created_at.desc()).limit(LIMIT)
    if booking is not None:
        documents = documents.where(Document.booking_id == booking.id)
    else:
        documents = documents.where(Document.customer_id == customer.id)
    found: list[dict[str, Any]] = []
    shown = {}
    for document in db.scalars(documents):
        shown[document.id] = document
        found.append(
            {
                "at": document.uploaded_at or document.created_at,
                "kind": "document",
                "title": f"{str(document.category).upper()} {document.filename}: {document.status}",
                "detail": document.purge_reason or "",
                "source": "documents",
            }
        )
    if shown:
        decisions = db.scalars(
            select(ReviewDecision)
            .where(ReviewDecision.document_id.in_(list(shown)))
            .order_by(ReviewDecision.at.desc())
            .limit(LIMIT)
        )
        for decision in decisions:
            found.append(
                {
                    "at": decision.at,
                    "kind": "document",
                    "title": f"{shown[decision.document_id].filename} {decision.decision}",
                    "detail": decision.note,
                    "source": "documents",
                }
            )
    return found
