"""Console pages of bookings: the searchable list, the detail page and its three forms.

Every staff role reads (``Permission.STAFF_READ``); the edit, status and cancel forms take
``Permission.STAFF_WRITE``, so a viewer sees the page without them and a viewer's POST is 403.
The views only read the form and call the domain: :mod:`..bookings.search` for the list,
:func:`..bookings.editing.update` (re-prices, moves capacity, audits),
:func:`..bookings.lifecycle.transition` and :func:`..bookings.services.cancel` (both audit staff
changes). A change redirects (303) to the booking with a ``?done=`` code naming a fixed sentence;
a refusal re-renders the page with a 4xx status (which also vetoes the transaction's commit) and
the message next to the field at fault: 400 bad input, 409 stale version, full day or a move the
state machine refuses, 422 business-rule problems.

A change refused half-way (a full new day is only found out when the new van is taken, after the
booking row was flushed; a plugin's hook may raise :class:`~totetaxi_core.errors.Refused` after
the status moved) leaves the session holding values that the rollback will undo; so every POST
view reads what its page shows *before* calling the service, and a refusal is shown from that
snapshot, never from the half-changed booking.

Plugins add panels to the detail page through ``totetaxi_booking_panels``; a panel that only
lists facts can use the core's ``totetaxi_core:console/templates/panel_facts.jinja2`` with
``context={"facts": {label: value}, "note": "..."}``. A plugin whose panel holds a form shows a
refusal by rendering the whole page again with :func:`render_booking_page` (in the plugin API),
passing what its panel needs under its own key of ``panel_state``; the hook hands that mapping to
every panel.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import colander
from markupsafe import Markup
from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from pyramid.renderers import render, render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from ..addresses import ADDRESS_FIELDS, ADDRESS_LABELS
from ..api.pagination import keyset_page
from ..api.schemas import strict
from ..audit.views import timeline
from ..bookings import editing, search, services
from ..bookings.lifecycle import TRANSITIONS, TransitionRefused, transition
from ..bookings.models import Booking, BookingEvent, BookingStatus
from ..bookings.schemas import CancelBody, StaffBookingPatch, StatusBody
from ..bookings.service_labels import service_label
from ..db.lookup import get_or_404
from ..errors import CapacityExhausted, InvalidDraft, Refused
from ..identity.models import Customer, StaffUser
from ..identity.permissions import Permission
from .forms import colander_errors, control_characters
from .helpers import flash

log = logging.getLogger("totetaxi.console")

TEMPLATES = "totetaxi_core:console/templates/"
LIST = TEMPLATES + "bookings.jinja2"
DETAIL = TEMPLATES + "booking.jinja2"

STATUS_LABELS: dict[str, str] = {
    BookingStatus.PENDING_PAYMENT: "Pending payment",
    BookingStatus.CONFIRMED: "Confirmed",
    BookingStatus.IN_PROGRESS: "In progress",
    BookingStatus.COMPLETED: "Completed",
    BookingStatus.CANCELLED: "Cancelled",
}
TIME_WINDOWS = ("morning", "afternoon")
ADDRESS_PARTS = ADDRESS_FIELDS
ENDS = ("pickup", "delivery")
#: The edit form's fields (the address ones are ``pickup_line1`` ... ``delivery_postal_code``).
EDIT_FIELDS = (
    "version",
    "date",
    "time_window",
    "package",
    "item_count",
    "notes",
    *(f"{end}_{part}" for end in ENDS for part in ADDRESS_PARTS),
)
HISTORY_EVENTS = 200

STALE = (
    "Someone else changed this booking at the same time; the form now shows it as it is: "
    "apply your change again."
)


# --- loading --------------------------------------------------------------------------------------


def load(request: Request, model: Any) -> Any:
    """The row named by ``{id}``; the console's 404 page for a malformed or unknown id."""
    return get_or_404(request.dbsession, model, request.matchdict["id"])


def contacts(request: Request, bookings: Iterable[Booking]) -> dict[uuid.UUID, Customer]:
    """The customers of ``bookings`` in one query."""
    ids = {b.customer_id for b in bookings if b.customer_id is not None}
    if not ids:
        return {}
    found = request.dbsession.scalars(select(Customer).where(Customer.id.in_(ids)))
    return {c.id: c for c in found}


def row_of(booking: Booking, customers: Mapping[uuid.UUID, Customer]) -> dict[str, Any]:
    """A booking as a line of a console table (plain values; the template formats them)."""
    customer = customers.get(booking.customer_id) if booking.customer_id else None
    if customer is not None:
        name, email = customer.display_name, customer.email
    else:
        name = f"{booking.guest_first_name} {booking.guest_last_name}".strip()
        email = booking.guest_email
    return {
        "id": str(booking.id),
        "number": booking.number,
        "status": str(booking.status),
        "service_type": booking.service_type,
        "pickup_date": booking.pickup_date,
        "time_window": booking.time_window,
        "name": name,
        "email": email,
        "customer_id": str(booking.customer_id) if booking.customer_id else None,
        "guest": booking.customer_id is None,
        "total_cents": booking.total_cents,
        "currency": booking.currency,
        "created_at": booking.created_at,
    }


# --- the list -------------------------------------------------------------------------------------


def filter_params(request: Request) -> dict[str, str]:
    """The list's query as :func:`search.booking_filters` reads it.

    The form sends one ``status`` per ticked box; a "next page" link sends them comma-separated
    in one: both are joined here (a ``MultiDict.get`` would keep only the last).
    """
    params = {
        name: request.GET.get(name, "")
        for name in (
            "date_from",
            "date_to",
            "q",
            "customer_id",
            "created_from",
            "created_to",
            "cancelled_from",
            "cancelled_to",
            "service_type",
        )
    }
    params["status"] = ",".join(v for v in request.GET.getall("status") if v.strip())
    return params


@view_config(
    route_name="console_bookings",
    request_method="GET",
    renderer=LIST,
    permission=Permission.STAFF_READ,
)
def bookings_list(request: Request) -> dict[str, Any]:
    """Bookings newest first, filtered by status, pickup date and a search (number, name or
    email); keyset pages with the filters kept in the "next page" link."""
    params = filter_params(request)
    chosen = {s.strip() for s in params["status"].split(",") if s.strip()}
    answer: dict[str, Any] = {
        "form": params,
        "chosen": chosen,
        "statuses": STATUS_LABELS,
        "errors": {},
        "rows": None,
        "next_url": None,
        "first_url": None,
        "customer": None,
        "paged": bool(request.GET.get("cursor")),
    }
    try:
        filters = search.booking_filters(params)
        page = keyset_page(
            request, request.dbsession, search.bookings(filters), Booking, lambda booking: booking
        )
    except InvalidDraft as exc:
        request.response.status_int = 400
        answer["errors"] = {exc.field: exc.description}
        return answer
    customers = contacts(request, page["items"])
    if filters.customer_id is not None:
        answer["customer"] = customers.get(filters.customer_id) or request.dbsession.get(
            Customer, filters.customer_id
        )
    query = filters.query()
    if "limit" in request.GET:
        query["limit"] = request.GET["limit"]
    answer["rows"] = [row_of(b, customers) for b in page["items"]]
    if page["next_cursor"]:
        answer["next_url"] = request.route_url(
            "console_bookings", _query={**query, "cursor": page["next_cursor"]}
        )
    if answer["paged"]:
        answer["first_url"] = request.route_url("console_bookings", _query=query)
    return answer


# --- the detail page ------------------------------------------------------------------------------


def edit_values(booking: Booking) -> dict[str, str]:
    """The edit form's fields as the booking has them now."""
    values = {
        "version": str(booking.version),
        "date": booking.pickup_date.isoformat(),
        "time_window": booking.time_window,
        "package": booking.package or "",
        "item_count": "" if booking.item_count is None else str(booking.item_count),
        "notes": booking.notes or "",
    }
    for end in ENDS:
        address = getattr(booking, f"{end}_address")
        for part in ADDRESS_PARTS:
            values[f"{end}_{part}"] = getattr(address, part) or ""
    return values


def shown_fields(booking: Booking) -> set[str]:
    """The edit form's fields on this booking's page (a package only for a Mini Move, an item
    count except for specialty-only bookings)."""
    fields = set(EDIT_FIELDS)
    if booking.service_type != "mini_move":
        fields.discard("package")
    if booking.service_type == "specialty":
        fields.discard("item_count")
    return fields


def next_statuses(booking: Booking) -> list[tuple[str, str]]:
    """Where the status form may move the booking, as (value, label) (cancelling has a form of
    its own)."""
    allowed = TRANSITIONS[BookingStatus(booking.status)] - {BookingStatus.CANCELLED}
    return [(s.value, STATUS_LABELS[s]) for s in BookingStatus if s in allowed]


#: ``panel_state`` of a page rendered without any plugin's state.
NO_PANEL_STATE: Mapping[str, Any] = MappingProxyType({})


def panels(
    request: Request, booking: Booking, panel_state: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The plugins' ``totetaxi_booking_panels``, rendered, sorted by order then title.

    ``panel_state`` goes to every implementation read-only (see :func:`render_booking_page`).
    """
    state = NO_PANEL_STATE if not panel_state else MappingProxyType(dict(panel_state))
    return gather_panels(request, "totetaxi_booking_panels", booking=booking, panel_state=state)


ENTRIES_PANEL = "totetaxi_core:console/templates/panel_entries.jinja2"


def entries_panel(
    title: str, entries: Iterable[Mapping[str, Any]], *, order: int = 100, shown: int = 10
) -> dict[str, Any]:
    """A panel (booking or customer page) listing the newest ``shown`` of ``entries`` (each
    ``{"at", "title", "detail"}``, ``at`` an aware datetime), newest first."""
    newest = sorted(entries, key=lambda entry: entry["at"], reverse=True)[:shown]
    return {
        "title": title,
        "template": ENTRIES_PANEL,
        "context": {"entries": newest, "empty": "None yet."},
        "order": order,
    }


def gather_panels(request: Request, hook: str, **arguments: Any) -> list[dict[str, Any]]:
    """The panels ``hook`` gathers from every plugin, rendered, sorted by order then title.

    A malformed panel is left out and a panel whose template fails shows a notice, both logged:
    one plugin's mistake never takes the page down.
    """
    gathered: list[dict[str, Any]] = []
    for answer in request.hooks.call(hook, request=request, **arguments) or ():
        gathered.extend(answer or ())
    shown = []
    for panel in gathered:
        try:
            title, template = str(panel["title"]), str(panel["template"])
            context = dict(panel.get("context") or {})
            order = int(panel.get("order", 100))
        except (KeyError, TypeError, ValueError, AttributeError):
            log.warning("panel left out (malformed): %r", panel)
            continue
        try:
            html = Markup(render(template, context, request=request))  # noqa: S704 - autoescaped
            broken = False
        except SQLAlchemyError:
            raise  # the transaction is broken: the request fails (or is retried) as a whole
        except Exception:
            log.exception("panel %r (%s) failed to render", title, template)
            html, broken = Markup(""), True
        shown.append({"title": title, "html": html, "order": order, "broken": broken})
    shown.sort(key=lambda p: (p["order"], p["title"].lower()))
    return shown


def snapshot(
    request: Request, booking: Booking, panel_state: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Everything the detail page shows, as plain values read now (see the module docstring)."""
    db = request.dbsession
    customer = db.get(Customer, booking.customer_id) if booking.customer_id else None
    events = list(
        db.scalars(
            select(BookingEvent)
            .where(BookingEvent.booking_id == booking.id)
            .order_by(BookingEvent.at.desc(), BookingEvent.id.desc())
            .limit(HISTORY_EVENTS)
        )
    )
    staff_ids = {e.actor_id for e in events if e.actor_kind == "staff" and e.actor_id}
    staff = (
        {
            s.id: s.display_name
            for s in db.scalars(select(StaffUser).where(StaffUser.id.in_(staff_ids)))
        }
        if staff_ids
        else {}
    )
    quote = booking.quote or {}
    status = BookingStatus(booking.status)
    facts = {
        **row_of(booking, {customer.id: customer} if customer else {}),
        "service": service_label(request.ctx, booking.service_type),
        "package": booking.package,
        "item_count": booking.item_count,
        "specialty_items": [dict(line) for line in booking.specialty_items or ()],
        "same_day": booking.same_day,
        "coi_handling": booking.coi_handling,
        "high_value": booking.high_value,
        "notes": booking.notes,
        "subtotal_cents": booking.subtotal_cents,
        "version": booking.version,
        "updated_at": booking.updated_at,
        "cancelled_at": booking.cancelled_at,
        "cancel_reason": booking.cancel_reason,
        "addresses": {
            end: {
                **{
                    part: getattr(getattr(booking, f"{end}_address"), part)
                    for part in ADDRESS_PARTS
                },
                "as_typed": getattr(booking, f"{end}_address").as_typed or {},
            }
            for end in ENDS
        },
        "guest_phone": booking.guest_phone,
    }
    return {
        "booking": facts,
        "customer": None
        if customer is None
        else {
            "id": str(customer.id),
            "name": customer.display_name,
            "email": customer.email,
            "phone": customer.phone,
        },
        "quote": {
            name: [dict(line) for line in quote.get(name) or ()]
            for name in ("lines", "surcharges", "fees")
        },
        "events": [
            {
                "at": e.at,
                "status": e.status,
                "message": e.message,
                "note": e.note,
                "actor": staff.get(e.actor_id, "staff")
                if e.actor_kind == "staff"
                else e.actor_kind,
            }
            for e in events
        ],
        "panels": panels(request, booking, panel_state),
        "timeline": timeline(request, booking=booking),
        "editable": status in editing.EDITABLE_STATUSES,
        "next_statuses": next_statuses(booking),
        "can_cancel": BookingStatus.CANCELLED in TRANSITIONS[status],
        "shown": shown_fields(booking),
        "defaults": {
            "edit": edit_values(booking),
            "status": {"status": "", "reason": ""},
            "cancel": {"reason": "", "confirm": ""},
        },
    }


class Failed:
    """A refused form: which one, what was typed, the message of each field at fault (``""``
    for the form as a whole), and the status to answer with."""

    def __init__(
        self, form: str, submitted: Mapping[str, str], errors: dict[str, str], status: int
    ) -> None:
        self.form, self.submitted, self.errors, self.status = form, submitted, errors, status


def detail_page(
    request: Request, page: dict[str, Any], failed: Failed | None = None
) -> dict[str, Any]:
    """The template's values: the snapshot, the forms' values and errors, the flash."""
    values = {form: dict(fields) for form, fields in page["defaults"].items()}
    errors: dict[str, dict[str, str]] = {form: {} for form in values}
    if failed is not None:
        values[failed.form].update(failed.submitted)
        errors[failed.form] = failed.errors
        request.response.status_int = failed.status
    return {
        **page,
        "values": values,
        "errors": errors,
        "failed": failed.form if failed else None,
        "problem": failed.errors.get("") if failed else None,
        "can_write": request.has_permission(Permission.STAFF_WRITE),
        "statuses": STATUS_LABELS,
        "windows": TIME_WINDOWS,
        "message": flash(request),
    }


def render_booking_page(
    request: Request,
    booking: Booking,
    *,
    panel_state: Mapping[str, Any] | None = None,
    status: int = 200,
) -> Response:
    """The console's booking page of ``booking``, rendered for a plugin's own view.

    A plugin whose booking panel holds a form (payments' refund request) answers a refused POST
    with the whole page again, its panel showing what was typed and why it was refused::

        return render_booking_page(request, booking, status=400,
                                   panel_state={"payments": refused_form})

    ``panel_state`` reaches every ``totetaxi_booking_panels`` implementation as a read-only
    mapping; each plugin reads only its own key (its plugin name, by convention) and ignores the
    others. ``status`` is the answer's status: a 4xx also vetoes the transaction's commit. The
    core's own forms keep their values and errors; a flash (``?done=``) is shown as on a GET.
    """
    # The page shows the customer's details: whatever view calls this, it needs staff read.
    if not request.has_permission(Permission.STAFF_READ):
        raise HTTPForbidden()
    values = detail_page(request, snapshot(request, booking, panel_state))
    request.response.status_int = status
    return render_to_response(DETAIL, values, request=request, response=request.response)


def _done(request: Request, booking: Booking, code: str) -> HTTPSeeOther:
    return HTTPSeeOther(
        location=request.route_url("console_booking", id=str(booking.id), _query={"done": code})
    )


@view_config(
    route_name="console_booking",
    request_method="GET",
    renderer=DETAIL,
    permission=Permission.STAFF_READ,
)
def booking_detail(request: Request) -> dict[str, Any]:
    """All the booking's facts, its quote, contact, addresses, history and the plugins' panels;
    the forms for staff and admins."""
    booking = load(request, Booking)
    return detail_page(request, snapshot(request, booking))


# --- the edit form --------------------------------------------------------------------------------
#
# The form is checked by the staff API's own schema (``StaffBookingPatch``): the text of each
# field is turned into the API's shapes here (numbers, addresses as mappings) and every rule
# (lengths, choices, the address standardising of ``totetaxi_core.addresses``) is the schema's,
# so the console and the API can never disagree on what a booking may hold.

#: The schema's paths shown by the edit form's fields.
EDIT_PATHS: dict[str, str] = {
    "date": "date",
    "time_window": "time_window",
    "package": "package",
    "item_count": "item_count",
    "notes": "notes",
    **{f"{end}_address.{part}": f"{end}_{part}" for end in ENDS for part in ADDRESS_PARTS},
}
EDIT_LABELS: dict[str, str] = {
    "date": "Pickup date",
    "time_window": "Time window",
    "package": "Package",
    "item_count": "Items",
    "notes": "Notes",
    **{f"{end}_{part}": label for end in ENDS for part, label in ADDRESS_LABELS.items()},
}
_EDIT_SCHEMA = strict(StaffBookingPatch)
_STATUS_SCHEMA = strict(StatusBody)
_CANCEL_SCHEMA = strict(CancelBody)


def read_edit(
    submitted: Mapping[str, str], booking: Booking
) -> tuple[dict[str, Any], int | None, dict[str, str]]:
    """``(changes for editing.update, version, errors by field)`` from the form's text."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    version = None
    raw = submitted["version"].strip()
    if raw:
        if raw.isascii() and raw.isdigit() and len(raw) < 10 and int(raw) >= 1:
            version = int(raw)
        else:
            errors[""] = "The form is damaged (its version); reload the page."
    body: dict[str, Any] = {
        "date": submitted["date"].strip(),
        "time_window": submitted["time_window"],
        "notes": submitted["notes"].replace("\r\n", "\n"),
    }
    if not body["date"]:
        errors["date"] = "Pickup date: enter a date as YYYY-MM-DD."
    shown = shown_fields(booking)
    if "package" in shown:
        # An empty package clears it, which the PATCH body cannot say (no nulls there).
        if submitted["package"].strip():
            body["package"] = submitted["package"]
        else:
            changes["package"] = None
    if "item_count" in shown:
        raw = submitted["item_count"].strip()
        if not raw:
            changes["item_count"] = None
        elif raw.isascii() and raw.isdigit() and len(raw) < 10:
            body["item_count"] = int(raw)
        else:
            errors["item_count"] = "Items: enter a whole number from 1 to 500, or leave it empty."
    for end in ENDS:
        body[f"{end}_address"] = {part: submitted[f"{end}_{part}"] for part in ADDRESS_PARTS}
    for field in EDIT_PATHS.values():
        if field in submitted and control_characters(submitted[field], multiline=field == "notes"):
            errors[field] = f"{EDIT_LABELS[field]}: control characters are not allowed."
    try:
        changes.update(_EDIT_SCHEMA.deserialize(body))
    except colander.Invalid as exc:
        for field, message in colander_errors(exc, EDIT_PATHS, EDIT_LABELS).items():
            errors.setdefault(field, message)
    return changes, version, errors


#: Where a domain refusal naming a field shows on the edit form.
EDIT_FIELD_OF = {
    "date": "date",
    "time_window": "time_window",
    "package": "package",
    "item_count": "item_count",
    "notes": "notes",
    "version": "",
    "pickup_address": "pickup_line1",
    "delivery_address": "delivery_line1",
}


def _edit_field(name: str, shown: set[str]) -> str:
    field = EDIT_FIELD_OF.get(name, EDIT_FIELD_OF.get(name.split(".")[0], ""))
    return field if field in shown else ""


def _field_in(name: str, fields: Iterable[str]) -> str:
    """``name`` when it is one of the form's ``fields``, else ``""`` (the form as a whole)."""
    return name if name in fields else ""


def _add(errors: dict[str, str], field: str, message: str) -> None:
    errors[field] = f"{errors[field]} {message}" if field in errors else message


@view_config(
    route_name="console_booking_edit",
    request_method="POST",
    renderer=DETAIL,
    permission=Permission.STAFF_WRITE,
)
def booking_edit(request: Request) -> Any:
    """Save the edit form; fields left out of the POST stay as they are (the page sends all)."""
    booking = load(request, Booking)
    page = snapshot(request, booking)  # before the service may change anything
    current = page["defaults"]["edit"]
    submitted = {name: request.POST.get(name, current[name]) for name in EDIT_FIELDS}
    changes, version, errors = read_edit(submitted, booking)
    if errors:
        return detail_page(request, page, Failed("edit", submitted, errors, 400))
    shown = page["shown"]
    try:
        diff = editing.update(request.ctx, booking, changes, version)
    except editing.BookingChanged as exc:
        # The form comes back with the booking as it is now, to apply the change again.
        return detail_page(request, page, Failed("edit", {}, {"": str(exc)}, 409))
    except StaleDataError:
        # A save between our read and our write: the failed flush ended the session's
        # transaction, so start a fresh one (the 409 still vetoes the commit) and show the
        # booking as the other save left it.
        request.dbsession.rollback()
        page = snapshot(request, load(request, Booking))
        return detail_page(request, page, Failed("edit", {}, {"": STALE}, 409))
    except editing.NotEditable as exc:
        return detail_page(request, page, Failed("edit", submitted, {"": str(exc)}, 409))
    except services.BookingRefused as exc:
        refused: dict[str, str] = {}
        for problem in exc.problems:
            _add(refused, _edit_field(problem["name"], shown), problem["description"])
        return detail_page(request, page, Failed("edit", submitted, refused, exc.status))
    except CapacityExhausted as exc:
        return detail_page(
            request,
            page,
            Failed("edit", submitted, {_edit_field(exc.field, shown): exc.description}, 409),
        )
    except InvalidDraft as exc:
        return detail_page(
            request,
            page,
            Failed("edit", submitted, {_edit_field(exc.field, shown): exc.description}, 400),
        )
    except Refused as exc:  # a plugin's hook said no (after the change was flushed)
        return detail_page(
            request,
            page,
            Failed("edit", submitted, {_edit_field(exc.field, shown): exc.description}, exc.status),
        )
    if not diff:
        return _done(request, booking, "booking_unchanged")
    return _done(request, booking, "booking_repriced" if "total_cents" in diff else "booking_saved")


# --- status and cancel ----------------------------------------------------------------------------


def _reason_errors(schema: colander.SchemaNode, submitted: Mapping[str, str]) -> dict[str, str]:
    """The reason field's refusals by the API's schema of the same change, control characters
    first (the API takes any but NUL; a reason is shown in the history)."""
    if control_characters(submitted["reason"], multiline=True):
        return {"reason": "Reason: control characters are not allowed."}
    try:
        schema.deserialize(dict(submitted))  # errors of other fields are the view's to word
    except colander.Invalid as exc:
        return {
            field: message
            for field, message in colander_errors(
                exc, {"reason": "reason"}, {"reason": "Reason"}
            ).items()
            if field
        }
    return {}


@view_config(
    route_name="console_booking_status",
    request_method="POST",
    renderer=DETAIL,
    permission=Permission.STAFF_WRITE,
)
def booking_status(request: Request) -> Any:
    """Move the booking along the state machine (cancelling has its own, confirmed, form)."""
    booking = load(request, Booking)
    page = snapshot(request, booking)  # before a plugin's hook may refuse half-way
    submitted = {
        "status": request.POST.get("status", "").strip(),
        "reason": request.POST.get("reason", ""),
    }
    errors = _reason_errors(_STATUS_SCHEMA, submitted)
    if submitted["status"] == BookingStatus.CANCELLED:
        errors["status"] = "Cancel the booking with the cancel form below."
    elif submitted["status"] not in STATUS_LABELS:
        errors["status"] = "Choose the new status."
    reason = submitted["reason"].strip()
    if errors:
        return detail_page(request, page, Failed("status", submitted, errors, 400))
    try:
        transition(request.ctx, booking, submitted["status"], reason or None)
    except TransitionRefused as exc:
        return detail_page(request, page, Failed("status", submitted, {"status": str(exc)}, 409))
    except Refused as exc:
        return detail_page(
            request,
            page,
            Failed(
                "status",
                submitted,
                {_field_in(exc.field, ("status", "reason")): exc.description},
                exc.status,
            ),
        )
    return _done(request, booking, "status_changed")


@view_config(
    route_name="console_booking_cancel",
    request_method="POST",
    renderer=DETAIL,
    permission=Permission.STAFF_WRITE,
)
def booking_cancel(request: Request) -> Any:
    """Cancel (staff may, whatever the date); the box must be ticked."""
    booking = load(request, Booking)
    page = snapshot(request, booking)
    submitted = {
        "reason": request.POST.get("reason", ""),
        "confirm": request.POST.get("confirm", ""),
    }
    errors = _reason_errors(_CANCEL_SCHEMA, {"reason": submitted["reason"]})
    reason = submitted["reason"].strip()
    if submitted["confirm"] not in ("1", "on", "yes", "true"):
        errors["confirm"] = "Tick the box to confirm the cancellation."
    if errors:
        return detail_page(request, page, Failed("cancel", submitted, errors, 400))
    try:
        services.cancel(request.ctx, booking, reason, by_staff=True)
    except TransitionRefused as exc:  # the form is gone once cancelled: said at the top
        return detail_page(request, page, Failed("cancel", submitted, {"": str(exc)}, 409))
    except Refused as exc:
        return detail_page(
            request,
            page,
            Failed(
                "cancel",
                submitted,
                {_field_in(exc.field, ("reason",)): exc.description},
                exc.status,
            ),
        )
    return _done(request, booking, "booking_cancelled")
