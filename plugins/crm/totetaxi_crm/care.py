"""Customer care on the console's customer page: internal notes, disabling or re-enabling the
account (its sessions and tokens end), sending a password-reset link, emailing the customer
from a template. Every action audited.

The panel comes through the core's ``totetaxi_customer_panels``; its forms post to the routes
below and come back to the customer page (303) with a message, or with the page again and a
400 naming the field.
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import select
from totetaxi_core.plugin_api import (
    Customer,
    FieldError,
    InvalidDraft,
    control_characters,
    customer_message_templates,
    get_or_404,
    record_audit,
    request_password_reset,
    set_customer_active,
)

from .api import queue_message
from .models import CustomerNote
from .permissions import CARE

PANEL = "totetaxi_crm:templates/_care.jinja2"
REFUSED = "totetaxi_crm:templates/care_refused.jinja2"
NOTE_LIMIT = 2000
MESSAGES = {
    "note_added": "Note added.",
    "disabled": "Account disabled: its sessions and tokens have ended.",
    "enabled": "Account enabled again.",
    "reset_sent": "Password-reset email sent.",
    "message_sent": "Email queued; it appears under Emails once sent.",
}


def notes_of(request: Request, customer: Customer) -> list[CustomerNote]:
    return list(
        request.dbsession.scalars(
            select(CustomerNote)
            .where(CustomerNote.customer_id == customer.id)
            .order_by(CustomerNote.at.desc())
            .limit(50)
        )
    )


def panel(request: Request, customer: Customer) -> dict[str, Any]:
    """The customer page's care panel (``totetaxi_customer_panels``)."""
    done = request.GET.get("care", "")
    return {
        "title": "Customer care",
        "template": PANEL,
        "order": 10,
        "context": {
            "customer": customer,
            "notes": notes_of(request, customer),
            "can_act": request.has_permission(CARE),
            "templates": customer_message_templates(request.ctx),
            "message": MESSAGES.get(done, ""),
        },
    }


def _back(request: Request, customer: Customer, done: str) -> HTTPSeeOther:
    url = request.route_url("console_customer", id=customer.id, _query={"care": done})
    return HTTPSeeOther(location=url + "#care")


@view_config(route_name="crm_customer_note", request_method="POST", permission=CARE)
def add_note(request: Request) -> Response:
    customer = get_or_404(request.dbsession, Customer, request.matchdict["id"])
    text = str(request.POST.get("text", "")).strip()
    try:
        if not 3 <= len(text) <= NOTE_LIMIT:
            raise FieldError(f"Note: write 3 to {NOTE_LIMIT} characters.")
        control_characters(text, multiline=True)
    except (FieldError, ValueError) as exc:
        # The note as typed comes back with the sentence naming the field; nothing was saved.
        return render_to_response(
            REFUSED,
            {"customer": customer, "field": "text", "error": str(exc), "text": text},
            request=request,
            response=Response(status=400),
        )
    actor = request.ctx.actor
    note = CustomerNote(
        customer_id=customer.id,
        author_id=getattr(actor, "id", None),
        author_name=getattr(actor, "display_name", "") or getattr(actor, "email", ""),
        text=text,
    )
    request.dbsession.add(note)
    request.dbsession.flush()
    record_audit(
        request.ctx,
        "crm.customer_note_added",
        target_type="customer",
        target_id=customer.id,
        after={"note": text[:200]},
    )
    return _back(request, customer, "note_added")


@view_config(route_name="crm_customer_active", request_method="POST", permission=CARE)
def set_active(request: Request) -> Response:
    customer = get_or_404(request.dbsession, Customer, request.matchdict["id"], lock=True)
    active = request.POST.get("active") == "1"
    set_customer_active(request.ctx, customer, active)
    return _back(request, customer, "enabled" if active else "disabled")


@view_config(route_name="crm_customer_reset", request_method="POST", permission=CARE)
def send_reset(request: Request) -> Response:
    customer = get_or_404(request.dbsession, Customer, request.matchdict["id"])
    request_password_reset(request.ctx, customer.email)
    record_audit(
        request.ctx,
        "crm.password_reset_sent",
        target_type="customer",
        target_id=customer.id,
        after={"email": customer.email},
    )
    return _back(request, customer, "reset_sent")


@view_config(route_name="crm_customer_message", request_method="POST", permission=CARE)
def send_message(request: Request) -> Response:
    customer = get_or_404(request.dbsession, Customer, request.matchdict["id"])
    template = str(request.POST.get("template", "")).strip()
    message = str(request.POST.get("message", "")).replace("\x00", "").strip()
    try:
        queue_message(request, customer, template, message)
    except InvalidDraft as exc:
        # What was typed comes back with the sentence naming the field; nothing was queued.
        return render_to_response(
            REFUSED,
            {
                "customer": customer,
                "field": exc.field,
                "error": exc.description,
                "templates": customer_message_templates(request.ctx),
                "chosen": template,
                "message_text": message,
            },
            request=request,
            response=Response(status=400),
        )
    return _back(request, customer, "message_sent")


def includeme(config: Configurator) -> None:
    config.add_route("crm_customer_note", "/console/crm/customers/{id}/notes")
    config.add_route("crm_customer_active", "/console/crm/customers/{id}/active")
    config.add_route("crm_customer_reset", "/console/crm/customers/{id}/password-reset")
    config.add_route("crm_customer_message", "/console/crm/customers/{id}/messages")
    config.scan(__name__)
