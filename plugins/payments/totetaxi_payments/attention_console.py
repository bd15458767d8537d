"""The console page of payments needing attention (the dashboard's pending action links here).

* ``/console/payments/attention`` (every staff role): the flagged payments, oldest first, with
  the booking, its total now, what was paid and the change that flagged it.
* ``POST /console/payments/payments/{id}/settle`` (``payments.refund_request``: staff and
  admins, who also ask for refunds): marks one settled with a note (``services.settle_attention``).
  A viewer sees the list with no forms and a POST of theirs is 403. A refusal re-renders the page
  with its 4xx status and the message in the row; success redirects (303) with a ``?done=`` code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.view import view_config

from totetaxi_core.plugin_api import Permission, Refused, get_or_404

from . import services
from .console import REQUEST_REFUND, booking_url, dollars, when
from .models import Payment

PAGE = "totetaxi_payments:templates/attention.jinja2"
LIMIT = 200
SETTLED = "Marked settled; the note is in the payment's history and the audit log."


def _page(
    request: Request,
    *,
    notes: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> dict[str, Any]:
    request.response.status_int = status
    db = request.dbsession
    rows = [
        {
            "id": str(item.payment.id),
            "booking_number": item.booking_number,
            "booking_url": booking_url(request, item.payment.booking_id, "payments"),
            "total_cents": item.booking_total_cents,
            "paid_cents": item.payment.amount_received_cents - item.payment.refunded_cents,
            "difference_cents": item.difference_cents,
            "reason": item.reason,
            "currency": item.payment.currency,
            "since": item.payment.updated_at,
        }
        for item in services.needing_attention(db, LIMIT)
    ]
    return {
        "rows": rows,
        "count": services.attention_count(db),
        "can_settle": request.has_permission(REQUEST_REFUND),
        "message": SETTLED if request.GET.get("done") == "settled" else None,
        "notes": dict(notes or {}),
        "errors": dict(errors or {}),
        "dollars": dollars,
        "when": when,
    }


@view_config(
    route_name="payments_attention",
    request_method="GET",
    renderer=PAGE,
    permission=Permission.STAFF_READ,
)
def attention_page(request: Request) -> dict[str, Any]:
    """Payments flagged by a staff edit after payment, oldest first."""
    return _page(request)


@view_config(
    route_name="payments_attention_settle",
    request_method="POST",
    renderer=PAGE,
    permission=REQUEST_REFUND,
)
def settle(request: Request) -> Any:
    """Mark one payment settled, with a note saying what was done."""
    payment = get_or_404(request.dbsession, Payment, request.matchdict["id"])
    key = str(payment.id)
    note = request.POST.get("note", "")
    try:
        services.settle_attention(request.ctx, payment, note)
    except Refused as exc:
        request.dbsession.rollback()
        return _page(request, notes={key: note}, errors={key: exc.description}, status=exc.status)
    return HTTPSeeOther(
        location=request.route_url("payments_attention", _query={"done": "settled"})
    )


def includeme(config: Configurator) -> None:
    config.add_route("payments_attention", "/console/payments/attention")
    config.add_route("payments_attention_settle", "/console/payments/payments/{id}/settle")
    config.scan(__name__)
