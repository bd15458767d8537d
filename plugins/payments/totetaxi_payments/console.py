"""The payments console: the refunds queue and the payments panel of a booking.

* ``/console/payments/refunds`` (every staff role, ``Permission.STAFF_READ``): the refunds waiting
  for an admin, oldest first, then the most recent decided ones. Approving and rejecting take the
  plugin's ``payments.refund_decide`` permission (admins, in the manifest); the page asks
  ``request.has_permission``, so a staff member or a viewer sees no buttons and a POST of theirs
  is 403.
* The booking page's "Payments" panel (hook ``totetaxi_booking_panels``): the booking's payments
  and refunds, and for each succeeded payment with something left to refund a request form,
  shown to holders of ``payments.refund_request`` (staff and admins). A refused request comes
  back as the whole booking page (the core's ``render_booking_page``), the refused form passed
  to the panel under ``panel_state["payments"]``.

The views only read the form and call :mod:`.services` (``request_refund``, ``approve_refund``,
``reject_refund``), which hold the amount atomically, talk to the gateway, and write both the core
audit record and the payment audit rows. A change redirects (303) with a ``?done=`` code naming
a fixed sentence. A refusal comes back with its 4xx status (which also vetoes the transaction's
commit) and the message next to the row or the field at fault: 400 for bad input, the service's
status (409: already decided, more than the payment has left) for a :class:`Refused`.

Amounts are typed in dollars ("25", "25.50", "$1,250.00") and read exactly into integer cents
(never through a float); they stay cents until the template formats them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.interfaces import IRoutesMapper
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from sqlalchemy import func, select

from totetaxi_core.plugin_api import (
    MAX_CENTS,
    Booking,
    FieldError,
    Permission,
    Refused,
    StaffUser,
    claim_form_token,
    format_local,
    format_money,
    get_or_404,
    money_field,
    money_input,
    render_booking_page,
    text_field,
)

from . import services
from .models import Payment, PaymentStatus, Refund, RefundStatus
from .permissions import PaymentsPermission

#: The plugin's permissions: staff ask for refunds, admins decide them.
REQUEST_REFUND = PaymentsPermission.REFUND_REQUEST
DECIDE_REFUND = PaymentsPermission.REFUND_DECIDE

TEMPLATES = "totetaxi_payments:templates/"
QUEUE = TEMPLATES + "refunds.jinja2"
PANEL = TEMPLATES + "_panel.jinja2"
#: The route of the console's booking page (the core's), where the payments panel lives.
BOOKING_ROUTE = "console_booking"

#: Requested refunds listed at most (the page says how many more wait), decided ones shown.
QUEUE_LIMIT = 200
DECIDED_LIMIT = 50
REASON_MIN, REASON_MAX = 3, 500
NOTE_MAX = 500

#: One-shot messages after a change: the query carries a code, never text (nothing reflected).
MESSAGES: dict[str, str] = {
    "refund_requested": "Refund requested; an admin approves it in the refunds queue.",
    "refund_approved": "Refund approved and sent to the payment gateway.",
    "refund_succeeded": "Refund approved: the gateway has refunded the money.",
    "refund_pending": "Refund approved; the gateway is still working on it.",
    "refund_failed": "Refund approved, but the gateway refused it; see the reason below.",
    "refund_rejected": "Refund rejected; its amount can be refunded again.",
}

#: Where a service's refusal naming a field shows on the request form ("" = the whole form).
REQUEST_FIELD_OF = {"amount_cents": "amount", "reason": "reason"}


# --- reading form input ---------------------------------------------------------------------------

#: Dollars as typed ("25", "25.50", "$1,250.5") to integer cents, exactly: at least a cent, at most
#: ``MAX_CENTS``. Raises :class:`FieldError` naming the field (``parse_amount(text, "Amount")``).
_read_amount = money_field(minimum=1, maximum=MAX_CENTS)


def parse_amount(text: str, label: str = "Amount") -> int:
    """A refund amount as typed, in integer cents (see :func:`totetaxi_core.money.parse_money`)."""
    return int(_read_amount(text, label))


def parse_text(value: str, label: str, limit: int, minimum: int = 0) -> str:
    """A reason or a note: trimmed, ``minimum`` to ``limit`` characters, no control characters."""
    return str(text_field(limit, required=False, minimum=minimum)(value, label))


# --- showing values -------------------------------------------------------------------------------

#: Cents for display (``"$1,234.50"``), cents as typed in a form (``"25.50"``), New York time.
dollars = format_money
amount = money_input
when = format_local


def _route_exists(request: Request, name: str) -> bool:
    mapper = request.registry.queryUtility(IRoutesMapper)
    return mapper is not None and mapper.get_route(name) is not None


def booking_url(
    request: Request, booking_id: uuid.UUID | str, anchor: str = "", **query: str
) -> str:
    """The console page of a booking (a plain path while the core has no such route)."""
    if _route_exists(request, BOOKING_ROUTE):
        return request.route_url(BOOKING_ROUTE, id=str(booking_id), _query=query, _anchor=anchor)
    return (
        request.application_url
        + f"/console/bookings/{booking_id}"
        + (f"?{urlencode(query)}" if query else "")
        + (f"#{anchor}" if anchor else "")
    )


def _names(request: Request, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """Display names of the staff users ``ids``, in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {
        s.id: s.display_name
        for s in request.dbsession.scalars(select(StaffUser).where(StaffUser.id.in_(wanted)))
    }


def refund_rows(request: Request, refunds: list[Refund]) -> list[dict[str, Any]]:
    """Refunds as lines of a console table: plain values, amounts in cents."""
    db = request.dbsession
    booking_ids = {r.booking_id for r in refunds}
    payment_ids = {r.payment_id for r in refunds}
    numbers = (
        dict(
            db.execute(select(Booking.id, Booking.number).where(Booking.id.in_(booking_ids))).all()
        )
        if refunds
        else {}
    )
    payments = (
        {p.id: p for p in db.scalars(select(Payment).where(Payment.id.in_(payment_ids)))}
        if refunds
        else {}
    )
    names = _names(request, [r.requested_by for r in refunds] + [r.decided_by for r in refunds])
    rows = []
    for r in refunds:
        payment = payments.get(r.payment_id)
        rows.append(
            {
                "id": str(r.id),
                "booking_id": str(r.booking_id),
                "booking_number": numbers.get(r.booking_id, "?"),
                "booking_url": booking_url(request, r.booking_id, "payments"),
                "payment_id": str(r.payment_id),
                "amount_cents": r.amount_cents,
                "currency": payment.currency if payment else "USD",
                "received_cents": payment.amount_received_cents if payment else None,
                "refunded_cents": payment.refunded_cents if payment else None,
                "reason": r.reason,
                "status": str(r.status),
                "requested_by": (
                    names.get(r.requested_by, "staff")
                    if r.requested_by
                    else ("the cancellation policy" if r.source == "policy" else "the system")
                ),
                "requested_at": r.created_at,
                "decided_by": names.get(r.decided_by, "staff") if r.decided_by else None,
                "decided_at": r.decided_at,
                "note": r.decision_note,
                "failure_reason": r.failure_reason,
                "completed_at": r.completed_at,
            }
        )
    return rows


def _refused_now(request: Request) -> None:
    """Undo what a refused service call did before refusing (an approval moves the refund to
    ``pending`` before the gateway answers), so the page shows what is stored. The 4xx answer
    vetoes the commit anyway."""
    request.dbsession.rollback()


# --- the refunds queue ----------------------------------------------------------------------------


def _queue(
    request: Request,
    *,
    row_errors: Mapping[str, str] | None = None,
    notes: Mapping[str, Mapping[str, str]] | None = None,
    note_errors: Mapping[str, Mapping[str, str]] | None = None,
    status: int = 200,
) -> dict[str, Any]:
    db = request.dbsession
    waiting = (
        db.scalar(
            select(func.count()).select_from(Refund).where(Refund.status == RefundStatus.REQUESTED)
        )
        or 0
    )
    requested = list(
        db.scalars(
            select(Refund)
            .where(Refund.status == RefundStatus.REQUESTED)
            .order_by(Refund.created_at, Refund.id)
            .limit(QUEUE_LIMIT)
        )
    )
    decided = list(
        db.scalars(
            select(Refund)
            .where(Refund.status != RefundStatus.REQUESTED)
            .order_by(Refund.decided_at.desc(), Refund.created_at.desc(), Refund.id)
            .limit(DECIDED_LIMIT)
        )
    )
    request.response.status_int = status
    return {
        "requested": refund_rows(request, requested),
        "waiting": waiting,
        "decided": refund_rows(request, decided),
        "decided_limit": DECIDED_LIMIT,
        "can_decide": request.has_permission(DECIDE_REFUND),
        "message": MESSAGES.get(request.GET.get("done", "")),
        "highlight": request.GET.get("refund", ""),
        "row_errors": dict(row_errors or {}),
        "notes": {key: dict(typed) for key, typed in (notes or {}).items()},
        "note_errors": {key: dict(errors) for key, errors in (note_errors or {}).items()},
        "refused": bool(row_errors or note_errors),
        "dollars": dollars,
        "when": when,
    }


@view_config(
    route_name="payments_refunds",
    request_method="GET",
    renderer=QUEUE,
    permission=Permission.STAFF_READ,
)
def refunds_page(request: Request) -> dict[str, Any]:
    """Refunds waiting for an admin (oldest first), then the most recent decided ones."""
    return _queue(request)


def _refund(request: Request) -> Refund:
    return get_or_404(request.dbsession, Refund, request.matchdict["id"])


def _decide(request: Request, decision: str) -> Any:
    refund = _refund(request)
    key = str(refund.id)
    submitted = request.POST.get("note", "")
    amount_text = request.POST.get("amount", "").strip() if decision == "approve" else ""
    amount = None
    try:
        note = parse_text(submitted, "Note", NOTE_MAX)
        if amount_text:  # an admin approving less than was asked, with a reason
            amount = parse_amount(amount_text)
    except FieldError as exc:
        return _queue(
            request,
            notes={key: {decision: submitted}},
            note_errors={key: {decision: str(exc)}},
            status=400,
        )
    try:
        if decision == "approve":
            services.approve_refund(request.ctx, refund, note, amount)
        else:
            services.reject_refund(request.ctx, refund, note)
    except Refused as exc:
        _refused_now(request)
        return _queue(
            request,
            row_errors={key: exc.description},
            notes={key: {decision: submitted}},
            status=exc.status,
        )
    code = (
        "refund_rejected"
        if decision == "reject"
        else f"refund_{refund.status}"
        if f"refund_{refund.status}" in MESSAGES
        else "refund_approved"
    )
    return HTTPSeeOther(
        location=request.route_url(
            "payments_refunds", _query={"done": code, "refund": key}, _anchor=f"refund-{key}"
        )
    )


@view_config(
    route_name="payments_refund_approve",
    request_method="POST",
    renderer=QUEUE,
    permission=DECIDE_REFUND,
)
def approve(request: Request) -> Any:
    """An admin approves: the gateway refunds (``succeeded``, or ``pending``/``failed``)."""
    return _decide(request, "approve")


@view_config(
    route_name="payments_refund_reject",
    request_method="POST",
    renderer=QUEUE,
    permission=DECIDE_REFUND,
)
def reject(request: Request) -> Any:
    """An admin rejects: the held amount is released."""
    return _decide(request, "reject")


# --- requesting a refund (the booking page's payments panel) --------------------------------------


class RequestFailed:
    """A refused refund request: the payment, what was typed, the message of each field at fault
    (``""`` for the form as a whole), and the status to answer with."""

    def __init__(
        self, payment_id: str, submitted: Mapping[str, str], errors: dict[str, str], status: int
    ) -> None:
        self.payment_id, self.submitted = payment_id, dict(submitted)
        self.errors, self.status = errors, status


#: This plugin's key in the booking page's ``panel_state``: the refused request form.
PANEL_STATE_KEY = "payments"


def _booking_page(request: Request, booking: Booking, failed: RequestFailed) -> Response:
    """The booking page again, its payments panel showing the refused form."""
    return render_booking_page(
        request, booking, panel_state={PANEL_STATE_KEY: failed}, status=failed.status
    )


@view_config(route_name="payments_refund_request", request_method="POST", permission=REQUEST_REFUND)
def request_refund(request: Request) -> Any:
    """Staff ask for a refund of a payment (full or partial, with a reason)."""
    payment = get_or_404(request.dbsession, Payment, request.matchdict["id"])
    booking = request.dbsession.get(Booking, payment.booking_id)
    key = str(payment.id)
    submitted = {"amount": request.POST.get("amount", ""), "reason": request.POST.get("reason", "")}
    errors: dict[str, str] = {}
    cents = reason = None
    try:
        cents = parse_amount(submitted["amount"])
    except FieldError as exc:
        errors["amount"] = str(exc)
    try:
        reason = parse_text(submitted["reason"], "Reason", REASON_MAX, REASON_MIN)
    except FieldError as exc:
        errors["reason"] = str(exc)
    if errors:
        return _booking_page(request, booking, RequestFailed(key, submitted, errors, 400))
    if not claim_form_token(request, request.POST.get("form_token", ""), "refund-request"):
        # The same form sent twice (a double click): the first one made the request.
        return HTTPSeeOther(
            location=booking_url(request, booking.id, "payments", done="refund_requested")
        )
    try:
        services.request_refund(request.ctx, payment, cents, reason)
    except Refused as exc:
        _refused_now(request)
        field = REQUEST_FIELD_OF.get(exc.field, "")
        message = exc.description
        if field == "amount":  # the service counts in cents; staff type dollars
            message = (
                f"Amount: at most {dollars(payment.refundable_cents, payment.currency)} "
                "of this payment can still be refunded."
            )
        booking = request.dbsession.get(Booking, payment.booking_id)
        return _booking_page(
            request, booking, RequestFailed(key, submitted, {field: message}, exc.status)
        )
    return HTTPSeeOther(
        location=booking_url(request, booking.id, "payments", done="refund_requested")
    )


# --- the payments panel ---------------------------------------------------------------------------


def panel_context(
    request: Request, booking: Booking, failed: RequestFailed | None = None
) -> dict[str, Any]:
    """What ``_panel.jinja2`` shows of ``booking``'s payments and refunds (with ``failed``, the
    refused request form as typed)."""
    payments = services.payments_of(request.ctx, booking.id)
    refunds = services.refunds_of(request.ctx, booking.id)
    rows = refund_rows(request, refunds)
    can_request = request.has_permission(REQUEST_REFUND)
    shown = []
    for p in payments:
        key = str(p.id)
        refundable = p.status == PaymentStatus.SUCCEEDED and p.refundable_cents > 0
        values = {"amount": "", "reason": ""}
        errors: dict[str, str] = {}
        if failed is not None and failed.payment_id == key:
            values.update(failed.submitted)
            errors = failed.errors
        shown.append(
            {
                "id": key,
                "status": str(p.status),
                "amount_cents": p.amount_cents,
                "currency": p.currency,
                "attempts": p.attempts,
                "failure_code": p.failure_code,
                "failure_reason": p.failure_reason,
                "received_cents": p.amount_received_cents,
                "refunded_cents": p.refunded_cents,
                "held_cents": p.refund_held_cents - p.refunded_cents,
                "refundable_cents": p.refundable_cents
                if p.status == PaymentStatus.SUCCEEDED
                else 0,
                "created_at": p.created_at,
                "succeeded_at": p.succeeded_at,
                "gateway": p.gateway,
                "refunds": [r for r in rows if r["payment_id"] == key],
                "can_refund": can_request and refundable,
                "entered": values,
                "errors": errors,
                "action": request.route_url("payments_refund_request", id=key),
                "form_token": uuid.uuid4().hex,  # a resubmission of this form is not a new request
            }
        )
    return {
        "payments": shown,
        "booking_id": str(booking.id),
        "waiting": sum(1 for r in rows if r["status"] == RefundStatus.REQUESTED),
        "message": MESSAGES.get(request.GET.get("done", "")),
        "failed": failed.payment_id if failed is not None else None,
        "problem": failed.errors.get("") if failed is not None else None,
        "can_request": can_request,
        "can_decide": request.has_permission(DECIDE_REFUND),
        "queue_url": request.route_url("payments_refunds"),
        "amount": amount,
        "dollars": dollars,
        "when": when,
    }


def booking_panels(
    request: Request, booking: Booking, panel_state: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The booking page's "Payments" panel (hook ``totetaxi_booking_panels``, in hooks.py)."""
    failed = panel_state.get(PANEL_STATE_KEY)
    return [
        {
            "title": "Payments",
            "template": PANEL,
            "order": 20,
            "context": panel_context(
                request, booking, failed if isinstance(failed, RequestFailed) else None
            ),
        }
    ]


def includeme(config: Configurator) -> None:
    # The pages' stylesheet (the console's Content-Security-Policy allows no inline one), public
    # like the core's.
    config.add_static_view(
        "console/static/payments",
        "totetaxi_payments:static",
        cache_max_age=3600,
        permission=NO_PERMISSION_REQUIRED,
    )
    # Templates are named by asset spec ("totetaxi_payments:templates/..."), as the pricing
    # plugin's are: no search path of the shared Jinja2 environment is needed or changed.
    config.add_route("payments_refunds", "/console/payments/refunds")
    config.add_route("payments_refund_approve", "/console/payments/refunds/{id}/approve")
    config.add_route("payments_refund_reject", "/console/payments/refunds/{id}/reject")
    config.add_route("payments_refund_request", "/console/payments/payments/{id}/refunds")
    config.scan(__name__)
