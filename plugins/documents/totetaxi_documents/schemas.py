"""Colander schemas of the documents API."""

from __future__ import annotations

import colander
from totetaxi_core.plugin_api import (
    CleanString,
    IsoDate,
    OneOf,
    StrictInteger,
    flag,
    free,
    listing,
    moment,
    nullable,
    page_query,
    text,
    whole,
)

CATEGORIES = ("coi", "invoice", "receipt", "other")
STATUSES = ("pending_upload", "uploaded", "approved", "rejected", "expired")


class UploadBody(colander.MappingSchema):
    category = colander.SchemaNode(CleanString(), validator=OneOf(CATEGORIES))
    filename = colander.SchemaNode(CleanString(), validator=colander.Length(min=1, max=255))
    content_type = colander.SchemaNode(CleanString(), validator=colander.Length(max=100))
    size = colander.SchemaNode(StrictInteger(), validator=colander.Range(min=1))
    sha256 = colander.SchemaNode(CleanString(), validator=colander.Length(max=64), missing="")


class ReviewBody(colander.MappingSchema):
    decision = colander.SchemaNode(CleanString(), validator=OneOf(("approved", "rejected")))
    note = colander.SchemaNode(CleanString(), validator=colander.Length(max=1000), missing="")
    insurer = colander.SchemaNode(
        CleanString(), validator=colander.Length(max=200), missing=colander.drop
    )
    policy_number = colander.SchemaNode(
        CleanString(), validator=colander.Length(max=100), missing=colander.drop
    )
    coverage_cents = colander.SchemaNode(
        StrictInteger(), validator=colander.Range(0, 10**12), missing=colander.drop
    )
    valid_from = colander.SchemaNode(IsoDate(), missing=colander.drop)
    valid_to = colander.SchemaNode(IsoDate(), missing=colander.drop)
    building_name = colander.SchemaNode(
        CleanString(), validator=colander.Length(max=200), missing=colander.drop
    )
    building_address = colander.SchemaNode(
        CleanString(), validator=colander.Length(max=300), missing=colander.drop
    )


SEARCH_QUERY = page_query(
    q=colander.SchemaNode(CleanString(), validator=colander.Length(max=100), missing=colander.drop),
    category=colander.SchemaNode(CleanString(), validator=OneOf(CATEGORIES), missing=colander.drop),
    status=colander.SchemaNode(CleanString(), validator=OneOf(STATUSES), missing=colander.drop),
    **{
        "from": colander.SchemaNode(IsoDate(), missing=colander.drop),
        "to": colander.SchemaNode(IsoDate(), missing=colander.drop),
    },
)


class UploadForm(colander.MappingSchema):
    url = text()
    fields = free()
    expires_in = whole()


class StartedUploadOut(colander.MappingSchema):
    document_id = text()
    upload = UploadForm()


class CoiOut(colander.MappingSchema):
    insurer = text(null=True)
    policy_number = text(null=True)
    coverage_cents = whole(null=True)
    valid_from = text(null=True)
    valid_to = text(null=True)
    building_name = text(null=True)
    building_address = text(null=True)
    review_note = text(null=True)
    reviewed_at = moment(null=True)


class DocumentOut(colander.MappingSchema):
    """A document (staff also get storage, uploader and purge facts)."""

    id = text()
    booking_id = text()
    category = text(validator=colander.OneOf(CATEGORIES))
    status = text(validator=colander.OneOf(STATUSES))
    filename = text()
    content_type = text()
    size = whole()
    sha256 = text(null=True)
    uploaded_at = moment(null=True)
    created_at = moment(null=True)
    available = flag()
    coi = nullable(CoiOut())


class CoiRequirementOut(colander.MappingSchema):
    required = flag()
    satisfied = flag()
    missing = text(null=True)


class BookingDocumentsOut(colander.MappingSchema):
    items = listing(DocumentOut())
    coi = CoiRequirementOut()
