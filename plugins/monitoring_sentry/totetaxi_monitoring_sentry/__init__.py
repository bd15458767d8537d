"""Monitoring Sentry: the ToteTaxi plugin 'monitoring_sentry'.

Manifest and wiring only (DESIGN §1): the model is in :mod:`.models`, the REST API in
:mod:`.api`, the console page in :mod:`.console`, background work in :mod:`.tasks`.
"""

from __future__ import annotations

from pyramid.config import Configurator
from totetaxi_core.plugin_api import Manifest, Setting

from .permissions import GRANTS
from .seed import seed

manifest = Manifest(
    name="monitoring_sentry",  # = entry point name = settings prefix = Alembic branch label
    version="0.1.0",  # a change is recorded by `totetaxi migrate`
    summary="Monitoring Sentry",
    core=">=1.0,<2",
    settings=(
        Setting(
            "monitoring_sentry.page_size",
            50,
            kind="int",
            minimum=1,
            maximum=500,
            help="items listed per page (API and console)",
        ),
    ),
    migrations="totetaxi_monitoring_sentry:migrations/versions",
    seed=seed,
    permissions=GRANTS,
)


def includeme(config: Configurator) -> None:
    """Wire the plugin into the app: hooks, tasks, the API and the console page."""
    from . import hooks, tasks

    config.add_hookimpls(hooks)
    config.add_task(tasks.process_item, name=tasks.PROCESS_ITEM)
    config.include(".api")
    config.include(".console")
