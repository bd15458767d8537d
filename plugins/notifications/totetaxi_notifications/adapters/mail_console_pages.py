"""The console's Mailbox page for ``mail_console`` (placeholder)."""

from __future__ import annotations

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    pass
