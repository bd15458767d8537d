"""The documents API of API.md.

* ``POST /bookings/{id}/documents/uploads`` — a pending document and its presigned upload
  (customers to their own bookings, guests with ``?token=``, staff to any);
* ``POST /bookings/{id}/documents/{doc_id}/complete`` — the stored file checked, ``uploaded``;
* ``GET /bookings/{id}/documents`` — the booking's documents and what its COI gate needs;
* ``GET /documents/{id}/download`` — 302 to a short-lived URL (a staff download is audited);
* ``POST /staff/documents/{id}/review`` — approve or reject, with a COI's details;
* ``GET /staff/documents`` — search, keyset-paged.
"""

from __future__ import annotations

import uuid
from typing import Any

from cornice import Service
from cornice.validators import colander_body_validator, colander_validator
from pyramid.authorization import DENY_ALL, Allow, Everyone
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPFound
from pyramid.request import Request
from pyramid.response import Response
from totetaxi_core.plugin_api import (
    API_PREFIX,
    Booking,
    BookingContext,
    Permission,
    answers,
    get_or_404,
    json_error,
    keyset_page,
    page_of,
    token_matches,
)
from totetaxi_core.plugin_api import BOOKING_ACT as ACT
from totetaxi_core.plugin_api import BOOKING_READ as READ

from . import services
from .interfaces import StorageError
from .models import Document
from .permissions import REVIEW
from .schemas import (
    SEARCH_QUERY,
    BookingDocumentsOut,
    DocumentOut,
    ReviewBody,
    StartedUploadOut,
    UploadBody,
)
from .services.review import EARLIEST, LATEST


class DocumentContext(BookingContext):
    """A document: whoever may read its booking may read it (its customer, the guest with the
    booking's token, staff); 404 to everyone else, as for the booking."""

    noun = "document"

    def __init__(self, request: Request) -> None:
        self.request = request
        try:
            key = uuid.UUID(request.matchdict.get("id", ""))
        except ValueError:
            raise self.not_found() from None
        document = request.dbsession.get(Document, key)
        if document is None or document.deleted_at is not None:
            raise self.not_found()
        booking = request.dbsession.get(Booking, document.booking_id)
        if booking is None or booking.deleted_at is not None:
            raise self.not_found()
        self.document, self.obj = document, booking
        acl: list[Any] = [(Allow, "role:viewer", READ)]
        if booking.customer_id is not None:
            acl.append((Allow, f"customer:{booking.customer_id}", READ))
        if token_matches(booking, request.GET.get("token")):
            acl.append((Allow, Everyone, READ))
        self.__acl__ = [*acl, DENY_ALL]


uploads = Service(
    name="booking_document_uploads",
    path=API_PREFIX + "/bookings/{id}/documents/uploads",
    factory=BookingContext,
    description="Start an upload to a booking",
)
complete = Service(
    name="booking_document_complete",
    path=API_PREFIX + "/bookings/{id}/documents/{doc_id}/complete",
    factory=BookingContext,
)
booking_documents = Service(
    name="booking_documents", path=API_PREFIX + "/bookings/{id}/documents", factory=BookingContext
)
download = Service(
    name="document_download",
    path=API_PREFIX + "/documents/{id}/download",
    factory=DocumentContext,
)
review = Service(name="staff_document_review", path=API_PREFIX + "/staff/documents/{id}/review")
staff_documents = Service(name="staff_documents", path=API_PREFIX + "/staff/documents")


def _is_staff(request: Request) -> bool:
    identity = request.identity
    return identity is not None and identity.is_staff


@uploads.post(
    schema=UploadBody(),
    validators=(colander_body_validator,),
    permission=ACT,
    response_schemas=answers(
        201,
        StartedUploadOut(),
        "The pending document and the form that uploads its file.",
        errors={413: "Too large.", 415: "Not a PDF, PNG or JPEG."},
    ),
)
def start_view(request: Request) -> dict[str, Any]:
    body = request.validated
    document, form = services.start_upload(
        request.ctx,
        request.context.obj,
        category=body["category"],
        filename=body["filename"],
        content_type=body["content_type"],
        size=body["size"],
        sha256=body.get("sha256", ""),
    )
    request.response.status_code = 201
    return {
        "document_id": str(document.id),
        "upload": {"url": form.url, "fields": form.fields, "expires_in": form.expires_in},
    }


@complete.post(
    permission=ACT,
    response_schemas=answers(
        200,
        DocumentOut(),
        "The document, uploaded.",
        errors={
            409: "Already completed, expired, or no file stored yet.",
            413: "The stored file is too large (it was deleted).",
            415: "The stored file is not of its type (it was deleted).",
            422: "The stored file is not the one declared (it was deleted).",
        },
    ),
)
def complete_view(request: Request) -> dict[str, Any]:
    booking = request.context.obj
    try:
        key = uuid.UUID(request.matchdict["doc_id"])
    except ValueError:
        key = None
    document = request.dbsession.get(Document, key, with_for_update=True) if key else None
    if document is None or document.booking_id != booking.id or document.deleted_at:
        return json_error(request, 404, "doc_id", "No such document on this booking.", "path")
    services.complete_upload(request.ctx, document, booking)
    return services.document_json(document, staff=_is_staff(request))


@booking_documents.get(
    permission=READ,
    response_schemas=answers(200, BookingDocumentsOut(), "The booking's documents."),
)
def list_view(request: Request) -> dict[str, Any]:
    booking = request.context.obj
    staff = _is_staff(request)
    return {
        "items": [
            services.document_json(d, staff=staff)
            for d in services.documents_of(request.ctx, booking.id)
        ],
        "coi": services.coi_requirement(request.ctx, booking),
    }


@download.get(
    permission=READ,
    response_schemas=answers(
        200,
        DocumentOut(),
        "A 302 to the file's short-lived URL.",
        errors={409: "Its file is no longer kept."},
    ),
)
def download_view(request: Request) -> Response:
    document = request.context.document
    url = services.download_url(request.ctx, document, staff=_is_staff(request))
    response = HTTPFound(location=url)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@review.post(
    schema=ReviewBody(),
    validators=(colander_body_validator,),
    permission=REVIEW,
    response_schemas=answers(
        200, DocumentOut(), "The document, decided.", errors={409: "Not reviewable."}
    ),
)
def review_view(request: Request) -> dict[str, Any]:
    document = get_or_404(request.dbsession, Document, request.matchdict["id"], lock=True)
    body = dict(request.validated)
    decision, note = body.pop("decision"), body.pop("note", "")
    services.review(request.ctx, document, decision, note, body)
    return services.document_json(document, staff=True)


@staff_documents.get(
    schema=SEARCH_QUERY,
    validators=(colander_validator,),
    permission=Permission.STAFF_READ,
    response_schemas=answers(200, page_of(DocumentOut()), "Documents, newest first."),
)
def search_view(request: Request) -> dict[str, Any]:
    query = request.validated["querystring"]
    for name in ("from", "to"):
        if name in query and not EARLIEST <= query[name] <= LATEST:
            return json_error(
                request, 400, name, f"Pick a day between {EARLIEST} and {LATEST}.", "querystring"
            )
    if query.get("from") and query.get("to") and query["from"] > query["to"]:
        return json_error(request, 400, "from", "from must not be after to.", "querystring")
    statement = services.search(query)
    return keyset_page(
        request,
        request.dbsession,
        statement,
        Document,
        lambda d: services.document_json(d, staff=True),
    )


def refused_view(exc: services.UploadRefused, request: Request) -> Response:
    response = json_error(request, exc.status, exc.field, exc.description)
    if exc.keep_changes:
        # The refused file's object is deleted and its document expired: keep that record.
        response.headers["x-tm"] = "commit"
    return response


def storage_view(exc: StorageError, request: Request) -> Response:
    response = json_error(request, 503, "storage", f"The file storage did not answer ({exc}).")
    response.headers["Retry-After"] = "5"
    return response


def includeme(config: Configurator) -> None:
    config.add_exception_view(refused_view, context=services.UploadRefused)
    config.add_exception_view(storage_view, context=StorageError)
    config.scan(__name__)
