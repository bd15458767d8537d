"""Staff decide on a document: approved or rejected, with a note; a COI's details with it.

Every decision is appended to ``documents_reviews`` (append-only, also in the database); the
document's status is the latest decision. ``totetaxi_document_reviewed`` fires in the same
transaction (notifications email a rejected COI; logistics sends a booking an approval
released).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from totetaxi_core.plugin_api import (
    Booking,
    Context,
    Refused,
    booking_event,
    publish_live,
    record_audit,
)

from ..models import Category, CoiDetails, Document, DocumentStatus, ReviewDecision

#: The dates a certificate may name (a typo like 0026 or 9999 is refused, not stored).
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
REVIEWABLE = (DocumentStatus.UPLOADED, DocumentStatus.APPROVED, DocumentStatus.REJECTED)
COI_FIELDS = (
    "insurer",
    "policy_number",
    "coverage_cents",
    "valid_from",
    "valid_to",
    "building_name",
    "building_address",
)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def review(
    ctx: Context,
    document: Document,
    decision: str,
    note: str = "",
    details: dict[str, Any] | None = None,
) -> Document:
    """Record ``decision`` (``approved`` or ``rejected``) on ``document``."""
    if document.status not in REVIEWABLE or document.purged_at is not None:
        raise Refused(409, "status", f"A {document.status} document cannot be reviewed.")
    details = {k: v for k, v in (details or {}).items() if k in COI_FIELDS}
    coi = document.coi
    if document.category == Category.COI:
        if coi is None:
            coi = CoiDetails(document_id=document.id)
            ctx.dbsession.add(coi)
            document.coi = coi
        for name, value in details.items():
            setattr(coi, name, value)
        for name in ("valid_from", "valid_to"):
            day = getattr(coi, name)
            if day is not None and not EARLIEST <= day <= LATEST:
                raise Refused(400, name, f"Enter a date between {EARLIEST} and {LATEST}.")
        if decision == "approved":
            if coi.valid_from is None or coi.valid_to is None:
                raise Refused(
                    400, "valid_to", "Enter the dates the certificate covers before approving it."
                )
            if coi.valid_to < coi.valid_from:
                raise Refused(400, "valid_to", "The certificate cannot end before it starts.")
        coi.review_note = note
        coi.reviewer_id = getattr(ctx.actor, "id", None)
        coi.reviewed_at = ctx.now()
    elif details:
        raise Refused(
            400, next(iter(details)), "Only a certificate of insurance has insurance details."
        )
    before = str(document.status)
    document.status = DocumentStatus(decision)
    ctx.dbsession.add(
        ReviewDecision(
            document_id=document.id,
            at=ctx.now(),
            decision=decision,
            note=note,
            reviewer_id=getattr(ctx.actor, "id", None),
            details={k: _jsonable(getattr(coi, k)) for k in COI_FIELDS} if coi else {},
        )
    )
    record_audit(
        ctx,
        f"documents.{decision}",
        target_type="document",
        target_id=document.id,
        before={"status": before},
        after={"status": decision, "note": note},
    )
    ctx.dbsession.flush()
    booking = ctx.dbsession.get(Booking, document.booking_id)
    if booking is None:  # its booking was deleted: nothing to tell anybody
        return document
    facts = {"document_id": str(document.id), "category": str(document.category)}
    publish_live(ctx, booking_event("document.reviewed", booking, {**facts, "decision": decision}))
    ctx.call_hook(
        "totetaxi_document_reviewed", document=document, booking=booking, decision=decision
    )
    return document
