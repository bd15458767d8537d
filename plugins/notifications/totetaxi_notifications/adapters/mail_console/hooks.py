"""The console mailer's hook implementations: the ``mailer`` slot, and the Mailbox's navigation
entry (it exists exactly when the pages do)."""

from __future__ import annotations

from typing import Any

from totetaxi_core.plugin_api import find_service, hookimpl

from .mailer import MAILER_SERVICE, ConsoleMailer


@hookimpl
def totetaxi_mailer(ctx: Any) -> ConsoleMailer:
    mailer: ConsoleMailer = find_service(ctx, MAILER_SERVICE)
    return mailer


@hookimpl
def totetaxi_console_nav(request: Any) -> list[dict[str, Any]]:
    return [
        {
            "title": "Mailbox",
            "route": "mail_console_mailbox",
            "role": "viewer",
            "order": 42,
            "group": "Messages",
        }
    ]
