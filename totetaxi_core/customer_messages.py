"""Emails staff send a customer by hand (customer care), through whichever plugin has templates.

The core owns only the two calls; a plugin that sends mail (notifications) answers the hooks
``totetaxi_customer_message_templates`` and ``totetaxi_send_customer_message``.
"""

from __future__ import annotations

from typing import Any

from .context import Context
from .errors import InvalidDraft

#: Longest message staff may write into a template.
MESSAGE_LIMIT = 4000


def customer_message_templates(ctx: Context) -> list[dict[str, str]]:
    """Every template staff may send a customer (``[{key, name, description}]``, by name)."""
    found: list[dict[str, str]] = []
    for answer in ctx.call_hook("totetaxi_customer_message_templates"):
        found.extend(answer or [])
    return sorted(found, key=lambda template: (template["name"], template["key"]))


def send_customer_message(ctx: Context, customer: Any, template: str, message: str) -> str:
    """Queue ``template`` to ``customer`` with ``message``; returns the queued email's id.

    Raises :class:`InvalidDraft` naming ``template`` (unknown: no plugin answers it) or
    ``message`` (too long, control characters), and naming ``customer`` for a disabled account.
    """
    if not customer.is_active:
        raise InvalidDraft("customer", "This account is disabled; enable it first.", "path")
    message = message.strip()
    if len(message) > MESSAGE_LIMIT:
        raise InvalidDraft("message", f"Write at most {MESSAGE_LIMIT} characters.")
    if any(ord(c) < 32 and c not in "\n\r\t" for c in message):
        raise InvalidDraft("message", "The message holds control characters; remove them.")
    known = {t["key"] for t in customer_message_templates(ctx)}
    if template not in known:
        choices = ", ".join(sorted(known)) or "none: no plugin sends email"
        raise InvalidDraft("template", f"Unknown template {template!r}; choose one of {choices}.")
    sent = ctx.call_hook(
        "totetaxi_send_customer_message", customer=customer, template=template, message=message
    )
    if sent is None:
        raise InvalidDraft("template", f"No plugin sends template {template!r}.")
    return str(sent)
