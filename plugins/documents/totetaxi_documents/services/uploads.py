"""Uploading a document in two steps, and downloading one.

1. :func:`start_upload` records a ``pending_upload`` document under a key chosen here and
   answers the storage's presigned form for its upload key, bounded in size and content type.
2. The browser posts the file straight to the storage.
3. :func:`complete_upload` checks what was stored — the size against what was declared and the
   limit, the SHA-256 against the declared one (when given), the first bytes against the
   declared type — copies the checked bytes to the document's own key (no form names it, so a
   form reused within its validity cannot replace a checked file) and marks it ``uploaded``; a
   stored object that fails is deleted and the document expired, so nothing unchecked stays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid

from sqlalchemy import func, select
from totetaxi_core.plugin_api import (
    Booking,
    Context,
    booking_event,
    local_midnight,
    publish_live,
    record_audit,
    staff_event,
    utcnow,
)

from ..disposition import safe_name
from ..interfaces import PresignedUpload, StorageError
from ..models import Category, Document, DocumentStatus
from .storage import storage

#: The types a document may have, and the bytes such a file starts with.
MAGIC: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
#: The extension a file name of each type may have (a PNG named ``.pdf`` is refused).
EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
}
SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: Bookings that take no new document.
CLOSED = frozenset({"cancelled", "completed"})
#: Unfinished uploads a booking may have at once (each holds a form for a file).
MAX_PENDING = 10


class UploadRefused(Exception):
    """The request or the stored file breaks a rule: a 4xx naming ``field``."""

    #: Whether the transaction keeps what was written before the refusal (a refused stored
    #: file: its document is expired, its object deleted — that must not roll back).
    keep_changes = False

    def __init__(self, status: int, field: str, description: str) -> None:
        super().__init__(description)
        self.status, self.field, self.description = status, field, description


class StoredFileRefused(UploadRefused):
    """The stored file failed a check: it was deleted and its document expired."""

    keep_changes = True


def _actor(ctx: Context) -> tuple[str, uuid.UUID | None]:
    actor = ctx.actor
    return str(getattr(actor, "kind", "guest")), getattr(actor, "id", None)


def start_upload(
    ctx: Context,
    booking: Booking,
    *,
    category: str,
    filename: str,
    content_type: str,
    size: int,
    sha256: str = "",
) -> tuple[Document, PresignedUpload]:
    """A pending document and the form that uploads its file."""
    settings = ctx.settings
    if str(booking.status) in CLOSED:
        raise UploadRefused(409, "booking", f"A {booking.status} booking takes no new documents.")
    pending = ctx.dbsession.scalar(
        select(func.count()).where(
            Document.booking_id == booking.id,
            Document.status == DocumentStatus.PENDING_UPLOAD,
        )
    )
    if pending >= MAX_PENDING:
        raise UploadRefused(
            429, "booking", f"{MAX_PENDING} uploads of this booking are unfinished; complete them."
        )
    limit = settings["documents.max_upload_bytes"]
    content_type = content_type.strip().lower()
    if content_type not in MAGIC:
        raise UploadRefused(415, "content_type", "Upload a PDF, PNG or JPEG file.")
    if size < 1 or size > limit:
        raise UploadRefused(
            413, "size", f"A document is at most {limit // (1024 * 1024)} MB ({limit} bytes)."
        )
    name = safe_name(filename)
    if not name.lower().endswith(EXTENSIONS[content_type]):
        raise UploadRefused(
            400,
            "filename",
            f"The file name does not match its type ({content_type}): "
            f"expected {' or '.join(EXTENSIONS[content_type])}.",
        )
    if sha256 and not SHA256.match(sha256.lower()):
        raise UploadRefused(400, "sha256", "Give the file's SHA-256 as 64 hexadecimal digits.")
    provider = storage(ctx)
    document_id = uuid.uuid4()
    key = f"documents/{booking.id}/{document_id}"  # never the client's name: no path in it
    expires_in = settings["documents.upload_expires_seconds"]
    kind, actor_id = _actor(ctx)
    document = Document(
        id=document_id,
        booking_id=booking.id,
        customer_id=booking.customer_id,
        category=Category(category),
        status=DocumentStatus.PENDING_UPLOAD,
        storage=provider.name,
        storage_key=key,
        filename=name,
        content_type=content_type,
        size=size,
        declared_sha256=sha256.lower(),
        uploaded_by_kind=kind,
        uploaded_by_id=actor_id,
        expires_at=utcnow() + dt.timedelta(hours=settings["documents.pending_hours"]),
    )
    ctx.dbsession.add(document)
    # The form allows exactly the declared size at most: a storage that enforces it (S3,
    # local) refuses a larger file at once; complete checks anyway.
    form = provider.presign_upload(
        document.upload_key, content_type=content_type, max_size=size, expires_in=expires_in
    )
    return document, form


def _refuse(
    ctx: Context, document: Document, field: str, description: str, status: int = 422
) -> None:
    """Delete what was stored, expire the document, and answer the refusal."""
    try:
        storage(ctx).delete(document.upload_key)
    except StorageError:
        pass  # the clean-up task deletes it later (purged_at stays empty until then)
    else:
        document.purged_at = utcnow()
    document.status = DocumentStatus.EXPIRED
    document.purge_reason = f"refused: {description}"[:200]
    raise StoredFileRefused(status, field, description)


def complete_upload(ctx: Context, document: Document, booking: Booking) -> Document:
    """Check the stored file and mark the document ``uploaded`` (see the module's steps)."""
    if document.status != DocumentStatus.PENDING_UPLOAD:
        raise UploadRefused(409, "status", f"This document is {document.status} already.")
    if document.expires_at is not None and document.expires_at <= utcnow():
        raise UploadRefused(409, "document", "This upload expired; start a new one.")
    provider = storage(ctx)
    stored = provider.head(document.upload_key)
    if stored is None:
        raise UploadRefused(409, "file", "No file was uploaded for this document yet.")
    limit = ctx.settings["documents.max_upload_bytes"]
    # What was stored decides, not what the storage promised to enforce.
    if stored.size > limit:
        _refuse(ctx, document, "size", f"The file is larger than {limit} bytes.", 413)
    if stored.size != document.size:
        _refuse(ctx, document, "size", "The file's size is not the one declared.")
    data = provider.read(document.upload_key, limit + 1)
    if len(data) != stored.size:
        _refuse(ctx, document, "size", "The stored file could not be read whole.")
    if not data.startswith(MAGIC[document.content_type]):
        _refuse(
            ctx,
            document,
            "content_type",
            f"The file is not a {document.content_type} file (its content says otherwise).",
            415,
        )
    digest = hashlib.sha256(data).hexdigest()
    if document.declared_sha256 and digest != document.declared_sha256:
        _refuse(ctx, document, "sha256", "The file's SHA-256 is not the one declared.")
    # The checked bytes go to the final key, which no form names; the upload is dropped.
    provider.put(document.storage_key, data, content_type=document.content_type)
    provider.delete(document.upload_key)
    document.sha256 = digest
    document.size = stored.size
    document.status = DocumentStatus.UPLOADED
    document.uploaded_at = utcnow()
    retention = dt.timedelta(days=ctx.settings["documents.retention_days"])
    document.expires_at = local_midnight(booking.pickup_date) + retention
    facts = {"document_id": str(document.id), "category": str(document.category)}
    publish_live(ctx, booking_event("document.uploaded", booking, facts))
    if document.category == Category.COI:  # staff's review is now awaited
        facts = {**facts, "kind": "coi_review", "number": booking.number}
        publish_live(ctx, staff_event("actions.pending", facts))
    return document


def download_url(ctx: Context, document: Document, *, staff: bool) -> str:
    """A short-lived URL to the file; a staff download is audited."""
    if document.purged_at is not None or document.status in (
        DocumentStatus.PENDING_UPLOAD,
        DocumentStatus.EXPIRED,
    ):
        raise UploadRefused(409, "document", "This document's file is no longer available.")
    url = storage(ctx).presign_download(
        document.storage_key,
        filename=document.filename,
        content_type=document.content_type,
        expires_in=ctx.settings["documents.download_expires_seconds"],
    )
    if staff:
        record_audit(
            ctx,
            "documents.downloaded",
            target_type="document",
            target_id=document.id,
            after={"filename": document.filename, "booking_id": str(document.booking_id)},
        )
    return url
