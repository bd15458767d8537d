"""The console's Mailbox for ``mail_console``: the messages the development mailer wrote.

Included by the package's ``includeme``, so the pages (and their navigation entry)
exist only while ``mail_console`` is enabled. Every staff role reads them
(``Permission.STAFF_READ``); nothing here changes anything. A message's HTML is shown in a
sandboxed iframe, as on the email's page.
"""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPNotFound
from pyramid.request import Request
from pyramid.view import view_config

from totetaxi_core.plugin_api import Permission, find_service

from ...console import allow_email_html
from .mailer import MAILER_SERVICE

TEMPLATES = "totetaxi_notifications:templates/"
MAILBOX = TEMPLATES + "mailbox.jinja2"
MESSAGE = TEMPLATES + "mailbox_message.jinja2"
#: Messages listed at most, newest first (the folder is a development convenience).
LISTED = 100
#: Headers shown on a message's page, in this order (when the message has them).
HEADERS = (
    "From",
    "To",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "X-Totetaxi-Notification",
    "X-Totetaxi-Provider-Id",
)


def _part(message: EmailMessage, subtype: str) -> str:
    """The message's ``text/<subtype>`` body, or ``""``."""
    body = message.get_body(preferencelist=(subtype,))
    if body is None or body.get_content_subtype() != subtype:
        return ""
    content = body.get_content()
    return content if isinstance(content, str) else ""


def _notification_id(message: EmailMessage) -> str | None:
    """The notification the message was sent for (its id, when the header holds one)."""
    raw = str(message.get("X-Totetaxi-Notification") or "").strip()
    try:
        return str(uuid.UUID(raw)) if raw else None
    except ValueError:
        return None


@view_config(
    route_name="mail_console_mailbox",
    request_method="GET",
    renderer=MAILBOX,
    permission=Permission.STAFF_READ,
)
def mailbox(request: Request) -> dict[str, Any]:
    """The latest messages the console mailer wrote, newest first."""
    mailer = find_service(request, MAILER_SERVICE)
    return {"messages": mailer.listing(limit=LISTED), "folder": str(mailer.folder), "limit": LISTED}


@view_config(
    route_name="mail_console_message",
    request_method="GET",
    renderer=MESSAGE,
    permission=Permission.STAFF_READ,
)
def message_page(request: Request) -> dict[str, Any]:
    """One message: its headers, its text and its HTML (sandboxed)."""
    message_id = request.matchdict["id"]
    # read() accepts only the mailer's own ids (console-<hex>): no path reaches other files.
    message = find_service(request, MAILER_SERVICE).read(message_id)
    if message is None:
        raise HTTPNotFound()
    allow_email_html(request)  # the message's HTML, in a sandboxed frame
    return {
        "id": message_id,
        "headers": [(name, str(message[name])) for name in HEADERS if message[name]],
        "subject": str(message["Subject"] or ""),
        "text": _part(message, "plain"),
        "html": _part(message, "html"),
        "notification_id": _notification_id(message),
    }


def includeme(config: Configurator) -> None:
    config.add_route("mail_console_mailbox", "/console/mailbox")
    config.add_route("mail_console_message", "/console/mailbox/{id}")
    config.scan(__name__)
