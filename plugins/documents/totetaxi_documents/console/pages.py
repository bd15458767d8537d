"""The review queue, the document search and the review form (see the package's docstring)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select
from totetaxi_core.plugin_api import (
    Booking,
    Customer,
    FieldError,
    InvalidDraft,
    MoneyInputError,
    Permission,
    Refused,
    get_or_404,
    keyset_page,
    local_today,
    parse_date,
    parse_money,
    render_booking_page,
    text_field,
)

from .. import services
from ..models import Category, CoiDetails, Document, DocumentStatus
from ..permissions import REVIEW
from ..schemas import CATEGORIES, STATUSES
from ..services.review import EARLIEST, LATEST
from . import MESSAGES, QUEUE, SEARCH

#: The review form's fields, as posted (``coverage`` in dollars).
FORM_FIELDS = (
    "decision",
    "note",
    "insurer",
    "policy_number",
    "coverage",
    "valid_from",
    "valid_to",
    "building_name",
    "building_address",
)
_note = text_field(1000, required=False, multiline=True)
_TEXTS = {
    "insurer": (text_field(200, required=False), "Insurer"),
    "policy_number": (text_field(100, required=False), "Policy number"),
    "building_name": (text_field(200, required=False), "Building name"),
    "building_address": (text_field(300, required=False), "Building address"),
}
_DATES = {"valid_from": "Valid from", "valid_to": "Valid to"}
#: The API's bound on a COI's coverage (``ReviewBody.coverage_cents``): $10 billion.
MAX_COVERAGE_CENTS = 10**12


class Failed:
    """A refused review form: its document, what was typed, the message by field (``""``: the
    form as a whole)."""

    def __init__(
        self, document_id: str, submitted: Mapping[str, str], errors: dict[str, str]
    ) -> None:
        self.document_id = document_id
        self.submitted, self.errors = dict(submitted), errors


def name_of(booking: Booking, customer: Customer | None) -> str:
    if customer is not None:
        return customer.display_name
    guest = f"{booking.guest_first_name} {booking.guest_last_name}".strip()
    return guest or booking.guest_email or "—"


def customers_of(request: Request, bookings: Iterable[Booking]) -> dict[uuid.UUID, Customer]:
    ids = {b.customer_id for b in bookings if b.customer_id is not None}
    if not ids:
        return {}
    return {
        c.id: c for c in request.dbsession.scalars(select(Customer).where(Customer.id.in_(ids)))
    }


def download_path(request: Request, document: Document) -> str | None:
    """The API's download (302 to a short-lived URL; a staff download is audited), or ``None``
    when the file is not kept."""
    if document.purged_at is not None or document.status in (
        DocumentStatus.PENDING_UPLOAD,
        DocumentStatus.EXPIRED,
    ):
        return None
    return request.route_path("document_download", id=str(document.id))


def form_values(document: Document) -> dict[str, str]:
    """The review form's values for a document not yet refused (its COI's details, if any)."""
    coi: CoiDetails | None = document.coi
    if coi is None:
        return {}
    return {
        "insurer": coi.insurer,
        "policy_number": coi.policy_number,
        "coverage": f"{coi.coverage_cents / 100:.2f}" if coi.coverage_cents is not None else "",
        "valid_from": coi.valid_from.isoformat() if coi.valid_from else "",
        "valid_to": coi.valid_to.isoformat() if coi.valid_to else "",
        "building_name": coi.building_name,
        "building_address": coi.building_address,
        "note": coi.review_note,
    }


# --- the queue ------------------------------------------------------------------------------------


def render_queue(
    request: Request, *, failed: Failed | None = None, status: int = 200
) -> dict[str, Any]:
    """What ``review.jinja2`` shows: the uploaded COIs, soonest pickup first, and the high-value
    bookings (confirmed, upcoming) without an approved COI covering their day."""
    db = request.dbsession
    today = local_today(request.ctx.now())
    found = db.execute(
        select(Document, Booking)
        .join(Booking, Booking.id == Document.booking_id)
        .where(Document.status == DocumentStatus.UPLOADED, Document.category == Category.COI)
        .order_by(Booking.pickup_date, Document.uploaded_at, Document.id)
        .limit(500)
    ).all()
    missing = list(
        db.scalars(
            select(Booking)
            .where(services.lacks_coi(), Booking.pickup_date >= today)
            .order_by(Booking.pickup_date, Booking.number)
            .limit(500)
        )
    )
    customers = customers_of(request, [b for _, b in found] + missing)
    can_review = request.has_permission(REVIEW)
    waiting = {b.id for _, b in found}
    rows = []
    for document, booking in found:
        key = str(document.id)
        mine = failed if failed is not None and failed.document_id == key else None
        rows.append(
            {
                "id": key,
                "document": document,
                "booking": booking,
                "name": name_of(booking, customers.get(booking.customer_id)),
                "booking_url": request.route_path("console_booking", id=str(booking.id)),
                "download": download_path(request, document),
                "failed": mine,
                "values": mine.submitted if mine else form_values(document),
            }
        )
    request.response.status_int = status
    return {
        "rows": rows,
        "missing": [
            {
                "booking": b,
                "name": name_of(b, customers.get(b.customer_id)),
                "booking_url": request.route_path("console_booking", id=str(b.id)),
                "waiting": b.id in waiting,
            }
            for b in missing
        ],
        "can_review": can_review,
        "failed": failed,
        "message": MESSAGES.get(request.GET.get("done", "")),
        "today": today,
    }


@view_config(
    route_name="documents_review_queue",
    request_method="GET",
    renderer=QUEUE,
    permission=Permission.STAFF_READ,
)
def queue_page(request: Request) -> dict[str, Any]:
    return render_queue(request)


# --- the search -----------------------------------------------------------------------------------


def search_params(request: Request) -> tuple[dict[str, Any], dict[str, str]]:
    """The filters as :func:`services.search` reads them, and the errors by field."""
    form = {name: request.GET.get(name, "").strip() for name in ("q", "category", "status")}
    params: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if len(form["q"]) > 100:
        errors["q"] = "Search: at most 100 characters."
    elif form["q"]:
        params["q"] = form["q"]
    for name, choices in (("category", CATEGORIES), ("status", STATUSES)):
        if form[name] and form[name] not in choices:
            errors[name] = f"{name.capitalize()}: choose one of the list."
        elif form[name]:
            params[name] = form[name]
    for name, label in (("from", "From"), ("to", "To")):
        value = request.GET.get(name, "").strip()
        form[name] = value
        if value:
            try:
                params[name] = parse_date(value, label)
            except FieldError as exc:
                errors[name] = str(exc)
            else:
                if not EARLIEST <= params[name] <= LATEST:
                    errors[name] = f"{label}: pick a day between {EARLIEST} and {LATEST}."
                    del params[name]
    if "from" in params and "to" in params and params["from"] > params["to"]:
        errors["from"] = "From: must not be after To."
    return params, errors


@view_config(
    route_name="documents_search",
    request_method="GET",
    renderer=SEARCH,
    permission=Permission.STAFF_READ,
)
def search_page(request: Request) -> dict[str, Any]:
    params, errors = search_params(request)
    form = {name: request.GET.get(name, "") for name in ("q", "category", "status", "from", "to")}
    answer: dict[str, Any] = {
        "form": form,
        "errors": errors,
        "categories": CATEGORIES,
        "statuses": STATUSES,
        "rows": None,
        "next_url": None,
        "first_url": None,
    }
    if errors:
        request.response.status_int = 400
        return answer
    try:
        page = keyset_page(
            request, request.dbsession, services.search(params), Document, lambda d: d
        )
    except InvalidDraft as exc:
        request.response.status_int = 400
        answer["errors"] = {exc.field: exc.description}
        return answer
    documents: list[Document] = page["items"]
    ids = {d.booking_id for d in documents}
    bookings = (
        {b.id: b for b in request.dbsession.scalars(select(Booking).where(Booking.id.in_(ids)))}
        if ids
        else {}
    )
    answer["rows"] = [
        {
            "document": d,
            "booking": bookings.get(d.booking_id),
            "booking_url": request.route_path("console_booking", id=str(d.booking_id)),
            "download": download_path(request, d),
        }
        for d in documents
    ]
    query = {k: v for k, v in form.items() if v}
    if "limit" in request.GET:
        query["limit"] = request.GET["limit"]
    if page["next_cursor"]:
        answer["next_url"] = request.route_url(
            "documents_search", _query={**query, "cursor": page["next_cursor"]}
        )
    if request.GET.get("cursor"):
        answer["first_url"] = request.route_url("documents_search", _query=query)
    return answer


# --- the review form ------------------------------------------------------------------------------


def read_review(
    post: Mapping[str, str], document: Document
) -> tuple[str, str, dict[str, Any], dict[str, str]]:
    """``(decision, note, details, errors)`` of the posted form."""
    errors: dict[str, str] = {}
    decision = post.get("decision", "").strip()
    if decision not in ("approved", "rejected"):
        errors[""] = "Choose Approve or Reject."
    note = ""
    try:
        note = _note(post.get("note", ""), "Note")
    except FieldError as exc:
        errors["note"] = str(exc)
    if decision == "rejected" and not note and "note" not in errors:
        errors["note"] = "Note: say why it is rejected (the customer is told)."
    details: dict[str, Any] = {}
    if document.category != Category.COI:
        return decision, note, details, errors
    for name, (parse, label) in _TEXTS.items():
        try:
            value = parse(post.get(name, ""), label)
        except FieldError as exc:
            errors[name] = str(exc)
            continue
        if value:
            details[name] = value
    coverage = post.get("coverage", "").strip()
    if coverage:
        try:
            details["coverage_cents"] = parse_money(
                coverage, "Coverage", maximum=MAX_COVERAGE_CENTS
            )
        except MoneyInputError as exc:
            errors["coverage"] = str(exc)
    for name, label in _DATES.items():
        value = post.get(name, "").strip()
        if value:
            try:
                details[name] = parse_date(value, label)
            except FieldError as exc:
                errors[name] = str(exc)
        elif decision == "approved" and (
            document.coi is None or getattr(document.coi, name) is None
        ):
            errors[name] = f"{label}: enter the date the certificate covers before approving it."
    start, end = details.get("valid_from"), details.get("valid_to")
    if start and end and end < start and "valid_to" not in errors:
        errors["valid_to"] = "Valid to: the certificate cannot end before it starts."
    return decision, note, details, errors


def refused(
    request: Request,
    document: Document,
    back: str,
    errors: dict[str, str],
    status: int,
) -> Response:
    """The page the form was sent from again (what the refused call did undone), the form
    showing its errors."""
    submitted = {name: request.POST.get(name, "") for name in FORM_FIELDS}
    failed = Failed(str(document.id), submitted, errors)
    booking_id = document.booking_id
    request.dbsession.rollback()
    if back == "booking":
        booking = request.dbsession.get(Booking, booking_id)
        return render_booking_page(
            request, booking, panel_state={"documents": failed}, status=status
        )
    response = render_to_response(
        QUEUE, render_queue(request, failed=failed, status=status), request=request
    )
    response.status_int = status
    return response


@view_config(route_name="documents_review_form", request_method="POST", permission=REVIEW)
def review_form(request: Request) -> Response:
    """Approve or reject a document (a COI with its details); audited by the service."""
    document = get_or_404(request.dbsession, Document, request.matchdict["id"], lock=True)
    back = "booking" if request.POST.get("back") == "booking" else "queue"
    decision, note, details, errors = read_review(request.POST, document)
    if errors:
        return refused(request, document, back, errors, 400)
    try:
        services.review(request.ctx, document, decision, note, details)
    except Refused as exc:
        field = exc.field if exc.field in FORM_FIELDS and exc.field != "decision" else ""
        return refused(request, document, back, {field: exc.description}, exc.status)
    if back == "booking":
        location = request.route_url(
            "console_booking", id=str(document.booking_id), _anchor="documents"
        )
    else:
        location = request.route_url(
            "documents_review_queue", _query={"done": decision}, _anchor="queue"
        )
    return HTTPSeeOther(location=location)
