"""Documents as the API answers them, a booking's list, and the staff search."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, or_, select
from totetaxi_core.plugin_api import (
    BOOKING_NUMBER,
    Booking,
    Context,
    Customer,
    local_midnight,
)

from ..models import Category, Document, DocumentStatus


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def document_json(document: Document, *, staff: bool = False) -> dict[str, Any]:
    """One document; staff also see who uploaded it, its key and what happened to its file."""
    coi = document.coi
    answer: dict[str, Any] = {
        "id": str(document.id),
        "booking_id": str(document.booking_id),
        "category": str(document.category),
        "status": str(document.status),
        "filename": document.filename,
        "content_type": document.content_type,
        "size": document.size,
        "sha256": document.sha256 or None,
        "uploaded_at": _iso(document.uploaded_at),
        "created_at": _iso(document.created_at),
        "available": document.purged_at is None
        and document.status not in (DocumentStatus.PENDING_UPLOAD, DocumentStatus.EXPIRED),
        "coi": (
            {
                "insurer": coi.insurer or None,
                "policy_number": coi.policy_number or None,
                "coverage_cents": coi.coverage_cents,
                "valid_from": _iso(coi.valid_from),
                "valid_to": _iso(coi.valid_to),
                "building_name": coi.building_name or None,
                "building_address": coi.building_address or None,
                "review_note": coi.review_note or None,
                "reviewed_at": _iso(coi.reviewed_at),
            }
            if coi is not None
            else None
        ),
    }
    if staff:
        answer.update(
            {
                "storage": document.storage,
                "storage_key": document.storage_key,
                "uploaded_by": {
                    "kind": document.uploaded_by_kind,
                    "id": str(document.uploaded_by_id) if document.uploaded_by_id else None,
                },
                "expires_at": _iso(document.expires_at),
                "purged_at": _iso(document.purged_at),
                "purge_reason": document.purge_reason or None,
            }
        )
    return answer


def documents_of(ctx: Context, booking_id: uuid.UUID) -> list[Document]:
    """A booking's documents, oldest first (soft-deleted ones left out)."""
    return list(
        ctx.dbsession.scalars(
            select(Document)
            .where(Document.booking_id == booking_id)
            .order_by(Document.created_at, Document.id)
        )
    )


FILTERS = ("q", "category", "status", "from", "to")


def search(params: Mapping[str, Any]) -> Select[Any]:
    """Documents matching the staff filters: ``q`` (a booking number, or words of the
    customer's or guest's name or email), ``category``, ``status``, ``from``/``to`` (the day the
    document was created, New York days, inclusive)."""
    statement = select(Document).join(Booking, Booking.id == Document.booking_id)
    q = str(params.get("q") or "").strip()
    if q:
        if BOOKING_NUMBER.fullmatch(q.upper()):
            statement = statement.where(Booking.number == q.upper())
        else:
            statement = statement.outerjoin(Customer, Customer.id == Booking.customer_id)
            for word in q.lower().split()[:5]:
                like = f"%{word.replace('%', '').replace('_', '')}%"
                statement = statement.where(
                    or_(
                        Customer.email.ilike(like),
                        Customer.first_name.ilike(like),
                        Customer.last_name.ilike(like),
                        Booking.guest_email.ilike(like),
                        Booking.guest_first_name.ilike(like),
                        Booking.guest_last_name.ilike(like),
                    )
                )
    if params.get("category"):
        statement = statement.where(Document.category == Category(params["category"]))
    if params.get("status"):
        statement = statement.where(Document.status == DocumentStatus(params["status"]))
    if params.get("from"):
        statement = statement.where(Document.created_at >= local_midnight(params["from"]))
    if params.get("to"):
        end: dt.date = params["to"]
        statement = statement.where(
            Document.created_at < local_midnight(end + dt.timedelta(days=1))
        )
    return statement
