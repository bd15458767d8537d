"""Documents of bookings, their COI details, and the append-only history of review decisions.

A document's storage key is chosen here (``documents/<booking>/<uuid>``), never from the file
name a client sent; the original name is kept for display and the download's header only.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from totetaxi_core.plugin_api import (
    AppendOnly,
    Base,
    SoftDelete,
    Timestamps,
    UTCDateTime,
    UUIDPrimaryKey,
    utcnow,
    value_enum,
)


class Category(enum.StrEnum):
    COI = "coi"
    INVOICE = "invoice"
    RECEIPT = "receipt"
    OTHER = "other"


class DocumentStatus(enum.StrEnum):
    PENDING_UPLOAD = "pending_upload"
    UPLOADED = "uploaded"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Document(UUIDPrimaryKey, Timestamps, SoftDelete, Base):
    """One file of a booking."""

    __tablename__ = "documents"
    __table_args__ = (
        # Search and the review queue: newest first within filters, keyset-paged.
        Index("ix_documents_created_at_id", "created_at", "id"),
        Index("ix_documents_status_category", "status", "category"),
    )

    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("bookings.id"), index=True)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("customers.id"), default=None, index=True
    )
    category: Mapped[Category] = mapped_column(value_enum(Category))
    status: Mapped[DocumentStatus] = mapped_column(
        value_enum(DocumentStatus), default=DocumentStatus.PENDING_UPLOAD
    )
    storage: Mapped[str] = mapped_column(String(20))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    #: Declared when the upload starts; the stored object's own size once checked.
    size: Mapped[int] = mapped_column(BigInteger)
    #: Hex SHA-256 of the stored bytes (``declared_sha256`` is what the client promised, if it did).
    sha256: Mapped[str] = mapped_column(String(64), default="")
    declared_sha256: Mapped[str] = mapped_column(String(64), default="")
    uploaded_by_kind: Mapped[str] = mapped_column(String(20))
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    uploaded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: When a pending upload lapses; for a stored file, when it is deleted (retention).
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: When the stored object was removed (expired, refused or past retention): the row stays.
    purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    purge_reason: Mapped[str] = mapped_column(String(200), default="")

    coi: Mapped[CoiDetails | None] = relationship(
        back_populates="document", uselist=False, lazy="selectin"
    )

    @property
    def upload_key(self) -> str:
        """Where the browser's form puts the file. Only the checked copy at ``storage_key`` is
        ever served: a form reused after ``complete`` cannot replace a checked file."""
        return f"uploads/{self.storage_key.removeprefix('documents/')}"

    @property
    def expires_on(self) -> dt.date | None:
        """For a COI, the last day it covers (what the coi emails show)."""
        return self.coi.valid_to if self.coi is not None else None

    @property
    def review_note(self) -> str:
        return self.coi.review_note if self.coi is not None else ""


class CoiDetails(Timestamps, Base):
    """What a certificate of insurance says, entered or corrected by the reviewer."""

    __tablename__ = "documents_coi"

    document_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("documents.id"), primary_key=True
    )
    insurer: Mapped[str] = mapped_column(String(200), default="")
    policy_number: Mapped[str] = mapped_column(String(100), default="")
    coverage_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
    valid_from: Mapped[dt.date | None] = mapped_column(Date, default=None)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, default=None)
    building_name: Mapped[str] = mapped_column(String(200), default="")
    building_address: Mapped[str] = mapped_column(String(300), default="")
    reviewer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    review_note: Mapped[str] = mapped_column(Text, default="")

    document: Mapped[Document] = relationship(back_populates="coi")


class ReviewDecision(UUIDPrimaryKey, AppendOnly, Base):
    """One review decision; the document's status is the latest, this is every one."""

    __tablename__ = "documents_reviews"
    append_only_message = "Review decisions are history: they are never changed or deleted."

    document_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("documents.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decision: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    #: The COI's details as they were decided on.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CoiAttention(UUIDPrimaryKey, Base):
    """A ``coi_attention`` already fired for a booking (``missing``) or a COI (``expiring``):
    the periodic check fires each once."""

    __tablename__ = "documents_coi_attention"
    __table_args__ = (Index("uq_documents_coi_attention", "booking_id", "reason", unique=True),)

    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("bookings.id"))
    #: ``missing`` (the booking has no approved COI), ``expiring:<document id>``.
    reason: Mapped[str] = mapped_column(String(60))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
