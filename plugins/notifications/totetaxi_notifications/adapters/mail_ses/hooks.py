"""The SES mailer's hook implementations: it fills the ``mailer`` slot."""

from __future__ import annotations

from typing import Any

from totetaxi_core.plugin_api import find_service, hookimpl

from .mailer import MAILER_SERVICE, SesMailer


@hookimpl
def totetaxi_mailer(ctx: Any) -> SesMailer:
    mailer: SesMailer = find_service(ctx, MAILER_SERVICE)
    return mailer
