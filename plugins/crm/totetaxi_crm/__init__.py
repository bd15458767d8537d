"""CRM: the staff command centre — the operations dashboard, reports and exports, customer care,
audit views.

It reads the core's public models (bookings, customers) and learns everything else from what
the other plugins publish through hooks — dashboard tiles, the figures and reports of
:mod:`.hookspecs` — never from their tables.
"""

from __future__ import annotations

from pyramid.config import Configurator
from totetaxi_core.plugin_api import Manifest, Setting

from . import models  # noqa: F401  (its tables on the metadata, as soon as the plugin is found)
from .permissions import GRANTS

manifest = Manifest(
    name="crm",
    version="1.0.0",
    summary="The operations dashboard with charts, reports and CSV exports, customer care",
    core=">=1.0,<2",
    settings=(
        Setting(
            "crm.page_size",
            50,
            kind="int",
            minimum=1,
            maximum=500,
            help="rows per page of the reports and lists",
        ),
    ),
    migrations="totetaxi_crm:migrations/versions",
    permissions=GRANTS,
)


def includeme(config: Configurator) -> None:
    """Wire the plugin: its own hooks first (other plugins implement them), then its rooms."""
    from . import hooks, hookspecs

    config.add_hookspecs(hookspecs)
    config.add_hookimpls(hooks)
    config.include(".api")
    config.include(".console")
    config.include(".care")
    config.include(".phone")
    config.include(".reports")
    config.include(".dashboard_api")
    config.include(".dashboard_console")
